package bench

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestSuiteSmoke runs every step of the suite at a size of a few seconds.
// It checks that the harness produces figures, not what they are: speed
// is the subject of bench/run.sh and docs/benchmarks.md.
func TestSuiteSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts brokers and fitbridge instances; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{
		Dir: t.TempDir(), Devices: 4, ThroughputCount: 2000, Rounds: 1,
		LatencyRates: []float64{500}, LatencyDuration: time.Second, FramesPerSecond: 20,
		ScaleOut: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Broker.PerSecond <= 0 {
		t.Errorf("broker-only rate %v, want > 0", res.Broker.PerSecond)
	}
	if res.Fitbridge.PerSecond <= 0 {
		t.Errorf("fitbridge rate %v, want > 0", res.Fitbridge.PerSecond)
	}
	if res.Pair.PerSecond <= 0 || res.Single.PerSecond <= 0 {
		t.Errorf("scale-out rates single %v pair %v, want both > 0", res.Single.PerSecond,
			res.Pair.PerSecond)
	}
	if len(res.Latency) != 1 {
		t.Fatalf("%d latency rows, want 1", len(res.Latency))
	}
	row := res.Latency[0]
	// One second at 20 windows a second closes about 20 windows, less the
	// ones that session.max_lateness keeps open at the end.
	if row.Fitbridge.Samples < 5 {
		t.Errorf("fitbridge latency has %d samples, want at least 5", row.Fitbridge.Samples)
	}
	if row.Broker.Samples < 5 {
		t.Errorf("broker latency has %d samples, want at least 5", row.Broker.Samples)
	}
	if row.Fitbridge.P50 <= 0 || row.Fitbridge.P99 < row.Fitbridge.P50 ||
		row.Fitbridge.Max < row.Fitbridge.P99 {
		t.Errorf("fitbridge latency not ordered: %+v", row.Fitbridge)
	}

	var md strings.Builder
	WriteMarkdown(&md, res)
	for _, want := range []string{"| throughput,", "| latency p99 at 500 msg/s", "| two instances"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var svg strings.Builder
	if err := WriteSVG(&svg, res); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal([]byte(svg.String()), new(struct{})); err != nil {
		t.Errorf("chart is not well-formed XML: %v", err)
	}
}

func TestSummariseNearestRank(t *testing.T) {
	var delays []time.Duration
	for i := 100; i >= 1; i-- {
		delays = append(delays, time.Duration(i)*time.Millisecond)
	}
	got := summarise(delays)
	if got.P50 != 51*time.Millisecond {
		t.Errorf("p50 = %v, want 51ms", got.P50)
	}
	if got.P99 != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got.P99)
	}
	if got.Max != 100*time.Millisecond {
		t.Errorf("max = %v, want 100ms", got.Max)
	}
	if got.Samples != 100 {
		t.Errorf("samples = %d, want 100", got.Samples)
	}
}
