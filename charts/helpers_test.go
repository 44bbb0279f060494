package charts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	server := httptest.NewUnstartedServer(hub.Handler())
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
	return f.dialQuery(t, dialer, "")
}

// dialQuery dials the feed with a query string such as "topics=fitness".
func (f *feedServer) dialQuery(t *testing.T, dialer *websocket.Dialer, query string) *websocket.Conn {
	t.Helper()
	target := f.wsURL
	if query != "" {
		target += "?" + query
	}
	conn, resp, err := dialer.Dial(target, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return conn
}

// initialView is what a client receives on connect when it subscribes to every topic
// and resumes none.
type initialView struct {
	hello     helloView
	session   sessionMessageView
	fitness   fitnessSnapshotView
	equipment equipmentSnapshotView
}

// readInitial reads hello and the three snapshots of a fresh connection.
func readInitial(t *testing.T, conn *websocket.Conn) initialView {
	t.Helper()
	return initialView{
		hello:     readAs[helloView](t, conn, TypeHello),
		session:   readAs[sessionMessageView](t, conn, TypeSnapshot+"/"+TopicSession),
		fitness:   readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness),
		equipment: readAs[equipmentSnapshotView](t, conn, TypeSnapshot+"/"+TopicEquipment),
	}
}

// readTick reads the three messages one tick broadcasts: session_state, then the fitness
// and equipment points.
func readTick(t *testing.T, conn *websocket.Conn) (sessionMessageView, fitnessPointsView, equipmentPointsView) {
	t.Helper()
	state := readAs[sessionMessageView](t, conn, TypeSessionState+"/"+TopicSession)
	fitness := readAs[fitnessPointsView](t, conn, TypePoints+"/"+TopicFitness)
	equipment := readAs[equipmentPointsView](t, conn, TypePoints+"/"+TopicEquipment)
	return state, fitness, equipment
}

// readStart reads the three messages a session start broadcasts.
func readStart(t *testing.T, conn *websocket.Conn) (sessionMessageView, fitnessSnapshotView) {
	t.Helper()
	started := readAs[sessionMessageView](t, conn, TypeSessionStarted+"/"+TopicSession)
	fitness := readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)
	readAs[equipmentSnapshotView](t, conn, TypeSnapshot+"/"+TopicEquipment)
	return started, fitness
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

