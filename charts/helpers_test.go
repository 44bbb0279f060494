package charts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/fitbridge/fitbridge/sessions"
)

// readTimeout bounds every wait for a message. It only stops a broken test; no test
// asserts on how long anything takes.
const readTimeout = 10 * time.Second

var testEpoch = time.Date(2026, 6, 27, 18, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// feedServer is a hub behind a real HTTP server on 127.0.0.1.
type feedServer struct {
	hub    *Hub
	server *httptest.Server
	wsURL  string
}

// startFeed starts a hub and serves it on 127.0.0.1. wrapListener, when not nil, wraps
// the server's listener before it starts.
func startFeed(
	t *testing.T, opts Options, wrapListener func(net.Listener) net.Listener,
) *feedServer {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hub := NewHub(opts)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", hub.ServeWS)
	mux.Handle("/", hub.PageHandler())
	server := httptest.NewUnstartedServer(mux)
	if wrapListener != nil {
		server.Listener = wrapListener(server.Listener)
	}
	server.Start()
	// Cleanups run last-in first-out: the hub closes its connections before the server.
	t.Cleanup(server.Close)
	t.Cleanup(hub.Close)
	return &feedServer{
		hub:    hub,
		server: server,
		wsURL:  "ws" + strings.TrimPrefix(server.URL, "http") + "/ws",
	}
}

func (f *feedServer) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	return f.dialWith(t, websocket.DefaultDialer)
}

func (f *feedServer) dialWith(t *testing.T, dialer *websocket.Dialer) *websocket.Conn {
	t.Helper()
	conn, resp, err := dialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", f.wsURL, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readRaw returns the next data message from conn.
func readRaw(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(readTimeout)); err != nil {
		t.Fatalf("set read deadline: %v", err)
	}
	kind, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("message kind = %d, want text (%d)", kind, websocket.TextMessage)
	}
	return data
}

// readAs reads the next message, checks its type, and decodes it into a value of type T.
func readAs[T any](t *testing.T, conn *websocket.Conn, wantType string) T {
	t.Helper()
	data := readRaw(t, conn)
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatalf("decode message %s: %v", data, err)
	}
	if head.Type != wantType {
		t.Fatalf("message type = %q, want %q: %s", head.Type, wantType, data)
	}
	var msg T
	if err := json.Unmarshal(data, &msg); err != nil {
		t.Fatalf("decode %s message %s: %v", wantType, data, err)
	}
	return msg
}

// readCloseError reads until the connection ends and returns the close frame received,
// failing the test when the connection ends without one. It reads at most maxMessages
// data messages first.
func readCloseError(t *testing.T, conn *websocket.Conn, maxMessages int) *websocket.CloseError {
	t.Helper()
	for range maxMessages + 1 {
		if err := conn.SetReadDeadline(time.Now().Add(readTimeout)); err != nil {
			t.Fatalf("set read deadline: %v", err)
		}
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var closeErr *websocket.CloseError
		if !errors.As(err, &closeErr) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return closeErr
	}
	t.Fatalf("connection still open after %d messages", maxMessages)
	return nil
}

// socketBufferBytes is the socket buffer size for the slow-client test. Linux doubles
// the requested value and keeps a minimum of a few KB.
const socketBufferBytes = 4096

// smallWriteBuffers wraps a listener so that every accepted TCP connection has a small
// send buffer.
func smallWriteBuffers(l net.Listener) net.Listener {
	return smallBufferListener{l}
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		if err := tcp.SetWriteBuffer(socketBufferBytes); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set write buffer: %w", err)
		}
	}
	return conn, nil
}

// dialSmallReadBuffer dials a TCP connection with a small receive buffer.
func dialSmallReadBuffer(ctx context.Context, network, address string) (net.Conn, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		if err := tcp.SetReadBuffer(socketBufferBytes); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set read buffer: %w", err)
		}
	}
	return conn, nil
}

// Decoded forms of the messages, as a client sees them.

type helloView struct {
	V             int    `json:"v"`
	Seq           uint64 `json:"seq"`
	ServerVersion string `json:"server_version"`
	IntervalMS    int64  `json:"interval_ms"`
	Limits        struct {
		QueueLen              int   `json:"queue_len"`
		LiveWindowTicks       int   `json:"live_window_ticks"`
		MaxClientMessageBytes int64 `json:"max_client_message_bytes"`
		PingIntervalMS        int64 `json:"ping_interval_ms"`
	} `json:"limits"`
}

type sessionView struct {
	ID        string     `json:"id"`
	StartedAt *time.Time `json:"started_at"`
	Running   bool       `json:"running"`
}

