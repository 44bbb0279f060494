package sessions

import "github.com/fitbridge/fitbridge/config"

// Zones is one participant's zone set, ordered by ascending lower bound.
// It is the only place that maps a heart rate to a zone: the HA state, the
// chart feed, the summary and the coins all go through ZoneOf.
type Zones []config.Zone

// ZoneOf returns the index of the zone a heart rate falls in: the highest
// zone whose lower bound is at most bpm (bounds are inclusive). It returns
// -1 for bpm <= 0 and for a heart rate below the lowest bound.
func (z Zones) ZoneOf(bpm float64) int {
	if bpm <= 0 {
		return -1
	}
	for i := len(z) - 1; i >= 0; i-- {
		if bpm >= z[i].Min {
			return i
		}
	}
	return -1
}

// ID returns the id of zone index i, or "" for -1.
func (z Zones) ID(i int) string {
	if i < 0 {
		return ""
	}
	return z[i].ID
}

// Coins returns the coins zone index i pays per window, or 0 for -1.
func (z Zones) Coins(i int) int {
	if i < 0 {
		return 0
	}
	return z[i].Coins
}
