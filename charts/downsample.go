package charts

import (
	"errors"
	"fmt"
)

// Timeline is one session's series on its tick grid: entry i of every series belongs to
// the tick with index FirstIndex+i, which started at StartMS + i*IntervalMS. A nil entry is
// missing data. The live window and saved sessions both provide one, and range queries
// downsample it.
type Timeline struct {
	SessionID  string `json:"session_id"`
	IntervalMS int64  `json:"interval_ms"`
	FirstIndex int    `json:"first_index"`
	StartMS    int64  `json:"start_ms"`
	// Length is the number of ticks; every series has this many entries.
	Length       int                   `json:"length"`
	Participants []ParticipantTimeline `json:"participants"`
	Equipment    []EquipmentTimeline   `json:"equipment"`
}

// ParticipantTimeline is one participant's series in a Timeline.
type ParticipantTimeline struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// HeartRate is in bpm; nil where the tick had no valid sample.
	HeartRate []*float64 `json:"heart_rate"`
	// Zone is the zone id of HeartRate; nil where HeartRate is nil.
	Zone []*string `json:"zone"`
	// Coins is the cumulative total at the end of each tick; nil while off the roster.
	Coins []*int `json:"coins"`
}

// EquipmentTimeline is one piece of equipment's series in a Timeline.
type EquipmentTimeline struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active []*bool `json:"active"`
	// Events is the number of vibration events in each tick.
	Events []*int `json:"events"`
}

// errEmptyRange is returned by bucketPlan when no tick of the timeline overlaps the range.
var errEmptyRange = errors.New("no tick overlaps the range")

// bucketPlan is the bucket layout of one range query. Buckets are aligned to whole
// multiples of ticksPerBucket tick indexes counted from the session start, so the same
// bucket always holds the same ticks however the range is panned.
type bucketPlan struct {
	ticksPerBucket int
	// firstBucket and lastBucket are bucket numbers: bucket b holds the tick indexes
	// b*ticksPerBucket to (b+1)*ticksPerBucket-1.
	firstBucket, lastBucket int
}

func (p bucketPlan) count() int { return p.lastBucket - p.firstBucket + 1 }

// planBuckets returns the smallest bucket width that covers the ticks of tl overlapping
// [fromMS, toMS] with at most maxPoints whole buckets. A tick overlaps when its interval
// [start, start+interval) meets the range.
func planBuckets(tl Timeline, fromMS, toMS int64, maxPoints int) (bucketPlan, error) {
	if tl.IntervalMS <= 0 {
		return bucketPlan{}, fmt.Errorf("timeline interval %d ms: must be above 0", tl.IntervalMS)
	}
	if maxPoints < 1 {
		return bucketPlan{}, fmt.Errorf("max_points %d: must be 1 or more", maxPoints)
	}
	if tl.Length == 0 || fromMS > toMS {
		return bucketPlan{}, errEmptyRange
	}
	// Offsets relative to entry 0; a tick overlaps when its offset lies in [lo, hi]. The
	// comparisons come first because an open range end is math.MinInt64 or MaxInt64, and
	// subtracting from it would overflow.
	last := int64(tl.Length - 1)
	endMS := tl.StartMS + last*tl.IntervalMS
	if toMS < tl.StartMS || fromMS > endMS+tl.IntervalMS-1 {
		return bucketPlan{}, errEmptyRange
	}
	lo, hi := int64(0), last
	if fromMS > tl.StartMS {
		lo = floorDiv(fromMS-tl.StartMS, tl.IntervalMS)
	}
	if toMS < endMS {
		hi = floorDiv(toMS-tl.StartMS, tl.IntervalMS)
	}
	firstIndex := tl.FirstIndex + int(lo)
	lastIndex := tl.FirstIndex + int(hi)
	ticks := lastIndex - firstIndex + 1
	width := max(1, (ticks+maxPoints-1)/maxPoints)
	for {
		plan := bucketPlan{
			ticksPerBucket: width,
			firstBucket:    floorDivInt(firstIndex, width),
			lastBucket:     floorDivInt(lastIndex, width),
		}
		if plan.count() <= maxPoints {
			return plan, nil
		}
		// Alignment can split the range into one bucket more than ticks/width; a wider
		// bucket always fits eventually, because width = lastIndex+1 puts every tick in one.
		width++
	}
}