type snapshotView struct {
	Seq          uint64       `json:"seq"`
	IntervalMS   int64        `json:"interval_ms"`
	StartMS      *int64       `json:"start_ms"`
	FirstIndex   *int         `json:"first_index"`
	Session      *sessionView `json:"session"`
	Participants []struct {
		ID        string     `json:"id"`
		Name      string     `json:"name"`
		Status    *string    `json:"status"`
		HeartRate []*float64 `json:"heart_rate"`
		Zone      []*string  `json:"zone"`
		Coins     []*int     `json:"coins"`
	} `json:"participants"`
	Equipment []struct {
		ID     string  `json:"id"`
		Name   *string `json:"name"`
		Active []*bool `json:"active"`
		Events []*int  `json:"events"`
	} `json:"equipment"`
}

type tickView struct {
	Seq          uint64 `json:"seq"`
	SessionID    string `json:"session_id"`
	Index        int    `json:"index"`
	StartMS      int64  `json:"start_ms"`
	IntervalMS   int64  `json:"interval_ms"`
	Participants []struct {
		ID        string   `json:"id"`
		Name      string   `json:"name"`
		Status    *string  `json:"status"`
		HeartRate *float64 `json:"heart_rate"`
		Zone      *string  `json:"zone"`
		Coins     int      `json:"coins"`
	} `json:"participants"`
	Equipment []struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
		Events int    `json:"events"`
	} `json:"equipment"`
}

type sessionStartedView struct {
	Seq          uint64      `json:"seq"`
	IntervalMS   int64       `json:"interval_ms"`
	Session      sessionView `json:"session"`
	Participants []struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Status *string `json:"status"`
	} `json:"participants"`
}

type sessionEndedView struct {
	Seq     uint64           `json:"seq"`
	Session sessionView      `json:"session"`
	Summary sessions.Summary `json:"summary"`
}

// Engine output builders.

const testIntervalMS = 5000

func startSnapshot(sessionID string, people ...string) sessions.Snapshot {
	s := sessions.Snapshot{
		Time:       testEpoch,
		Running:    true,
		SessionID:  sessionID,
		StartedAt:  testEpoch,
		IntervalMS: testIntervalMS,
		Equipment:  []sessions.EquipmentState{{ID: "bag", Name: "Punching bag"}},
	}
	for _, id := range people {
		s.Participants = append(s.Participants, sessions.ParticipantState{ID: id, Name: "Name " + id})
	}
	return s
}

func heartRate(bpm float64) *float64 {
	return &bpm
}

// activePoint returns an active participant with a heart rate, zone and coins derived
// from the tick index, so every value in a test can be recomputed.
func activePoint(id string, index int) sessions.TickPoint {
	return sessions.TickPoint{
		ID:        id,
		Name:      "Name " + id,
		Status:    sessions.StatusActive,
		HeartRate: heartRate(100 + float64(index)),
		Zone:      "active",
		Coins:     index + 1,
	}
}

// dropoutPoint returns a participant on the roster with no valid sample in the window.
func dropoutPoint(id string, index int) sessions.TickPoint {
	return sessions.TickPoint{
		ID:     id,
		Name:   "Name " + id,
		Status: sessions.StatusIdle,
		Coins:  index,
	}
}

func makeTick(sessionID string, index int, points ...sessions.TickPoint) sessions.Tick {
	return sessions.Tick{
		SessionID:    sessionID,
		Index:        index,
		Start:        testEpoch.Add(time.Duration(index) * testIntervalMS * time.Millisecond),
		IntervalMS:   testIntervalMS,
		Participants: points,
		Equipment:    []sessions.EquipmentPoint{{ID: "bag", Active: index%2 == 0, Events: index % 3}},
	}
}

func tickStartMS(index int) int64 {
	return testEpoch.UnixMilli() + int64(index)*testIntervalMS
}

// countingGauge and countingCounter are metric collectors for tests.
type countingGauge struct{ value atomic.Int64 }

func (g *countingGauge) Inc() { g.value.Add(1) }
func (g *countingGauge) Dec() { g.value.Add(-1) }

type countingCounter struct{ value atomic.Int64 }

func (c *countingCounter) Inc() { c.value.Add(1) }

// waitFor polls cond until it holds, failing the test after readTimeout. It is for state
// that changes on another goroutine with no message to wait for.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// show formats an optional value as its JSON null or its value.
func show[T any](value *T) string {
	if value == nil {
		return "null"
	}
	return fmt.Sprint(*value)
}

func describe(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(data)
}
