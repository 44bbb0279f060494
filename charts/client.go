package charts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// closeReplyTimeout bounds the wait for the client's reply to the server's close frame.
const closeReplyTimeout = 2 * time.Second

// client is one WebSocket connection. Its writer goroutine is the only goroutine that
// writes data frames to conn; the connection handler goroutine is the only reader.
type client struct {
	id     uint64
	remote string
	conn   *websocket.Conn
	topics topicSet
	// queue holds broadcasts; replies holds the encoded replies to the client's requests.
	queue   chan *websocket.PreparedMessage
	replies chan []byte

	// kicked is closed when the hub removes the client. closeCode and closeReason are
	// written before that and read only after it.
	kicked      chan struct{}
	closeCode   int
	closeReason string

	// readerDone is closed when the read loop returns.
	readerDone chan struct{}
}

// ServeWS checks the bearer token, upgrades the request to a WebSocket connection after
// checking its Origin, and streams the subscribed topics until either side closes. The
// client first receives hello, then per topic a snapshot or a resume, then every
// broadcast. After Close it responds 503 Service Unavailable. While memory pressure is
// high it completes the upgrade and closes the connection at once with 1013 (try again
// later), because only a close frame can give a browser the reason.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	if !h.authorize(w, r) {
		return
	}
	sub, err := parseSubscription(r.URL.Query())
	if err != nil {
		http.Error(w, "invalid chart feed query: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "chart feed is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.handlers.Add(1)
	h.mu.Unlock()
	defer h.handlers.Done()

	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already responded with an HTTP error.
		h.log.Warn("chart websocket upgrade failed", "remote", r.RemoteAddr,
			"origin", r.Header.Get("Origin"), "error", err)
		return
	}
	c := &client{
		remote:     r.RemoteAddr,
		conn:       conn,
		topics:     sub.topics,
		queue:      make(chan *websocket.PreparedMessage, h.opts.QueueLen),
		replies:    make(chan []byte, h.opts.MaxPendingRequests),
		kicked:     make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	initial, err := h.register(c, sub)
	if err != nil {
		code, reason := websocket.CloseGoingAway, closeReasonShutdown
		switch {
		case errors.Is(err, errMemoryPressure):
			code, reason = closeCodeMemoryPressure, closeReasonMemoryPressure
		case !errors.Is(err, errHubClosed):
			h.log.Error("chart client registration failed", "remote", c.remote, "error", err)
			code, reason = websocket.CloseInternalServerErr, "internal error"
		}
		// The connection is new, so its send buffer has room for the close frame. The
		// short deadline only keeps Close from waiting on it.
		message := websocket.FormatCloseMessage(code, reason)
		_ = conn.WriteControl(websocket.CloseMessage, message, time.Now().Add(h.opts.CloseTimeout))
		conn.Close()
		return
	}
	h.log.Info("chart client connected", "client_id", c.id, "remote", c.remote,
		"topics", sub.topics.names())

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		h.writeLoop(c, initial)
	}()
	readErr := h.readLoop(c)
	close(c.readerDone)
	<-writerDone
	conn.Close()

	h.mu.Lock()
	h.removeLocked(c)
	delete(h.open, c)
	h.mu.Unlock()
	h.log.Info("chart client disconnected", "client_id", c.id, "remote", c.remote, "reason", readErr)
}

// errHubClosed is returned by register after Close.
var errHubClosed = errors.New("chart hub is closed")

