package charts

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

// fourHertzTimeline is a 600 s heart-rate series at 4 Hz (2,400 points): a 120 to 140 bpm
// baseline, 188 bpm for 2 s from t = 301 s, and no samples from t = 400 s to 415 s.
func fourHertzTimeline() Timeline {
	const intervalMS = 250
	const points = 2400
	p := ParticipantTimeline{ID: "p0001", Name: "P1"}
	other := ParticipantTimeline{ID: "p0002", Name: "P2"}
	for i := range points {
		seconds := float64(i) / 4
		var bpm *float64
		switch {
		case seconds >= 400 && seconds < 415:
		case seconds >= 301 && seconds < 303:
			bpm = ptr(188.0)
		default:
			bpm = ptr(130 + 10*math.Sin(seconds/7))
		}
		p.HeartRate = append(p.HeartRate, bpm)
		p.Zone = append(p.Zone, nil)
		p.Coins = append(p.Coins, ptr(i/20))
		other.HeartRate = append(other.HeartRate, ptr(60.0))
		other.Zone = append(other.Zone, nil)
		other.Coins = append(other.Coins, ptr(0))
	}
	return Timeline{
		SessionID: "s", IntervalMS: intervalMS, StartMS: 1_000_000, Length: points,
		Participants: []ParticipantTimeline{p, other},
	}
}

func ptr[T any](v T) *T { return &v }

func rangeOf(t *testing.T, tl Timeline, fromMS, toMS int64, maxPoints int) (bucketPlan, []participantBins) {
	t.Helper()
	plan, err := planBuckets(tl, fromMS, toMS, maxPoints)
	if err != nil {
		t.Fatalf("plan %d..%d with %d points: %v", fromMS, toMS, maxPoints, err)
	}
	people, _ := downsample(tl, plan)
	return plan, people
}

func TestDownsampleKeepsPeakAndGap(t *testing.T) {
	tl := fourHertzTimeline()
	end := tl.StartMS + int64(tl.Length)*tl.IntervalMS - 1
	for _, maxPoints := range []int{300, 3, 2} {
		plan, people := rangeOf(t, tl, tl.StartMS, end, maxPoints)
		if plan.count() > maxPoints {
			t.Errorf("%d points requested, %d buckets returned", maxPoints, plan.count())
		}
		if len(people) != 2 || people[0].ID != "p0001" || people[1].ID != "p0002" {
			t.Fatalf("%d points: series %s, want p0001 and p0002 apart", maxPoints, describe(people))
		}
		peak := 0.0
		for _, v := range people[0].HeartRateMax {
			if v != nil {
				peak = max(peak, *v)
			}
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				t.Errorf("%d points: non-finite value %v", maxPoints, *v)
			}
		}
		if peak != 188 {
			t.Errorf("%d points: highest bucket maximum %v, want the 188 bpm peak", maxPoints, peak)
		}
		for _, v := range people[1].HeartRateMax {
			if v == nil || *v != 60 {
				t.Errorf("%d points: p0002 bucket %s, want 60: series must not mix", maxPoints, show(v))
			}
		}
	}

	// At 300 points each bucket is 8 samples (2 s), so the 15 s gap leaves empty buckets.
	plan, people := rangeOf(t, tl, tl.StartMS, end, 300)
	if plan.ticksPerBucket != 8 || plan.count() != 300 {
		t.Fatalf("300 points: %d buckets of %d ticks, want 300 of 8", plan.count(), plan.ticksPerBucket)
	}
	nulls := 0
	for i, v := range people[0].HeartRateMax {
		seconds := float64(i) * 2
		if seconds >= 400 && seconds+2 <= 415 {
			if v != nil || people[0].HeartRateMin[i] != nil {
				t.Errorf("bucket at %v s = %s, want null inside the gap", seconds, show(v))
			}
			nulls++
		}
	}
	if nulls != 7 {
		t.Errorf("%d buckets lie wholly in the gap, want 7", nulls)
	}
}

func TestDownsampleEnoughPointsReturnsInput(t *testing.T) {
	tl := fourHertzTimeline()
	from := tl.StartMS + 100*tl.IntervalMS
	to := tl.StartMS + 199*tl.IntervalMS
	for _, maxPoints := range []int{100, 101, 5000} {
		plan, people := rangeOf(t, tl, from, to, maxPoints)
		if plan.ticksPerBucket != 1 || plan.count() != 100 {
			t.Errorf("%d points for 100 ticks: %d buckets of %d, want the 100 ticks unchanged",
				maxPoints, plan.count(), plan.ticksPerBucket)
		}
		for i := range 100 {
			want := tl.Participants[0].HeartRate[100+i]
			got := people[0].HeartRateMax[i]
			if show(got) != show(want) || show(people[0].HeartRateMin[i]) != show(want) {
				t.Fatalf("%d points: bucket %d = %s..%s, want %s", maxPoints, i,
					show(people[0].HeartRateMin[i]), show(got), show(want))
			}
		}
	}
}

