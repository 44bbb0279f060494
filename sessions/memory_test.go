package sessions_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

// liveHeap returns the live heap after a full collection, in bytes.
func liveHeap() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// simulateDay runs one session of 50 participants sending a reading every
// 2 s each for the given hours through the engine, and returns the live
// heap at the end of every hour.
func simulateDay(hours int) []uint64 {
	cfg := config.Default()
	for i := range 50 {
		id := fmt.Sprintf("p%02d", i)
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: id, Name: id, Devices: []string{"dev-" + id},
		})
	}
	e := sessions.New(cfg, nil, nil)
	heaps := make([]uint64, 0, hours)
	step := 2 * time.Second
	perHour := int(time.Hour / step)
	r := sessions.HeartRateReading{Battery: -1}
	for h := range hours {
		for s := range perHour {
			at := t0.Add(time.Duration(h)*time.Hour + time.Duration(s)*step)
			for i := range 50 {
				r.DeviceID = cfg.Participants[i].Devices[0]
				r.Time = at.Add(time.Duration(i) * time.Millisecond)
				r.BPM = float64(90 + (s+i*7)%90)
				e.HeartRate(r)
			}
		}
		heaps = append(heaps, liveHeap())
	}
	if !e.Running() {
		panic("session ended during the simulated day")
	}
	return heaps
}

// TestEngineMemoryFlatOverDay checks that the engine's live heap after 24
// simulated hours is within 10 % of the heap after the first hour.
func TestEngineMemoryFlatOverDay(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 4.3 million readings")
	}
	heaps := simulateDay(24)
	first, last := heaps[0], heaps[len(heaps)-1]
	t.Logf("live heap: hour 1 %d B, hour 24 %d B", first, last)
	if float64(last) > float64(first)*1.10 {
		t.Errorf("live heap grew from %d B at hour 1 to %d B at hour 24 (more than 10 %%)",
			first, last)
	}
}

// BenchmarkEngineDay reports the live heap at each simulated hour of a
// 24-hour session with 50 participants.
func BenchmarkEngineDay(b *testing.B) {
	for range b.N {
		heaps := simulateDay(24)
		for h, heap := range heaps {
			b.Logf("hour %2d: live heap %7.1f KiB", h+1, float64(heap)/1024)
		}
		b.ReportMetric(float64(heaps[0]), "heap-hour1-B")
		b.ReportMetric(float64(heaps[len(heaps)-1]), "heap-hour24-B")
	}
}
