package discovery

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

func topicsOf(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Topic)
	}
	return out
}

func TestReconcileComponentMode(t *testing.T) {
	cfg := oddConfig("fitbridge")
	b := NewBuilder(cfg, testVersion)
	produced := b.All(cfg)

	// The broker holds the configs of an earlier run: one participant was
	// renamed, one was removed from the configuration since, and two configs
	// under the same node id are not fitbridge's own.
	retained := map[string][]byte{}
	for _, m := range produced {
		retained[m.Topic] = m.Payload
	}
	renamed := b.Participant("p-1", "Alexander")
	for _, m := range renamed {
		retained[m.Topic] = m.Payload
	}
	removed := b.Participant("gone", "Gone")
	for _, m := range removed {
		retained[m.Topic] = m.Payload
	}
	missing := produced[len(produced)-1]
	delete(retained, missing.Topic)
	foreign := map[string][]byte{
		b.Topics().DiscoveryConfig("sensor", "manual_1"): []byte(`{"unique_id":"test_node_manual"}`),
		b.Topics().DiscoveryConfig("sensor", "manual_2"): []byte(`not json`),
	}
	for topic, payload := range foreign {
		retained[topic] = payload
	}

	plan := b.Reconcile(retained, produced)

	if got, want := topicsOf(plan.Removals), topicsOf(removed); !sameSet(got, want) {
		t.Errorf("removals = %q, want the removed participant's %q", got, want)
	}
	for _, m := range plan.Removals {
		if len(m.Payload) != 0 || !m.Retain {
			t.Errorf("removal %s is not an empty retained message", m.Topic)
		}
	}
	wantPublish := append(topicsOf(renamed), missing.Topic)
	if got := topicsOf(plan.Publish); !sameSet(got, wantPublish) {
		t.Errorf("publish = %q, want the renamed participant and the missing config %q", got, wantPublish)
	}
	if got := topicsOf(plan.Current); !slices.Equal(got, topicsOf(produced)) {
		t.Errorf("current = %d topics, want the %d produced in order", len(got), len(produced))
	}
	if !sameSet(plan.Foreign, []string{
		b.Topics().DiscoveryConfig("sensor", "manual_1"),
		b.Topics().DiscoveryConfig("sensor", "manual_2"),
	}) {
		t.Errorf("foreign = %q, want the two configs fitbridge did not write", plan.Foreign)
	}
}

func TestReconcileNothingToDo(t *testing.T) {
	cfg := oddConfig("fitbridge")
	b := NewBuilder(cfg, testVersion)
	produced := b.All(cfg)
	retained := map[string][]byte{}
	for _, m := range produced {
		retained[m.Topic] = m.Payload
	}
	plan := b.Reconcile(retained, produced)
	if len(plan.Removals)+len(plan.Publish)+len(plan.Foreign) != 0 {
		t.Errorf("plan for an up-to-date broker = %d removals, %d publishes, %d foreign, want none",
			len(plan.Removals), len(plan.Publish), len(plan.Foreign))
	}
}

func TestReconcileOtherInstanceIsForeign(t *testing.T) {
	cfg := oddConfig("fitbridge")
	other := cfg
	other.InstanceID = "test_node_2"
	b := NewBuilder(cfg, testVersion)
	retained := map[string][]byte{}
	for _, m := range NewBuilder(other, testVersion).Bridge() {
		// The same topic layout under this node id, but another instance's ids.
		retained[m.Topic+"x"] = m.Payload
	}
	plan := b.Reconcile(retained, nil)
	if len(plan.Removals) != 0 || len(plan.Foreign) != len(retained) {
		t.Errorf("configs with another instance's unique ids: %d removals, %d foreign, want 0 and %d",
			len(plan.Removals), len(plan.Foreign), len(retained))
	}
}

func TestReconcileModeSwitch(t *testing.T) {
	cfg := oddConfig("fitbridge")
	old := NewBuilder(cfg, testVersion)
	cfg.Discovery.Mode = config.DiscoveryModeDevice
	b := NewBuilder(cfg, testVersion)

	retained := map[string][]byte{}
	for _, m := range old.All(cfg) {
		retained[m.Topic] = m.Payload
	}
	plan := b.Reconcile(retained, b.All(cfg))
	if len(plan.Removals) != len(retained) {
		t.Errorf("switching to device mode removes %d of %d per-component configs",
			len(plan.Removals), len(retained))
	}
	if len(plan.Publish) != len(b.All(cfg)) {
		t.Errorf("switching to device mode publishes %d of %d device messages",
			len(plan.Publish), len(b.All(cfg)))
	}
}

func TestReconcileDeviceModeKeepsStubs(t *testing.T) {
	cfg := oddConfig("fitbridge")
	cfg.Discovery.Mode = config.DiscoveryModeDevice
	cfg.Zones = []config.Zone{{ID: "easy"}, {ID: "hard", Min: 150}}
	before := NewBuilder(cfg, testVersion).Participant("p-1", "Alex")
	cfg.Zones = cfg.Zones[:1]
	b := NewBuilder(cfg, testVersion)
	after := b.Participant("p-1", "Alex")

	retained := map[string][]byte{before[0].Topic: before[0].Payload}
	plan := b.Reconcile(retained, after)
	if len(plan.Publish) != 1 {
		t.Fatalf("publish = %d messages, want the changed device message", len(plan.Publish))
	}
	var got struct {
		Components map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(plan.Publish[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	stub := got.Components["participant_p-1_zone_hard_seconds"]
	if string(stub) != `{"platform":"sensor"}` {
		t.Errorf("the dropped zone's component = %s, want a platform stub", stub)
	}
	if !bytes.Equal(plan.Current[0].Payload, plan.Publish[0].Payload) {
		t.Errorf("current payload differs from the published one")
	}

	// Once the stub is retained, nothing changes any more.
	retained[plan.Publish[0].Topic] = plan.Publish[0].Payload
	if again := b.Reconcile(retained, after); len(again.Publish) != 0 {
		t.Errorf("second reconcile publishes %d messages, want none", len(again.Publish))
	}
}

func TestStaleStates(t *testing.T) {
	topics := topicsFor("fitbridge", "homeassistant", "gym")
	retained := map[string][]byte{
		topics.ParticipantState("alex"):        []byte("{}"),
		topics.ParticipantAvailability("alex"): []byte("online"),
		topics.ParticipantState("gone"):        []byte("{}"),
		topics.DeviceAvailability("10001"):     []byte("online"),
		topics.EquipmentState("old_bag"):       []byte("{}"),
		topics.SessionState():                  []byte("{}"),
		topics.BridgeAvailability():            []byte("online"),
	}
	known := map[OwnerKind]map[string]bool{
		OwnerParticipant: {"alex": true},
		OwnerDevice:      {Slug("10001"): true},
	}
	got := topicsOf(topics.StaleStates(retained, known))
	want := []string{topics.EquipmentState("old_bag"), topics.ParticipantState("gone")}
	if !slices.Equal(got, want) {
		t.Errorf("StaleStates = %q, want %q", got, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
