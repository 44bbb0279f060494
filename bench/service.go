package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// ServiceOptions configures one fitbridge instance under test.
type ServiceOptions struct {
	BrokerURL string
	// Devices is the number of participants, each wearing strap
	// deviceID(i), as the load publishes them.
	Devices     int
	TopicPrefix string
	// InstanceID keeps instances on one broker apart; empty is the default.
	InstanceID string
	// EventClock runs the engine on the stamped event times, as a replay
	// does; otherwise it runs on the wall clock, as in production.
	EventClock bool
	// NoCheckpoints turns off the checkpoints that production writes, to
	// tell their cost from the rest.
	NoCheckpoints bool
	DataDir       string
}

// frame is one chart-feed points message on the fitness topic.
type frame struct {
	startMS int64
	arrival time.Duration // offset from the service's clock
}

// Service is a complete fitbridge as cmd/fitbridge runs it: the bridge with
// its store, state publishing and metrics, the chart hub behind an HTTP
// server on loopback, and one WebSocket client that reads the fitness topic.
type Service struct {
	Bridge  *bridge.Bridge
	Config  config.Config
	Metrics *metrics.Metrics
	hub     *charts.Hub
	srv     *http.Server
	ws      *websocket.Conn
	clock   time.Time

	cancel  context.CancelFunc
	runDone chan error
	wsDone  chan struct{}

	mu     sync.Mutex
	frames []frame
}

// ServiceConfig returns the configuration of an instance under test.
func ServiceConfig(o ServiceOptions) (config.Config, error) {
	cfg := config.Default()
	cfg.Broker.URL = o.BrokerURL
	cfg.InstanceID = o.InstanceID
	cfg.HeartRate.Topic = o.TopicPrefix + "+"
	cfg.DataDir = o.DataDir
	for i := range o.Devices {
		id := fmt.Sprintf("p%03d", i)
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: id, Name: "Participant " + id, Devices: []string{deviceID(i)},
		})
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("benchmark configuration: %w", err)
	}
	return cfg, nil
}

// StartService starts an instance and its chart client. clock is the zero
// of the frame arrival offsets.
func StartService(ctx context.Context, o ServiceOptions, clock time.Time) (*Service, error) {
	cfg, err := ServiceConfig(o)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := metrics.New()
	hub := charts.NewHub(charts.Options{
		Version:         "bench",
		Interval:        cfg.Session.CoinInterval,
		LiveWindowTicks: cfg.Session.LiveWindowTicks(),
		Zones:           charts.ZoneTableOf(cfg),
		Logger:          log,
		Metrics: charts.Metrics{ClientsConnected: m.WSClients, MessagesSent: m.WSMessagesSent,
			ClientsDropped: m.WSClientsDropped},
	})
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	b, err := bridge.New(bridge.Options{
		Config: cfg, Version: "bench", Logger: log, Metrics: m, Listener: hub, Store: st,
		Checkpoints: !o.EventClock && !o.NoCheckpoints, EventClock: o.EventClock,
	})
	if err != nil {
		return nil, err
	}
	s := &Service{Bridge: b, Config: cfg, Metrics: m, hub: hub, clock: clock,
		runDone: make(chan error, 1), wsDone: make(chan struct{})}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.runDone <- b.Run(runCtx) }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.stopBridge()
		return nil, fmt.Errorf("listen for the chart feed: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", hub.ServeWS)
	s.srv = &http.Server{Handler: b.HTTPHandler(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()

	waitCtx, cancelWait := context.WithTimeout(ctx, 15*time.Second)
	defer cancelWait()
	if err := b.WaitConnected(waitCtx); err != nil {
		s.Close()
		return nil, err
	}
	ws, _, err := websocket.DefaultDialer.DialContext(waitCtx,
		"ws://"+ln.Addr().String()+"/ws?topics=fitness", nil)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("chart client dial: %w", err)
	}
	s.ws = ws
	go s.readFrames()
	return s, nil
}

// readFrames reads the chart feed until the connection closes and notes
// the arrival of every points message.
func (s *Service) readFrames() {
	defer close(s.wsDone)
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		at := time.Since(s.clock)
		var msg struct {
			Type    string `json:"type"`
			StartMS *int64 `json:"start_ms"`
		}
		if json.Unmarshal(data, &msg) != nil || msg.Type != charts.TypePoints || msg.StartMS == nil {
			continue
		}
		s.mu.Lock()
		s.frames = append(s.frames, frame{startMS: *msg.StartMS, arrival: at})
		s.mu.Unlock()
	}
}

// framesSoFar returns the points messages received so far.
func (s *Service) framesSoFar() []frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]frame(nil), s.frames...)
}

// waitProcessed polls the bridge until it has handled n messages or ctx
// ends. It returns when the n-th was handled, as an offset from clock, with
// the 1 ms resolution of the poll.
func (s *Service) waitProcessed(ctx context.Context, n uint64) (time.Duration, error) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		p := s.Bridge.Processed()
		now := time.Since(s.clock)
		if p >= n {
			return now, nil
		}
		select {
		case <-ctx.Done():
			return now, fmt.Errorf("bridge handled %d of %d messages: %w", p, n, ctx.Err())
		case <-tick.C:
		}
	}
}

// checkpointTotals returns how many checkpoints the bridge wrote and the
// seconds its checkpoint writer spent on them.
func (s *Service) checkpointTotals() (uint64, float64) {
	var m dto.Metric
	if err := s.Metrics.CheckpointDuration.Write(&m); err != nil || m.Histogram == nil {
		return 0, 0
	}
	return m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum()
}

func (s *Service) stopBridge() {
	s.cancel()
	if err := <-s.runDone; err != nil {
		slog.Warn("bench bridge run failed", "err", err)
	}
}

// Close stops the bridge, the chart feed and its client.
func (s *Service) Close() {
	s.stopBridge()
	s.hub.Close()
	if s.ws != nil {
		<-s.wsDone
		_ = s.ws.Close()
	}
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.srv.Close()
		}
	}
}
