package charts

import (
	"log/slog"
	"time"

	"github.com/fitbridge/fitbridge/config"
)

// Defaults for Options fields left at zero.
const (
	DefaultQueueLen           = 64
	DefaultResumeMessages     = 128
	DefaultMaxRangePoints     = 2000
	DefaultMaxPendingRequests = 4
	DefaultWriteTimeout       = 10 * time.Second
	DefaultPingInterval       = 25 * time.Second
	DefaultPongTimeout        = 60 * time.Second
	DefaultCloseTimeout       = time.Second
)

// Gauge is the part of a gauge metric the hub uses; prometheus.Gauge satisfies it.
type Gauge interface {
	Inc()
	Dec()
}

// Counter is the part of a counter metric the hub uses; prometheus.Counter satisfies it.
type Counter interface {
	Inc()
}

// ValueGauge is the part of a gauge metric that the hub sets to a value;
// prometheus.Gauge satisfies it.
type ValueGauge interface {
	Set(float64)
}

// Metrics are optional collectors the hub updates. Any field may be nil.
type Metrics struct {
	// ClientsConnected is the number of registered WebSocket clients.
	ClientsConnected Gauge
	// MessagesSent counts data messages written to clients, one per client and message.
	MessagesSent Counter
	// ClientsDropped counts clients closed as slow consumers.
	ClientsDropped Counter
	// ClientsRejected counts connections rejected while memory pressure was high.
	ClientsRejected Counter
	// QueueHighWater is set to the largest number of broadcasts seen waiting in one
	// client's queue.
	QueueHighWater ValueGauge
	// SeriesPoints is set to the number of points in the live window: the ticks it
	// holds times its participant and equipment series.
	SeriesPoints ValueGauge
}

// Options configures a Hub. Zero values select the documented defaults.
type Options struct {
	// Version is the server version reported in hello.
	Version string
	// Interval is the engine's coin interval. Hello and snapshots report it until the
	// engine reports a session's own interval. Values under 1 ms select the default,
	// config.DefaultCoinInterval.
	Interval time.Duration
	// LiveWindowTicks is the maximum number of ticks stored per series.
	// Default config.DefaultLiveWindow / Interval.
	LiveWindowTicks int
	// QueueLen is the maximum number of broadcast messages waiting for one client. A
	// client whose queue is full is closed as a slow consumer. Default DefaultQueueLen.
	QueueLen int
	// ResumeMessages is the number of recent broadcasts kept per topic for clients that
	// reconnect. Default DefaultResumeMessages.
	ResumeMessages int
	// MaxRangePoints caps the max_points of a range request. Default DefaultMaxRangePoints.
	MaxRangePoints int
	// MaxPendingRequests is the number of requests a client may have waiting for their
	// reply; one more closes the connection with 1008. Default DefaultMaxPendingRequests.
	MaxPendingRequests int
	// WriteTimeout bounds every write to a client. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PingInterval is the time between pings to a client. Default DefaultPingInterval.
	PingInterval time.Duration
	// PongTimeout is how long a client may stay silent (no pong, no frame) before it is
	// closed. It must exceed PingInterval. Default DefaultPongTimeout.
	PongTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the close handshakes before it closes
	// the remaining connections without one. Default DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Zones are sent in hello for the dashboard's zone bands. See ZoneTableOf.
	Zones ZoneTable
	// Access holds the allowed origins and the optional bearer token.
	Access Access
	// Store provides saved sessions to the API and to range queries. Nil means that only
	// the session in the live window can be queried.
	Store SessionStore
	// Logger receives the hub's logs. Default slog.Default().
	Logger  *slog.Logger
	Metrics Metrics
}

// Stats is a point-in-time view of the hub's counters and memory use.
type Stats struct {
	Clients        int
	MessagesSent   uint64
	ClientsDropped uint64
	// Seq is the seq of the newest broadcast per topic, 0 before the first one.
	Seq map[string]uint64
	// Snapshots and Resumes count the topics that connecting clients started with a
	// snapshot and with a resume.
	Snapshots uint64
	Resumes   uint64
	// ClientsRejected counts connections rejected while memory pressure was high.
	ClientsRejected uint64
	// QueueHighWater is the largest number of broadcasts seen waiting in one client's
	// queue.
	QueueHighWater int
	// MemoryPressure is true while the hub sheds load (see SetMemoryPressure).
	MemoryPressure bool
	// WindowTicks is the number of ticks stored in the live window, and WindowCapacity
	// the number it can hold.
	WindowTicks    int
	WindowCapacity int
	// ParticipantSeries and EquipmentSeries count the series held in the live window.
	ParticipantSeries int
	EquipmentSeries   int
}

func withDefaults(opts Options) Options {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Interval < time.Millisecond {
		opts.Interval = config.DefaultCoinInterval
	}
	if opts.LiveWindowTicks <= 0 {
		opts.LiveWindowTicks = max(1, int(config.DefaultLiveWindow/opts.Interval))
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.ResumeMessages <= 0 {
		opts.ResumeMessages = DefaultResumeMessages
	}
	if opts.MaxRangePoints <= 0 {
		opts.MaxRangePoints = DefaultMaxRangePoints
	}
	if opts.MaxPendingRequests <= 0 {
		opts.MaxPendingRequests = DefaultMaxPendingRequests
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = DefaultPongTimeout
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	if opts.PongTimeout <= opts.PingInterval {
		opts.Logger.Warn("chart pong timeout raised",
			"pong_timeout", opts.PongTimeout, "ping_interval", opts.PingInterval,
			"new_pong_timeout", 2*opts.PingInterval)
		opts.PongTimeout = 2 * opts.PingInterval
	}
	return opts
}
