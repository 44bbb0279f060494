package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/broker"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sim"
)

const (
	demoBrokerAddr = "127.0.0.1:1883"
	demoHTTPAddr   = "127.0.0.1:8080"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name: "demo",
		Usage: "start an embedded broker, simulated straps and a punching bag, and the bridge " +
			"with its dashboard",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "http", Value: demoHTTPAddr,
				Usage: "`ADDRESS` of the dashboard; a busy port falls back to a free one"},
			&cli.StringFlag{Name: "broker-listen", Value: demoBrokerAddr,
				Usage: "`ADDRESS` of the embedded MQTT broker; a busy port falls back to a free one"},
			&cli.StringFlag{Name: "data-dir", Usage: "`DIR` for saved session summaries " +
				"(default: demo/ in the per-user data folder)"},
			&cli.Float64Flag{Name: "speed", Value: 1,
				Usage: "how many times faster than real time the simulated heart rates follow " +
					"the workout; the session's clock, ticks and coins stay in real time"},
			&cli.DurationFlag{Name: "duration",
				Usage: "stop after this long, e.g. 90s (default: run until interrupted)"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	log, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	ctx := c.Context
	if d := c.Duration("duration"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}

	emb, err := broker.Start(c.String("broker-listen"), log.With("component", "broker"))
	if isAddrInUse(err) {
		log.Warn("demo broker port busy; using a free port", "addr", c.String("broker-listen"))
		emb, err = broker.Start("127.0.0.1:0", log.With("component", "broker"))
	}
	if err != nil {
		return fmt.Errorf("start embedded broker: %w", err)
	}
	defer emb.Close()

	cfg, err := demoConfig(c, emb.URL())
	if err != nil {
		return err
	}
	svc, err := newService(cfg, log, bridge.Options{Checkpoints: true})
	if err != nil {
		return err
	}

	simErr := make(chan error, 1)
	go func() {
		simErr <- sim.Run(ctx, emb.URL(), sim.Options{
			Speed: c.Float64("speed"), Logger: log.With("component", "sim"),
		})
	}()

	err = svc.run(ctx, func(addr string) {
		fmt.Fprintf(c.App.Writer, "fitbridge demo running\n"+
			"  dashboard:  http://%s/\n  metrics:    http://%s/metrics\n"+
			"  MQTT:       %s (fitbridge/#, homeassistant/#)\n  summaries:  %s\n"+
			"Press Ctrl-C to stop.\n", addr, addr, emb.URL(), cfg.DataDir)
	})
	if serr := <-simErr; serr != nil && !errors.Is(serr, context.Canceled) {
		log.Warn("simulator stopped with an error", "err", serr)
	}
	return err
}

// demoConfig builds the configuration of the simulated gym.
func demoConfig(c *cli.Context, brokerURL string) (config.Config, error) {
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	demo := sim.DemoConfig()
	cfg.HeartRate.Topic = demo.HeartRateTopic
	for _, p := range demo.Participants {
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: p.ID, Name: p.Name, Devices: []string{p.DeviceID},
		})
	}
	for _, e := range demo.Equipment {
		cfg.Equipment = append(cfg.Equipment, config.Equipment{ID: e.ID, Name: e.Name, Topic: e.Topic})
	}

	cfg.HTTP.Listen = c.String("http")
	if ln, err := net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		cfg.HTTP.Listen = "127.0.0.1:0"
	} else {
		ln.Close()
	}

	cfg.DataDir = c.String("data-dir")
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(config.DefaultDataDir(), "demo")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}
