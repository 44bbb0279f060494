package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/metrics"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the bridge against an MQTT broker until interrupted",
		Flags: commonFlags(),
		Action: func(c *cli.Context) error {
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			svc, err := newService(cfg, log, bridge.Options{})
			if err != nil {
				return err
			}
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
}

// newService builds the service for cfg. bopts sets the bridge options that
// differ between commands; the service fills in the rest.
func newService(cfg config.Config, log *slog.Logger, bopts bridge.Options) (*service, error) {
	m := metrics.New()
	hub := charts.NewHub(charts.Options{
		Version:         version,
		Interval:        cfg.Session.CoinInterval,
		LiveWindowTicks: int(cfg.Session.LiveWindow / cfg.Session.CoinInterval),
		Logger:          log,
		Metrics: charts.Metrics{
			ClientsConnected: m.WSClients,
			MessagesSent:     m.WSMessagesSent,
			ClientsDropped:   m.WSClientsDropped,
		},
	})
	bopts.Config = cfg
	bopts.Version = version
	bopts.Logger = log
	bopts.Metrics = m
	bopts.Listener = hub
	bopts.DataDir = cfg.DataDir
	b, err := bridge.New(bopts)
	if err != nil {
		return nil, err
	}
	return &service{cfg: cfg, log: log, metrics: m, hub: hub, bridge: b}, nil
}

// run serves HTTP (when configured) and runs the bridge until ctx ends,
// then shuts both down. listening, if not nil, receives the HTTP address
// once the server listens.
func (s *service) run(ctx context.Context, listening func(addr string)) error {
	s.log.Info("fitbridge starting", "version", version, "broker", s.cfg.Broker.URL,
		"participants", len(s.cfg.Participants), "equipment", len(s.cfg.Equipment),
		"data_dir", s.cfg.DataDir)

	var srv *http.Server
	if s.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("listen on http address %s: %w", s.cfg.HTTP.Listen, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /ws", s.hub.ServeWS)
		mux.Handle("GET /", s.hub.PageHandler())
		srv = &http.Server{
			Handler:           s.bridge.HTTPHandler(mux),
			ReadHeaderTimeout: 10 * time.Second,
		}
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

	// The bridge has ended the session and said offline; close the chart
	// clients with "going away" and stop serving.
	s.hub.Close()
	if srv != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			s.log.Warn("http shutdown incomplete", "err", err)
		}
	}
	s.log.Info("fitbridge stopped")
	return err
}
