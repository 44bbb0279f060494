// Package charts serves the live chart feed over WebSocket and a minimal dashboard page.
//
// The Hub receives the session engine's output through the sessions.Listener methods,
// keeps a bounded live window of recent ticks, and fans every update out to the connected
// clients. docs/chart-feed.md describes the protocol.
package charts

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

// Defaults for Options fields left at zero.
const (
	DefaultQueueLen     = 64
	DefaultWriteTimeout = 10 * time.Second
	DefaultPingInterval = 25 * time.Second
	DefaultPongTimeout  = 60 * time.Second
)

// MaxClientMessageBytes is the read limit on a client frame. Clients have nothing to send
// in protocol version 1, so a larger frame closes the connection with code 1009.
const MaxClientMessageBytes = 512

// Slow consumers are closed with 1013 (try again later) rather than 1008, because the
// client did nothing wrong: it should reconnect, and the snapshot then resynchronizes it.
const (
	closeCodeSlowConsumer   = websocket.CloseTryAgainLater
	closeReasonSlowConsumer = "slow consumer"
	closeReasonShutdown     = "server shutting down"
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

// Metrics are optional collectors the hub updates. Any field may be nil.
type Metrics struct {
	// ClientsConnected is the number of registered WebSocket clients.
	ClientsConnected Gauge
	// MessagesSent counts data messages written to clients, one per client and message.
	MessagesSent Counter
	// ClientsDropped counts clients closed as slow consumers.
	ClientsDropped Counter
}

// Options configures a Hub. Zero values select the documented defaults.
type Options struct {
	// Version is the server version reported in hello.
	Version string
	// Interval is the engine's coin interval. Hello and snapshot report it until the
	// engine reports a session's own interval. Values under 1 ms select the default,
	// config.DefaultCoinInterval.
	Interval time.Duration
	// LiveWindowTicks is the maximum number of ticks stored per series.
	// Default config.DefaultLiveWindow / Interval.
	LiveWindowTicks int
	// QueueLen is the maximum number of broadcast messages waiting for one client. A
	// client whose queue is full is closed as a slow consumer. Default DefaultQueueLen.
	QueueLen int
	// WriteTimeout bounds every write to a client. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PingInterval is the time between pings to a client. Default DefaultPingInterval.
	PingInterval time.Duration
	// PongTimeout is how long a client may stay silent (no pong, no frame) before it is
	// closed. It must exceed PingInterval. Default DefaultPongTimeout.
	PongTimeout time.Duration
	// CheckOrigin decides whether to accept a WebSocket request. Nil selects the gorilla
	// default, which rejects a request whose Origin host differs from its Host header.
	// NOTE: whether a reverse proxy such as Home Assistant ingress keeps Host equal to the
	// browser's Origin host has not been verified, so such a setup may need its own check.
	CheckOrigin func(r *http.Request) bool
	// Logger receives the hub's logs. Default slog.Default().
	Logger  *slog.Logger
	Metrics Metrics
}

// Stats is a point-in-time view of the hub's counters and memory use.
type Stats struct {
	Clients        int
	MessagesSent   uint64
	ClientsDropped uint64
	// Seq is the seq of the newest broadcast message, 0 before the first one.
	Seq uint64
	// WindowTicks is the number of ticks stored in the live window.
	WindowTicks int
	// ParticipantSeries and EquipmentSeries count the series held in the live window.
	ParticipantSeries int
	EquipmentSeries   int
}

// Hub is the chart feed and a sessions.Listener. Its Listener methods do not wait for any
// client, because each client has its own bounded queue and writer goroutine. They do hold
// the hub's mutex while encoding, which a new connection also holds to copy the snapshot.
type Hub struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader

	// handlers tracks running ServeWS calls so that Close can wait for them.
	handlers sync.WaitGroup

	messagesSent   atomic.Uint64
	clientsDropped atomic.Uint64

	mu           sync.Mutex
	closed       bool
	seq          uint64
	intervalMS   int64
	session      *sessionInfo
	window       *liveWindow
	clients      map[*client]struct{}
	nextClientID uint64
}

var _ sessions.Listener = (*Hub)(nil)

// NewHub returns a hub with no clients and an empty live window.
func NewHub(opts Options) *Hub {
	opts = withDefaults(opts)
	h := &Hub{
		opts: opts,
		log:  opts.Logger,
		upgrader: websocket.Upgrader{
			HandshakeTimeout: opts.WriteTimeout,
			CheckOrigin:      opts.CheckOrigin,
		},
		intervalMS: opts.Interval.Milliseconds(),
		clients:    make(map[*client]struct{}),
	}
	h.window = newLiveWindow(opts.LiveWindowTicks, h.intervalMS)
	return h
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
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = DefaultPongTimeout
	}
	if opts.PongTimeout <= opts.PingInterval {
		opts.Logger.Warn("chart pong timeout raised",
			"pong_timeout", opts.PongTimeout, "ping_interval", opts.PingInterval,
			"new_pong_timeout", 2*opts.PingInterval)
		opts.PongTimeout = 2 * opts.PingInterval
	}
	return opts
}

// SessionStarted resets the live window for the new session and broadcasts
// session_started.
func (h *Hub) SessionStarted(s sessions.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if h.session != nil && h.session.Running {
		h.log.Warn("chart session replaced without end",
			"session_id", h.session.ID, "new_session_id", s.SessionID)
	}
	if s.IntervalMS > 0 {
		h.intervalMS = s.IntervalMS
	}
	startedAt := s.StartedAt
	h.startSessionLocked(sessionInfo{ID: s.SessionID, StartedAt: &startedAt, Running: true})
	h.window.setRoster(s.Participants, s.Equipment)
	h.broadcastLocked(buildSessionStarted(s, *h.session, h.intervalMS, h.seq+1))
}

