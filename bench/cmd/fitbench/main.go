// Command fitbench runs the fitbridge benchmark suite against a mosquitto it
// starts on loopback, and writes the results as a Markdown table, JSON and
// an SVG chart. bench/run.sh calls it with the sizes of the published runs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fitbridge/fitbridge/bench"
)

func main() {
	if err := run(); err != nil {
		slog.Error("fitbench failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	o := bench.Options{}
	out := flag.String("out", ".", "folder for results.md, results.json and chart.svg")
	flag.IntVar(&o.Devices, "devices", 20, "number of straps, one participant each")
	flag.IntVar(&o.ThroughputCount, "count", 200000, "messages per throughput run")
	flag.IntVar(&o.Rounds, "rounds", 3, "throughput rounds; the median is reported")
	rates := flag.String("rates", "1000,10000", "comma-separated paced rates in msg/s for latency")
	flag.Float64Var(&o.MaxRateShare, "max-share", 0.9,
		"share of the fitbridge throughput used as the maximum sustainable rate; 0 skips it")
	flag.DurationVar(&o.LatencyDuration, "latency-duration", 10*time.Second,
		"duration of each latency run")
	flag.IntVar(&o.FramesPerSecond, "frames", 20, "coin windows closed per second in latency runs")
	flag.BoolVar(&o.ScaleOut, "scale-out", true, "measure two instances against one")
	flag.BoolVar(&o.NoCheckpoints, "no-checkpoints", false,
		"run the instances without session checkpoints, unlike production")
	flag.StringVar(&o.Binary, "binary", "", "built fitbridge binary for the start-up figures; "+
		"empty skips them")
	flag.IntVar(&o.StartupParticipants, "startup-participants", 50,
		"participants configured for the start-up time")
	flag.IntVar(&o.DiscoveryParticipants, "discovery-participants", 200,
		"participants configured for the discovery publish time")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	flag.Parse()
	for _, s := range strings.Split(*rates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("invalid -rates entry %q: want a positive number of msg/s", s)
		}
		o.LatencyRates = append(o.LatencyRates, r)
	}

	dir, err := os.MkdirTemp("", "fitbench-")
	if err != nil {
		return fmt.Errorf("create work folder: %w", err)
	}
	defer os.RemoveAll(dir)
	o.Dir = dir
	o.Progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	return writeResults(*out, res)
}

func writeResults(out string, res *bench.Results) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	var md strings.Builder
	bench.WriteMarkdown(&md, res)
	fmt.Print(md.String())
	if err := os.WriteFile(filepath.Join(out, "results.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("write results.md: %w", err)
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "results.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results.json: %w", err)
	}
	f, err := os.Create(filepath.Join(out, "chart.svg"))
	if err != nil {
		return fmt.Errorf("create chart.svg: %w", err)
	}
	if err := bench.WriteSVG(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write chart.svg: %w", err)
	}
	return f.Close()
}
