package reliability

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// maxHistory bounds the payloads a test client keeps per topic.
const maxHistory = 1000

// clientOptions configure a test MQTT client.
type clientOptions struct {
	id       string
	username string
	password string
	tls      *tls.Config
	// filters are subscribed to after every connect, at QoS 1.
	filters []string
	// noWait returns before the first connection is up.
	noWait bool
}

// mqttClient is an MQTT v5 client of a test: it publishes input, records
// what it receives, and reconnects every 200 ms while the broker is away.
type mqttClient struct {
	t  *testing.T
	cm *autopaho.ConnectionManager

	mu      sync.Mutex
	history map[string][]string
	total   int
}

func connectClient(t *testing.T, brokerURL string, opts clientOptions) *mqttClient {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &mqttClient{t: t, history: map[string][]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	var subscribers sync.WaitGroup
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        opts.tls,
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff:              autopaho.NewConstantBackoff(200 * time.Millisecond),
		ConnectTimeout:                5 * time.Second,
		ConnectUsername:               opts.username,
		ConnectPassword:               []byte(opts.password),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			if len(opts.filters) == 0 {
				return
			}
			subscribers.Add(1)
			go func() {
				defer subscribers.Done()
				subs := make([]paho.SubscribeOptions, 0, len(opts.filters))
				for _, f := range opts.filters {
					subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
				}
				subCtx, subCancel := context.WithTimeout(ctx, 5*time.Second)
				defer subCancel()
				_, _ = cm.Subscribe(subCtx, &paho.Subscribe{Subscriptions: subs})
			}()
		},
		ClientConfig: paho.ClientConfig{
			ClientID: opts.id,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					c.record(pr.Packet.Topic, string(pr.Packet.Payload))
					return true, nil
				},
			},
		},
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c.cm = cm
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer dcancel()
		_ = cm.Disconnect(dctx)
		cancel()
		<-cm.Done()
		subscribers.Wait()
	})
	if opts.noWait {
		return c
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := cm.AwaitConnection(wctx); err != nil {
		t.Fatalf("connect test client %s: %v", opts.id, err)
	}
	if len(opts.filters) > 0 {
		// The subscription from OnConnectionUp may still be on its way;
		// subscribing again here makes sure it is in place on return.
		subs := make([]paho.SubscribeOptions, 0, len(opts.filters))
		for _, f := range opts.filters {
			subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
		}
		if _, err := cm.Subscribe(wctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
			t.Fatalf("subscribe %v: %v", opts.filters, err)
		}
	}
	return c
}

func (c *mqttClient) record(topic, payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := append(c.history[topic], payload)
	if len(h) > maxHistory {
		h = h[len(h)-maxHistory:]
	}
	c.history[topic] = h
	c.total++
}

// reset clears everything received so far.
func (c *mqttClient) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.history)
	c.total = 0
}

// publish sends one message at QoS 1 and fails the test when the broker
// does not acknowledge it.
func (c *mqttClient) publish(topic, payload string, retain bool) {
	c.t.Helper()
	if err := c.tryPublish(topic, []byte(payload), 1, retain); err != nil {
		c.t.Fatalf("publish %s: %v", topic, err)
	}
}

// tryPublish sends one message and returns the error, if any.
func (c *mqttClient) tryPublish(topic string, payload []byte, qos byte, retain bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.cm.Publish(ctx, &paho.Publish{Topic: topic, Payload: payload, QoS: qos,
		Retain: retain})
	return err
}

// last returns the last payload received on topic.
func (c *mqttClient) last(topic string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.history[topic]
	if len(h) == 0 {
		return "", false
	}
	return h[len(h)-1], true
}

// received returns every payload kept for topic, oldest first.
func (c *mqttClient) received(topic string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.history[topic]...)
}

// waitLast waits until the last payload on topic is want.
func (c *mqttClient) waitLast(topic, want string, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, ok := c.last(topic)
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("last message on %s = %q (received: %v) after %v, want %q",
				topic, got, ok, limit, want)
		}
		time.Sleep(pollInterval)
	}
}

// strap publishes a constant heart rate for one device at a fixed interval
// until stopped, at QoS 1, and counts what the broker did not take.
type strap struct {
	sent, failed atomic.Int64
	stop         func()
}

func startStrap(t *testing.T, c *mqttClient, device string, bpm int, every time.Duration) *strap {
	t.Helper()
	s := &strap{}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		payload := []byte(fmt.Sprintf(`{"heart_rate":%d}`, bpm))
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if err := c.tryPublish("fitness/hr/"+device, payload, 1, false); err != nil {
				s.failed.Add(1)
				continue
			}
			s.sent.Add(1)
		}
	}()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			close(done)
			<-stopped
		})
	}
	t.Cleanup(s.stop)
	return s
}