// TickClosed stores the tick in the live window and broadcasts it. A tick of a session
// the hub has not seen start is taken as that session's start, because the engine is the
// authority on which session runs. A tick of an ended session, or one whose index is not
// after the previous tick, is logged and dropped.
func (h *Hub) TickClosed(t sessions.Tick) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if h.session == nil || h.session.ID != t.SessionID {
		h.log.Warn("chart tick for unknown session", "session_id", t.SessionID, "tick", t.Index)
		if t.IntervalMS > 0 {
			h.intervalMS = t.IntervalMS
		}
		h.startSessionLocked(sessionInfo{ID: t.SessionID, Running: true})
		start := rosterOf(t)
		h.window.setRoster(start.Participants, start.Equipment)
		h.broadcastLocked(buildSessionStarted(start, *h.session, h.intervalMS, h.seq+1))
	}
	if !h.session.Running {
		h.log.Warn("chart tick after session end dropped", "session_id", t.SessionID, "tick", t.Index)
		return
	}
	if t.IntervalMS > 0 && t.IntervalMS != h.window.intervalMS {
		// Points of two intervals cannot share one grid, so the window starts over.
		h.log.Warn("chart tick interval changed; live window cleared",
			"session_id", t.SessionID, "tick", t.Index,
			"interval_ms", h.window.intervalMS, "new_interval_ms", t.IntervalMS)
		h.intervalMS = t.IntervalMS
		h.window = newLiveWindow(h.opts.LiveWindowTicks, h.intervalMS)
	}
	if err := h.window.appendTick(t); err != nil {
		h.log.Warn("chart tick dropped", "session_id", t.SessionID, "tick", t.Index, "error", err)
		return
	}
	h.broadcastLocked(buildTick(t, h.window.intervalMS, h.seq+1))
}

// SessionEnded marks the session ended, frees the series of participants who are no
// longer on the roster, and broadcasts session_ended. The window of the ended session
// stays available to new clients until the next session starts.
func (h *Hub) SessionEnded(sum sessions.Summary) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	info := sessionInfo{ID: sum.SessionID, Running: false}
	if !sum.StartedAt.IsZero() {
		startedAt := sum.StartedAt
		info.StartedAt = &startedAt
	}
	if h.session != nil && h.session.ID == sum.SessionID {
		h.session.Running = false
		if info.StartedAt == nil {
			info.StartedAt = h.session.StartedAt
		}
		h.window.freeOffRoster()
	} else {
		h.log.Warn("chart end of unknown session", "session_id", sum.SessionID)
	}
	h.broadcastLocked(&sessionEndedMessage{
		header:  newHeader(TypeSessionEnded, h.seq+1),
		Session: info,
		Summary: sum,
	})
}

func (h *Hub) startSessionLocked(info sessionInfo) {
	h.session = &info
	h.window = newLiveWindow(h.opts.LiveWindowTicks, h.intervalMS)
}

// rosterOf returns the roster and equipment list of a tick in the form of a session start.
func rosterOf(t sessions.Tick) sessions.Snapshot {
	s := sessions.Snapshot{SessionID: t.SessionID, Running: true, IntervalMS: t.IntervalMS}
	for _, p := range t.Participants {
		s.Participants = append(s.Participants,
			sessions.ParticipantState{ID: p.ID, Name: p.Name, Status: p.Status})
	}
	for _, e := range t.Equipment {
		s.Equipment = append(s.Equipment, sessions.EquipmentState{ID: e.ID, Active: e.Active})
	}
	return s
}

// broadcastLocked encodes msg once and queues it for every client without blocking. The
// message must carry seq h.seq+1; the seq is only used up when encoding succeeds, so
// clients never see a gap for a message that was not sent. h.mu must be held.
func (h *Hub) broadcastLocked(msg any) {
	data, err := json.Marshal(msg)
	if err != nil {
		h.log.Error("chart message encoding failed", "seq", h.seq+1, "error", err)
		return
	}
	prepared, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("chart message framing failed", "seq", h.seq+1, "error", err)
		return
	}
	h.seq++
	for c := range h.clients {
		select {
		case c.queue <- prepared:
		default:
			h.removeLocked(c)
			c.kick(closeCodeSlowConsumer, closeReasonSlowConsumer)
			h.clientsDropped.Add(1)
			if h.opts.Metrics.ClientsDropped != nil {
				h.opts.Metrics.ClientsDropped.Inc()
			}
			h.log.Warn("chart client dropped",
				"client_id", c.id, "remote", c.remote, "reason", closeReasonSlowConsumer,
				"queue_len", h.opts.QueueLen, "seq", h.seq)
		}
	}
}

// ClientCount returns the number of registered clients.
func (h *Hub) ClientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Stats returns the hub's counters and the size of its live window.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{
		Clients:           len(h.clients),
		MessagesSent:      h.messagesSent.Load(),
		ClientsDropped:    h.clientsDropped.Load(),
		Seq:               h.seq,
		WindowTicks:       h.window.count,
		ParticipantSeries: len(h.window.participants),
		EquipmentSeries:   len(h.window.equipment),
	}
}

// Close sends close code 1001 (going away) to every client, rejects new connections, and
// waits until every connection handler has returned. That takes at most about
// WriteTimeout plus closeReplyTimeout when a client does not reply. Listener calls after
// Close do nothing. Close may be called more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for c := range h.clients {
			h.removeLocked(c)
			c.kick(websocket.CloseGoingAway, closeReasonShutdown)
		}
	}
	h.mu.Unlock()
	h.handlers.Wait()
}
