package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes the host and its load for the results page.
func Machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s; load average at the end %s",
		model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
}

// ratio returns a/b to two decimals, or "n/a".
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

// WriteMarkdown writes the results as the table of docs/benchmarks.md.
func WriteMarkdown(w io.Writer, r *Results) {
	fmt.Fprintf(w, "Run of %s on %s.\n\n", r.Started.UTC().Format(time.RFC3339), Machine())
	fmt.Fprintln(w, "| figure | broker-only | fitbridge | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fmt.Fprintf(w, "| throughput, %d msgs, %d straps, median of %d (msg/s) | %.0f | %.0f | %s |\n",
		r.Options.ThroughputCount, r.Options.Devices, r.Options.Rounds, r.Broker.PerSecond,
		r.Fitbridge.PerSecond, ratio(r.Fitbridge.PerSecond, r.Broker.PerSecond))
	for _, row := range r.Latency {
		for _, q := range []struct {
			name string
			b, f time.Duration
		}{{"median", row.Broker.P50, row.Fitbridge.P50}, {"p99", row.Broker.P99, row.Fitbridge.P99},
			{"max", row.Broker.Max, row.Fitbridge.Max}} {
			fmt.Fprintf(w, "| latency %s at %.0f msg/s (%d samples) | %s | %s | %s |\n", q.name,
				row.Rate, row.Fitbridge.Samples, ms(q.b), ms(q.f),
				ratio(float64(q.f), float64(q.b)))
		}
	}
	if r.Pair.PerSecond > 0 {
		fmt.Fprintf(w, "| two instances vs one, two rooms, median of %d (msg/s) | %.0f (one) "+
			"| %.0f (two) | %s |\n", len(r.PairRounds),
			r.Single.PerSecond, r.Pair.PerSecond, ratio(r.Pair.PerSecond, r.Single.PerSecond))
	}
	if s := r.Startup; s != nil {
		fmt.Fprintf(w, "| start-up to ready, %d participants | %s (mosquitto) | %s | %s |\n",
			s.Participants, ms(s.BrokerStart), ms(s.FitbridgeStart),
			ratio(float64(s.FitbridgeStart), float64(s.BrokerStart)))
		fmt.Fprintf(w, "| discovery publish, %d participants, %d configs | %s (plain client) "+
			"| %s (%s from exec; %d other messages in between) | %s |\n", s.DiscoveryParticipants,
			s.DiscoveryMessages, ms(s.PlainPublish), ms(s.DiscoveryPublish),
			ms(s.DiscoveryFromExec), s.DiscoveryOthers,
			ratio(float64(s.DiscoveryPublish), float64(s.PlainPublish)))
	}
	fmt.Fprintln(w, "\nThroughput rounds (msg/s, messages lost in brackets):")
	fmt.Fprintln(w)
	for i := range min(len(r.BrokerRounds), len(r.FitbridgeRounds)) {
		f := r.FitbridgeRounds[i]
		fmt.Fprintf(w, "- round %d: broker-only %.0f (%d), fitbridge %.0f (%d); fitbridge wrote "+
			"%d checkpoints taking %.0f ms off the engine loop\n", i, r.BrokerRounds[i].PerSecond,
			r.BrokerRounds[i].Lost, f.PerSecond, f.Lost, f.Checkpoints, f.CheckpointSeconds*1000)
	}
	for i := range min(len(r.SingleRounds), len(r.PairRounds)) {
		fmt.Fprintf(w, "- scale-out round %d: one instance %.0f (%d), two instances %.0f (%d)\n", i,
			r.SingleRounds[i].PerSecond, r.SingleRounds[i].Lost, r.PairRounds[i].PerSecond,
			r.PairRounds[i].Lost)
	}
	if r.Options.MaxRateShare > 0 {
		fmt.Fprintf(w, "\nMaximum sustainable rate (p99 under %v, no window missed): %.0f msg/s.\n",
			sustainableLatency, r.Sustainable)
	}
}
