package broker

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for the broker's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startBroker(t *testing.T, logger *slog.Logger) *Embedded {
	t.Helper()
	e, err := Start("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return e
}

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

// dialClient connects a plain paho client (no reconnects) to addr. Received
// publishes go to onPublish, which runs on paho's routing goroutine.
func dialClient(t *testing.T, addr, clientID string, wrap func(net.Conn) net.Conn,
	onPublish func(*paho.Publish)) *paho.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		conn = wrap(conn)
	}
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
	connack, err := client.Connect(ctx, connectPacket)
	if err != nil {
		t.Fatalf("connect %s: %v", clientID, err)
	}
	if connack.ReasonCode != 0 {
		t.Fatalf("connect %s: reason code %d", clientID, connack.ReasonCode)
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

func subscribe(t *testing.T, client *paho.Client, topic string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.Subscribe(ctx, &paho.Subscribe{
		Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: qos}},
	}); err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
}

func TestEmbeddedRoundTrip(t *testing.T) {
	e := startBroker(t, nil)
	if !strings.HasPrefix(e.URL(), "mqtt://127.0.0.1:") {
		t.Errorf("URL = %q, want mqtt://127.0.0.1:port", e.URL())
	}
	_, port, err := net.SplitHostPort(e.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if port == "0" {
		t.Errorf("Addr = %q, want the port the listener got", e.Addr())
	}

	received := make(chan *paho.Publish, 1)
	sub := dialClient(t, e.Addr(), "sub", nil, func(p *paho.Publish) { received <- p })
	subscribe(t, sub, "fitness/hr/+", 1)

	pub := dialClient(t, e.Addr(), "pub", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = pub.Publish(ctx, &paho.Publish{
		Topic:   "fitness/hr/dev1",
		QoS:     1,
		Payload: []byte(`{"heart_rate":120}`),
		Properties: &paho.PublishProperties{
			User: paho.UserProperties{{Key: "timestamp", Value: "2026-01-02T03:04:05.678Z"}},
		},
	})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}

	select {
	case got := <-received:
		if got.Topic != "fitness/hr/dev1" {
			t.Errorf("topic = %q", got.Topic)
		}
		if string(got.Payload) != `{"heart_rate":120}` {
			t.Errorf("payload = %q", got.Payload)
		}
		if got.Properties == nil || got.Properties.User.Get("timestamp") != "2026-01-02T03:04:05.678Z" {
			t.Errorf("user property timestamp missing: %+v", got.Properties)
		}
	case <-ctx.Done():
		t.Fatal("message not received within 5 s")
	}
}

func TestEmbeddedBusyAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	e, err := Start(l.Addr().String(), nil)
	if err == nil {
		_ = e.Close()
		t.Fatalf("Start on busy address %s succeeded", l.Addr())
	}
	if !strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("error %q does not name the address %s", err, l.Addr())
	}
}

func TestEmbeddedCloseTwice(t *testing.T) {
	e, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", e.Addr(), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("broker at %s still accepts connections after Close", e.Addr())
	}
}

func TestEmbeddedLogsQuietly(t *testing.T) {
	var infoLog, debugLog syncBuffer
	infoLogger := slog.New(slog.NewTextHandler(&infoLog,
		&slog.HandlerOptions{Level: slog.LevelInfo}))
	debugLogger := slog.New(slog.NewTextHandler(&debugLog,
		&slog.HandlerOptions{Level: slog.LevelDebug}))

	for _, logger := range []*slog.Logger{infoLogger, debugLogger} {
		e := startBroker(t, logger)
		dialClient(t, e.Addr(), "quiet", nil, nil)
	}

	if !strings.Contains(infoLog.String(), "broker started") {
		t.Errorf("info log lacks the start message:\n%s", infoLog.String())
	}
	if strings.Contains(infoLog.String(), "component=broker") {
		t.Errorf("info log contains mochi's own records:\n%s", infoLog.String())
	}
	if !strings.Contains(debugLog.String(), "level=DEBUG") ||
		!strings.Contains(debugLog.String(), "component=broker") {
		t.Errorf("debug log lacks mochi's records at debug level:\n%s", debugLog.String())
	}
	if strings.Contains(debugLog.String(), "level=INFO component=broker") {
		t.Errorf("mochi records kept info level:\n%s", debugLog.String())
	}
}

// TestEmbeddedStalledSubscriberKeepsAll publishes more QoS 1 messages than
// mochi's default per-client limits (8192) while the subscriber reads nothing,
// then lets it read and expects every message, in order.
func TestEmbeddedStalledSubscriberKeepsAll(t *testing.T) {
	const total = 12000
	e := startBroker(t, nil)

	var (
		mu   sync.Mutex
		got  []int
		done = make(chan struct{})
	)
	gate := &gatedConn{release: make(chan struct{})}
	sub := dialClient(t, e.Addr(), "stalled",
		func(c net.Conn) net.Conn { gate.Conn = c; return gate },
		func(p *paho.Publish) {
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
	subscribe(t, sub, "burst", 1)
	gate.paused.Store(true)
	var releaseOnce sync.Once
	release := func() {
		releaseOnce.Do(func() {
			gate.paused.Store(false)
			close(gate.release)
		})
	}
	// Runs before the client's own cleanup, so a failed test does not leave
	// the client's reader blocked.
	t.Cleanup(release)

	pub := dialClient(t, e.Addr(), "burster", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range total {
		// AsyncSend keeps order and waits only for a free in-flight slot.
		_, err := pub.PublishWithOptions(ctx,
			&paho.Publish{Topic: "burst", QoS: 1, Payload: []byte(strconv.Itoa(i))},
			paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	// A final blocking publish returns after its PUBACK. The broker acks in
	// order, so by then it has routed every message before it.
	if _, err := pub.Publish(ctx, &paho.Publish{Topic: "burst/end", QoS: 1}); err != nil {
		t.Fatalf("final publish: %v", err)
	}
	if dropped := e.MessagesDropped(); dropped != 0 {
		t.Fatalf("broker dropped %d messages while the subscriber was stalled", dropped)
	}

	release()
	select {
	case <-done:
	case <-ctx.Done():
		mu.Lock()
		n := len(got)
		mu.Unlock()
		t.Fatalf("received %d of %d messages within 60 s (dropped %d)", n, total, e.MessagesDropped())
	}

	mu.Lock()
	defer mu.Unlock()
	for i, n := range got {
		if n != i {
			t.Fatalf("message %d has payload %d, so a message was lost or reordered", i, n)
		}
	}
	if dropped := e.MessagesDropped(); dropped != 0 {
		t.Errorf("broker dropped %d messages", dropped)
	}
}
