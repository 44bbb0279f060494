package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/sessions"
)

// haTimeout bounds every wait of the discovery tests. It covers the random
// 2 to 5 s the bridge waits after Home Assistant's birth message.
const haTimeout = 15 * time.Second

// haBridge is a running bridge of the discovery tests.
type haBridge struct {
	b    *bridge.Bridge
	cfg  config.Config
	stop func()
}

// haConfig returns a validated configuration with two participants, their
// straps and a punching bag, changed by mutate.
func haConfig(t *testing.T, brokerURL string, mutate func(*config.Config)) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	cfg.InstanceID = "gym"
	cfg.Participants = []config.Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001"}},
		{ID: "sam", Name: "Sam", Devices: []string{"AA:BB:CC:00:00:05"}},
	}
	cfg.Equipment = []config.Equipment{{ID: "bag", Name: "Bag", Topic: "zigbee2mqtt/bag"}}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startHABridge runs a bridge for cfg until the test ends or stop is called.
func startHABridge(t *testing.T, cfg config.Config) *haBridge {
	t.Helper()
	b, err := bridge.New(bridge.Options{
		Config: cfg, Version: "test",
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		PublishInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	h := &haBridge{b: b, cfg: cfg, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("bridge run: %v", err)
			}
		})
	}}
	t.Cleanup(h.stop)
	wctx, wcancel := context.WithTimeout(ctx, haTimeout)
	defer wcancel()
	if err := b.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return h
}

// record is one message a recorder received.
type record struct {
	topic    string
	payload  string
	retained bool
}

// recorder is an MQTT client that keeps every message it receives, in order.
type recorder struct {
	cm   *autopaho.ConnectionManager
	mu   sync.Mutex
	msgs []record
}

// newRecorder connects a client that subscribes to filters, if any.
func newRecorder(t *testing.T, brokerURL, clientID string, filters ...string) *recorder {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: clientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					r.mu.Lock()
					r.msgs = append(r.msgs, record{pr.Packet.Topic, string(pr.Packet.Payload),
						pr.Packet.Retain})
					r.mu.Unlock()
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
	wctx, wcancel := context.WithTimeout(ctx, haTimeout)
	defer wcancel()
	if err := cm.AwaitConnection(wctx); err != nil {
		t.Fatalf("connect %s: %v", clientID, err)
	}
	r.cm = cm
	if len(filters) > 0 {
		r.subscribe(t, filters...)
	}
	return r
}

func (r *recorder) subscribe(t *testing.T, filters ...string) {
	t.Helper()
	subs := make([]paho.SubscribeOptions, len(filters))
	for i, f := range filters {
		subs[i] = paho.SubscribeOptions{Topic: f, QoS: 1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), haTimeout)
	defer cancel()
	if _, err := r.cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
		t.Fatalf("subscribe %q: %v", filters, err)
	}
}

