package metrics

import "github.com/prometheus/client_golang/prometheus"

// Memory pressure levels, the values of the "level" label of
// MemoryThresholds and MemoryPressureChanges. MemoryPressure exports them as
// 0, 1 and 2.
const (
	LevelNormal   = "normal"
	LevelHigh     = "high"
	LevelCritical = "critical"
)

func (m *Metrics) newMemory() []prometheus.Collector {
	m.MemoryLimit = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "memory_limit_bytes",
		Help: "Soft memory limit given to the Go runtime (debug.SetMemoryLimit).",
	})

	m.MemoryThresholds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "memory_pressure_threshold_bytes",
		Help: "Live heap at which memory pressure reaches a level (high or critical).",
	}, []string{"level"})
	touch(m.MemoryThresholds, LevelHigh, LevelCritical)

	m.MemoryPressure = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "memory_pressure_level",
		Help: "Memory pressure level: 0 normal, 1 high (shedding load), 2 critical.",
	})

	m.MemoryPressureChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "memory_pressure_changes_total",
		Help: "Changes of the memory pressure level, by the level entered.",
	}, []string{"level"})
	touch(m.MemoryPressureChanges, LevelNormal, LevelHigh, LevelCritical)

	m.HeapProfiles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "memory_heap_profiles_total",
		Help: "Heap profiles written to the data directory at critical memory pressure, " +
			"by result (ok or error).",
	}, []string{"result"})
	touch(m.HeapProfiles, ResultOK, ResultError)

	return []prometheus.Collector{
		m.MemoryLimit, m.MemoryThresholds, m.MemoryPressure, m.MemoryPressureChanges,
		m.HeapProfiles,
	}
}
