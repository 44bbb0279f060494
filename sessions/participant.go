package sessions

import (
	"math"
	"time"
)

// participant is one person on the roster, or who may join it. Fields after
// onRoster describe the current session and are reset when they join one.
type participant struct {
	id    string
	name  string
	guest bool
	zones Zones
	// devices are the configured straps; Assign can add others.
	devices []string

	onRoster  bool
	joinedAt  time.Time
	lastValid time.Time
	status    Status // the status last reported in an event
	heartRate float64
	rawZone   int
	committed committedZone

	coins       int
	coinsInZone []int // per zone index
	zoneSeconds []int // per zone index
	milestone   int   // coin milestones reached

	// windows holds the maxima of the coin windows still open for this
	// participant: more than one when readings may arrive late.
	windows []openWindow

	samples int
	invalid int
	sumHR   float64
	minHR   float64
	maxHR   float64
}

// openWindow is the highest valid heart rate of one coin window; index is
// -1 for an unused slot.
type openWindow struct {
	Index int     `json:"index"`
	Max   float64 `json:"max"`
}

func newParticipant(id, name string, guest bool, zones Zones) *participant {
	return &participant{
		id:        id,
		name:      name,
		guest:     guest,
		zones:     zones,
		rawZone:   -1,
		committed: newCommittedZone(),
	}
}

// resetForSession clears the session values; slots is the number of coin
// windows that can be open at once.
func (p *participant) resetForSession(t time.Time, slots int) {
	p.onRoster = true
	p.joinedAt = t
	p.lastValid = time.Time{}
	p.status = ""
	p.heartRate = 0
	p.rawZone = -1
	p.committed = newCommittedZone()
	p.coins = 0
	p.coinsInZone = make([]int, len(p.zones))
	p.zoneSeconds = make([]int, len(p.zones))
	p.milestone = 0
	p.windows = make([]openWindow, slots)
	for i := range p.windows {
		p.windows[i].Index = -1
	}
	p.samples, p.invalid = 0, 0
	p.sumHR, p.minHR, p.maxHR = 0, 0, 0
}

// addToWindow raises the maximum of coin window index with bpm. It returns
// false when no slot is free, which cannot happen while the engine closes
// windows in time (slots cover the lateness).
func (p *participant) addToWindow(index int, bpm float64) bool {
	free := -1
	for i := range p.windows {
		switch p.windows[i].Index {
		case index:
			p.windows[i].Max = math.Max(p.windows[i].Max, bpm)
			return true
		case -1:
			if free < 0 {
				free = i
			}
		}
	}
	if free < 0 {
		return false
	}
	p.windows[free] = openWindow{Index: index, Max: bpm}
	return true
}

// takeWindow removes window index and returns its maximum, or 0 when it
// had no valid sample.
func (p *participant) takeWindow(index int) float64 {
	for i := range p.windows {
		if p.windows[i].Index == index {
			bpm := p.windows[i].Max
			p.windows[i] = openWindow{Index: -1}
			return bpm
		}
	}
	return 0
}

// hasWindow reports whether window index holds a valid sample.
func (p *participant) hasWindow(index int) bool {
	for _, w := range p.windows {
		if w.Index == index && w.Max > 0 {
			return true
		}
	}
	return false
}

// addStats adds one valid sample to the session statistics.
func (p *participant) addStats(bpm float64) {
	p.samples++
	p.sumHR += bpm
	if p.samples == 1 || bpm < p.minHR {
		p.minHR = bpm
	}
	p.maxHR = math.Max(p.maxHR, bpm)
}

// absorb adds from's session totals to p: a strap handed over early takes
// what it earned to its new wearer.
func (p *participant) absorb(from *participant) {
	p.coins += from.coins
	for i := range p.coinsInZone {
		if i < len(from.coinsInZone) {
			p.coinsInZone[i] += from.coinsInZone[i]
			p.zoneSeconds[i] += from.zoneSeconds[i]
		}
	}
	if from.samples > 0 {
		if p.samples == 0 || from.minHR < p.minHR {
			p.minHR = from.minHR
		}
		p.maxHR = math.Max(p.maxHR, from.maxHR)
	}
	p.samples += from.samples
	p.invalid += from.invalid
	p.sumHR += from.sumHR
	for _, w := range from.windows {
		if w.Index >= 0 && w.Max > 0 {
			p.addToWindow(w.Index, w.Max)
		}
	}
	if from.lastValid.After(p.lastValid) {
		p.lastValid = from.lastValid
	}
}

// strap is one heart-rate device.
type strap struct {
	Battery   int       `json:"battery"`
	LastSeen  time.Time `json:"last_seen"`
	LastBPM   float64   `json:"last_bpm"`
	LastValid time.Time `json:"last_valid"`
	// FirstValid is the time of the strap's first valid reading for its
	// current wearer in the current session; zero when none yet.
	FirstValid time.Time `json:"first_valid"`
	// Recent holds the last valid readings, to count a repeated one once.
	Recent [4]RecentReading `json:"recent"`
}

// RecentReading is one valid reading a strap remembers for duplicate checks.
type RecentReading struct {
	At  time.Time `json:"at"`
	BPM float64   `json:"bpm"`
}

// duplicate reports whether a reading of bpm at t was already seen, and
// remembers it otherwise.
func (s *strap) duplicate(t time.Time, bpm float64) bool {
	for _, r := range s.Recent {
		if r.At.Equal(t) && r.BPM == bpm && !t.IsZero() {
			return true
		}
	}
	copy(s.Recent[1:], s.Recent[:len(s.Recent)-1])
	s.Recent[0] = RecentReading{At: t, BPM: bpm}
	return false
}
