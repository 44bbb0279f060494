package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// samplesOf returns one sample per simulated half hour with the given live
// heaps in MiB.
func samplesOf(mibs ...float64) []heapSample {
	out := make([]heapSample, len(mibs))
	for i, m := range mibs {
		out[i] = heapSample{SimTime: time.Duration(i) * 30 * time.Minute,
			LiveHeapBytes: uint64(m * (1 << 20))}
	}
	return out
}

func TestCheckHeapFlat(t *testing.T) {
	cases := []struct {
		name    string
		samples []heapSample
		// want is a substring of the error, or empty for none.
		want string
	}{
		{"flat", samplesOf(4, 9, 10, 10.2, 9.8, 10.9, 10.1, 10.3, 10.5), ""},
		{"one high sample at the end", samplesOf(4, 9, 10, 10, 10, 10, 10, 10, 14), ""},
		{"growth over 10 %", samplesOf(4, 9, 10, 10.5, 11, 11.5, 12, 12.5),
			"grew from 10.50 MiB after 1:00:00 to 12.00 MiB"},
		{"leak of the old system", samplesOf(15, 450, 880, 1310, 1740, 2170, 2600, 3030),
			"grew from 1310.00 MiB"},
		{"over 64 MiB", samplesOf(60, 62, 63, 63, 63, 65, 65, 65), "over 64.00 MiB"},
		{"too few samples", samplesOf(4, 9, 10, 10, 10, 10, 10), "too few heap samples"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkHeapFlat(tc.samples, time.Hour, simulateMaxGrowth, simulateMaxHeap)
			if tc.want == "" {
				if err != nil {
					t.Errorf("checkHeapFlat: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkHeapFlat = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestSimulateRejectsInvalidFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--participants", "0"},
		{"--ws-clients", "1", "--stalled", "2"},
		{"--duration", "0s"},
		{"--sample-every", "10ms"},
		{"--speed", "fast"},
	} {
		_, _, err := runCLI(t, append([]string{"simulate"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("simulate %v: error = %v, want an invalid-flag error", args, err)
		}
	}
}

// TestSimulateShortSoak runs two simulated hours and fails when the live
// heap after the second hour is not flat against the first.
func TestSimulateShortSoak(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	job := simulation{
		Participants: 8, Equipment: 2, Clients: 4, Stalled: 1,
		Duration: 2 * time.Hour, SampleEvery: 10 * time.Minute,
		Seed: 1, Start: DefaultReplayStart, Log: testLogger(t),
	}
	res, err := job.run(ctx)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}

	if n := len(res.Samples); n != 13 {
		t.Fatalf("got %d samples, want 13 (0 to 2 h every 10 min)", n)
	}
	for _, s := range res.Samples {
		t.Logf("%s live %s mapped %s goroutines %d published %d chart messages %d",
			formatSimTime(s.SimTime), mib(s.LiveHeapBytes), mib(s.MappedBytes), s.Goroutines,
			s.Published, s.ChartMessages)
	}

	// About 8 readings a second for 2 hours, less the breaks and dropouts.
	if res.Published < 40_000 {
		t.Errorf("published %d messages, want over 40000", res.Published)
	}

	last := res.Samples[len(res.Samples)-1]
	if last.ChartMessages == 0 {
		t.Error("the chart clients received nothing")
	}
	if res.StalledRenewals != 2 {
		t.Errorf("stalled client renewed %d times, want 2 (at 0 h and 1 h)", res.StalledRenewals)
	}

	if err := checkHeapFlat(res.Samples, time.Hour, simulateMaxGrowth, simulateMaxHeap); err != nil {
		t.Error(err)
	}
}
