package bridge

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/discovery"
)

const (
	// keepAlive is the MQTT keep-alive in seconds.
	keepAlive = 30
	// subscribeTimeout bounds the SUBSCRIBE round trip after a connect.
	subscribeTimeout = 10 * time.Second
	// publishTimeout bounds one QoS 1 publish waiting for its PUBACK.
	publishTimeout = 10 * time.Second
	// minBackoff and maxBackoff bound the reconnect delay, which grows
	// exponentially with random jitter and never gives up.
	minBackoff = 1 * time.Second
	maxBackoff = 60 * time.Second
)

// inbound is one received MQTT message, handed from the client's receive
// path to the engine loop. payload is owned by the message: paho allocates
// a new packet for every PUBLISH.
type inbound struct {
	topic   string
	payload []byte
	props   paho.UserProperties
	// retained is set for a retained message the broker sent because we
	// subscribed: it is history, not a live reading.
	retained bool
	arrival  time.Time
}

// packetOverhead is the room a packet needs beyond its payload: the fixed header, the topic
// and the properties. A payload a little over the payload limit still arrives, so it is
// counted as too large; one far over it never reaches fitbridge.
const packetOverhead = 8 << 10

// maxPacketSize returns the MQTT v5 Maximum Packet Size that fitbridge requests of the
// broker, for a payload limit of limit bytes.
func maxPacketSize(limit int) uint32 {
	return uint32(min(max(limit, 0)+packetOverhead, 1<<28-1))
}

// connect starts the autopaho connection manager. It returns at once; the
// manager connects and reconnects in the background until ctx ends.
func (b *Bridge) connect(ctx context.Context) (*autopaho.ConnectionManager, error) {
	conn, err := NewBrokerConnection(b.cfg.Broker)
	if err != nil {
		return nil, err
	}
	u, username := conn.URL, conn.Username
	topics := b.topics
	cc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        conn.TLS,
		KeepAlive:                     keepAlive,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                10 * time.Second,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(minBackoff, maxBackoff, 2*minBackoff, 2),
		ConnectUsername:               username,
		ConnectPassword:               conn.Password,
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			// Without a maximum the broker delivers a packet of any size, and paho
			// reads it whole before the payload limit can drop it: a 200 MiB publish
			// costs 200 MiB. With one, an MQTT v5 broker does not send it at all.
			if cp.Properties == nil {
				// RequestProblemInfo is true by default in MQTT v5. Sent as false, it
				// lets a broker strip user properties, the readings' event times
				// among them: the embedded broker does.
				cp.Properties = &paho.ConnectProperties{RequestProblemInfo: true}
			}
			size := maxPacketSize(b.cfg.HeartRate.MaxPayloadBytes)
			cp.Properties.MaximumPacketSize = &size
			return cp, nil
		},
		WillMessage: &paho.WillMessage{
			Topic:   topics.BridgeAvailability(),
			Payload: []byte(availabilityOffline),
			QoS:     1,
			Retain:  true,
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			b.log.Info("mqtt connected", "broker", u.Redacted())
			b.metrics.BrokerConnected.Set(1)
			b.metrics.Reconnects.Inc()
			// Subscribing waits for a SUBACK, and this callback must not
			// block the connection loop.
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.subscribe(ctx, cm)
			}()
		},
		OnConnectionDown: func() bool {
			b.log.Warn("mqtt connection lost; reconnecting", "broker", u.Redacted())
			b.metrics.BrokerConnected.Set(0)
			b.connected.Store(false)
			return true
		},
		OnConnectError: func(err error) {
			var connack *autopaho.ConnackError
			if errors.As(err, &connack) {
				b.log.Error("mqtt connection refused by broker", "broker", u.Redacted(),
					"user", username, "reason", connack.ReasonCode,
					"reason_text", connackReasonText(connack.ReasonCode), "err", err)
				return
			}
			b.log.Warn("mqtt connect failed; retrying", "broker", u.Redacted(), "err", err)
		},
		ClientConfig: paho.ClientConfig{
			ClientID: b.cfg.Broker.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				b.receive,
			},
			OnClientError: func(err error) {
				b.log.Warn("mqtt client error", "err", err)
			},
		},
	}
	return autopaho.NewConnection(ctx, cc)
}

