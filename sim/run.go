package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// Options configures Run. The zero value runs in real time with seed 0.
type Options struct {
	// Seed selects the random workout details. The same seed gives the same
	// messages.
	Seed uint64
	// Speed is how many times faster than real time the workout runs, and 0
	// means 1. The messages are the same at any speed, only closer together.
	Speed float64
	// ClientID defaults to "fitbridge-sim".
	ClientID string
	// Username and Password authenticate to the broker when Username is set.
	Username string
	Password string
	// Logger receives connection events and publish failures. A nil Logger
	// discards them.
	Logger *slog.Logger
}

const (
	publishTimeout    = 5 * time.Second
	disconnectTimeout = 5 * time.Second
)

// Run connects to the broker at brokerURL and publishes the simulated
// workout at QoS 0, as real straps and zigbee2mqtt do, until ctx ends. It
// returns nil when ctx ends after the first connection, and an error when
// the options are invalid or no connection was ever made. While the
// connection is down, messages are skipped, not queued, like a live sensor's.
func Run(ctx context.Context, brokerURL string, opts Options) error {
	server, err := url.Parse(brokerURL)
	if err != nil || server.Scheme == "" || server.Host == "" {
		return fmt.Errorf("sim: invalid broker URL %q: want scheme://host:port, "+
			"for example mqtt://127.0.0.1:1883", brokerURL)
	}
	if opts.Speed < 0 {
		return fmt.Errorf("sim: invalid speed %v: want a positive factor, or 0 for real time",
			opts.Speed)
	}
	speed := opts.Speed
	if speed == 0 {
		speed = 1
	}
	if opts.ClientID == "" {
		opts.ClientID = "fitbridge-sim"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{server},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff: autopaho.NewExponentialBackoff(
			250*time.Millisecond, 10*time.Second, time.Second, 2),
		ConnectUsername: opts.Username,
		ConnectPassword: []byte(opts.Password),
		OnConnectError: func(err error) {
			logger.Warn("sim connect failed", "broker", server.String(), "client_id", opts.ClientID,
				"error", err)
		},
		OnConnectionDown: func() bool {
			logger.Warn("sim connection lost", "broker", server.String(), "client_id", opts.ClientID)
			return true
		},
		ClientConfig: paho.ClientConfig{ClientID: opts.ClientID},
	})
	if err != nil {
		return fmt.Errorf("sim: connect to %s: %w", server, err)
	}
	defer func() {
		stopCtx, stop := context.WithTimeout(context.Background(), disconnectTimeout)
		defer stop()
		if err := cm.Disconnect(stopCtx); err != nil {
			logger.Warn("sim disconnect failed", "client_id", opts.ClientID, "error", err)
		}
	}()
	if err := cm.AwaitConnection(ctx); err != nil {
		return fmt.Errorf("sim: connect to %s: %w", server, err)
	}

	start := time.Now()
	gen := NewGenerator(opts.Seed, start)
	logger.Info("sim started", "broker", server.String(), "client_id", opts.ClientID,
		"seed", opts.Seed, "speed", speed, "devices", DeviceIDs(), "equipment_topic", BagTopic)
	pub := publisher{cm: cm, logger: logger, clientID: opts.ClientID}
	for {
		for _, msg := range gen.Step() {
			due := start.Add(time.Duration(float64(msg.Offset) / speed))
			if !sleepUntil(ctx, due) {
				logger.Info("sim stopped", "client_id", opts.ClientID, "published", pub.published,
					"skipped", pub.skippedTotal)
				return nil
			}
			pub.publish(ctx, msg)
		}
	}
}

// publisher sends messages and logs failures once per outage, not once per
// message.
type publisher struct {
	cm       *autopaho.ConnectionManager
	logger   *slog.Logger
	clientID string

	published    int
	skipped      int // in the current outage
	skippedTotal int
}

func (p *publisher) publish(ctx context.Context, msg Message) {
	pubCtx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	_, err := p.cm.Publish(pubCtx, &paho.Publish{Topic: msg.Topic, QoS: 0, Payload: msg.Payload})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if p.skipped == 0 {
			level := slog.LevelWarn
			if errors.Is(err, autopaho.ConnectionDownError) {
				level = slog.LevelInfo // already logged as a lost connection
			}
			p.logger.Log(ctx, level, "sim publish failed",
				"client_id", p.clientID, "topic", msg.Topic, "error", err)
		}
		p.skipped++
		p.skippedTotal++
		return
	}
	if p.skipped > 0 {
		p.logger.Info("sim publish resumed", "client_id", p.clientID, "skipped", p.skipped)
		p.skipped = 0
	}
	p.published++
}

// sleepUntil waits until due and reports whether ctx is still live.
func sleepUntil(ctx context.Context, due time.Time) bool {
	delay := time.Until(due)
	if delay <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
