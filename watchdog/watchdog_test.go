package watchdog

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/metrics"
)

// fakeSampler returns the live heap the test sets.
type fakeSampler struct{ live uint64 }

func (f *fakeSampler) Sample() Sample { return Sample{LiveHeapBytes: f.live, MappedBytes: 2 * f.live} }

// recorder is a Shedder that keeps every change it hears.
type recorder struct {
	mu      sync.Mutex
	changes []Pressure
}

func (r *recorder) SetMemoryPressure(p Pressure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, p)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	wd      *Watchdog
	sampler *fakeSampler
	shed    *recorder
	logs    *syncBuffer
	metrics *metrics.Metrics
}

// newFixture returns a watchdog with a 1000-byte limit: high from 600 live
// bytes and left below 550, critical from 800 and left below 750.
func newFixture(t *testing.T, profileDir string) *fixture {
	t.Helper()
	f := &fixture{sampler: &fakeSampler{}, shed: &recorder{}, logs: &syncBuffer{},
		metrics: metrics.New()}
	f.wd = New(Options{
		Memory: config.Memory{LimitBytes: 1000, HighRatio: 0.6, CriticalRatio: 0.8,
			HysteresisRatio: 0.05, SampleInterval: time.Second},
		ProfileDir: profileDir,
		Sampler:    f.sampler,
		Shedders:   []Shedder{f.shed},
		Logger:     slog.New(slog.NewTextHandler(f.logs, nil)),
		Metrics:    f.metrics,
	})
	return f
}

func (f *fixture) check(live uint64) Level {
	f.sampler.live = live
	return f.wd.Check()
}

func TestLevelsFollowThresholdsWithHysteresis(t *testing.T) {
	f := newFixture(t, "")
	steps := []struct {
		live uint64
		want Level
	}{
		{500, Normal},
		{599, Normal},
		{600, High},
		{560, High}, // above the exit threshold 550
		{549, Normal},
		{700, High},
		{800, Critical},
		{760, Critical}, // above the exit threshold 750
		{749, High},
		{900, Critical},
		{100, Normal}, // two levels down at once
		{1200, Critical},
	}

	changes := 0
	prev := Normal
	for i, s := range steps {
		got := f.check(s.live)
		if got != s.want {
			t.Fatalf("step %d: live %d bytes gave %v, want %v", i, s.live, got, s.want)
		}
		if got != prev {
			changes++
		}
		prev = got
	}

	if got := f.wd.Level(); got != Critical {
		t.Errorf("Level() = %v, want critical", got)
	}
	if n := strings.Count(f.logs.String(), "memory pressure changed"); n != changes {
		t.Errorf("logged %d level changes, want %d:\n%s", n, changes, f.logs)
	}
	if n := len(f.shed.changes); n != changes {
		t.Errorf("shedder heard %d changes, want %d", n, changes)
	}
	var counted float64
	for _, level := range []string{metrics.LevelNormal, metrics.LevelHigh, metrics.LevelCritical} {
		counted += testutil.ToFloat64(f.metrics.MemoryPressureChanges.WithLabelValues(level))
	}
	if int(counted) != changes {
		t.Errorf("fitbridge_memory_pressure_changes_total sums to %v, want %d", counted, changes)
	}
	if got := testutil.ToFloat64(f.metrics.MemoryPressure); got != 2 {
		t.Errorf("fitbridge_memory_pressure_level = %v, want 2", got)
	}
}

func TestSteadyLevelIsQuiet(t *testing.T) {
	f := newFixture(t, "")
	for range 10 {
		f.check(650)
	}
	if n := strings.Count(f.logs.String(), "memory pressure changed"); n != 1 {
		t.Errorf("logged %d changes for one change, want 1:\n%s", n, f.logs)
	}
	if n := len(f.shed.changes); n != 1 {
		t.Errorf("shedder heard %d changes, want 1", n)
	}
}

func TestShedderHearsDetails(t *testing.T) {
	f := newFixture(t, "")
	f.check(650)
	f.check(10)
	want := []Pressure{
		{Level: High, Previous: Normal, LiveHeapBytes: 650, LimitBytes: 1000},
		{Level: Normal, Previous: High, LiveHeapBytes: 10, LimitBytes: 1000},
	}
	if len(f.shed.changes) != len(want) {
		t.Fatalf("shedder heard %+v, want %+v", f.shed.changes, want)
	}
	for i := range want {
		if f.shed.changes[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, f.shed.changes[i], want[i])
		}
	}
}

