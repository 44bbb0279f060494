package bridge_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// client is a plain MQTT client that publishes test input and records what
// it receives.
type client struct {
	cm *autopaho.ConnectionManager
	mu sync.Mutex
	// last holds the last payload per topic.
	last map[string]string
}

func newClient(t *testing.T, brokerURL, id string, filters ...string) *client {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{last: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: id,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					c.mu.Lock()
					c.last[pr.Packet.Topic] = string(pr.Packet.Payload)
					c.mu.Unlock()
					return true, nil
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_ = cm.Disconnect(dctx)
		cancel()
		<-cm.Done()
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := cm.AwaitConnection(wctx); err != nil {
		t.Fatalf("connect test client: %v", err)
	}
	if len(filters) > 0 {
		var subs []paho.SubscribeOptions
		for _, f := range filters {
			subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
		}
		if _, err := cm.Subscribe(wctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	}
	c.cm = cm
	return c
}

func (c *client) publish(t *testing.T, topic, payload string, retain bool, props ...paho.UserProperty) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: retain}
	if len(props) > 0 {
		p.Properties = &paho.PublishProperties{User: props}
	}
	if _, err := c.cm.Publish(ctx, p); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

func (c *client) get(topic string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.last[topic]
	return v, ok
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type running struct {
	b    *bridge.Bridge
	m    *metrics.Metrics
	dir  string
	stop func()
}

func startBridge(t *testing.T, brokerURL string, mutate func(*config.Config)) *running {
	t.Helper()
	return startBridgeIn(t, brokerURL, t.TempDir(), mutate)
}

// startBridgeIn runs a bridge that keeps its sessions in dir.
func startBridgeIn(t *testing.T, brokerURL, dir string, mutate func(*config.Config)) *running {
	t.Helper()
	return startBridgeWith(t, brokerURL, dir, mutate, nil)
}

// startBridgeWith is startBridgeIn with a hook that changes the bridge options last.
func startBridgeWith(t *testing.T, brokerURL, dir string, mutate func(*config.Config),
	options func(*bridge.Options)) *running {
	t.Helper()
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	cfg.Participants = []config.Participant{{ID: "alex", Name: "Alex", Devices: []string{"10001"}}}
	cfg.Equipment = []config.Equipment{{ID: "bag", Name: "Bag", Topic: "zigbee2mqtt/bag"}}
	cfg.HeartRate.MaxPayloadBytes = 1024
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := bridge.Options{
		Config: cfg, Version: "test", Metrics: m, Store: st, Checkpoints: true,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		PublishInterval: 50 * time.Millisecond,
	}
	if options != nil {
		options(&opts)
	}
	b, err := bridge.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	r := &running{b: b, m: m, dir: dir, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("bridge run: %v", err)
			}
		})
	}}
	t.Cleanup(r.stop)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := b.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInvalidReadingsCountedByReason(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-pub")

	inputs := []struct{ payload, reason string }{
		{`{"heart_rate":0}`, "zero"},
		{`{"heart_rate":255}`, "sentinel"},
		{`{"heart_rate":-5}`, "out_of_range"},
		{`{"heart_rate":NaN}`, "not_finite"},
		{`{"heart_rate":"fast"}`, "wrong_type"},
		{`{"heart_rate":12`, "not_json"},
		{strings.Repeat("x", 2000), "too_large"},
		// The heart rate is used; the broken battery member is counted.
		{`{"heart_rate":130,"battery":"x"}`, "invalid_field"},
	}
	for _, in := range inputs {
		c.publish(t, "fitness/hr/10001", in.payload, false)
	}
	eventually(t, "all inputs processed", func() bool { return r.b.Processed() >= uint64(len(inputs)) })

	want := map[string]float64{}
	for _, in := range inputs {
		want[in.reason]++
	}
	for reason, n := range want {
		got := testutil.ToFloat64(r.m.InvalidReadings.WithLabelValues(reason))
		if got != n {
			t.Errorf("invalid readings %q = %v, want %v", reason, got, n)
		}
	}
	snap, err := r.b.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Running {
		t.Errorf("invalid readings started a session")
	}
}

func TestCommandsStartAndEndSession(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-pub", "fitbridge/#")

	c.publish(t, "fitbridge/session/set", "start", false)
	eventually(t, "session running", func() bool {
		s, ok := c.get("fitbridge/session/state")
		return ok && strings.Contains(s, `"running":true`)
	})
	for range 3 {
		c.publish(t, "fitness/hr/10001", `{"heart_rate":130,"battery":88}`, false)
	}
	eventually(t, "participant active", func() bool {
		s, _ := c.get("fitbridge/participant/alex/state")
		return strings.Contains(s, `"status":"active"`) && strings.Contains(s, `"heart_rate":130`)
	})
	eventually(t, "strap battery", func() bool {
		s, _ := c.get("fitbridge/device/10001/state")
		return strings.Contains(s, `"battery":88`)
	})

	c.publish(t, "fitbridge/session/set", "end", false)
	eventually(t, "session ended", func() bool { return len(r.b.Summaries()) == 1 })
	sum := r.b.Summaries()[0]
	if sum.EndReason != sessions.EndRequested {
		t.Errorf("end reason = %q, want requested", sum.EndReason)
	}
	if len(sum.Participants) != 1 || sum.Participants[0].Samples != 3 {
		t.Errorf("summary participants = %+v, want alex with 3 samples", sum.Participants)
	}
	// A session of a few seconds is too short to keep on disk.
	if files, _ := filepath.Glob(filepath.Join(r.dir, "session-*.json")); len(files) != 0 {
		t.Errorf("short session saved: %v", files)
	}
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	mosq := testbroker.Start(t)
	first := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-pub")
	for range 3 {
		c.publish(t, "fitness/hr/10001", `{"heart_rate":150}`, false)
	}
	eventually(t, "session running", func() bool {
		snap, _ := first.b.Snapshot(context.Background())
		return snap.Running
	})
	before, _ := first.b.Snapshot(context.Background())
	first.stop()

	second := startBridgeIn(t, mosq.URL(), first.dir, nil)
	after, err := second.b.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !after.Running || after.SessionID != before.SessionID {
		t.Fatalf("after restart running=%v session=%q, want session %q", after.Running,
			after.SessionID, before.SessionID)
	}
	if got := after.Participants[0].Status; got != sessions.StatusActive {
		t.Errorf("alex status after restart = %q, want active", got)
	}
}

