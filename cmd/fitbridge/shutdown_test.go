package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a logger and a test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestShutdownGuardExitsWhenStuck(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	finished := exitIfShutdownHangs(ctx, log, 10*time.Millisecond, func(code int) { exited <- code })
	defer finished()

	cancel()
	select {
	case code := <-exited:
		if code != 1 {
			t.Errorf("exit code = %d, want 1", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("guard did not exit a shutdown that never finished")
	}
	if !strings.Contains(logs.String(), "shutdown did not finish in time") {
		t.Errorf("log %q has no line about the stuck shutdown", logs.String())
	}
}

func TestShutdownGuardQuietWhenFinished(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	finished := exitIfShutdownHangs(ctx, log, 50*time.Millisecond, func(code int) { exited <- code })

	cancel()
	finished()
	// Longer than the limit: a guard that was not stopped would exit now.
	time.Sleep(100 * time.Millisecond)
	select {
	case code := <-exited:
		t.Fatalf("guard exited with %d after the shutdown finished", code)
	default:
	}
}

func TestShutdownGuardIdleWithoutStop(t *testing.T) {
	exited := make(chan int, 1)
	finished := exitIfShutdownHangs(context.Background(), slog.New(slog.DiscardHandler),
		time.Millisecond, func(code int) { exited <- code })
	time.Sleep(20 * time.Millisecond)
	finished()
	if len(exited) != 0 {
		t.Fatal("guard exited although no shutdown started")
	}
}
