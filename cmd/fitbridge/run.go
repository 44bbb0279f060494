package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"
	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions/store"
	"github.com/fitbridge/fitbridge/watchdog"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the bridge against an MQTT broker until interrupted",
		Flags: append(commonFlags(), &cli.BoolFlag{Name: "pprof",
			Usage: "serve Go profiles under /debug/pprof/ on the HTTP address"}),
		Action: func(c *cli.Context) error {
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			svc, err := newService(cfg, log, bridge.Options{Checkpoints: true})
			if err != nil {
				return err
			}
			svc.pprof = c.Bool("pprof")
			finished := exitIfShutdownHangs(c.Context, log, shutdownLimit, os.Exit)
			defer finished()
			return svc.run(c.Context, nil)
		},
	}
}

// service is the bridge with its chart feed and HTTP server: what run and
// demo start.
type service struct {
	cfg     config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	hub     *charts.Hub
	bridge  *bridge.Bridge
	// watchdog bounds memory; run starts it.
	watchdog *watchdog.Watchdog
	// pprof mounts the Go profiles under /debug/pprof/.
	pprof bool
	// wrapHTTP, when set, wraps the whole HTTP handler; the add-on puts
	// its ingress rules there.
	wrapHTTP func(http.Handler) http.Handler
}

// newService builds the service for cfg. bopts sets the bridge options that
// differ between commands; the service fills in the rest.
func newService(cfg config.Config, log *slog.Logger, bopts bridge.Options) (*service, error) {
	return newServiceWithQueue(cfg, log, bopts, 0)
}

// newServiceWithQueue is newService with the chart feed's per-client queue
// length; zero means the hub's default.
func newServiceWithQueue(cfg config.Config, log *slog.Logger, bopts bridge.Options,
	queueLen int) (*service, error) {
	m := metrics.New()
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	hub := charts.NewHub(charts.Options{
		Store:           savedSessions{store: st},
		QueueLen:        queueLen,
		Version:         version,
		Interval:        cfg.Session.CoinInterval,
		LiveWindowTicks: cfg.Session.LiveWindowTicks(),
		Zones:           charts.ZoneTableOf(cfg),
		Access:          charts.Access{AllowedOrigins: cfg.HTTP.AllowedOrigins, Token: cfg.HTTP.Token},
		Logger:          log,
		CloseTimeout:    chartCloseTimeout,
		Metrics: charts.Metrics{
			ClientsConnected: m.WSClients,
			MessagesSent:     m.WSMessagesSent,
			ClientsDropped:   m.WSClientsDropped,
			ClientsRejected:  m.WSClientsRejected,
			QueueHighWater:   m.WSQueueHighWater,
			SeriesPoints:     m.SeriesPoints.WithLabelValues(metrics.HolderCharts),
		},
	})
	bopts.Config = cfg
	bopts.Version = version
	bopts.Logger = log
	bopts.Metrics = m
	bopts.Listener = hub
	bopts.Store = st
	b, err := bridge.New(bopts)
	if err != nil {
		return nil, err
	}
	// The watchdog starts at normal and reports only changes.
	b.ReportMemoryPressure(discovery.MemoryNormal)
	s := &service{cfg: cfg, log: log, metrics: m, hub: hub, bridge: b}
	s.watchdog = watchdog.New(watchdog.Options{Memory: cfg.Memory, ProfileDir: cfg.DataDir,
		Shedders: s.shedders(), Logger: log, Metrics: m})
	return s, nil
}

// shedders returns the service's watchdog shedders, in the order the watchdog calls them:
// the chart feed, which sheds load at high and critical, then the bridge, which shows the
// level on Home Assistant's memory pressure entity.
func (s *service) shedders() []watchdog.Shedder {
	return []watchdog.Shedder{
		watchdog.ShedderFunc(func(p watchdog.Pressure) {
			s.hub.SetMemoryPressure(p.Level >= watchdog.High)
		}),
		watchdog.ShedderFunc(func(p watchdog.Pressure) {
			s.bridge.ReportMemoryPressure(pressureLevelName(p.Level))
		}),
	}
}

// pressureLevelName returns the name the bridge state topic gives a watchdog level.
func pressureLevelName(level watchdog.Level) string {
	switch level {
	case watchdog.High:
		return discovery.MemoryHigh
	case watchdog.Critical:
		return discovery.MemoryCritical
	}
	return discovery.MemoryNormal
}

// Shutdown bounds after the bridge, which stops within 3 s (its shutdownTimeout): closing
// the chart clients and the HTTP server takes at most webShutdownTimeout more, so that
// fitbridge exits within shutdownLimit.
const (
	webShutdownTimeout = 1500 * time.Millisecond
	// chartCloseTimeout is the part of webShutdownTimeout that chart clients get for
	// their close handshake.
	chartCloseTimeout = time.Second
)

// run serves HTTP (when configured) and runs the bridge until ctx ends,
// then shuts both down. listening, if not nil, receives the HTTP address
// once the server listens.
func (s *service) run(ctx context.Context, listening func(addr string)) error {
	s.log.Info("fitbridge starting", "version", version,
		"broker", config.RedactURL(s.cfg.Broker.URL), "participants", len(s.cfg.Participants),
		"equipment", len(s.cfg.Equipment), "data_dir", s.cfg.DataDir)
	watchdogCtx, stopWatchdog := context.WithCancel(ctx)
	watchdogDone := make(chan struct{})
	go func() {
		defer close(watchdogDone)
		s.watchdog.Run(watchdogCtx)
	}()
	defer func() {
		stopWatchdog()
		<-watchdogDone
	}()

	var srv *http.Server
	if s.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("listen on http address %s: %w", s.cfg.HTTP.Listen, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /ws", s.hub.ServeWS)
		mux.Handle("GET /api/v1/", s.hub.APIHandler())
		mux.Handle("GET /", s.hub.PageHandler())
		if s.pprof {
			watchdog.RegisterPprof(mux)
		}
		srv = newHTTPServer(s.wrapHandler(s.bridge.HTTPHandler(mux)), defaultHTTPLimits, s.log)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server failed", "err", err)
			}
		}()
		s.log.Info("http listening", "addr", ln.Addr().String())
		if listening != nil {
			listening(ln.Addr().String())
		}
	}

	err := s.bridge.Run(ctx)

	// The bridge has checkpointed or ended the session and published offline; close the chart
	// clients with "going away" and stop serving.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), webShutdownTimeout)
	defer cancel()
	s.hub.Close()
	s.log.Info("chart clients closed", "close_code", websocket.CloseGoingAway)
	if srv != nil {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			s.log.Warn("http shutdown incomplete", "err", err)
		} else {
			s.log.Info("http server stopped")
		}
	}
	s.log.Info("fitbridge stopped")
	return err
}