// register adds c to the hub and returns its initial messages: hello, then per subscribed
// topic either a snapshot or a resumed message with the broadcasts the client missed. They
// are built under the same lock hold that registers c, so c receives every later broadcast
// and none twice. On error c is not registered: errHubClosed after Close, and
// errMemoryPressure while memory pressure is high.
func (h *Hub) register(c *client, sub subscription) ([]*websocket.PreparedMessage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errHubClosed
	}
	if h.pressure {
		h.countRejectionLocked(c)
		return nil, errMemoryPressure
	}
	hello, err := prepareJSON(h.helloLocked(sub.topics))
	if err != nil {
		return nil, fmt.Errorf("encode hello: %w", err)
	}
	initial := []*websocket.PreparedMessage{hello}
	for _, topic := range sub.topics.names() {
		log := h.topics[topic]
		lastSeq, asked := sub.lastSeq[topic]
		if asked && sub.epoch == h.epoch {
			if missed, ok := log.since(lastSeq); ok {
				resumed, err := prepareJSON(&resumedMessage{
					header: newHeader(TypeResumed, topic, lastSeq),
					Count:  len(missed),
				})
				if err != nil {
					return nil, fmt.Errorf("encode resumed message of %s: %w", topic, err)
				}
				initial = append(initial, resumed)
				initial = append(initial, missed...)
				h.resumes.Add(1)
				continue
			}
		}
		snapshot, err := h.snapshotLocked(topic)
		if err != nil {
			return nil, err
		}
		initial = append(initial, snapshot)
		h.snapshots.Add(1)
	}

	h.nextClientID++
	c.id = h.nextClientID
	h.clients[c] = struct{}{}
	h.open[c] = struct{}{}
	if h.opts.Metrics.ClientsConnected != nil {
		h.opts.Metrics.ClientsConnected.Inc()
	}
	return initial, nil
}

func (h *Hub) helloLocked(topics topicSet) *helloMessage {
	zones := h.opts.Zones.Zones
	if zones == nil {
		zones = []Zone{}
	}
	participants := h.opts.Zones.Participants
	if participants == nil {
		participants = map[string]map[string]float64{}
	}
	return &helloMessage{
		Type:          TypeHello,
		V:             ProtocolVersion,
		Epoch:         h.epoch,
		ServerVersion: h.opts.Version,
		IntervalMS:    h.window.intervalMS,
		Topics:        topics.names(),
		Limits: limits{
			QueueLen:              h.opts.QueueLen,
			ResumeMessages:        h.opts.ResumeMessages,
			LiveWindowTicks:       h.windowTicks,
			MaxClientMessageBytes: MaxClientMessageBytes,
			MaxPendingRequests:    h.opts.MaxPendingRequests,
			MaxRangePoints:        h.opts.MaxRangePoints,
			PingIntervalMS:        h.opts.PingInterval.Milliseconds(),
		},
		Zones:            zones,
		ParticipantZones: participants,
	}
}

// snapshotLocked returns the topic's current snapshot, encoded once per seq. h.mu must
// be held.
func (h *Hub) snapshotLocked(topic string) (*websocket.PreparedMessage, error) {
	log := h.topics[topic]
	if cached := log.cachedSnapshot(); cached != nil {
		return cached, nil
	}
	var sessionID *string
	if h.session != nil {
		sessionID = optionalString(h.session.ID)
	}
	var msg any
	switch topic {
	case TopicSession:
		snapshot := &sessionSnapshotMessage{header: newHeader(TypeSnapshot, topic, log.seq)}
		if h.session != nil {
			state := h.session.clone()
			snapshot.Session = &state
		}
		msg = snapshot
	case TopicFitness:
		msg = buildFitnessSnapshot(h.window, sessionID, log.seq)
	case TopicEquipment:
		msg = buildEquipmentSnapshot(h.window, sessionID, log.seq)
	}
	prepared, err := prepareJSON(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s snapshot: %w", topic, err)
	}
	log.cacheSnapshot(prepared)
	return prepared, nil
}

func prepareJSON(msg any) (*websocket.PreparedMessage, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, data)
}

// removeLocked unregisters c and reports whether it was registered. h.mu must be held.
func (h *Hub) removeLocked(c *client) bool {
	if _, ok := h.clients[c]; !ok {
		return false
	}
	delete(h.clients, c)
	if h.opts.Metrics.ClientsConnected != nil {
		h.opts.Metrics.ClientsConnected.Dec()
	}
	return true
}

// dropLocked unregisters c and signals its writer to close the connection with code and
// reason. Only the call that unregisters c signals the writer. h.mu must be held.
func (h *Hub) dropLocked(c *client, code int, reason string) {
	if !h.removeLocked(c) {
		return
	}
	c.closeCode = code
	c.closeReason = reason
	close(c.kicked)
}