func (r *recorder) publish(t *testing.T, topic, payload string, retain bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haTimeout)
	defer cancel()
	_, err := r.cm.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: retain})
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// since returns the messages received after the first n.
func (r *recorder) since(n int) []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs[min(n, len(r.msgs)):])
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// readRetained returns the retained messages under filters, by topic. The
// broker sends retained messages before anything published after the
// subscription, so a marker published after the SUBACK ends the collection.
func readRetained(t *testing.T, brokerURL string, filters ...string) map[string]string {
	t.Helper()
	marker := fmt.Sprintf("test/retained_marker/%d", time.Now().UnixNano())
	r := newRecorder(t, brokerURL, "retained-reader-"+marker[len("test/retained_marker/"):],
		append([]string{marker}, filters...)...)
	r.publish(t, marker, "end", false)
	deadline := time.Now().Add(haTimeout)
	for {
		got := map[string]string{}
		for _, m := range r.since(0) {
			if m.topic == marker {
				return got
			}
			if m.retained {
				got[m.topic] = m.payload
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retained marker did not arrive within %v", haTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or haTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(haTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", haTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// configsOf returns the retained configs under the discovery prefix with the
// node id of cfg.
func configsOf(retained map[string]string, cfg config.Config) map[string]string {
	topics := discovery.TopicsFor(cfg)
	prefix := topics.DiscoveryPrefix() + "/"
	out := map[string]string{}
	for topic, payload := range retained {
		levels := strings.Split(strings.TrimPrefix(topic, prefix), "/")
		if strings.HasPrefix(topic, prefix) && len(levels) == 4 && levels[1] == topics.NodeID() {
			out[topic] = payload
		}
	}
	return out
}

// wantConfigs returns what `fitbridge discovery` prints for cfg, by topic.
func wantConfigs(cfg config.Config) map[string]string {
	out := map[string]string{}
	for _, m := range discovery.NewBuilder(cfg, "test").All(cfg) {
		out[m.Topic] = string(m.Payload)
	}
	return out
}

// diffConfigs lists how got differs from want.
func diffConfigs(got, want map[string]string) []string {
	var diffs []string
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[topic]; {
		case !ok:
			diffs = append(diffs, "missing "+topic)
		case g != want[topic]:
			diffs = append(diffs, "different "+topic)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[topic]; !ok {
			diffs = append(diffs, "extra "+topic)
		}
	}
	return diffs
}

func startReadings(t *testing.T, pub *recorder, topic string, bpm int) {
	t.Helper()
	for range 3 {
		pub.publish(t, topic, fmt.Sprintf(`{"heart_rate":%d,"battery":80}`, bpm), false)
	}
}

func TestTwoInstancesShareBroker(t *testing.T) {
	mosq := testbroker.Start(t)
	a := startHABridge(t, haConfig(t, mosq.URL(), func(c *config.Config) {
		c.InstanceID, c.HeartRate.Topic = "room_a", "room_a/hr/+"
	}))
	b := startHABridge(t, haConfig(t, mosq.URL(), func(c *config.Config) {
		c.InstanceID, c.HeartRate.Topic = "room_b", "room_b/hr/+"
	}))
	if a.cfg.BaseTopic == b.cfg.BaseTopic || a.cfg.Broker.ClientID == b.cfg.Broker.ClientID {
		t.Fatalf("instances share base topic %q or client id %q", a.cfg.BaseTopic, a.cfg.Broker.ClientID)
	}

	pub := newRecorder(t, mosq.URL(), "two-instances-pub")
	startReadings(t, pub, "room_a/hr/10001", 101)
	startReadings(t, pub, "room_b/hr/10001", 151)
	stateA := discovery.TopicsFor(a.cfg).ParticipantState("alex")
	stateB := discovery.TopicsFor(b.cfg).ParticipantState("alex")
	var retained map[string]string
	waitFor(t, "both heart rates retained", func() bool {
		retained = readRetained(t, mosq.URL(), "#")
		return strings.Contains(retained[stateA], `"heart_rate":101`) &&
			strings.Contains(retained[stateB], `"heart_rate":151`)
	})

	for _, h := range []*haBridge{a, b} {
		got, want := configsOf(retained, h.cfg), wantConfigs(h.cfg)
		if diffs := diffConfigs(got, want); len(diffs) > 0 {
			t.Errorf("instance %s: retained configs differ from its discovery output: %q",
				h.cfg.InstanceID, diffs)
		}
		if !h.b.Connected() {
			t.Errorf("instance %s lost its broker connection", h.cfg.InstanceID)
		}
	}
	uniqueIDs := map[string]string{}
	for topic, payload := range retained {
		var c struct {
			UniqueID string `json:"unique_id"`
		}
		if !strings.HasPrefix(topic, "homeassistant/") || json.Unmarshal([]byte(payload), &c) != nil {
			continue
		}
		if other, dup := uniqueIDs[c.UniqueID]; dup {
			t.Errorf("unique_id %s is used by %s and %s", c.UniqueID, other, topic)
		}
		uniqueIDs[c.UniqueID] = topic
	}
	if len(uniqueIDs) != len(wantConfigs(a.cfg))+len(wantConfigs(b.cfg)) {
		t.Errorf("the broker holds %d discovery configs, want %d from both instances together",
			len(uniqueIDs), len(wantConfigs(a.cfg))+len(wantConfigs(b.cfg)))
	}
}

func TestRestartRemovesDroppedParticipant(t *testing.T) {
	mosq := testbroker.Start(t)
	pub := newRecorder(t, mosq.URL(), "restart-pub")
	// Two retained configs under the same node id wait on the broker: one
	// that an older fitbridge wrote and no longer produces, and one that
	// someone else wrote and fitbridge must leave alone.
	stale := "homeassistant/sensor/gym/participant_old_coins/config"
	pub.publish(t, stale, `{"unique_id":"gym_participant_old_coins","origin":{"name":"fitbridge"}}`, true)
	foreign := "homeassistant/sensor/gym/manual/config"
	pub.publish(t, foreign, `{"unique_id":"manual","origin":{"name":"someone"}}`, true)

	first := startHABridge(t, haConfig(t, mosq.URL(), nil))
	startReadings(t, pub, "fitness/hr/AA:BB:CC:00:00:05", 120)
	samState := discovery.TopicsFor(first.cfg).ParticipantState("sam")
	waitFor(t, "the first run's configs and sam's state", func() bool {
		retained := readRetained(t, mosq.URL(), "#")
		return len(diffConfigs(configsOf(retained, first.cfg), wantConfigs(first.cfg))) == 1 &&
			strings.Contains(retained[samState], `"heart_rate":120`)
	})
	first.stop()

	// The watcher gets the retained configs first, flagged as retained, and
	// then what the second run publishes, not flagged.
	watch := newRecorder(t, mosq.URL(), "restart-watch", "homeassistant/#")
	live := func() []record {
		var out []record
		for _, m := range watch.since(0) {
			if !m.retained {
				out = append(out, m)
			}
		}
		return out
	}
	second := startHABridge(t, haConfig(t, mosq.URL(), func(c *config.Config) {
		c.Participants = c.Participants[:1]
	}))
	samTopics := func(retained map[string]string) []string {
		var out []string
		for topic := range retained {
			if strings.Contains(topic, "sam") || strings.Contains(topic, discovery.Slug("AA:BB:CC:00:00:05")) {
				out = append(out, topic)
			}
		}
		return out
	}
	var retained map[string]string
	waitFor(t, "sam's configs and states removed", func() bool {
		retained = readRetained(t, mosq.URL(), "#")
		return len(samTopics(retained)) == 0
	})
	// The only difference left is the foreign config.
	diffs := diffConfigs(configsOf(retained, second.cfg), wantConfigs(second.cfg))
	if len(diffs) != 1 || diffs[0] != "extra "+foreign {
		t.Errorf("retained configs after the restart differ: %q", diffs)
	}
	if _, ok := retained[stale]; ok {
		t.Errorf("the stale config %s of an older run is still retained", stale)
	}

	// Unchanged configs are not sent again. The strap selects changed,
	// because sam is no longer an option.
	before, after := wantConfigs(first.cfg), wantConfigs(second.cfg)
	changed := map[string]bool{}
	for topic, payload := range after {
		if before[topic] != payload {
			changed[topic] = true
		}
	}
	if len(changed) == 0 {
		t.Fatalf("no config changed between the runs, so the test checks nothing")
	}
	// The first run removed the stale config already.
	removals := len(before) - len(after)
	waitFor(t, "the removals and changes to reach the watcher", func() bool {
		return len(live()) >= removals+len(changed)
	})
	for _, m := range live() {
		if m.payload != "" && !changed[m.topic] {
			t.Errorf("restart republished the unchanged config %s", m.topic)
		}
	}
}

func TestBrokerRestartRestoresEntities(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), nil))
	pub := newRecorder(t, mosq.URL(), "broker-restart-pub")
	startReadings(t, pub, "fitness/hr/10001", 131)
	topics := discovery.TopicsFor(h.cfg)
	waitFor(t, "alex's state", func() bool {
		return strings.Contains(readRetained(t, mosq.URL(), "#")[topics.ParticipantState("alex")],
			`"heart_rate":131`)
	})

	mosq.Stop()
	mosq.Start()
	// persistence is off, so the new broker starts with nothing retained.
	var retained map[string]string
	waitFor(t, "configs, availability and states back", func() bool {
		retained = readRetained(t, mosq.URL(), "#")
		return len(diffConfigs(configsOf(retained, h.cfg), wantConfigs(h.cfg))) == 0 &&
			retained[topics.BridgeAvailability()] == "online" &&
			retained[topics.ParticipantState("alex")] != "" &&
			retained[topics.DeviceAvailability("10001")] != ""
	})
	var state struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(retained[topics.ParticipantState("alex")]), &state); err != nil {
		t.Fatal(err)
	}
	if state.Status != "active" && state.Status != "idle" {
		t.Errorf("alex's status after the broker restart = %q, want the current active or idle", state.Status)
	}
	if got := retained[topics.ParticipantAvailability("alex")]; got != "online" {
		t.Errorf("alex's availability after the broker restart = %q, want online", got)
	}
}