func TestDownsampleEmptyAndSingleTick(t *testing.T) {
	empty := Timeline{IntervalMS: 5000, StartMS: 0}
	if _, err := planBuckets(empty, 0, 100000, 10); err != errEmptyRange {
		t.Errorf("empty timeline: error %v, want %v", err, errEmptyRange)
	}
	one := Timeline{IntervalMS: 5000, StartMS: 10000, FirstIndex: 2, Length: 1,
		Participants: []ParticipantTimeline{{ID: "p", HeartRate: []*float64{ptr(99.0)},
			Zone: []*string{ptr("warm")}, Coins: []*int{ptr(4)}}}}
	for _, maxPoints := range []int{1, 2, 100} {
		plan, people := rangeOf(t, one, math.MinInt64, math.MaxInt64, maxPoints)
		if plan.count() != 1 || len(people) != 1 || *people[0].HeartRateMax[0] != 99 {
			t.Errorf("one tick, %d points: %d buckets %s, want one bucket of 99",
				maxPoints, plan.count(), describe(people))
		}
		if *people[0].Zone[0] != "warm" || *people[0].Coins[0] != 4 {
			t.Errorf("one tick: zone %s coins %s, want warm and 4", show(people[0].Zone[0]), show(people[0].Coins[0]))
		}
	}
	if _, err := planBuckets(one, 0, 9999, 5); err != errEmptyRange {
		t.Errorf("range before the tick: error %v, want %v", err, errEmptyRange)
	}
	if _, err := planBuckets(one, 15000, 20000, 5); err != errEmptyRange {
		t.Errorf("range after the tick: error %v, want %v", err, errEmptyRange)
	}
	if _, err := planBuckets(one, 0, 20000, 0); err == nil {
		t.Errorf("0 points: no error")
	}
}

func TestDownsampleBucketsDoNotShiftWhenPanning(t *testing.T) {
	tl := fourHertzTimeline()
	width := func(from int64) (int, int64) {
		plan, _ := rangeOf(t, tl, from, from+400*tl.IntervalMS, 50)
		return plan.ticksPerBucket, int64(plan.firstBucket*plan.ticksPerBucket)*tl.IntervalMS + tl.StartMS
	}
	w0, start0 := width(tl.StartMS + 1000*tl.IntervalMS)
	for shift := int64(1); shift < 20; shift++ {
		w, start := width(tl.StartMS + (1000+shift)*tl.IntervalMS)
		if w != w0 {
			continue
		}
		bucketMS := int64(w) * tl.IntervalMS
		if (start-start0)%bucketMS != 0 {
			t.Errorf("panned by %d ticks: first bucket at %d, not on the grid of %d from %d",
				shift, start, bucketMS, start0)
		}
	}
}

// TestDownsampleProperties checks, for random series and ranges, that every tick of the
// range lands in exactly one bucket, that buckets are aligned and within max_points, and
// that each bucket's minimum and maximum are those of its ticks.
func TestDownsampleProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		length := rapid.IntRange(1, 300).Draw(rt, "length")
		firstIndex := rapid.IntRange(0, 1000).Draw(rt, "first_index")
		interval := int64(rapid.IntRange(1, 10000).Draw(rt, "interval_ms"))
		p := ParticipantTimeline{ID: "p"}
		for i := range length {
			var v *float64
			if rapid.IntRange(0, 4).Draw(rt, "present") > 0 {
				v = ptr(float64(rapid.IntRange(30, 240).Draw(rt, "bpm")))
			}
			p.HeartRate = append(p.HeartRate, v)
			p.Zone = append(p.Zone, nil)
			p.Coins = append(p.Coins, ptr(i))
		}
		start := int64(firstIndex) * interval
		tl := Timeline{IntervalMS: interval, FirstIndex: firstIndex, StartMS: start, Length: length,
			Participants: []ParticipantTimeline{p}}
		from := start + int64(rapid.IntRange(-5, length+5).Draw(rt, "from"))*interval/2
		to := from + int64(rapid.IntRange(0, 2*length).Draw(rt, "span"))*interval/2
		maxPoints := rapid.IntRange(1, 400).Draw(rt, "max_points")

		plan, err := planBuckets(tl, from, to, maxPoints)
		if err == errEmptyRange {
			return
		}
		if err != nil {
			rt.Fatalf("plan: %v", err)
		}
		if plan.count() > maxPoints {
			rt.Fatalf("%d buckets for max_points %d", plan.count(), maxPoints)
		}
		people, _ := downsample(tl, plan)
		for i := range length {
			tickStart := start + int64(i)*interval
			overlaps := tickStart <= to && tickStart+interval > from
			bucket := floorDivInt(firstIndex+i, plan.ticksPerBucket) - plan.firstBucket
			inPlan := bucket >= 0 && bucket < plan.count()
			if overlaps && !inPlan {
				rt.Fatalf("tick %d overlaps the range but lies in no bucket", i)
			}
			if !inPlan || p.HeartRate[i] == nil {
				continue
			}
			if len(people) != 1 {
				rt.Fatalf("a tick with a heart rate is in the range but no series returned")
			}
			low, high := people[0].HeartRateMin[bucket], people[0].HeartRateMax[bucket]
			if low == nil || high == nil || *low > *p.HeartRate[i] || *high < *p.HeartRate[i] {
				rt.Fatalf("tick %d (%v) outside its bucket's %s..%s", i, *p.HeartRate[i], show(low), show(high))
			}
		}
	})
}
