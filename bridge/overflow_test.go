package bridge_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions"
)

// stallingListener holds the engine loop inside the first SessionStarted
// until release is closed, so a test can fill the input queue.
type stallingListener struct {
	once    sync.Once
	stalled chan struct{}
	release chan struct{}
}

func (l *stallingListener) SessionStarted(sessions.Snapshot) {
	l.once.Do(func() {
		close(l.stalled)
		<-l.release
	})
}

func (l *stallingListener) TickClosed(sessions.Tick)      {}
func (l *stallingListener) SessionEnded(sessions.Summary) {}

// stalledBridge is a bridge whose engine loop is held inside the first SessionStarted, so
// that a test can fill the input queue.
type stalledBridge struct {
	b       *bridge.Bridge
	m       *metrics.Metrics
	relay   *client
	release func()
}

// startStalledBridge runs a bridge with input queues of queueLen messages and a payload
// limit of maxPayload bytes, starts a session with three readings, and returns once the
// engine loop is stalled.
func startStalledBridge(t *testing.T, queueLen, maxPayload int) *stalledBridge {
	t.Helper()
	mosq := testbroker.Start(t)
	cfg := config.Default()
	cfg.Broker.URL = mosq.URL()
	cfg.Participants = []config.Participant{{ID: "alex", Name: "Alex", Devices: []string{"10001"}}}
	cfg.HTTP.Listen = ""
	cfg.HeartRate.MaxPayloadBytes = maxPayload
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	listener := &stallingListener{stalled: make(chan struct{}), release: make(chan struct{})}
	m := metrics.New()
	b, err := bridge.New(bridge.Options{
		Config: cfg, Version: "test", Metrics: m, Listener: listener, QueueLen: queueLen,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(listener.release) }) }
	t.Cleanup(func() {
		release()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge run: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := b.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}

	relay := newClient(t, mosq.URL(), "relay")
	for range sessionStarts {
		relay.publish(t, "fitness/hr/10001", `{"heart_rate":120}`, false)
	}
	select {
	case <-listener.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not start")
	}
	return &stalledBridge{b: b, m: m, relay: relay, release: release}
}

// sessionStarts is the number of readings that start the session, and so the stall.
const sessionStarts = 3

// TestInputQueueShedsWhenFull stalls the engine loop and sends more
// messages than the input queue holds. The queue must keep exactly its
// length, and every message beyond it must be dropped and counted, without
// blocking the MQTT client.
func TestInputQueueShedsWhenFull(t *testing.T) {
	const queueLen, burst = 64, 500
	s := startStalledBridge(t, queueLen, config.DefaultMaxPayloadBytes)
	for range burst {
		s.relay.publish(t, "fitness/hr/10001", `{"heart_rate":121}`, false)
	}
	// With the engine loop stalled, the queue holds queueLen messages and
	// the rest of the burst can only be dropped.
	eventually(t, "the burst dropped beyond the queue", func() bool {
		return s.b.Dropped() >= burst-queueLen
	})
	if got, want := s.b.Dropped(), uint64(burst-queueLen); got != want {
		t.Errorf("Dropped = %d with the engine loop stalled, want %d", got, want)
	}
	if got, want := testutil.ToFloat64(s.m.InputDropped), float64(burst-queueLen); got != want {
		t.Errorf("fitbridge_input_dropped_total = %v, want %v", got, want)
	}

	s.release()
	eventually(t, "the queued messages handled", func() bool {
		return s.b.Processed() == sessionStarts+burst
	})
}

// TestInputQueueBoundsPayloadBytes stalls the engine loop and sends large payloads, far
// fewer than the queue's length: the queue stops at its byte budget of 16 MiB.
func TestInputQueueBoundsPayloadBytes(t *testing.T) {
	const size, burst = 60 << 10, 400
	s := startStalledBridge(t, 4096, 64<<10)
	payload := `{"heart_rate":121,"pad":"` + strings.Repeat("x", size-27) + `"}`
	if len(payload) != size {
		t.Fatalf("payload is %d bytes, want %d", len(payload), size)
	}
	for range burst {
		s.relay.publish(t, "fitness/hr/10001", payload, false)
	}
	fits := (16 << 20) / size
	eventually(t, "the burst dropped beyond the byte budget", func() bool {
		return s.b.Dropped() >= uint64(burst-fits)
	})
	if got, want := s.b.Dropped(), uint64(burst-fits); got != want {
		t.Errorf("Dropped = %d with the engine loop stalled, want %d", got, want)
	}

	s.release()
	eventually(t, "the queued messages handled", func() bool {
		return s.b.Processed() == uint64(sessionStarts+burst)
	})
}