func TestHomeAssistantBirthRepublishes(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), nil))
	topics := discovery.TopicsFor(h.cfg)
	watch := newRecorder(t, mosq.URL(), "birth-watch", "homeassistant/#", h.cfg.BaseTopic+"/#")
	waitFor(t, "the session state", func() bool {
		for _, m := range watch.since(0) {
			if m.topic == topics.SessionState() {
				return true
			}
		}
		return false
	})
	mark := watch.count()

	watch.publish(t, topics.HomeAssistantStatus(), "online", false)
	want := []string{topics.BridgeAvailability(), topics.BridgeState(), topics.SessionState(),
		topics.ParticipantAvailability("sam"), topics.EquipmentState("bag")}
	waitFor(t, "availability and states sent again", func() bool {
		seen := map[string]bool{}
		for _, m := range watch.since(mark) {
			seen[m.topic] = true
		}
		for _, topic := range want {
			if !seen[topic] {
				return false
			}
		}
		return true
	})
	for _, m := range watch.since(mark) {
		if strings.HasSuffix(m.topic, "/config") && m.topic != topics.HomeAssistantStatus() {
			t.Errorf("the birth message made the bridge send config %s again", m.topic)
		}
	}
}

func TestGuestEvictionRemovesEntities(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), func(c *config.Config) { c.Session.MaxGuests = 1 }))
	b := discovery.NewBuilder(h.cfg, "test")
	pub := newRecorder(t, mosq.URL(), "guest-pub")

	startReadings(t, pub, "fitness/hr/20001", 110)
	first := b.Participant(sessions.GuestID("20001"), "Guest 20001")
	waitFor(t, "the first guest's configs", func() bool {
		_, ok := readRetained(t, mosq.URL(), "homeassistant/#")[first[0].Topic]
		return ok
	})

	startReadings(t, pub, "fitness/hr/20002", 111)
	second := b.Participant(sessions.GuestID("20002"), "Guest 20002")
	var retained map[string]string
	waitFor(t, "the second guest's configs", func() bool {
		retained = readRetained(t, mosq.URL(), "#")
		_, ok := retained[second[0].Topic]
		return ok
	})
	for _, m := range append(first, b.Device("20001")...) {
		if _, ok := retained[m.Topic]; ok {
			t.Errorf("config %s of the evicted guest is still retained", m.Topic)
		}
	}
	if _, ok := retained[b.Topics().ParticipantState(sessions.GuestID("20001"))]; ok {
		t.Errorf("the evicted guest's state is still retained")
	}
}

