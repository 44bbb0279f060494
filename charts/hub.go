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

	"github.com/fitbridge/fitbridge/sessions"
)

// MaxClientMessageBytes is the read limit on a client frame. A larger frame closes the
// connection with code 1009.
const MaxClientMessageBytes = 1024

// Slow consumers are closed with 1013 (try again later) rather than 1008, because the
// client did nothing wrong: it should reconnect and resume. Clients rejected under memory
// pressure get 1013 too, because a later attempt may succeed.
const (
	closeCodeSlowConsumer     = websocket.CloseTryAgainLater
	closeReasonSlowConsumer   = "slow consumer"
	closeCodeMemoryPressure   = websocket.CloseTryAgainLater
	closeReasonMemoryPressure = "memory pressure"
	closeReasonShutdown       = "server shutting down"
	closeReasonTooMany        = "too many pending requests"
)

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
	// clientsRejected counts connections rejected under memory pressure.
	clientsRejected atomic.Uint64

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
	// open holds every registered client whose connection handler still runs, dropped
	// ones included, so that Close can cut the connections that do not close in time.
	open map[*client]struct{}
	// windowTicks is the capacity of the live window: Options.LiveWindowTicks, or less
	// while memory pressure is high.
	windowTicks int
	// pressure is true while memory pressure is high. See SetMemoryPressure.
	pressure bool
	// rejectedUnderPressure counts the rejections since pressure last rose.
	rejectedUnderPressure uint64
	// queueHighWater is the largest number of broadcasts seen waiting in one client's
	// queue.
	queueHighWater int
}

var _ sessions.Listener = (*Hub)(nil)

// NewHub returns a hub with no clients and an empty live window.
func NewHub(opts Options) *Hub {
	opts = withDefaults(opts)
	h := &Hub{
		opts:        opts,
		log:         opts.Logger,
		epoch:       newEpoch(),
		intervalMS:  opts.Interval.Milliseconds(),
		topics:      make(map[string]*topicLog, len(allTopics)),
		clients:     make(map[*client]struct{}),
		open:        make(map[*client]struct{}),
		windowTicks: opts.LiveWindowTicks,
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: opts.WriteTimeout,
		CheckOrigin:      h.checkOrigin,
		Subprotocols:     []string{Subprotocol},
	}
	for _, name := range allTopics {
		h.topics[name] = newTopicLog(opts.ResumeMessages)
	}
	h.window = newLiveWindow(h.windowTicks, h.intervalMS)
	return h
}

// newEpoch returns 16 random hex digits. crypto/rand.Read never returns an error.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
	h.window = newLiveWindow(h.windowTicks, h.intervalMS)
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
		h.window = newLiveWindow(h.windowTicks, h.intervalMS)
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
// message that was not sent. It also updates the queue and window metrics: every change of
// the live window is followed by a broadcast in the same lock hold. h.mu must be held.
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
			h.noteQueueDepthLocked(len(c.queue))
		default:
			h.noteQueueDepthLocked(cap(c.queue))
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
	h.recordWindowLocked()
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
		ClientsRejected:   h.clientsRejected.Load(),
		QueueHighWater:    h.queueHighWater,
		MemoryPressure:    h.pressure,
		WindowTicks:       h.window.count,
		WindowCapacity:    h.window.capacity,
		ParticipantSeries: len(h.window.participants),
		EquipmentSeries:   len(h.window.equipment),
	}
}

// Close sends close code 1001 (going away) to every client, rejects new connections, and
// waits until every connection handler has returned. After CloseTimeout it closes the
// connections that have not finished the close handshake, such as those of clients that
// stopped reading. Close therefore returns soon after CloseTimeout, even when a write to a
// client would block for WriteTimeout. Listener calls after Close do nothing. Close may be
// called more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for c := range h.clients {
			h.dropLocked(c, websocket.CloseGoingAway, closeReasonShutdown)
		}
	}
	h.mu.Unlock()

	handlersDone := make(chan struct{})
	go func() {
		h.handlers.Wait()
		close(handlersDone)
	}()
	timer := time.NewTimer(h.opts.CloseTimeout)
	defer timer.Stop()
	select {
	case <-handlersDone:
		return
	case <-timer.C:
	}

	// Closing the connection fails the blocked reads and writes at once, so every
	// handler of a registered client returns.
	h.mu.Lock()
	for c := range h.open {
		c.conn.Close()
	}
	cut := len(h.open)
	h.mu.Unlock()
	h.log.Warn("chart connections closed without close handshake",
		"connections", cut, "close_timeout", h.opts.CloseTimeout)
	<-handlersDone
}
