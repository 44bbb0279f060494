package watchdog

import (
	"runtime/metrics"
	"sync"
)

// Sample is one reading of the Go runtime's memory.
type Sample struct {
	// LiveHeapBytes is the heap the last garbage collection marked live
	// (/gc/heap/live:bytes). It excludes garbage, so it does not follow the
	// collector's sawtooth. It changes only when a collection ends.
	LiveHeapBytes uint64
	// MappedBytes is the memory the runtime's soft limit applies to:
	// /memory/classes/total:bytes minus /memory/classes/heap/released:bytes.
	MappedBytes uint64
}

// Sampler reads memory samples. Tests supply their own.
type Sampler interface {
	Sample() Sample
}

// Names of the runtime/metrics values read by RuntimeSampler.
const (
	metricLiveHeap = "/gc/heap/live:bytes"
	metricTotal    = "/memory/classes/total:bytes"
	metricReleased = "/memory/classes/heap/released:bytes"
)

// RuntimeSampler reads runtime/metrics, which unlike runtime.ReadMemStats
// does not stop the world. It is safe for concurrent use.
type RuntimeSampler struct {
	mu      sync.Mutex
	samples []metrics.Sample
}

// NewRuntimeSampler returns a sampler of the running process.
func NewRuntimeSampler() *RuntimeSampler {
	return &RuntimeSampler{samples: []metrics.Sample{
		{Name: metricLiveHeap}, {Name: metricTotal}, {Name: metricReleased},
	}}
}

// Sample reads the current values. The slice of samples is allocated once,
// so a call does not allocate.
func (s *RuntimeSampler) Sample() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	metrics.Read(s.samples)
	total := uint64Value(s.samples[1])
	released := uint64Value(s.samples[2])
	return Sample{
		LiveHeapBytes: uint64Value(s.samples[0]),
		MappedBytes:   total - min(released, total),
	}
}

// uint64Value returns a sample's value, or 0 when this Go release does not
// know the metric.
func uint64Value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
