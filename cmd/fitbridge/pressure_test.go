package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/watchdog"
)

// fakeHeapSampler is a watchdog sampler whose live heap the test sets.
type fakeHeapSampler struct{ live atomic.Uint64 }

func (s *fakeHeapSampler) Sample() watchdog.Sample {
	return watchdog.Sample{LiveHeapBytes: s.live.Load()}
}

// topicWatcher keeps the newest payload of one MQTT topic.
type topicWatcher struct {
	mu      sync.Mutex
	payload string
}

func (w *topicWatcher) latest() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.payload
}

// watchTopic subscribes to topic on the broker at brokerURL until the test ends.
func watchTopic(t *testing.T, brokerURL, topic string) *topicWatcher {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	w := &topicWatcher{}
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: "pressure-test-watcher",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					w.mu.Lock()
					w.payload = string(pr.Packet.Payload)
					w.mu.Unlock()
					return true, nil
				},
			},
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_ = cm.Disconnect(dctx)
		cancel()
		<-cm.Done()
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := cm.AwaitConnection(wctx); err != nil {
		t.Fatalf("connect watcher: %v", err)
	}
	sub := &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}}
	if _, err := cm.Subscribe(wctx, sub); err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	return w
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// bridgePressure decodes the memory fields of a bridge state payload.
func bridgePressure(payload string) (high *bool, level *string) {
	var state struct {
		MemoryPressure      *bool   `json:"memory_pressure"`
		MemoryPressureLevel *string `json:"memory_pressure_level"`
	}
	if json.Unmarshal([]byte(payload), &state) != nil {
		return nil, nil
	}
	return state.MemoryPressure, state.MemoryPressureLevel
}

// pressureShown returns a condition that holds once the bridge state shows level.
func pressureShown(w *topicWatcher, level string) func() bool {
	return func() bool {
		high, got := bridgePressure(w.latest())
		wantHigh := level != "normal"
		return high != nil && got != nil && *high == wantHigh && *got == level
	}
}

// metricLine returns the line of the exposition at base/metrics that starts with name.
func metricLine(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("metric %s not in /metrics", name)
	return ""
}

// dialFeed dials the chart feed and returns the connection and the first message's
// type, or the close frame that ended the connection instead.
func dialFeed(t *testing.T, wsURL string) (*websocket.Conn, string, *websocket.CloseError) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, data, err := conn.ReadMessage()
	var closeErr *websocket.CloseError
	if errors.As(err, &closeErr) {
		return conn, "", closeErr
	}
	if err != nil {
		t.Fatalf("read first chart message: %v", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return conn, head.Type, nil
}

// TestMemoryPressureShedsAndReports drives the service's watchdog with a live heap the
// test sets, and checks what each level does to the chart feed, the bridge state on a
// real mosquitto, and the metrics.
func TestMemoryPressureShedsAndReports(t *testing.T) {
	mosq := testbroker.Start(t)
	cfg := config.Default()
	cfg.Broker.URL = mosq.URL()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	// The watchdog gives its limit to the Go runtime, so it stays far above the test's
	// own heap, and the test restores the previous limit.
	cfg.Memory.LimitBytes = 64 << 30
	cfg.Memory.SampleInterval = 100 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	previousLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(previousLimit) })

	svc, err := newService(cfg, testLogger(t), bridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	heap := &fakeHeapSampler{}
	svc.watchdog = watchdog.New(watchdog.Options{Memory: cfg.Memory, ProfileDir: cfg.DataDir,
		Sampler: heap, Shedders: svc.shedders(), Logger: testLogger(t), Metrics: svc.metrics})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- svc.run(ctx, func(a string) { addr <- a }) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("service: %v", err)
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-runErr:
		t.Fatalf("service stopped: %v", err)
	}
	if err := svc.bridge.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	state := watchTopic(t, mosq.URL(), "fitbridge/bridge/state")
	waitUntil(t, "the bridge state at normal", pressureShown(state, "normal"))
	_, first, closeErr := dialFeed(t, wsURL)
	if closeErr != nil || first != "hello" {
		t.Fatalf("chart client at normal got %q and close %v, want hello", first, closeErr)
	}

	limit := uint64(cfg.Memory.LimitBytes)
	heap.live.Store(limit / 10 * 7)
	waitUntil(t, "the bridge state at high", pressureShown(state, "high"))
	_, first, closeErr = dialFeed(t, wsURL)
	if closeErr == nil {
		t.Fatalf("chart client at high got %q, want close code 1013", first)
	}
	if closeErr.Code != websocket.CloseTryAgainLater || closeErr.Text != "memory pressure" {
		t.Errorf("chart client at high closed with %d %q, want 1013 %q",
			closeErr.Code, closeErr.Text, "memory pressure")
	}
	if got := svc.hub.ClientCount(); got != 1 {
		t.Errorf("chart clients at high = %d, want the 1 connected before", got)
	}
	if got := metricLine(t, base, "fitbridge_websocket_clients_rejected_total"); !strings.HasSuffix(got, " 1") {
		t.Errorf("metric line %q, want 1 rejected client", got)
	}

	heap.live.Store(limit / 10 * 9)
	waitUntil(t, "the bridge state at critical", pressureShown(state, "critical"))
	profiles, err := filepath.Glob(filepath.Join(cfg.DataDir, "heap-*.pb.gz"))
	if err != nil || len(profiles) != 1 {
		t.Errorf("heap profiles in the data directory = %v (%v), want one", profiles, err)
	}
	if _, _, closeErr := dialFeed(t, wsURL); closeErr == nil || closeErr.Code != websocket.CloseTryAgainLater {
		t.Errorf("chart client at critical closed with %v, want 1013", closeErr)
	}

	heap.live.Store(limit / 10)
	waitUntil(t, "the bridge state back at normal", pressureShown(state, "normal"))
	_, first, closeErr = dialFeed(t, wsURL)
	if closeErr != nil || first != "hello" {
		t.Errorf("chart client back at normal got %q and close %v, want hello", first, closeErr)
	}
	if got := metricLine(t, base, "fitbridge_websocket_clients_rejected_total"); !strings.HasSuffix(got, " 2") {
		t.Errorf("metric line %q, want 2 rejected clients", got)
	}
}
