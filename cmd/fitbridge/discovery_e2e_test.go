package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// discoveryE2EConfig is the configuration of the discovery end-to-end test:
// the DaylightStation wearer is configured, the tempo run's strap joins as a
// guest, and the punching bag and one equipment that never reports are
// configured.
const discoveryE2EConfig = `instance_id: e2e
http: {listen: ""}
participants:
  - {id: participant-1, name: Participant 1, devices: ["10001"],
     zones: {active: 80, warm: 105, hot: 125}}
  - {id: absent, name: Absent Person, devices: ["AA:BB:CC:00:00:09"]}
equipment:
  - {id: punching_bag, name: Punching bag, topic: zigbee2mqtt/punching_bag}
  - {id: rower, name: Rower, topic: zigbee2mqtt/rower}
`

var discoveryE2ERecordings = []string{
	"daylightstation-20260627-garage-session.jsonl",
	"tcxparser-tempo-run-smart-recording.jsonl",
	"z2m-djt11lm-punching-bag-round.jsonl",
}

// discoveryLines runs `fitbridge discovery` and returns its configs by topic.
func discoveryLines(t *testing.T, args ...string) map[string]string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := newApp(&out, &errOut).Run(append([]string{"fitbridge", "discovery"}, args...))
	if err != nil {
		t.Fatalf("fitbridge discovery: %v\n%s", err, errOut.String())
	}
	configs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("discovery line %q: %v", line, err)
		}
		configs[m.Topic] = string(m.Payload)
	}
	return configs
}

// retainedUnder returns every retained message under filters, by topic. A
// marker published after the subscription ends the collection, because the
// broker sends retained messages first.
func retainedUnder(t *testing.T, brokerURL string, filters ...string) map[string]string {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	marker := "test/discovery_e2e_marker"
	var mu sync.Mutex
	got := map[string]string{}
	done := make(chan struct{})
	closeDone := sync.OnceFunc(func() { close(done) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: "discovery-e2e-reader",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					mu.Lock()
					defer mu.Unlock()
					switch {
					case pr.Packet.Topic == marker:
						// The marker matches two filters, so it comes twice.
						closeDone()
					case pr.Packet.Retain:
						got[pr.Packet.Topic] = string(pr.Packet.Payload)
					}
					return true, nil
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cm.Disconnect(context.Background())
		<-cm.Done()
	}()
	if err := cm.AwaitConnection(ctx); err != nil {
		t.Fatal(err)
	}
	subs := []paho.SubscribeOptions{{Topic: marker, QoS: 1}}
	for _, f := range filters {
		subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
	}
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: marker, Payload: []byte("end"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the retained marker did not arrive")
	}
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(got)
}

// TestReplayRetainsExactlyDiscovery replays recordings through mosquitto in
// both discovery modes and checks that the broker then holds exactly the
// configs `fitbridge discovery` prints plus those of the guest, and exactly
// the expected retained states.
func TestReplayRetainsExactlyDiscovery(t *testing.T) {
	dir := filepath.Join(testbroker.SharedDir(t), "data", "recordings")
	var files []string
	for _, name := range discoveryE2ERecordings {
		files = append(files, filepath.Join(dir, name))
	}
	for _, mode := range []string{config.DiscoveryModeComponent, config.DiscoveryModeDevice} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fitbridge.yaml")
			text := discoveryE2EConfig + "discovery: {mode: " + mode + "}\n"
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			mosq := testbroker.Start(t)
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Broker.URL = mosq.URL()
			cfg.DataDir = t.TempDir()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}

			job := replayJob{
				Config: cfg, Files: files, Start: DefaultReplayStart, UseBroker: true,
				Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if _, err := job.run(ctx); err != nil {
				t.Fatalf("replay: %v", err)
			}

			retained := retainedUnder(t, mosq.URL(), "#")
			checkRetainedConfigs(t, cfg, path, retained)
			checkRetainedStates(t, cfg, retained)
		})
	}
}

// guestStrap is the strap of the tempo run, which becomes a guest.
const guestStrap = "hrm-tempo-run"

func checkRetainedConfigs(t *testing.T, cfg config.Config, path string, retained map[string]string) {
	t.Helper()
	want := discoveryLines(t, "--config", path)
	b := discovery.NewBuilder(cfg, version)
	guest := append(b.Participant("guest-"+guestStrap, "Guest "+guestStrap), b.Device(guestStrap)...)
	for _, m := range guest {
		want[m.Topic] = string(m.Payload)
	}

	got := map[string]string{}
	for topic, payload := range retained {
		if strings.HasPrefix(topic, cfg.DiscoveryPrefix+"/") {
			got[topic] = payload
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[topic]; {
		case !ok:
			t.Errorf("config %s is not retained", topic)
		case g != want[topic]:
			t.Errorf("retained config %s differs from the discovery command's:\n got %s\nwant %s",
				topic, g, want[topic])
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[topic]; !ok {
			t.Errorf("unexpected retained config %s", topic)
		}
	}
	if len(guest) == 0 || len(want) <= len(guest) {
		t.Fatalf("the test expects nothing: %d configs", len(want))
	}
}

func checkRetainedStates(t *testing.T, cfg config.Config, retained map[string]string) {
	t.Helper()
	topics := discovery.TopicsFor(cfg)
	want := map[string]string{
		topics.BridgeAvailability(): "offline",
		topics.BridgeState():        "",
		topics.SessionState():       "",
	}
	owners := []struct {
		state, availability func(string) string
		ids                 []string
	}{
		{topics.ParticipantState, topics.ParticipantAvailability,
			[]string{"participant-1", "absent", "guest-" + guestStrap}},
		{topics.DeviceState, topics.DeviceAvailability, []string{"10001", "AA:BB:CC:00:00:09", guestStrap}},
		{topics.EquipmentState, topics.EquipmentAvailability, []string{"punching_bag", "rower"}},
	}
	for _, o := range owners {
		for _, id := range o.ids {
			want[o.state(id)] = ""
			// The replay ended every session, so no participant is
			// available any more.
			want[o.availability(id)] = "offline"
		}
	}
	// The DaylightStation strap sent the last reading of the replay, within
	// session.idle_after of its end, and of the equipment only the bag has
	// sent anything.
	want[topics.DeviceAvailability("10001")] = "online"
	want[topics.EquipmentAvailability("punching_bag")] = "online"

	got := map[string]string{}
	for topic, payload := range retained {
		if strings.HasPrefix(topic, cfg.BaseTopic+"/") {
			got[topic] = payload
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		payload, ok := got[topic]
		switch {
		case !ok:
			t.Errorf("state %s is not retained", topic)
		case want[topic] != "" && payload != want[topic]:
			t.Errorf("retained %s = %q, want %q", topic, payload, want[topic])
		case want[topic] == "" && !json.Valid([]byte(payload)):
			t.Errorf("retained state %s is not JSON: %q", topic, payload)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[topic]; !ok {
			t.Errorf("unexpected retained topic %s = %q", topic, got[topic])
		}
	}

	var bag struct {
		Events int `json:"events"`
	}
	if err := json.Unmarshal([]byte(got[topics.EquipmentState("punching_bag")]), &bag); err != nil || bag.Events != 3 {
		t.Errorf("punching bag state = %s, want 3 events", got[topics.EquipmentState("punching_bag")])
	}
}