func TestRetainedHeartRateIsNotLive(t *testing.T) {
	mosq := testbroker.Start(t)
	c := newClient(t, mosq.URL(), "test-pub")
	// Three retained readings wait on the broker before the bridge starts.
	for _, dev := range []string{"1", "2", "3"} {
		c.publish(t, "fitness/hr/"+dev, `{"heart_rate":150}`, true)
	}
	r := startBridge(t, mosq.URL(), nil)
	eventually(t, "retained readings seen", func() bool { return r.b.Processed() >= 3 })
	if got := testutil.ToFloat64(r.m.InvalidReadings.WithLabelValues("retained")); got != 3 {
		t.Errorf("retained readings counted = %v, want 3", got)
	}
	snap, _ := r.b.Snapshot(context.Background())
	if snap.Running {
		t.Errorf("retained readings started a session")
	}
}

func TestEventTimeFromUserProperty(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-pub")
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i := range 3 {
		ts := past.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		c.publish(t, "fitness/hr/10001", `{"heart_rate":120}`, false,
			paho.UserProperty{Key: "timestamp", Value: ts})
	}
	eventually(t, "readings processed", func() bool { return r.b.Processed() >= 3 })
	// A session started by readings from an hour ago ends at once on the
	// wall clock, and its summary carries the recorded start.
	eventually(t, "session ended", func() bool { return len(r.b.Summaries()) == 1 })
	if got := r.b.Summaries()[0].StartedAt; !got.Equal(past) {
		t.Errorf("session start = %v, want %v from the timestamp property", got, past)
	}
}

func TestShutdownPublishesOffline(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-sub", "fitbridge/bridge/availability")
	eventually(t, "online", func() bool {
		v, _ := c.get("fitbridge/bridge/availability")
		return v == "online"
	})
	r.stop()
	eventually(t, "offline", func() bool {
		v, _ := c.get("fitbridge/bridge/availability")
		return v == "offline"
	})
}

func TestVibrationEventsDeduplicated(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil)
	c := newClient(t, mosq.URL(), "test-pub", "fitbridge/equipment/#")
	// One physical report as zigbee2mqtt sends it: three messages.
	c.publish(t, "zigbee2mqtt/bag", `{"action":"vibration","vibration":true,"battery":97,"linkquality":120}`, false)
	c.publish(t, "zigbee2mqtt/bag", `{"action":"","vibration":true,"battery":97,"linkquality":120}`, false)
	c.publish(t, "zigbee2mqtt/bag/action", `vibration`, false)
	eventually(t, "equipment state", func() bool {
		s, _ := c.get("fitbridge/equipment/bag/state")
		return strings.Contains(s, `"events":1`) && strings.Contains(s, `"active":true`) &&
			strings.Contains(s, `"battery":97`) && strings.Contains(s, `"linkquality":120`)
	})
	if got, _ := c.get("fitbridge/equipment/bag/availability"); got != "online" {
		t.Errorf("equipment availability = %q, want online", got)
	}
	_ = r
}

// TestOversizedPacketNotDelivered publishes a payload far over the payload limit, then a
// valid reading. The broker keeps the first from fitbridge, because fitbridge's CONNECT
// states a maximum packet size, so fitbridge never has to read it into memory.
func TestOversizedPacketNotDelivered(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), nil) // payload limit 1024 bytes
	c := newClient(t, mosq.URL(), "test-pub")
	c.publish(t, "fitness/hr/10001", `{"heart_rate":120,"pad":"`+strings.Repeat("x", 100<<10)+`"}`, false)
	c.publish(t, "fitness/hr/10001", `{"heart_rate":121}`, false)
	// The broker keeps one publisher's order, so the large message, had it been
	// delivered, would have been handled before the valid one.
	eventually(t, "the valid reading", func() bool { return r.b.Processed() >= 1 })
	if got := r.b.Processed(); got != 1 {
		t.Errorf("fitbridge handled %d messages, want only the valid one", got)
	}
	if got := testutil.ToFloat64(r.m.InvalidReadings.WithLabelValues("too_large")); got != 0 {
		t.Errorf("too_large = %v, want 0: the broker should not have delivered the message", got)
	}
}