func TestThresholdMetrics(t *testing.T) {
	f := newFixture(t, "")
	if got := testutil.ToFloat64(f.metrics.MemoryLimit); got != 1000 {
		t.Errorf("fitbridge_memory_limit_bytes = %v, want 1000", got)
	}
	high := f.metrics.MemoryThresholds.WithLabelValues(metrics.LevelHigh)
	if got := testutil.ToFloat64(high); got != 600 {
		t.Errorf("high threshold = %v, want 600", got)
	}
	critical := f.metrics.MemoryThresholds.WithLabelValues(metrics.LevelCritical)
	if got := testutil.ToFloat64(critical); got != 800 {
		t.Errorf("critical threshold = %v, want 800", got)
	}
}

// profiles lists the heap profiles in dir.
func profiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "heap-*.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestCriticalWritesOneHeapProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	f := newFixture(t, dir)
	now := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
	f.wd.profiles.now = func() time.Time { return now }

	f.check(850)
	got := profiles(t, dir)
	if len(got) != 1 {
		t.Fatalf("after entering critical: profiles %v, want one", got)
	}
	data, err := os.ReadFile(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("profile %s is not gzip data", got[0])
	}
	if last := f.shed.changes[len(f.shed.changes)-1]; last.ProfilePath != got[0] {
		t.Errorf("shedder heard profile %q, want %q", last.ProfilePath, got[0])
	}
	if !strings.Contains(f.logs.String(), "profile="+got[0]) {
		t.Errorf("level change log does not name the profile:\n%s", f.logs)
	}

	// Flapping within the hour writes nothing more.
	now = now.Add(30 * time.Minute)
	f.check(100)
	f.check(850)
	if n := len(profiles(t, dir)); n != 1 {
		t.Errorf("critical again after 30 minutes: %d profiles, want still 1", n)
	}

	now = now.Add(ProfileMinInterval)
	f.check(100)
	f.check(850)
	if n := len(profiles(t, dir)); n != 2 {
		t.Errorf("critical again after an hour and a half: %d profiles, want 2", n)
	}
	if got := testutil.ToFloat64(f.metrics.HeapProfiles.WithLabelValues(metrics.ResultOK)); got != 2 {
		t.Errorf("fitbridge_memory_heap_profiles_total{result=ok} = %v, want 2", got)
	}
	tmp, _ := filepath.Glob(filepath.Join(dir, ".heap-*"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestProfileFailureIsLoggedAndCounted(t *testing.T) {
	// A regular file where the data directory should be.
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, dir)
	if got := f.check(900); got != Critical {
		t.Fatalf("level = %v, want critical", got)
	}
	if !strings.Contains(f.logs.String(), "profile_error=") {
		t.Errorf("log does not report the profile error:\n%s", f.logs)
	}
	if got := testutil.ToFloat64(f.metrics.HeapProfiles.WithLabelValues(metrics.ResultError)); got != 1 {
		t.Errorf("fitbridge_memory_heap_profiles_total{result=error} = %v, want 1", got)
	}
}

func TestNoProfileWithoutDirectory(t *testing.T) {
	f := newFixture(t, "")
	f.check(900)
	if p := f.shed.changes[0].ProfilePath; p != "" {
		t.Errorf("profile %q written without a profile directory", p)
	}
}

func TestRunAppliesLimitAndStops(t *testing.T) {
	const limit = 3 << 30
	previous := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(previous) })

	logs := &syncBuffer{}
	wd := New(Options{
		Memory: config.Memory{LimitBytes: limit, SampleInterval: 10 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		wd.Run(ctx)
	}()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(logs.String(), "memory limit set") {
		select {
		case <-deadline:
			t.Fatal("Run did not log the limit within 10 s")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("runtime memory limit = %d, want %d", got, limit)
	}
	if !strings.Contains(logs.String(), "source=config") {
		t.Errorf("log does not name the limit's source:\n%s", logs)
	}
}

var sink [][]byte

func TestRuntimeSamplerReadsLiveHeap(t *testing.T) {
	sink = make([][]byte, 64)
	for i := range sink {
		sink[i] = make([]byte, 64<<10)
	}
	runtime.GC()
	s := NewRuntimeSampler().Sample()
	if s.LiveHeapBytes < 4<<20 {
		t.Errorf("live heap %d bytes, want at least the 4 MiB held by the test", s.LiveHeapBytes)
	}
	if s.MappedBytes < s.LiveHeapBytes {
		t.Errorf("mapped %d bytes is below the live heap %d", s.MappedBytes, s.LiveHeapBytes)
	}
	sink = nil
}

func TestRuntimeSamplerDoesNotAllocate(t *testing.T) {
	sampler := NewRuntimeSampler()
	if n := testing.AllocsPerRun(100, func() { sampler.Sample() }); n != 0 {
		t.Errorf("Sample allocates %v times per call, want 0", n)
	}
}

func TestLevelNames(t *testing.T) {
	for level, want := range map[Level]string{Normal: "normal", High: "high", Critical: "critical",
		Level(7): "unknown"} {
		if got := level.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(level), got, want)
		}
	}
}