// readLoop reads requests until the connection fails or closes and returns the reason.
// Reading also processes pongs and the close handshake, and any frame extends the read
// deadline.
func (h *Hub) readLoop(c *client) error {
	c.conn.SetReadLimit(MaxClientMessageBytes)
	extend := func() error {
		return c.conn.SetReadDeadline(time.Now().Add(h.opts.PongTimeout))
	}
	if err := extend(); err != nil {
		return err
	}
	c.conn.SetPongHandler(func(string) error { return extend() })
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		if err := extend(); err != nil {
			return err
		}
		if kind != websocket.TextMessage {
			h.reply(c, errorReply("", ErrorInvalidRequest, "binary frames are not supported"))
			continue
		}
		h.reply(c, h.handleRequest(data))
	}
}

// reply queues an encoded reply for the writer. A client with MaxPendingRequests replies
// already waiting is dropped with 1008 (policy violation).
func (h *Hub) reply(c *client, data []byte) {
	select {
	case c.replies <- data:
	default:
		h.mu.Lock()
		h.dropLocked(c, websocket.ClosePolicyViolation, closeReasonTooMany)
		h.mu.Unlock()
		h.log.Warn("chart client dropped", "client_id", c.id, "remote", c.remote,
			"reason", closeReasonTooMany, "max_pending_requests", h.opts.MaxPendingRequests)
	}
}

// writeLoop writes the initial messages, queued broadcasts, replies and pings to c until
// the hub drops it, the read loop ends, or a write fails.
func (h *Hub) writeLoop(c *client, initial []*websocket.PreparedMessage) {
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()

	for _, prepared := range initial {
		if !h.write(c, func() error { return c.conn.WritePreparedMessage(prepared) }) {
			return
		}
	}
	for {
		// A drop takes precedence over queued messages: a slow consumer gets nothing more.
		select {
		case <-c.kicked:
			h.closeConn(c, c.closeCode, c.closeReason)
			return
		default:
		}

		select {
		case <-c.kicked:
			h.closeConn(c, c.closeCode, c.closeReason)
			return
		case <-c.readerDone:
			return
		case prepared := <-c.queue:
			if !h.write(c, func() error { return c.conn.WritePreparedMessage(prepared) }) {
				return
			}
		case data := <-c.replies:
			if !h.write(c, func() error { return c.conn.WriteMessage(websocket.TextMessage, data) }) {
				return
			}
		case <-ping.C:
			deadline := time.Now().Add(h.opts.WriteTimeout)
			if err := c.conn.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				h.logWriteError(c, err)
				c.conn.Close()
				return
			}
		}
	}
}

// write runs one data write under the write deadline and counts it. On failure it logs,
// closes the connection so that the read loop ends, and returns false.
func (h *Hub) write(c *client, send func() error) bool {
	if err := c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout)); err != nil {
		h.logWriteError(c, err)
		c.conn.Close()
		return false
	}
	if err := send(); err != nil {
		h.logWriteError(c, err)
		c.conn.Close()
		return false
	}
	h.messagesSent.Add(1)
	if h.opts.Metrics.MessagesSent != nil {
		h.opts.Metrics.MessagesSent.Inc()
	}
	return true
}

func (h *Hub) logWriteError(c *client, err error) {
	if errors.Is(err, websocket.ErrCloseSent) {
		return
	}
	h.log.Warn("chart client write failed", "client_id", c.id, "remote", c.remote, "error", err)
}

// closeConn sends a close frame, waits up to closeReplyTimeout for the client's reply,
// and closes the connection. When the close frame cannot be written in WriteTimeout (a
// client that stopped reading), the connection is closed without it.
func (h *Hub) closeConn(c *client, code int, reason string) {
	message := websocket.FormatCloseMessage(code, reason)
	deadline := time.Now().Add(h.opts.WriteTimeout)
	if err := c.conn.WriteControl(websocket.CloseMessage, message, deadline); err != nil {
		h.logWriteError(c, err)
	} else {
		timer := time.NewTimer(closeReplyTimeout)
		select {
		case <-c.readerDone:
		case <-timer.C:
		}
		timer.Stop()
	}
	c.conn.Close()
}
