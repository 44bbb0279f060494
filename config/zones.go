package config

// ZonesFor returns the zone list for one participant: the global zones with
// that participant's lower bounds applied. Unknown ids, guests included, get
// the global zones. The result is a copy that the caller may change.
func (c *Config) ZonesFor(participantID string) []Zone {
	for _, p := range c.Participants {
		if p.ID == participantID {
			return applyZoneOverrides(c.Zones, p.Zones)
		}
	}
	return applyZoneOverrides(c.Zones, nil)
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
