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
	queue  chan *websocket.PreparedMessage

	// kicked is closed when the hub removes the client. closeCode and closeReason are
	// written before that and read only after it.
	kicked      chan struct{}
	closeCode   int
	closeReason string

	// readerDone is closed when the read loop returns.
	readerDone chan struct{}
}

// kick signals the writer to send a close frame and end the connection. The hub calls it at
// most once per client, with h.mu held, right after removing the client.
func (c *client) kick(code int, reason string) {
	c.closeCode = code
	c.closeReason = reason
	close(c.kicked)
}

// ServeWS upgrades the request to a WebSocket connection and streams the chart feed to it
// until either side closes. The client first receives hello and snapshot, then every
// broadcast. After Close it responds 503 Service Unavailable.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
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
		h.log.Warn("chart websocket upgrade failed", "remote", r.RemoteAddr, "error", err)
		return
	}
	c := &client{
		remote:     r.RemoteAddr,
		conn:       conn,
		queue:      make(chan *websocket.PreparedMessage, h.opts.QueueLen),
		kicked:     make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	initial, err := h.register(c)
	if err != nil {
		code, reason := websocket.CloseGoingAway, closeReasonShutdown
		if !errors.Is(err, errHubClosed) {
			h.log.Error("chart client registration failed", "remote", c.remote, "error", err)
			code, reason = websocket.CloseInternalServerErr, "internal error"
		}
		message := websocket.FormatCloseMessage(code, reason)
		conn.WriteControl(websocket.CloseMessage, message, time.Now().Add(h.opts.WriteTimeout))
		conn.Close()
		return
	}
	h.log.Info("chart client connected", "client_id", c.id, "remote", c.remote)

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
	h.mu.Unlock()
	h.log.Info("chart client disconnected", "client_id", c.id, "remote", c.remote, "reason", readErr)
}

// errHubClosed is returned by register after Close.
var errHubClosed = errors.New("chart hub is closed")

// register adds c to the hub and returns the encoded hello and snapshot. Both are built
// under the same lock hold that registers c, so c receives every broadcast after the
// snapshot and none that the snapshot already includes. On error c is not registered.
func (h *Hub) register(c *client) ([][]byte, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errHubClosed
	}
	h.nextClientID++
	c.id = h.nextClientID
	h.clients[c] = struct{}{}
	if h.opts.Metrics.ClientsConnected != nil {
		h.opts.Metrics.ClientsConnected.Inc()
	}
	hello := &helloMessage{
		header:        newHeader(TypeHello, h.seq),
		ServerVersion: h.opts.Version,
		IntervalMS:    h.window.intervalMS,
		Limits: limits{
			QueueLen:              h.opts.QueueLen,
			LiveWindowTicks:       h.opts.LiveWindowTicks,
			MaxClientMessageBytes: MaxClientMessageBytes,
			PingIntervalMS:        h.opts.PingInterval.Milliseconds(),
		},
	}
	var session *sessionInfo
	if h.session != nil {
		copied := *h.session
		session = &copied
	}
	snapshot := buildSnapshot(h.window, session, h.seq)
	h.mu.Unlock()

	// Encoding happens outside the lock because a full snapshot can be large.
	initial := make([][]byte, 0, 2)
	for _, msg := range []any{hello, snapshot} {
		data, err := json.Marshal(msg)
		if err != nil {
			h.mu.Lock()
			h.removeLocked(c)
			h.mu.Unlock()
			return nil, fmt.Errorf("encode initial messages for client %d: %w", c.id, err)
		}
		initial = append(initial, data)
	}
	return initial, nil
}

// removeLocked unregisters c. It is safe to call for a client that is already removed.
// h.mu must be held.
func (h *Hub) removeLocked(c *client) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	if h.opts.Metrics.ClientsConnected != nil {
		h.opts.Metrics.ClientsConnected.Dec()
	}
}

// readLoop reads until the connection fails or closes and returns the reason. Client
// frames carry nothing in protocol version 1; reading them processes pongs and the close
// handshake. Any frame, not only a pong, extends the read deadline.
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
		if _, _, err := c.conn.NextReader(); err != nil {
			return err
		}
		if err := extend(); err != nil {
			return err
		}
	}
}

// writeLoop writes hello, snapshot, queued broadcasts and pings to c until the hub kicks
// it, the read loop ends, or a write fails.
func (h *Hub) writeLoop(c *client, initial [][]byte) {
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()

	for _, data := range initial {
		if !h.write(c, func() error { return c.conn.WriteMessage(websocket.TextMessage, data) }) {
			return
		}
	}
	for {
		// A kick takes precedence over queued messages: a slow consumer gets nothing more.
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
