// Package charts serves the live chart feed over WebSocket, the dashboard page and the
// JSON API of the current and saved sessions.
//
// The Hub receives the session engine's output through the sessions.Listener methods,
// keeps a bounded live window of recent ticks and a bounded ring of recent messages per
// topic, and fans every update out to the connected clients. docs/chart-feed.md describes
// the protocol.
package charts

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
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
)

// MaxClientMessageBytes is the read limit on a client frame. A larger frame closes the
// connection with code 1009.
const MaxClientMessageBytes = 1024

// Slow consumers are closed with 1013 (try again later) rather than 1008, because the
// client did nothing wrong: it should reconnect and resume.
const (
	closeCodeSlowConsumer   = websocket.CloseTryAgainLater
	closeReasonSlowConsumer = "slow consumer"
	closeReasonShutdown     = "server shutting down"
	closeReasonTooMany      = "too many pending requests"
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
	// WindowTicks is the number of ticks stored in the live window.
	WindowTicks int
	// ParticipantSeries and EquipmentSeries count the series held in the live window.
	ParticipantSeries int
	EquipmentSeries   int
}

// Hub is the chart feed and a sessions.Listener. Its Listener methods do not wait for any
// client, because each client has its own bounded queue and writer goroutine. They hold
// the hub's mutex while encoding each message once for all clients.
type Hub struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader
	// epoch identifies this hub instance; a client whose epoch differs gets snapshots.
	epoch string

	// handlers tracks running ServeWS calls so that Close can wait for them.
	handlers sync.WaitGroup

	messagesSent   atomic.Uint64
	clientsDropped atomic.Uint64
	snapshots      atomic.Uint64
	resumes        atomic.Uint64

	mu         sync.Mutex
	closed     bool
	intervalMS int64
	session    *sessionState
	// lastSummary is the summary of the session in the window once it has ended.
	lastSummary  *sessions.Summary
	window       *liveWindow
	topics       map[string]*topicLog
	clients      map[*client]struct{}
	nextClientID uint64
}

var _ sessions.Listener = (*Hub)(nil)

// NewHub returns a hub with no clients and an empty live window.
func NewHub(opts Options) *Hub {
	opts = withDefaults(opts)
	h := &Hub{
		opts:       opts,
		log:        opts.Logger,
		epoch:      newEpoch(),
		intervalMS: opts.Interval.Milliseconds(),
		topics:     make(map[string]*topicLog, len(allTopics)),
		clients:    make(map[*client]struct{}),
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: opts.WriteTimeout,
		CheckOrigin:      h.checkOrigin,
		Subprotocols:     []string{Subprotocol},
	}
	for _, name := range allTopics {
		h.topics[name] = newTopicLog(opts.ResumeMessages)
	}
	h.window = newLiveWindow(opts.LiveWindowTicks, h.intervalMS)
	return h
}

// newEpoch returns 16 random hex digits. crypto/rand.Read never returns an error.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
	if opts.PongTimeout <= opts.PingInterval {
		opts.Logger.Warn("chart pong timeout raised",
			"pong_timeout", opts.PongTimeout, "ping_interval", opts.PingInterval,
			"new_pong_timeout", 2*opts.PingInterval)
		opts.PongTimeout = 2 * opts.PingInterval
	}
	return opts
}

// Epoch returns the identifier of this hub instance that hello reports.
func (h *Hub) Epoch() string { return h.epoch }

// SessionStarted resets the live window for the new session and broadcasts
// session_started and an empty snapshot of each series topic. A start of the session that
// the window holds, which the engine reports when it resumes a session after an automatic
// end, keeps the window and broadcasts only session_started.
func (h *Hub) SessionStarted(s sessions.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	s.Participants = onRoster(s.Participants)
	if h.session != nil && h.session.ID == s.SessionID {
		h.resumeSessionLocked()
		return
	}
	if h.session != nil && h.session.Running {
		h.log.Warn("chart session replaced without end",
			"session_id", h.session.ID, "new_session_id", s.SessionID)
	}
	if s.IntervalMS > 0 {
		h.intervalMS = s.IntervalMS
	}
	h.startSessionLocked(s)
}

// onRoster returns the participants that are on the session's roster. An engine snapshot
// lists every known participant, and those off the roster have no status.
func onRoster(people []sessions.ParticipantState) []sessions.ParticipantState {
	out := make([]sessions.ParticipantState, 0, len(people))
	for _, p := range people {
		if p.Status != "" {
			out = append(out, p)
		}
	}
	return out
}

// resumeSessionLocked marks the session in the window running again and broadcasts
// session_started. h.mu must be held.
func (h *Hub) resumeSessionLocked() {
	h.session.Running = true
	h.session.EndedAt = nil
	h.session.EndReason = nil
	h.lastSummary = nil
	h.broadcastLocked(TopicSession, &sessionMessage{
		header:  newHeader(TypeSessionStarted, TopicSession, h.topics[TopicSession].seq+1),
		Session: h.session.clone(),
	})
}

// startSessionLocked installs a new session and broadcasts its start on every topic.
// h.mu must be held.
func (h *Hub) startSessionLocked(s sessions.Snapshot) {
	state := sessionFromStart(s, h.intervalMS)
	h.session = &state
	h.lastSummary = nil
	h.window = newLiveWindow(h.opts.LiveWindowTicks, h.intervalMS)
	h.window.setRoster(s.Participants, s.Equipment)

	session := h.topics[TopicSession]
	h.broadcastLocked(TopicSession, &sessionMessage{
		header:  newHeader(TypeSessionStarted, TopicSession, session.seq+1),
		Session: state.clone(),
	})
	id := optionalString(s.SessionID)
	h.broadcastLocked(TopicFitness,
		buildFitnessSnapshot(h.window, id, h.topics[TopicFitness].seq+1))
	h.broadcastLocked(TopicEquipment,
		buildEquipmentSnapshot(h.window, id, h.topics[TopicEquipment].seq+1))
}