func TestSessionEventsReachEventEntities(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), nil))
	topics := discovery.TopicsFor(h.cfg)
	watch := newRecorder(t, mosq.URL(), "events-watch", h.cfg.BaseTopic+"/+/event",
		h.cfg.BaseTopic+"/participant/+/event")
	startReadings(t, watch, "fitness/hr/10001", 125)
	waitFor(t, "the session running", func() bool {
		snap, _ := h.b.Snapshot(context.Background())
		return snap.Running
	})
	if err := h.b.EndSession(context.Background(), sessions.EndRequested); err != nil {
		t.Fatal(err)
	}

	events := map[string][]map[string]any{}
	waitFor(t, "session_started, zone_changed and session_ended", func() bool {
		clear(events)
		for _, m := range watch.since(0) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
				t.Fatalf("event on %s is not JSON: %s", m.topic, m.payload)
			}
			if m.retained {
				t.Errorf("event on %s is retained", m.topic)
			}
			events[m.topic] = append(events[m.topic], ev)
		}
		return len(events[topics.SessionEvent()]) >= 2 && len(events[topics.ParticipantEvent("alex")]) >= 1
	})
	session := events[topics.SessionEvent()]
	if session[0]["event_type"] != discovery.EventSessionStarted {
		t.Errorf("first session event = %v, want session_started", session[0])
	}
	ended := session[len(session)-1]
	if ended["event_type"] != discovery.EventSessionEnded {
		t.Fatalf("last session event = %v, want session_ended", ended)
	}
	participants, _ := ended["participants"].([]any)
	if len(participants) != 1 || fmt.Sprint(participants[0].(map[string]any)["id"]) != "alex" {
		t.Errorf("session_ended participants = %v, want alex", ended["participants"])
	}
	if zone := events[topics.ParticipantEvent("alex")][0]; zone["event_type"] != discovery.EventZoneChanged ||
		zone["zone"] != "warm" {
		t.Errorf("alex's first event = %v, want zone_changed to warm", zone)
	}
}

