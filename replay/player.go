package replay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// TimestampProperty is the MQTT v5 user property that carries each replayed
// message's recorded time, formatted with TimestampLayout in UTC.
const TimestampProperty = "timestamp"

// TimestampLayout is RFC 3339 with milliseconds, for example
// 2026-06-27T19:59:41.566Z.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp returns the TimestampProperty value for a message recorded at
// offset after base.
func Timestamp(base time.Time, offset time.Duration) string {
	return base.Add(offset).UTC().Format(TimestampLayout)
}

// Publish retry limits for when the connection drops during a replay.
const (
	maxPublishAttempts = 10
	retryDelay         = 200 * time.Millisecond
	disconnectTimeout  = 5 * time.Second
)

// Options configures a Player. The zero value replays as fast as possible at
// QoS 1 with timestamps counted from the moment Run starts.
type Options struct {
	// Base is the time of the recordings' start: a message at offset t_ms
	// carries the timestamp Base + t_ms. Zero means the time Run connects,
	// truncated to the millisecond.
	Base time.Time
	// Speed is how many times faster than recorded to publish, sleeping on
	// the real clock between messages. 0 publishes as fast as the broker
	// acknowledges. Negative values are invalid.
	Speed float64
	// QoS is the MQTT quality of service of every publish, and nil means 1.
	// At QoS 0 a broker may drop messages for a slow subscriber.
	QoS *byte
	// ClientID defaults to "fitbridge-replay-" and a random suffix.
	ClientID string
	// Username and Password authenticate to the broker when Username is set.
	Username string
	Password string
	// TLSConfig is used for mqtts:// and ssl:// brokers; nil means the
	// system's certificate authorities and no client certificate.
	TLSConfig *tls.Config
	// Progress, when set, is called after each message is acknowledged (for
	// QoS 0, sent), with the number done so far and the total.
	Progress func(done, total int)
	// Wait, when set, is called before each publish with the number of
	// messages published so far. It lets the consumer hold the player back
	// until it has processed enough, so that a fast replay does not outrun
	// it and make the broker drop messages. An error from Wait ends Run.
	Wait func(ctx context.Context, published int) error
	// Logger receives connection and retry events. A nil Logger discards
	// them.
	Logger *slog.Logger
}

// Player publishes recorded messages to an MQTT broker in order.
type Player struct {
	server   *url.URL
	messages []Message
	opts     Options
	qos      byte
	logger   *slog.Logger
}

// NewPlayer checks the options and returns a player for messages, which
// must be ordered by Offset (as ReadFile and Merge return them).
func NewPlayer(brokerURL string, messages []Message, opts Options) (*Player, error) {
	server, err := parseBrokerURL(brokerURL)
	if err != nil {
		return nil, err
	}
	if opts.Speed < 0 {
		return nil, fmt.Errorf("replay: invalid speed %v: want 0 (as fast as possible) "+
			"or a positive factor", opts.Speed)
	}

	qos := byte(1)
	if opts.QoS != nil {
		qos = *opts.QoS
	}
	if qos > 2 {
		return nil, fmt.Errorf("replay: invalid QoS %d: want 0, 1 or 2", qos)
	}

	for i := 1; i < len(messages); i++ {
		if messages[i].Offset < messages[i-1].Offset {
			return nil, fmt.Errorf("replay: message %d (%s:%d) is earlier than the one "+
				"before it, so merge recordings with Merge", i, messages[i].File, messages[i].Line)
		}
	}

	if opts.ClientID == "" {
		opts.ClientID = "fitbridge-replay-" + randomSuffix()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Player{server: server, messages: messages, opts: opts, qos: qos, logger: logger}, nil
}

func parseBrokerURL(brokerURL string) (*url.URL, error) {
	server, err := url.Parse(brokerURL)
	if err != nil {
		return nil, fmt.Errorf("replay: invalid broker URL %q: %w", brokerURL, err)
	}
	if server.Scheme == "" || server.Host == "" {
		return nil, fmt.Errorf("replay: invalid broker URL %q: want scheme://host:port, "+
			"for example mqtt://127.0.0.1:1883", brokerURL)
	}
	return server, nil
}

// Run connects, publishes every message in order, and returns once all are
// published and acknowledged (for QoS 0, written), or when ctx ends or a
// publish fails. Each publish carries the TimestampProperty user property.
// Publishing is serial: each message waits for its acknowledgement before the
// next is sent, which keeps the order across a reconnect. When the connection
// drops, Run waits for autopaho to reconnect and publishes the interrupted
// message again, so a subscriber may see it twice (QoS 1 is at least once).
// Run always disconnects before it returns.
func (p *Player) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	cm, err := autopaho.NewConnection(ctx, p.clientConfig())
	if err != nil {
		return fmt.Errorf("replay: connect to %s: %w", p.server, err)
	}
	defer func() {
		stopCtx, stop := context.WithTimeout(context.Background(), disconnectTimeout)
		defer stop()
		if dErr := cm.Disconnect(stopCtx); dErr != nil {
			p.logger.Warn("replay disconnect failed", "client_id", p.opts.ClientID, "error", dErr)
		}
	}()

	if err := cm.AwaitConnection(ctx); err != nil {
		return fmt.Errorf("replay: connect to %s: %w", p.server, err)
	}
	base := p.opts.Base
	if base.IsZero() {
		base = time.Now().Truncate(time.Millisecond)
	}
	start := time.Now()
	p.logger.Info("replay started", "broker", p.server.String(), "client_id", p.opts.ClientID,
		"messages", len(p.messages), "speed", p.opts.Speed, "qos", p.qos)

	for i, msg := range p.messages {
		if p.opts.Wait != nil {
			if err := p.opts.Wait(ctx, i); err != nil {
				return fmt.Errorf("replay: wait before message %d: %w", i, err)
			}
		}
		if err := p.sleepUntilDue(ctx, start, msg.Offset); err != nil {
			return fmt.Errorf("replay: stopped before message %d: %w", i, err)
		}
		pub := &paho.Publish{
			Topic:   msg.Topic,
			QoS:     p.qos,
			Retain:  msg.Retain,
			Payload: msg.Payload,
			Properties: &paho.PublishProperties{
				User: paho.UserProperties{{Key: TimestampProperty, Value: Timestamp(base, msg.Offset)}},
			},
		}
		if err := p.publish(ctx, cm, pub); err != nil {
			return fmt.Errorf("replay: publish message %d (%s:%d) to %s: %w",
				i, msg.File, msg.Line, msg.Topic, err)
		}
		if p.opts.Progress != nil {
			p.opts.Progress(i+1, len(p.messages))
		}
	}
	p.logger.Info("replay finished", "client_id", p.opts.ClientID, "messages", len(p.messages),
		"elapsed", time.Since(start))
	return nil
}