// subscribe (re)subscribes to every input topic after a connect, then signals
// the engine loop so it republishes availability, discovery and states.
func (b *Bridge) subscribe(ctx context.Context, cm *autopaho.ConnectionManager) {
	subCtx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()

	subs := []paho.SubscribeOptions{
		{Topic: b.cfg.HeartRate.Topic, QoS: 1},
		{Topic: b.topics.SessionCommand(), QoS: 1},
		{Topic: b.topics.Base() + "/device/+" + assignSuffix, QoS: 1},
		{Topic: b.topics.HomeAssistantStatus(), QoS: 1},
	}
	for _, eq := range b.cfg.Equipment {
		subs = append(subs,
			paho.SubscribeOptions{Topic: eq.Topic, QoS: 1},
			paho.SubscribeOptions{Topic: eq.Topic + "/action", QoS: 1},
		)
	}
	if _, err := cm.Subscribe(subCtx, &paho.Subscribe{Subscriptions: subs}); err != nil {
		b.log.Error("mqtt subscribe failed", "err", err)
		return
	}
	b.log.Info("mqtt subscribed", "topics", len(subs))
	b.syncDiscovery(subCtx, cm)
	b.connected.Store(true)
	b.out.poke() // Messages queued during the outage go out now.
	select {
	case b.reconnected <- struct{}{}:
	default:
	}
}

// receive is the client's publish callback. It must return quickly: it
// checks the size, copies the message reference into the bounded input
// queue, and drops and counts the message when that queue is full.
func (b *Bridge) receive(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	if b.captureSync(p) {
		return true, nil
	}
	in := inbound{topic: p.Topic, payload: p.Payload, retained: p.Retain, arrival: time.Now()}
	if p.Properties != nil {
		in.props = p.Properties.User
	}
	if len(p.Payload) > b.cfg.HeartRate.MaxPayloadBytes {
		b.metrics.InvalidReadings.WithLabelValues(reasonTooLarge).Inc()
		b.dropped.Add(1)
		b.processed.Add(1)
		b.limiter.log("input payload too large; dropped", "topic", p.Topic,
			"bytes", len(p.Payload), "limit", b.cfg.HeartRate.MaxPayloadBytes)
		return true, nil
	}
	// The queues bound the number of messages, and the byte budget their payloads: 8192
	// messages of 64 KiB each would otherwise hold 512 MiB.
	size := int64(len(p.Payload))
	if b.queuedBytes.Add(size) > maxQueuedBytes {
		b.queuedBytes.Add(-size)
		b.dropInput(p.Topic, "input queue over its byte budget; message dropped")
		return true, nil
	}
	queue := b.input
	if b.known != nil && b.knownInput(p.Topic) {
		queue = b.known
	}
	select {
	case queue <- in:
	default:
		b.queuedBytes.Add(-size)
		b.dropInput(p.Topic, "input queue full; message dropped")
	}
	return true, nil
}

// maxQueuedBytes bounds the payload bytes waiting in the input queues.
const maxQueuedBytes = 16 << 20

// dropInput counts and logs a message dropped on the receive path.
func (b *Bridge) dropInput(topic, msg string) {
	b.metrics.InputDropped.Inc()
	b.dropped.Add(1)
	b.processed.Add(1)
	b.limiter.log(msg, "topic", topic)
}

// runPublisher sends the outbox while the bridge is connected, until stop is
// closed; a publish under way then completes. A failed publish is counted and
// dropped: every state is republished after the next connect anyway.
func (b *Bridge) runPublisher(ctx context.Context, stop <-chan struct{},
	cm *autopaho.ConnectionManager) {
	for {
		select {
		case <-stop:
			return
		case <-b.out.wake:
		}
		// While the broker is away, messages wait in the outbox, where newer states replace
		// older ones, instead of each waiting publishTimeout for a connection and being lost.
		for b.connected.Load() {
			m, ok := b.out.take()
			if !ok {
				break
			}
			b.publish(ctx, cm, m)
		}
	}
}

func (b *Bridge) publish(ctx context.Context, cm *autopaho.ConnectionManager, m discovery.Message) {
	pubCtx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	_, err := cm.Publish(pubCtx, &paho.Publish{
		Topic:   m.Topic,
		Payload: m.Payload,
		QoS:     m.QoS,
		Retain:  m.Retain,
	})
	if err != nil {
		b.metrics.PublishFailures.Inc()
		b.limiter.log("mqtt publish failed", "topic", m.Topic, "err", err)
	}
}
