package charts

import (
	"maps"

	"github.com/fitbridge/fitbridge/config"
)

// ZoneTable is the zone configuration the dashboard needs to draw zone bands: the zones in
// ascending order of their lower bound, and each participant's bounds that differ.
type ZoneTable struct {
	Zones []Zone
	// Participants maps a participant id to the lower bounds, in bpm by zone id, that
	// differ from Zones.
	Participants map[string]map[string]float64
}

// ZoneTableOf returns the zone table of a validated configuration. Guests use Zones.
func ZoneTableOf(cfg config.Config) ZoneTable {
	table := ZoneTable{
		Zones:        make([]Zone, 0, len(cfg.Zones)),
		Participants: make(map[string]map[string]float64),
	}
	for _, z := range cfg.Zones {
		table.Zones = append(table.Zones, Zone{ID: z.ID, Name: z.Name, MinBPM: z.Min, Coins: z.Coins})
	}
	for _, p := range cfg.Participants {
		if len(p.Zones) > 0 {
			table.Participants[p.ID] = maps.Clone(p.Zones)
		}
	}
	return table
}