func (p *Player) clientConfig() autopaho.ClientConfig {
	config := autopaho.ClientConfig{
		ServerUrls: []*url.URL{p.server},
		KeepAlive:  30,
		// With session expiry 0 the broker drops the session at every
		// disconnect, so after a reconnect paho has nothing to resend and
		// Run publishes the interrupted message again itself.
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         0,
		ReconnectBackoff: autopaho.NewExponentialBackoff(
			100*time.Millisecond, 5*time.Second, 500*time.Millisecond, 2),
		ConnectUsername: p.opts.Username,
		ConnectPassword: []byte(p.opts.Password),
		TlsCfg:          p.opts.TLSConfig,
		OnConnectError: func(err error) {
			p.logger.Warn("replay connect failed", "broker", p.server.String(),
				"client_id", p.opts.ClientID, "error", err)
		},
		OnConnectionDown: func() bool {
			p.logger.Warn("replay connection lost", "broker", p.server.String(),
				"client_id", p.opts.ClientID)
			return true
		},
		ClientConfig: paho.ClientConfig{ClientID: p.opts.ClientID},
	}
	return config
}

// sleepUntilDue waits until the message at offset is due at the configured
// speed. The schedule counts from start, so time spent publishing or in Wait
// does not add up, and a late message is published at once.
func (p *Player) sleepUntilDue(ctx context.Context, start time.Time, offset time.Duration) error {
	if p.opts.Speed == 0 {
		return ctx.Err()
	}
	delay := time.Until(dueTime(start, offset, p.opts.Speed))
	if delay <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publish sends pub and waits for its acknowledgement, retrying after a
// connection loss. A rejection by the broker is not retried.
func (p *Player) publish(ctx context.Context, cm *autopaho.ConnectionManager,
	pub *paho.Publish) error {
	for attempt := 1; ; attempt++ {
		resp, err := cm.Publish(ctx, pub)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A PUBACK with an error reason code, or arguments the broker's
		// CONNACK limits rule out, will fail the same way again.
		if resp != nil || errors.Is(err, paho.ErrInvalidArguments) {
			return err
		}
		if attempt == maxPublishAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		p.logger.Warn("replay publish retry", "client_id", p.opts.ClientID, "topic", pub.Topic,
			"attempt", attempt, "error", err)
		// The connection may be dead without autopaho having noticed yet, so
		// pause before waiting for it.
		select {
		case <-time.After(retryDelay):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := cm.AwaitConnection(ctx); err != nil {
			return err
		}
	}
}

// dueTime returns when a message recorded at offset is due when the replay
// started at start and runs speed times faster than recorded (speed > 0).
func dueTime(start time.Time, offset time.Duration, speed float64) time.Time {
	return start.Add(time.Duration(float64(offset) / speed))
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
