package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// sampleReport prints each heap sample as a table row, and writes it to a
// CSV file when one is named.
type sampleReport struct {
	out     io.Writer
	csvFile *os.File
	csv     *bufio.Writer
	err     error
}

const (
	sampleTableHeader = "%10s %9s %12s %12s %10s %11s %8s %12s\n"
	sampleTableRow    = "%10s %9.1f %12.2f %12.2f %10d %11d %8d %12d\n"
	sampleCSVHeader   = "sim_seconds,wall_seconds,live_heap_bytes,mapped_bytes,goroutines," +
		"published,chart_clients,chart_messages\n"
)

func newSampleReport(out io.Writer, csvPath string) (*sampleReport, error) {
	r := &sampleReport{out: out}
	fmt.Fprintf(out, sampleTableHeader, "SIM TIME", "WALL S", "LIVE MiB", "MAPPED MiB",
		"GOROUTINES", "PUBLISHED", "CLIENTS", "CHART MSGS")
	if csvPath == "" {
		return r, nil
	}
	f, err := os.Create(csvPath)
	if err != nil {
		return nil, fmt.Errorf("create CSV file: %w", err)
	}
	r.csvFile, r.csv = f, bufio.NewWriter(f)
	_, r.err = r.csv.WriteString(sampleCSVHeader)
	return r, nil
}

func (r *sampleReport) add(s heapSample) {
	fmt.Fprintf(r.out, sampleTableRow, formatSimTime(s.SimTime), s.Wall.Seconds(),
		float64(s.LiveHeapBytes)/(1<<20), float64(s.MappedBytes)/(1<<20), s.Goroutines,
		s.Published, s.ChartClients, s.ChartMessages)
	if r.csv == nil || r.err != nil {
		return
	}
	_, r.err = fmt.Fprintf(r.csv, "%d,%.3f,%d,%d,%d,%d,%d,%d\n", int64(s.SimTime.Seconds()),
		s.Wall.Seconds(), s.LiveHeapBytes, s.MappedBytes, s.Goroutines, s.Published,
		s.ChartClients, s.ChartMessages)
	if r.err == nil {
		// Flushed per row so that a long run can be plotted while it goes.
		r.err = r.csv.Flush()
	}
}

// close flushes and closes the CSV file and returns the first write error.
func (r *sampleReport) close() error {
	if r.csvFile == nil {
		return nil
	}
	if r.err == nil {
		r.err = r.csv.Flush()
	}
	if err := r.csvFile.Close(); r.err == nil {
		r.err = err
	}
	if r.err != nil {
		return fmt.Errorf("write CSV file: %w", r.err)
	}
	return nil
}

// formatSimTime formats a simulated time as h:mm:ss.
func formatSimTime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

func printSimulationSummary(w io.Writer, res simulationResult) {
	fmt.Fprintf(w, "published %d messages in %s; dropped before the engine: %d; "+
		"chart client reconnects: %d; stalled clients renewed: %d\n", res.Published,
		res.Wall.Round(time.Second), res.Dropped, res.ClientReconnects, res.StalledRenewals)
	if len(res.Samples) == 0 {
		return
	}
	first, last := res.Samples[0], res.Samples[len(res.Samples)-1]
	peak := first
	for _, s := range res.Samples {
		if s.LiveHeapBytes > peak.LiveHeapBytes {
			peak = s
		}
	}
	fmt.Fprintf(w, "live heap: %s at start, %s at most (at %s), %s at %s\n",
		mib(first.LiveHeapBytes), mib(peak.LiveHeapBytes), formatSimTime(peak.SimTime),
		mib(last.LiveHeapBytes), formatSimTime(last.SimTime))
	err := checkHeapFlat(res.Samples, simulateBaselineAt, simulateMaxGrowth, simulateMaxHeap)
	if errors.Is(err, errTooFewSamples) {
		fmt.Fprintf(w, "heap goals not checked: %v\n", err)
		return
	}
	if err != nil {
		fmt.Fprintf(w, "heap goals not met: %v\n", err)
		return
	}
	fmt.Fprintf(w, "heap goals met: live heap at the end within %.0f %% of its value after %s, "+
		"and under %s\n", simulateMaxGrowth*100, formatSimTime(simulateBaselineAt),
		mib(simulateMaxHeap))
}
