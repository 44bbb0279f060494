package testbroker

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// connect opens an autopaho connection that forwards every received publish
// to the returned channel, and waits up to 5 s for the first connection.
func connect(t *testing.T, brokerURL, username, password string) (
	*autopaho.ConnectionManager, <-chan *paho.Publish) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan *paho.Publish, 16)
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ConnectUsername:               username,
		ConnectPassword:               []byte(password),
		ReconnectBackoff:              autopaho.NewConstantBackoff(100 * time.Millisecond),
		ClientConfig: paho.ClientConfig{
			ClientID: "testbroker-" + t.Name(),
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					select {
					case received <- pr.Packet:
					default:
						t.Errorf("receive buffer full, dropped message on %s", pr.Packet.Topic)
					}
					return true, nil
				},
			},
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = cm.Disconnect(stopCtx)
		cancel()
		<-cm.Done()
	})
	waitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if err := cm.AwaitConnection(waitCtx); err != nil {
		t.Fatalf("connect to %s: %v", brokerURL, err)
	}
	return cm, received
}

// roundTrip subscribes to topic, publishes payload to it at QoS 1 and waits up
// to 5 s for the message to come back.
func roundTrip(t *testing.T, cm *autopaho.ConnectionManager, received <-chan *paho.Publish,
	topic, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{
		Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}},
	}); err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	pub := &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)}
	if _, err := cm.Publish(ctx, pub); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	select {
	case got := <-received:
		if got.Topic != topic {
			t.Errorf("topic = %q, want %q", got.Topic, topic)
		}
		if string(got.Payload) != payload {
			t.Errorf("payload = %q, want %q", got.Payload, payload)
		}
	case <-ctx.Done():
		t.Fatalf("message on %s not received within 5 s", topic)
	}
}

func dialable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func TestStartRoundTrip(t *testing.T) {
	m := Start(t)
	u, err := url.Parse(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "mqtt" {
		t.Errorf("URL scheme = %q, want mqtt", u.Scheme)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("URL host = %q, want 127.0.0.1", u.Hostname())
	}
	cm, received := connect(t, m.URL(), "", "")
	roundTrip(t, cm, received, "testbroker/hello", "hello")
}

func TestStopRestartSamePort(t *testing.T) {
	m := Start(t)
	before := m.URL()

	m.Stop()
	if dialable(m.Addr()) {
		t.Fatalf("broker at %s still accepts connections after Stop", m.Addr())
	}
	m.Stop() // a second Stop must be harmless

	m.Start()
	if m.URL() != before {
		t.Errorf("URL after restart = %q, want %q", m.URL(), before)
	}
	if !dialable(m.Addr()) {
		t.Fatalf("broker at %s does not accept connections after Start", m.Addr())
	}
	cm, received := connect(t, m.URL(), "", "")
	roundTrip(t, cm, received, "testbroker/restarted", "again")
}

func TestClientReconnectsAfterRestart(t *testing.T) {
	m := Start(t)
	cm, received := connect(t, m.URL(), "", "")
	roundTrip(t, cm, received, "testbroker/before", "1")

	m.Stop()
	m.Start()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The old connection is gone, so wait until autopaho has made a new one.
	for cm.AwaitConnection(ctx) == nil {
		err := func() error {
			pubCtx, stop := context.WithTimeout(ctx, time.Second)
			defer stop()
			_, err := cm.Subscribe(pubCtx, &paho.Subscribe{
				Subscriptions: []paho.SubscribeOptions{{Topic: "testbroker/after", QoS: 1}},
			})
			return err
		}()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if ctx.Err() != nil {
		t.Fatal("client did not reconnect within 10 s after the broker restarted")
	}
	roundTrip(t, cm, received, "testbroker/after", "2")
}

func TestPasswordAcceptsUser(t *testing.T) {
	m := Start(t, WithPassword("fitbridge", "s3cret"))
	cm, received := connect(t, m.URL(), "fitbridge", "s3cret")
	roundTrip(t, cm, received, "testbroker/auth", "ok")
}

func TestPasswordRejectsAnonymous(t *testing.T) {
	m := Start(t, WithPassword("fitbridge", "s3cret"))
	u, err := url.Parse(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	connectErrs := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:       []*url.URL{u},
		ReconnectBackoff: autopaho.NewConstantBackoff(time.Second),
		OnConnectError: func(err error) {
			select {
			case connectErrs <- err:
			default:
			}
		},
		ClientConfig: paho.ClientConfig{ClientID: "testbroker-anonymous"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		<-cm.Done()
	}()

	select {
	case err := <-connectErrs:
		var connackErr *autopaho.ConnackError
		if !errors.As(err, &connackErr) {
			t.Fatalf("connect error = %v, want a CONNACK refusal", err)
		}
	case <-ctx.Done():
		t.Fatal("anonymous client was neither refused nor failed within 5 s")
	}
}

func TestSharedDirHasRecordings(t *testing.T) {
	dir := SharedDir(t)
	readme := filepath.Join(dir, "data", "recordings", "README.md")
	if _, err := os.Stat(readme); err != nil {
		t.Errorf("recordings README: %v", err)
	}
}

func TestModuleRootHasGoMod(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("module root %s: %v", root, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// This package sits two levels below the module root.
	want := filepath.Dir(filepath.Dir(wd))
	if root != want {
		t.Errorf("module root = %s, want %s", root, want)
	}
}
