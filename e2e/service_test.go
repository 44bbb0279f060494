package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/replay"
)

// replayStart is the time stamped on the first recorded message of a replay.
var replayStart = time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)

// bridgeService is the bridge with its chart feed and HTTP server, assembled the way
// cmd/fitbridge's run command assembles them, on event time so that replays decide when
// ticks close.
type bridgeService struct {
	hub    *charts.Hub
	bridge *bridge.Bridge
	addr   string
	cancel context.CancelFunc
	done   chan error
	server *http.Server
}

// startService starts a bridge on cfg and serves it on addr ("127.0.0.1:0" for a free port).
func startService(t testing.TB, cfg config.Config, addr string, queueLen int, log *slog.Logger) *bridgeService {
	t.Helper()
	m := metrics.New()
	hub := charts.NewHub(charts.Options{
		Version:         "e2e",
		Interval:        cfg.Session.CoinInterval,
		LiveWindowTicks: int(cfg.Session.LiveWindow / cfg.Session.CoinInterval),
		QueueLen:        queueLen,
		Zones:           charts.ZoneTableOf(cfg),
		Access:          charts.Access{AllowedOrigins: cfg.HTTP.AllowedOrigins, Token: cfg.HTTP.Token},
		Logger:          log,
	})
	b, err := bridge.New(bridge.Options{
		Config: cfg, Version: "e2e", Logger: log, Metrics: m, Listener: hub,
		EventClock: true, KeepSummaries: 1 << 10,
	})
	if err != nil {
		t.Fatalf("new bridge: %v", err)
	}
	ln := listenRetry(t, addr)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", hub.ServeWS)
	mux.Handle("GET /api/v1/", hub.APIHandler())
	mux.Handle("GET /", hub.PageHandler())
	server := &http.Server{Handler: b.HTTPHandler(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("e2e http server failed", "error", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	s := &bridgeService{hub: hub, bridge: b, addr: ln.Addr().String(), cancel: cancel,
		done: make(chan error, 1), server: server}
	go func() { s.done <- b.Run(ctx) }()
	waitCtx, waitCancel := context.WithTimeout(context.Background(), waitTimeout)
	defer waitCancel()
	if err := b.WaitConnected(waitCtx); err != nil {
		s.stop(t)
		t.Fatalf("bridge did not connect to %s: %v", cfg.Broker.URL, err)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// listenRetry listens on addr, retrying for a few seconds while a stopped server's port is
// still in use.
func listenRetry(t testing.TB, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the bridge (which ends its session), then closes the feed's clients with
// 1001 and the HTTP server, in the order of the run command. It may be called twice.
func (s *bridgeService) stop(t testing.TB) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("bridge run: %v", err)
	}
	s.hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.server.Shutdown(ctx); err != nil {
		t.Errorf("http shutdown: %v", err)
	}
}

func (s *bridgeService) url() string { return "http://" + s.addr }

// replayFiles publishes the recordings through the broker as fast as the bridge takes
// them, with the first message stamped base, and waits until the bridge has handled all.
func replayFiles(t testing.TB, brokerURL string, svc *bridgeService, base time.Time, names ...string) {
	t.Helper()
	dir := filepath.Join(testbroker.SharedDir(t), "data", "recordings")
	var files [][]replay.Message
	for _, name := range names {
		msgs, err := replay.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("read recording: %v", err)
		}
		files = append(files, msgs)
	}
	msgs := replay.Merge(files...)
	// accepted[i] is the number of the first i messages that the bridge subscribes to.
	accepted := make([]uint64, len(msgs)+1)
	for i, m := range msgs {
		accepted[i+1] = accepted[i]
		if svc.bridge.Accepts(m.Topic) {
			accepted[i+1]++
		}
	}
	start := svc.bridge.Processed()
	const window = 256
	player, err := replay.NewPlayer(brokerURL, msgs, replay.Options{
		Base: base,
		Wait: func(ctx context.Context, published int) error {
			return waitProcessed(ctx, svc, start+accepted[max(0, published-window)])
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("new player: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := player.Run(ctx); err != nil {
		t.Fatalf("replay %s: %v", strings.Join(names, ", "), err)
	}
	if err := waitProcessed(ctx, svc, start+accepted[len(msgs)]); err != nil {
		t.Fatal(err)
	}
}

// waitProcessed waits until the bridge has handled n input messages, and fails when the
// count stops moving for 30 s.
func waitProcessed(ctx context.Context, svc *bridgeService, n uint64) error {
	last, lastMove := svc.bridge.Processed(), time.Now()
	for last < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if cur := svc.bridge.Processed(); cur != last {
			last, lastMove = cur, time.Now()
		} else if time.Since(lastMove) > 30*time.Second {
			return fmt.Errorf("the bridge handled %d of %d messages and nothing more for 30 s", cur, n)
		}
	}
	return nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