func TestDeviceModePublishesDeviceMessages(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), func(c *config.Config) {
		c.Discovery.Mode = config.DiscoveryModeDevice
	}))
	want := wantConfigs(h.cfg)
	waitFor(t, "one retained message per device", func() bool {
		return len(diffConfigs(configsOf(readRetained(t, mosq.URL(), "homeassistant/#"), h.cfg), want)) == 0
	})
	for topic := range want {
		if !strings.HasPrefix(topic, "homeassistant/device/gym/") {
			t.Errorf("device mode published %s, want only device topics", topic)
		}
	}
}

func TestMemoryPressureReachesBridgeState(t *testing.T) {
	mosq := testbroker.Start(t)
	h := startHABridge(t, haConfig(t, mosq.URL(), nil))
	topic := discovery.TopicsFor(h.cfg).BridgeState()
	waitFor(t, "an unknown memory pressure", func() bool {
		return strings.Contains(readRetained(t, mosq.URL(), topic)[topic], `"memory_pressure":null`)
	})
	h.b.ReportMemoryPressure(discovery.MemoryCritical)
	waitFor(t, "the critical memory pressure", func() bool {
		return strings.Contains(readRetained(t, mosq.URL(), topic)[topic],
			`"memory_pressure":true,"memory_pressure_level":"critical"`)
	})
}

// TestSyncReadsMoreRetainedThanBrokerQueue starts fitbridge on a broker that holds 1,100 stale
// configs of this instance, more than mosquitto queues for one QoS 1 subscription (1,000
// plus 20 in flight by default). The start-up sync must see, and so remove, all of them.
func TestSyncReadsMoreRetainedThanBrokerQueue(t *testing.T) {
	// The test brokers lift the queue cap; this one has mosquitto's default back.
	mosq := testbroker.StartWithConfig(t, func() string {
		return "allow_anonymous true\nmax_queued_messages 1000"
	})
	pub := newRecorder(t, mosq.URL(), "flood-pub")
	const stale = 1100
	for i := range stale {
		pub.publish(t, fmt.Sprintf("homeassistant/sensor/gym/participant_old%d_coins/config", i),
			fmt.Sprintf(`{"unique_id":"gym_participant_old%d_coins","origin":{"name":"fitbridge"}}`, i),
			true)
	}
	startHABridge(t, haConfig(t, mosq.URL(), nil))
	// The reader subscribes at QoS 1 too, so it reads the topics in batches that stay
	// under the broker's queue.
	left := func() int {
		n := 0
		for from := 0; from < stale; from += 500 {
			var topics []string
			for i := from; i < min(from+500, stale); i++ {
				topics = append(topics, fmt.Sprintf("homeassistant/sensor/gym/participant_old%d_coins/config", i))
			}
			n += len(readRetained(t, mosq.URL(), topics...))
		}
		return n
	}
	waitFor(t, "every stale config removed", func() bool { return left() == 0 })
}
