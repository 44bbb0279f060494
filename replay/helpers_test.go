package replay

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// received is one message as a subscriber saw it.
type received struct {
	Topic     string
	Payload   string
	Retain    bool
	Timestamp string
}

// subscriber is a real MQTT client subscribed to every topic at QoS 1. It
// subscribes again after each reconnect, so it survives a broker restart.
type subscriber struct {
	cm *autopaho.ConnectionManager

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	messages   []received
	subscribed int // successful subscribes so far, one per connection
}

func newSubscriber(t *testing.T, brokerURL string) *subscriber {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &subscriber{changed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cm, err = autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff:              autopaho.NewConstantBackoff(100 * time.Millisecond),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			subCtx, stop := context.WithTimeout(ctx, 5*time.Second)
			defer stop()
			_, err := cm.Subscribe(subCtx, &paho.Subscribe{
				Subscriptions: []paho.SubscribeOptions{{Topic: "#", QoS: 1}},
			})
			if err != nil {
				t.Logf("subscriber: subscribe: %v", err)
				return
			}
			s.update(func() { s.subscribed++ })
		},
		ClientConfig: paho.ClientConfig{
			ClientID:          "replay-test-subscriber",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){s.onPublish},
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = s.cm.Disconnect(stopCtx)
		cancel()
		<-s.cm.Done()
	})
	s.waitFor(t, 10*time.Second, "first subscribe", func() bool { return s.subscribed >= 1 })
	return s
}

func (s *subscriber) onPublish(pr paho.PublishReceived) (bool, error) {
	msg := received{
		Topic:   pr.Packet.Topic,
		Payload: string(pr.Packet.Payload),
		Retain:  pr.Packet.Retain,
	}
	if pr.Packet.Properties != nil {
		msg.Timestamp = pr.Packet.Properties.User.Get(TimestampProperty)
	}
	s.update(func() { s.messages = append(s.messages, msg) })
	return true, nil
}

// update runs change under the lock and wakes every waiter.
func (s *subscriber) update(change func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change()
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitUntil blocks until cond, evaluated under the lock, holds or ctx ends.
func (s *subscriber) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok := cond()
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *subscriber) waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.waitUntil(ctx, cond); err != nil {
		t.Fatalf("subscriber: %s not reached within %v (have %d messages)", what, timeout, s.count())
	}
}

func (s *subscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

func (s *subscriber) snapshot() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

// window returns a Wait hook that holds the player until the subscriber has
// received all but ahead of the messages published so far.
func (s *subscriber) window(ahead int) func(context.Context, int) error {
	return func(ctx context.Context, published int) error {
		return s.waitUntil(ctx, func() bool { return len(s.messages) >= published-ahead })
	}
}

// numbered returns n messages on topic whose payloads are their indexes,
// spaced step apart.
func numbered(topic string, n int, step time.Duration) []Message {
	messages := make([]Message, n)
	for i := range messages {
		messages[i] = Message{
			Offset:  time.Duration(i) * step,
			Topic:   topic,
			Payload: fmt.Appendf(nil, "%d", i),
			File:    "numbered",
			Line:    i + 1,
		}
	}
	return messages
}
