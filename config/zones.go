package config

import "math"

// ZonesFor returns the zone list for one participant in bpm: the global
// zones with that participant's lower bounds applied and, when ZoneUnit is
// percent, converted with the participant's maximum heart rate. Unknown ids,
// guests included, get the global zones and DefaultMaxHeartRate. The result
// is a copy that the caller may change.
func (c *Config) ZonesFor(participantID string) []Zone {
	maxHR := c.DefaultMaxHeartRate
	var zones []Zone
	for _, p := range c.Participants {
		if p.ID == participantID {
			zones = applyZoneOverrides(c.Zones, p.Zones)
			if p.MaxHeartRate > 0 {
				maxHR = p.MaxHeartRate
			}
			break
		}
	}
	if zones == nil {
		zones = applyZoneOverrides(c.Zones, nil)
	}
	if c.ZoneUnit == ZoneUnitPercent {
		for i := range zones {
			zones[i].Min = PercentToBPM(zones[i].Min, maxHR)
		}
	}
	return zones
}

// PercentToBPM converts a zone bound in percent of maxHR to whole bpm,
// rounding halves up: 60 % of 187 bpm is 112.2, which gives 112.
func PercentToBPM(percent, maxHR float64) float64 {
	return math.Floor(percent*maxHR/100 + 0.5)
}

// applyZoneOverrides copies zones and replaces the Min of each zone whose id
// is a key of overrides. Keys that name no zone are ignored here; Validate
// reports them.
func applyZoneOverrides(zones []Zone, overrides map[string]float64) []Zone {
	out := make([]Zone, len(zones))
	copy(out, zones)
	for i := range out {
		if bound, ok := overrides[out[i].ID]; ok {
			out[i].Min = bound
		}
	}
	return out
}
