// Package watchdog bounds fitbridge's memory: it gives the Go runtime a
// soft memory limit, reads the live heap with runtime/metrics, and moves
// between the pressure levels normal, high and critical with hysteresis.
// Each level change is logged once, exported as a metric and passed to the
// registered Shedders; entering critical also writes one heap profile.
package watchdog

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/metrics"
)

// Options configures a Watchdog.
type Options struct {
	// Memory contains the limit and the thresholds, and must be validated.
	// Zero high and critical ratios and a zero interval take the config
	// package defaults; a zero hysteresis means none.
	Memory config.Memory
	// ProfileDir is the folder for the heap profile written at critical
	// pressure, normally the data directory. Empty writes none.
	ProfileDir string
	// Sampler reads the live heap. Nil reads the running process.
	Sampler Sampler
	// Shedders hear every level change, in order.
	Shedders []Shedder
	Logger   *slog.Logger
	// Metrics receives the limit, thresholds and level. Nil creates a
	// private set.
	Metrics *metrics.Metrics
}

// Watchdog samples the heap and tracks the pressure level. Level is safe for
// concurrent use; Check and Run must not run at the same time as each other.
type Watchdog struct {
	limit    Limit
	interval time.Duration
	// enter[l] is the live heap at which level l starts; exit[l] is the
	// live heap below which it ends.
	enter, exit [Critical + 1]uint64

	sampler  Sampler
	shedders []Shedder
	log      *slog.Logger
	metrics  *metrics.Metrics
	profiles profileWriter

	level atomic.Int32
	mu    sync.Mutex // serialises Check
}

// New returns a watchdog at level Normal. It resolves the limit (see
// ResolveLimit) but does not apply it: Run does.
func New(opts Options) *Watchdog {
	mem := opts.Memory
	if mem.HighRatio == 0 {
		mem.HighRatio = config.DefaultHighRatio
	}
	if mem.CriticalRatio == 0 {
		mem.CriticalRatio = config.DefaultCriticalRatio
	}
	if mem.SampleInterval <= 0 {
		mem.SampleInterval = config.DefaultSampleInterval
	}
	if opts.Sampler == nil {
		opts.Sampler = NewRuntimeSampler()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	w := &Watchdog{
		limit:    ResolveLimit(mem.LimitBytes),
		interval: mem.SampleInterval,
		sampler:  opts.Sampler,
		shedders: opts.Shedders,
		log:      opts.Logger,
		metrics:  opts.Metrics,
		profiles: profileWriter{dir: opts.ProfileDir, now: time.Now},
	}
	limit := float64(w.limit.Bytes)
	// Rounding keeps ratios such as 0.6 - 0.05 from landing a byte short.
	bytesAt := func(ratio float64) uint64 { return uint64(math.Round(max(0, ratio) * limit)) }
	w.enter[High] = bytesAt(mem.HighRatio)
	w.enter[Critical] = bytesAt(mem.CriticalRatio)
	w.exit[High] = bytesAt(mem.HighRatio - mem.HysteresisRatio)
	w.exit[Critical] = bytesAt(mem.CriticalRatio - mem.HysteresisRatio)

	w.metrics.MemoryLimit.Set(limit)
	w.metrics.MemoryThresholds.WithLabelValues(metrics.LevelHigh).Set(float64(w.enter[High]))
	w.metrics.MemoryThresholds.WithLabelValues(metrics.LevelCritical).Set(float64(w.enter[Critical]))
	w.metrics.MemoryPressure.Set(float64(Normal))
	return w
}

// Limit returns the soft memory limit the watchdog uses.
func (w *Watchdog) Limit() Limit { return w.limit }

// Level returns the current pressure level.
func (w *Watchdog) Level() Level { return Level(w.level.Load()) }

// Run applies the soft memory limit to the Go runtime, then checks the heap
// every sample interval until ctx ends.
func (w *Watchdog) Run(ctx context.Context) {
	debug.SetMemoryLimit(w.limit.Bytes)
	w.log.Info("memory limit set", "limit_bytes", w.limit.Bytes, "source", w.limit.Source,
		"high_bytes", w.enter[High], "critical_bytes", w.enter[Critical],
		"sample_interval", w.interval)
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		w.Check()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Check reads one sample and moves to the level it calls for. On a change it
// writes the heap profile (when entering Critical), logs one line, updates
// the metrics and calls the shedders. It returns the new level.
func (w *Watchdog) Check() Level {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sampler.Sample()
	prev := w.Level()
	next := w.nextLevel(prev, s.LiveHeapBytes)
	if next == prev {
		return next
	}
	w.level.Store(int32(next))
	p := Pressure{Level: next, Previous: prev, LiveHeapBytes: s.LiveHeapBytes,
		LimitBytes: w.limit.Bytes}

	attrs := []any{"level", next.String(), "previous", prev.String(),
		"live_heap_bytes", s.LiveHeapBytes, "mapped_bytes", s.MappedBytes,
		"limit_bytes", w.limit.Bytes}
	if next == Critical {
		path, err := w.profiles.write()
		switch {
		case err != nil:
			w.metrics.HeapProfiles.WithLabelValues(metrics.ResultError).Inc()
			attrs = append(attrs, "profile_error", err)
		case path != "":
			w.metrics.HeapProfiles.WithLabelValues(metrics.ResultOK).Inc()
			attrs = append(attrs, "profile", path)
			p.ProfilePath = path
		}
	}
	w.log.Log(context.Background(), logLevel(prev, next), "memory pressure changed", attrs...)
	w.metrics.MemoryPressure.Set(float64(next))
	w.metrics.MemoryPressureChanges.WithLabelValues(next.String()).Inc()
	for _, shedder := range w.shedders {
		shedder.SetMemoryPressure(p)
	}
	return next
}

// nextLevel returns the level for a live heap of live bytes at level cur. A
// level is entered at its enter threshold and left only below its exit
// threshold, which is lower by the hysteresis.
func (w *Watchdog) nextLevel(cur Level, live uint64) Level {
	up := Normal
	switch {
	case live >= w.enter[Critical]:
		up = Critical
	case live >= w.enter[High]:
		up = High
	}
	if up >= cur {
		return up
	}
	level := cur
	for level > up && live < w.exit[level] {
		level--
	}
	return level
}

func logLevel(prev, next Level) slog.Level {
	switch {
	case next == Critical:
		return slog.LevelError
	case next > prev:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
