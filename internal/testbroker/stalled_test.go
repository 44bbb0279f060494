package testbroker

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// gatedConn is a net.Conn whose reads can be paused, which makes the broker
// see a subscriber that has stopped reading from its socket.
type gatedConn struct {
	net.Conn
	paused  atomic.Bool
	release chan struct{}
}

func (c *gatedConn) Read(p []byte) (int, error) {
	if c.paused.Load() {
		<-c.release
	}
	return c.Conn.Read(p)
}

// dialPaho connects a plain paho client (no reconnects) over conn.
func dialPaho(t *testing.T, conn net.Conn, clientID string,
	onPublish func(*paho.Publish)) *paho.Client {
	t.Helper()
	config := paho.ClientConfig{ClientID: clientID, Conn: conn}
	if onPublish != nil {
		config.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				onPublish(pr.Packet)
				return true, nil
			},
		}
	}
	client := paho.NewClient(config)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connectPacket := &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30}
	if _, err := client.Connect(ctx, connectPacket); err != nil {
		t.Fatalf("connect %s: %v", clientID, err)
	}
	t.Cleanup(func() {
		_ = client.Disconnect(&paho.Disconnect{ReasonCode: 0})
		select {
		case <-client.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("client %s did not shut down within 5 s", clientID)
		}
	})
	return client
}

// TestStalledSubscriberKeepsAll publishes a burst while the subscriber reads
// nothing, then lets it read, and expects every message in order. With
// mosquitto's default max_queued_messages (1000) this loses messages.
func TestStalledSubscriberKeepsAll(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		t.Run("QoS"+strconv.Itoa(int(qos)), func(t *testing.T) {
			const total = 5000
			m := Start(t)

			var (
				mu   sync.Mutex
				got  []int
				done = make(chan struct{})
			)
			raw, err := net.DialTimeout("tcp", m.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			gate := &gatedConn{Conn: raw, release: make(chan struct{})}
			sub := dialPaho(t, gate, "stalled", func(p *paho.Publish) {
				n, err := strconv.Atoi(string(p.Payload))
				if err != nil {
					t.Errorf("payload %q: %v", p.Payload, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				got = append(got, n)
				if len(got) == total {
					close(done)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := sub.Subscribe(ctx, &paho.Subscribe{
				Subscriptions: []paho.SubscribeOptions{{Topic: "burst", QoS: qos}},
			}); err != nil {
				t.Fatal(err)
			}
			gate.paused.Store(true)
			var releaseOnce sync.Once
			release := func() {
				releaseOnce.Do(func() {
					gate.paused.Store(false)
					close(gate.release)
				})
			}
			t.Cleanup(release)

			pubConn, err := net.DialTimeout("tcp", m.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			pub := dialPaho(t, pubConn, "burster", nil)
			for i := range total {
				_, err := pub.PublishWithOptions(ctx,
					&paho.Publish{Topic: "burst", QoS: qos, Payload: []byte(strconv.Itoa(i))},
					paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
				if err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
			// Acknowledged after every earlier message has been routed.
			if _, err := pub.Publish(ctx, &paho.Publish{Topic: "burst/end", QoS: 1}); err != nil {
				t.Fatalf("final publish: %v", err)
			}
			release()

			select {
			case <-done:
			case <-time.After(10 * time.Second):
				mu.Lock()
				n := len(got)
				mu.Unlock()
				t.Fatalf("received %d of %d messages within 10 s of release", n, total)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, n := range got {
				if n != i {
					t.Fatalf("message %d has payload %d, so a message was lost or reordered", i, n)
				}
			}
		})
	}
}