// readAs reads the next message, checks its type and, for a topic message, its topic
// ("" for none), and decodes it into a value of type T. wantType may be "type/topic".
func readAs[T any](t *testing.T, conn *websocket.Conn, wantType string) T {
	t.Helper()
	data := readRaw(t, conn)
	var head struct {
		Type  string `json:"type"`
		Topic string `json:"topic"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatalf("decode message %s: %v", data, err)
	}
	got := head.Type
	if strings.Contains(wantType, "/") {
		got += "/" + head.Topic
	}
	if got != wantType {
		t.Fatalf("message = %q, want %q: %s", got, wantType, data)
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
	Type          string   `json:"type"`
	V             int      `json:"v"`
	Epoch         string   `json:"epoch"`
	ServerVersion string   `json:"server_version"`
	IntervalMS    int64    `json:"interval_ms"`
	Topics        []string `json:"topics"`
	Limits        struct {
		QueueLen              int   `json:"queue_len"`
		ResumeMessages        int   `json:"resume_messages"`
		LiveWindowTicks       int   `json:"live_window_ticks"`
		MaxClientMessageBytes int64 `json:"max_client_message_bytes"`
		MaxPendingRequests    int   `json:"max_pending_requests"`
		MaxRangePoints        int   `json:"max_range_points"`
		PingIntervalMS        int64 `json:"ping_interval_ms"`
	} `json:"limits"`
	Zones []struct {
		ID     string  `json:"id"`
		MinBPM float64 `json:"min_bpm"`
	} `json:"zones"`
	ParticipantZones map[string]map[string]float64 `json:"participant_zones"`
}

type sessionView struct {
	ID           string     `json:"id"`
	StartedAt    *time.Time `json:"started_at"`
	Running      bool       `json:"running"`
	EndedAt      *time.Time `json:"ended_at"`
	EndReason    *string    `json:"end_reason"`
	IntervalMS   int64      `json:"interval_ms"`
	ElapsedMS    int64      `json:"elapsed_ms"`
	TickIndex    *int       `json:"tick_index"`
	TotalCoins   int        `json:"total_coins"`
	Participants []struct {
		ID        string   `json:"id"`
		Name      string   `json:"name"`
		Status    *string  `json:"status"`
		HeartRate *float64 `json:"heart_rate"`
		Zone      *string  `json:"zone"`
		Coins     int      `json:"coins"`
	} `json:"participants"`
	Equipment []struct {
		ID     string  `json:"id"`
		Name   *string `json:"name"`
		Active bool    `json:"active"`
		Events int     `json:"events"`
	} `json:"equipment"`
}

type topicHead struct {
	Type  string `json:"type"`
	V     int    `json:"v"`
	Topic string `json:"topic"`
	Seq   uint64 `json:"seq"`
}

type sessionMessageView struct {
	topicHead
	Session *sessionView     `json:"session"`
	Summary sessions.Summary `json:"summary"`
}

type dropoutView struct {
	Index   int   `json:"index"`
	AtMS    int64 `json:"at_ms"`
	SinceMS int64 `json:"since_ms"`
	Ticks   int   `json:"ticks"`
}

type fitnessSnapshotView struct {
	topicHead
	SessionID    *string `json:"session_id"`
	IntervalMS   int64   `json:"interval_ms"`
	StartMS      *int64  `json:"start_ms"`
	FirstIndex   *int    `json:"first_index"`
	Participants []struct {
		ID        string        `json:"id"`
		Name      string        `json:"name"`
		Status    *string       `json:"status"`
		HeartRate []*float64    `json:"heart_rate"`
		Zone      []*string     `json:"zone"`
		Coins     []*int        `json:"coins"`
		Dropouts  []dropoutView `json:"dropouts"`
	} `json:"participants"`
}

type equipmentSnapshotView struct {
	topicHead
	SessionID  *string `json:"session_id"`
	IntervalMS int64   `json:"interval_ms"`
	StartMS    *int64  `json:"start_ms"`
	FirstIndex *int    `json:"first_index"`
	Equipment  []struct {
		ID     string  `json:"id"`
		Name   *string `json:"name"`
		Active []*bool `json:"active"`
		Events []*int  `json:"events"`
	} `json:"equipment"`
}

type fitnessPointsView struct {
	topicHead
	SessionID    string `json:"session_id"`
	Index        int    `json:"index"`
	StartMS      int64  `json:"start_ms"`
	IntervalMS   int64  `json:"interval_ms"`
	Participants []struct {
		ID        string       `json:"id"`
		Name      string       `json:"name"`
		Status    *string      `json:"status"`
		HeartRate *float64     `json:"heart_rate"`
		Zone      *string      `json:"zone"`
		Coins     int          `json:"coins"`
		Dropout   *dropoutView `json:"dropout"`
	} `json:"participants"`
}

type equipmentPointsView struct {
	topicHead
	SessionID  string `json:"session_id"`
	Index      int    `json:"index"`
	StartMS    int64  `json:"start_ms"`
	IntervalMS int64  `json:"interval_ms"`
	Equipment  []struct {
		ID     string  `json:"id"`
		Name   *string `json:"name"`
		Active bool    `json:"active"`
		Events int     `json:"events"`
	} `json:"equipment"`
}

type resumedView struct {
	topicHead
	Count int `json:"count"`
}

type rangeResultView struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Topic          string `json:"topic"`
	SessionID      string `json:"session_id"`
	Live           bool   `json:"live"`
	FromMS         int64  `json:"from_ms"`
	ToMS           int64  `json:"to_ms"`
	IntervalMS     int64  `json:"interval_ms"`
	TickMS         int64  `json:"tick_interval_ms"`
	TicksPerBucket int    `json:"ticks_per_bucket"`
	StartMS        *int64 `json:"start_ms"`
	FirstIndex     *int   `json:"first_index"`
	Participants   []struct {
		ID           string     `json:"id"`
		HeartRateMin []*float64 `json:"heart_rate_min"`
		HeartRateMax []*float64 `json:"heart_rate_max"`
		Zone         []*string  `json:"zone"`
		Coins        []*int     `json:"coins"`
	} `json:"participants"`
	Equipment []struct {
		ID     string  `json:"id"`
		Active []*bool `json:"active"`
		Events []*int  `json:"events"`
	} `json:"equipment"`
}

type errorView struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
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
