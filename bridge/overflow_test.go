package bridge_test

import (
	"context"
	"log/slog"
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

// TestInputQueueShedsWhenFull stalls the engine loop and sends more
// messages than the input queue holds. The queue must keep exactly its
// length, and every message beyond it must be dropped and counted, without
// blocking the MQTT client.
func TestInputQueueShedsWhenFull(t *testing.T) {
	const (
		queueLen = 64
		burst    = 500
		starts   = 3 // readings that start the session, and so the stall
	)
	mosq := testbroker.Start(t)
	cfg := config.Default()
	cfg.Broker.URL = mosq.URL()
	cfg.Participants = []config.Participant{{ID: "alex", Name: "Alex", Devices: []string{"10001"}}}
	cfg.HTTP.Listen = ""
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
	for range starts {
		relay.publish(t, "fitness/hr/10001", `{"heart_rate":120}`, false)
	}
	select {
	case <-listener.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not start")
	}

	for range burst {
		relay.publish(t, "fitness/hr/10001", `{"heart_rate":121}`, false)
	}
	// With the engine loop stalled, the queue holds queueLen messages and
	// the rest of the burst can only be dropped.
	eventually(t, "the burst dropped beyond the queue", func() bool {
		return b.Dropped() >= burst-queueLen
	})
	if got, want := b.Dropped(), uint64(burst-queueLen); got != want {
		t.Errorf("Dropped = %d with the engine loop stalled, want %d", got, want)
	}
	if got, want := testutil.ToFloat64(m.InputDropped), float64(burst-queueLen); got != want {
		t.Errorf("fitbridge_input_dropped_total = %v, want %v", got, want)
	}

	release()
	eventually(t, "the queued messages handled", func() bool {
		return b.Processed() == starts+burst
	})
}
