// Package metrics defines fitbridge's Prometheus metrics on an explicit
// registry, with the Go runtime and process collectors.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "fitbridge"

// Metrics holds every fitbridge metric. Label values come from fixed sets
// (input kinds, invalid-reading reasons, statuses, results, pressure
// levels), never from ids or topics. The packages that own each figure
// update it; the comments name what a field counts.
type Metrics struct {
	Registry *prometheus.Registry

	// MQTT input and output, updated by the bridge.
	MessagesReceived *prometheus.CounterVec
	InvalidReadings  *prometheus.CounterVec
	InputDropped     prometheus.Counter
	InputQueueDepth  prometheus.Gauge
	PublishFailures  prometheus.Counter
	BrokerConnected  prometheus.Gauge
	Reconnects       prometheus.Counter

	// Sessions, updated by the bridge from the engine's output.
	SessionActive  prometheus.Gauge
	Ticks          prometheus.Counter
	CoinsAwarded   prometheus.Counter
	SummaryWrites  *prometheus.CounterVec
	LateSamples    prometheus.Counter
	GuestsEvicted  prometheus.Counter
	UnknownSensors prometheus.Counter
	// Participants is the number of roster participants by status.
	Participants *prometheus.GaugeVec
	// CheckpointWrites and CheckpointDuration count and time the writes of
	// a running session's state to the data directory.
	CheckpointWrites   *prometheus.CounterVec
	CheckpointDuration prometheus.Histogram
	// SeriesPoints is the number of time-series points held in memory, by
	// holder (HolderEngine or HolderCharts).
	SeriesPoints *prometheus.GaugeVec

	// Chart feed, updated by the chart hub.
	WSClients        prometheus.Gauge
	WSMessagesSent   prometheus.Counter
	WSClientsDropped prometheus.Counter
	// WSQueueHighWater is the largest number of messages that ever waited
	// in one client's queue since the process started.
	WSQueueHighWater prometheus.Gauge
	// WSClientsRejected counts connections rejected under memory pressure.
	WSClientsRejected prometheus.Counter

	// Memory, updated by the heap watchdog.
	MemoryLimit           prometheus.Gauge
	MemoryThresholds      *prometheus.GaugeVec
	MemoryPressure        prometheus.Gauge
	MemoryPressureChanges *prometheus.CounterVec
	HeapProfiles          *prometheus.CounterVec
}

// New returns the metrics registered on a new registry, with every child of
// a fixed label set created at zero so that it is exported from the start.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.Registry.MustRegister(m.newMQTT()...)
	m.Registry.MustRegister(m.newSessions()...)
	m.Registry.MustRegister(m.newCharts()...)
	m.Registry.MustRegister(m.newMemory()...)
	m.Registry.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, collectors.MetricsMemory,
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.Registry,
		promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
}

// touch creates the child of vec for each value of its single label.
func touch[T any](vec interface{ WithLabelValues(...string) T }, values ...string) {
	for _, v := range values {
		vec.WithLabelValues(v)
	}
}