// downsample reduces tl to the buckets of plan: per bucket the minimum and maximum heart
// rate, the zone of the maximum, and the cumulative coins at the bucket's last tick with
// coins. A bucket without any value stays null, so a gap stays a gap. Series with no value
// in any bucket are left out.
func downsample(tl Timeline, plan bucketPlan) ([]participantBins, []equipmentBins) {
	people := make([]participantBins, 0, len(tl.Participants))
	for _, p := range tl.Participants {
		bins, found := downsampleParticipant(tl, plan, p)
		if found {
			people = append(people, bins)
		}
	}
	gear := make([]equipmentBins, 0, len(tl.Equipment))
	for _, e := range tl.Equipment {
		bins, found := downsampleEquipment(tl, plan, e)
		if found {
			gear = append(gear, bins)
		}
	}
	return people, gear
}

// bucketEntries calls visit with the bucket position and the entries of tl that belong to
// each bucket of plan, clipped to the entries tl holds.
func bucketEntries(tl Timeline, plan bucketPlan, visit func(bucket, from, to int)) {
	for b := plan.firstBucket; b <= plan.lastBucket; b++ {
		from := max(b*plan.ticksPerBucket-tl.FirstIndex, 0)
		to := min((b+1)*plan.ticksPerBucket-tl.FirstIndex, tl.Length)
		visit(b-plan.firstBucket, from, to)
	}
}

func downsampleParticipant(
	tl Timeline, plan bucketPlan, p ParticipantTimeline,
) (participantBins, bool) {
	n := plan.count()
	bins := participantBins{
		ID:           p.ID,
		Name:         p.Name,
		HeartRateMin: make([]*float64, n),
		HeartRateMax: make([]*float64, n),
		Zone:         make([]*string, n),
		Coins:        make([]*int, n),
	}
	found := false
	bucketEntries(tl, plan, func(bucket, from, to int) {
		var low, high *float64
		var zone *string
		var coins *int
		for i := from; i < to; i++ {
			if i < len(p.Coins) && p.Coins[i] != nil {
				coins = p.Coins[i]
			}
			if i >= len(p.HeartRate) || p.HeartRate[i] == nil || !isFinite(*p.HeartRate[i]) {
				continue
			}
			value := p.HeartRate[i]
			if low == nil || *value < *low {
				low = value
			}
			if high == nil || *value > *high {
				high = value
				zone = nil
				if i < len(p.Zone) {
					zone = p.Zone[i]
				}
			}
		}
		if low != nil || coins != nil {
			found = true
		}
		bins.HeartRateMin[bucket] = copyOf(low)
		bins.HeartRateMax[bucket] = copyOf(high)
		bins.Zone[bucket] = copyOf(zone)
		bins.Coins[bucket] = copyOf(coins)
	})
	return bins, found
}

func downsampleEquipment(
	tl Timeline, plan bucketPlan, e EquipmentTimeline,
) (equipmentBins, bool) {
	n := plan.count()
	bins := equipmentBins{
		ID:     e.ID,
		Name:   copyOf(e.Name),
		Active: make([]*bool, n),
		Events: make([]*int, n),
	}
	found := false
	bucketEntries(tl, plan, func(bucket, from, to int) {
		reported := false
		active := false
		events := 0
		for i := from; i < to; i++ {
			if i < len(e.Active) && e.Active[i] != nil {
				reported = true
				active = active || *e.Active[i]
			}
			if i < len(e.Events) && e.Events[i] != nil {
				reported = true
				events += *e.Events[i]
			}
		}
		if reported {
			found = true
			bins.Active[bucket] = &active
			bins.Events[bucket] = &events
		}
	})
	return bins, found
}

// copyOf returns a pointer to a copy of *v, or nil, so that replies share no memory with
// the timeline.
func copyOf[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// floorDiv divides rounding towards negative infinity; b must be above 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func floorDivInt(a, b int) int {
	return int(floorDiv(int64(a), int64(b)))
}
