package sessions

import (
	"math"
	"time"

	"github.com/fitbridge/fitbridge/config"
)

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

// coolProgressSpan is the span below the second zone that the progress of
// the lowest zone covers: its own lower bound is often 0, which would make
// the progress bar useless, so it runs from next-40 bpm to next instead.
const coolProgressSpan = 40

// Progress returns how far bpm has come from the start of its zone to the
// start of the next one, in percent from 0 to 100. It is 100 in the top zone
// and -1 when bpm is in no zone.
func (z Zones) Progress(bpm float64) float64 {
	i := z.ZoneOf(bpm)
	if i < 0 {
		return -1
	}
	if i == len(z)-1 {
		return 100
	}
	lower, upper := z[i].Min, z[i+1].Min
	if i == 0 {
		lower = math.Max(lower, upper-coolProgressSpan)
	}
	p := (bpm - lower) / (upper - lower) * 100
	return math.Round(math.Min(100, math.Max(0, p))*10) / 10
}

// Hysteresis rules of the committed zone.
const (
	// ExitMargin keeps the committed zone while the heart rate stays within
	// this many bpm below its lower bound.
	ExitMargin = 5
	// CommitCooldown: a zone change commits at once when the last commit is
	// older than this.
	CommitCooldown = 5 * time.Second
	// CommitStable: a zone change within CommitCooldown of the last commit
	// commits once the new zone has held for this long.
	CommitStable = 3 * time.Second
)

// committedZone is the displayed zone of one participant: the raw zone of
// each sample, filtered so that it does not flicker at a boundary.
type committedZone struct {
	Zone      int       `json:"zone"` // -1 before the first sample
	At        time.Time `json:"at"`   // time of the last commit
	Candidate int       `json:"candidate"`
	Since     time.Time `json:"since"` // when Candidate first appeared
}

func newCommittedZone() committedZone { return committedZone{Zone: -1, Candidate: -1} }

// observe feeds one sample of bpm at t and reports whether the committed
// zone changed. The first sample commits at once; a drop to a lower zone is
// ignored while bpm stays within ExitMargin of the committed zone's lower
// bound; any other change commits at once when the last commit is older than
// CommitCooldown, else after CommitStable of readings in the new zone.
func (c *committedZone) observe(z Zones, bpm float64, t time.Time) bool {
	raw := z.ZoneOf(bpm)
	if c.Zone < 0 {
		if raw < 0 {
			return false
		}
		c.Zone, c.At, c.Candidate = raw, t, -1
		return true
	}
	if raw == c.Zone || (raw < c.Zone && bpm >= z[c.Zone].Min-ExitMargin) {
		c.Candidate = -1
		return false
	}
	if raw != c.Candidate {
		c.Candidate, c.Since = raw, t
	}
	if t.Sub(c.At) > CommitCooldown || t.Sub(c.Since) >= CommitStable {
		c.Zone, c.At, c.Candidate = raw, t, -1
		return true
	}
	return false
}
