package metrics

import "github.com/prometheus/client_golang/prometheus"

// Participant statuses, the values of the "status" label of Participants.
// They are the engine's statuses (sessions.Status).
const (
	StatusActive = "active"
	StatusIdle   = "idle"
	StatusLeft   = "left"
)

// Write results, the values of the "result" label of SummaryWrites,
// CheckpointWrites and HeapProfiles.
const (
	ResultOK    = "ok"
	ResultError = "error"
)

// Holders of time-series points, the values of the "holder" label of
// SeriesPoints. The engine keeps a fixed set of numbers per participant and
// no series, so HolderEngine stays 0; the label keeps dashboards stable if
// that changes.
const (
	HolderEngine = "engine"
	HolderCharts = "charts"
)

func (m *Metrics) newSessions() []prometheus.Collector {
	m.SessionActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "session_active",
		Help: "1 while a session is running, else 0.",
	})

	m.Ticks = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "session_ticks_total",
		Help: "Coin windows closed.",
	})

	m.CoinsAwarded = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "coins_awarded_total",
		Help: "Coins awarded to all participants.",
	})

	m.SummaryWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "session_saves_total",
		Help: "Session summary files written, by result (ok or error).",
	}, []string{"result"})
	touch(m.SummaryWrites, ResultOK, ResultError)

	m.LateSamples = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "samples_late_total",
		Help: "Valid heart-rate samples that arrived after their coin window closed.",
	})

	m.GuestsEvicted = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "guests_evicted_total",
		Help: "Guest participants dropped to keep the guest limit.",
	})

	m.UnknownSensors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "vibration_unknown_equipment_total",
		Help: "Vibration reports for equipment that is not configured.",
	})

	m.Participants = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "session_participants",
		Help: "Participants on the running session's roster, by status (active, idle or left).",
	}, []string{"status"})
	touch(m.Participants, StatusActive, StatusIdle, StatusLeft)

	m.CheckpointWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "session_checkpoint_writes_total",
		Help: "Checkpoints of the running session written to the data directory, " +
			"by result (ok or error).",
	}, []string{"result"})
	touch(m.CheckpointWrites, ResultOK, ResultError)

	m.CheckpointDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "session_checkpoint_write_duration_seconds",
		Help: "Time to write one session checkpoint, file sync included.",
		// 1 ms to about 4 s: a local disk takes milliseconds, an SD card
		// under load can take seconds.
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 13),
	})

	m.SeriesPoints = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "series_points",
		Help: "Time-series points held in memory, by holder: charts is the chart feed's " +
			"live window; engine stays 0, because the session engine keeps no series.",
	}, []string{"holder"})
	touch(m.SeriesPoints, HolderEngine, HolderCharts)

	return []prometheus.Collector{
		m.SessionActive, m.Ticks, m.CoinsAwarded, m.SummaryWrites, m.LateSamples,
		m.GuestsEvicted, m.UnknownSensors, m.Participants, m.CheckpointWrites,
		m.CheckpointDuration, m.SeriesPoints,
	}
}
