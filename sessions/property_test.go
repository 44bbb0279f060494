package sessions_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

var propertyDevices = []string{"10001", "10002", "20001", "g1", "g2"}

// genReadings draws a time-ordered stream of readings from a few devices,
// with gaps long enough to end and resume sessions and some invalid ones.
func genReadings(t *rapid.T) []sessions.HeartRateReading {
	n := rapid.IntRange(1, 300).Draw(t, "n")
	at := time.Duration(0)
	out := make([]sessions.HeartRateReading, 0, n)
	for i := range n {
		gap := rapid.SampledFrom([]time.Duration{
			0, 300 * time.Millisecond, time.Second, 4 * time.Second, 30 * time.Second,
			3 * time.Minute, 15 * time.Minute,
		}).Draw(t, "gap")
		at += gap
		r := sessions.HeartRateReading{
			DeviceID: rapid.SampledFrom(propertyDevices).Draw(t, "device"),
			Time:     t0.Add(at),
			BPM:      float64(rapid.IntRange(40, 200).Draw(t, "bpm")),
			Battery:  -1,
		}
		if rapid.IntRange(0, 9).Draw(t, "invalid") == 0 {
			r.BPM, r.Invalid = 0, "zero"
		}
		_ = i
		out = append(out, r)
	}
	return out
}

func propertyConfig() config.Config {
	cfg := config.Default()
	cfg.Participants = []config.Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001", "10002"}},
		{ID: "sam", Name: "Sam", Devices: []string{"20001"}, Zones: map[string]float64{"warm": 110}},
	}
	return cfg
}

// run feeds readings to a new engine, calling Advance between readings
// where advances says so, and returns every summary.
func run(readings []sessions.HeartRateReading, advances []time.Duration) []sessions.Summary {
	rec := &recorder{}
	e := sessions.New(propertyConfig(), rec, nil)
	for i, r := range readings {
		if i < len(advances) && advances[i] > 0 {
			e.Advance(r.Time.Add(-advances[i]))
		}
		e.HeartRate(r)
	}
	e.End(sessions.EndReplay)
	return rec.ended
}

func TestPropertyCoinsSumOverZones(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for _, sum := range run(genReadings(t), nil) {
			for _, p := range sum.Participants {
				total := 0
				for _, c := range p.CoinsInZone {
					total += c
				}
				if total != p.Coins {
					t.Fatalf("%s: coins in zones sum to %d, coins %d", p.ID, total, p.Coins)
				}
			}
		}
	})
}

func TestPropertyBatchingGivesSameResult(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		readings := genReadings(t)
		advances := rapid.SliceOfN(rapid.SampledFrom([]time.Duration{
			0, 0, 100 * time.Millisecond, 2 * time.Second, 10 * time.Second,
		}), len(readings), len(readings)).Draw(t, "advances")
		plain := run(readings, nil)
		batched := run(readings, advances)
		if !reflect.DeepEqual(plain, batched) {
			t.Fatalf("summaries differ:\n%+v\n%+v", plain, batched)
		}
	})
}

func TestPropertyRestartFromCheckpoint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		readings := genReadings(t)
		want := run(readings, nil)

		cut := rapid.IntRange(0, len(readings)).Draw(t, "checkpoint")
		rec := &recorder{}
		before := sessions.New(propertyConfig(), rec, nil)
		for _, r := range readings[:cut] {
			before.HeartRate(r)
		}
		data, err := json.Marshal(before.State())
		if err != nil {
			t.Fatalf("marshal state: %v", err)
		}
		var st sessions.State
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatalf("unmarshal state: %v", err)
		}
		after := sessions.New(propertyConfig(), rec, nil)
		if err := after.Restore(st); err != nil {
			t.Fatal(err)
		}
		for _, r := range readings[cut:] {
			after.HeartRate(r)
		}
		after.End(sessions.EndReplay)
		if !reflect.DeepEqual(coinsOf(want), coinsOf(rec.ended)) {
			t.Fatalf("coins after restart at %d:\n%v\nwant\n%v", cut, coinsOf(rec.ended), coinsOf(want))
		}
	})
}

// coinsOf returns each session's coins by participant, in session order.
func coinsOf(sums []sessions.Summary) []string {
	var out []string
	for _, s := range sums {
		var parts []string
		for _, p := range s.Participants {
			b, _ := json.Marshal(p)
			parts = append(parts, string(b))
		}
		sort.Strings(parts)
		b, _ := json.Marshal(parts)
		out = append(out, s.SessionID+" "+string(s.EndReason)+" "+string(b))
	}
	return out
}