// TickClosed stores the tick in the live window and broadcasts it on every topic. A tick
// of a session the hub has not seen start is taken as that session's start, because the
// engine is the authority on which session runs. A tick of an ended session, or one whose
// index is not after the previous tick, is logged and dropped.
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
		h.startSessionLocked(rosterOf(t))
	}
	if !h.session.Running {
		h.log.Warn("chart tick after session end dropped", "session_id", t.SessionID, "tick", t.Index)
		return
	}
	if t.IntervalMS > 0 && t.IntervalMS != h.window.intervalMS {
		// Points of two intervals cannot share one grid, so the window starts over, and
		// the clients learn it from a new snapshot.
		h.log.Warn("chart tick interval changed; live window cleared",
			"session_id", t.SessionID, "tick", t.Index,
			"interval_ms", h.window.intervalMS, "new_interval_ms", t.IntervalMS)
		h.intervalMS = t.IntervalMS
		roster := rosterOf(t)
		h.window = newLiveWindow(h.opts.LiveWindowTicks, h.intervalMS)
		h.window.setRoster(roster.Participants, roster.Equipment)
		id := optionalString(t.SessionID)
		h.broadcastLocked(TopicFitness,
			buildFitnessSnapshot(h.window, id, h.topics[TopicFitness].seq+1))
		h.broadcastLocked(TopicEquipment,
			buildEquipmentSnapshot(h.window, id, h.topics[TopicEquipment].seq+1))
	}
	if err := h.window.appendTick(t); err != nil {
		h.log.Warn("chart tick dropped", "session_id", t.SessionID, "tick", t.Index, "error", err)
		return
	}
	h.session.applyTick(t, h.window.intervalMS, h.equipmentName)

	h.broadcastLocked(TopicSession, &sessionMessage{
		header:  newHeader(TypeSessionState, TopicSession, h.topics[TopicSession].seq+1),
		Session: h.session.clone(),
	})
	h.broadcastLocked(TopicFitness,
		buildFitnessPoints(h.window, t, h.topics[TopicFitness].seq+1))
	h.broadcastLocked(TopicEquipment,
		buildEquipmentPoints(h.window, t, h.topics[TopicEquipment].seq+1))
}

// equipmentName returns the name the session start gave a piece of equipment.
func (h *Hub) equipmentName(id string) *string {
	if track := h.window.equipment[id]; track != nil {
		return optionalString(track.name)
	}
	return nil
}

// SessionEnded marks the session ended, frees the series of participants who are no
// longer on the roster, and broadcasts session_ended. The window of the ended session
// stays available to new clients and range queries until the next session starts.
func (h *Hub) SessionEnded(sum sessions.Summary) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	var state sessionState
	if h.session != nil && h.session.ID == sum.SessionID {
		h.session.applyEnd(sum)
		h.window.freeOffRoster()
		summary := sum
		h.lastSummary = &summary
		state = h.session.clone()
	} else {
		h.log.Warn("chart end of unknown session", "session_id", sum.SessionID)
		state = sessionState{ID: sum.SessionID, IntervalMS: sum.CoinIntervalMS}
		state.applyEnd(sum)
		state = state.clone()
	}
	h.broadcastLocked(TopicSession, &sessionEndedMessage{
		header:  newHeader(TypeSessionEnded, TopicSession, h.topics[TopicSession].seq+1),
		Session: state,
		Summary: sum,
	})
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

// broadcastLocked encodes msg once, stores it in the topic's ring and queues it for every
// client subscribed to the topic without blocking. The message must carry the topic's seq
// plus one. The seq advances only when encoding succeeds, so clients never see a gap for a
// message that was not sent. h.mu must be held.
func (h *Hub) broadcastLocked(topic string, msg any) {
	log := h.topics[topic]
	data, err := json.Marshal(msg)
	if err != nil {
		h.log.Error("chart message encoding failed", "topic", topic, "seq", log.seq+1, "error", err)
		return
	}
	prepared, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("chart message framing failed", "topic", topic, "seq", log.seq+1, "error", err)
		return
	}
	log.append(prepared)
	for c := range h.clients {
		if !c.topics.has(topic) {
			continue
		}
		select {
		case c.queue <- prepared:
		default:
			h.dropLocked(c, closeCodeSlowConsumer, closeReasonSlowConsumer)
			h.clientsDropped.Add(1)
			if h.opts.Metrics.ClientsDropped != nil {
				h.opts.Metrics.ClientsDropped.Inc()
			}
			h.log.Warn("chart client dropped",
				"client_id", c.id, "remote", c.remote, "reason", closeReasonSlowConsumer,
				"queue_len", h.opts.QueueLen, "topic", topic, "seq", log.seq)
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
	seq := make(map[string]uint64, len(h.topics))
	for name, log := range h.topics {
		seq[name] = log.seq
	}
	return Stats{
		Clients:           len(h.clients),
		MessagesSent:      h.messagesSent.Load(),
		ClientsDropped:    h.clientsDropped.Load(),
		Seq:               seq,
		Snapshots:         h.snapshots.Load(),
		Resumes:           h.resumes.Load(),
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
			h.dropLocked(c, websocket.CloseGoingAway, closeReasonShutdown)
		}
	}
	h.mu.Unlock()
	h.handlers.Wait()
}
