package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

const testVersion = "1.2.3-test"

// guestID and guestName are a guest participant, whose id embeds a strap MAC.
const (
	guestID   = "guest-AA:BB:CC:00:00:06"
	guestName = "Guest 1"
)

// oddConfig returns a configuration whose ids and names break naive topic
// and id building. It has MACs, spaces, umlauts, dots, colons, slashes and
// brackets, two participants with the same name, names equal to entity
// names, a very long name, a missing name and a strap shared by two
// participants.
func oddConfig(baseTopic string) config.Config {
	cfg := config.Default()
	cfg.InstanceID = "test_node"
	cfg.BaseTopic = baseTopic
	cfg.Participants = []config.Participant{
		{ID: "p-1", Name: "Alex", Devices: []string{"AA:BB:CC:00:00:05"}},
		{ID: "p_2", Name: "Alex", Devices: []string{"hrm ä", "AA:BB:CC:00:00:05"}},
		{ID: "zoe", Name: "Zoë Ä."},
		{ID: "Zoe_A", Name: "Zoe A: the 2nd.", Devices: []string{"10001"}},
		{ID: "coins", Name: "Coins"},
		{ID: "heart", Name: "heart"},
		{ID: "long", Name: strings.Repeat("Very long name ", 30)},
		{ID: "nameless"},
	}
	cfg.Equipment = []config.Equipment{
		{ID: "bag_heavy", Name: "Bag (heavy)", Topic: "zigbee2mqtt/Bag (heavy)"},
		{ID: "step", Name: "Step v1.2", Topic: "zigbee2mqtt/gym/step"},
		{ID: "vibration", Name: "Vibration", Topic: "zigbee2mqtt/vib"},
	}
	return cfg
}

// guests are guest participants whose ids embed strap ids that need
// slugging, one of them far longer than a topic level should be.
var guests = []struct{ id, name string }{
	{guestID, guestName},
	{"guest-" + strings.Repeat("AB:CD:", 40), "Guest 2"},
}

// allMessages returns every config message for cfg plus the guests and
// their straps.
func allMessages(cfg config.Config) []Message {
	b := NewBuilder(cfg, testVersion)
	msgs := b.All(cfg)
	for _, g := range guests {
		msgs = append(msgs, b.Participant(g.id, g.name)...)
		msgs = append(msgs, b.Device(strings.TrimPrefix(g.id, config.GuestPrefix))...)
	}
	return msgs
}

func TestAllCoversEveryConfiguredOwner(t *testing.T) {
	cfg := oddConfig("fitbridge")
	b := NewBuilder(cfg, testVersion)
	all := b.All(cfg)

	straps := map[string]bool{}
	for _, p := range cfg.Participants {
		for _, d := range p.Devices {
			straps[d] = true
		}
	}
	want := len(b.rows(OwnerBridge)) +
		len(cfg.Participants)*len(b.rows(OwnerParticipant)) +
		len(straps)*len(b.rows(OwnerDevice)) +
		len(cfg.Equipment)*len(b.rows(OwnerEquipment))
	if len(all) != want {
		t.Errorf("All returned %d messages, want %d", len(all), want)
	}

	topics := make(map[string]bool, len(all))
	for _, m := range all {
		if topics[m.Topic] {
			t.Errorf("All returned topic %s twice", m.Topic)
		}
		topics[m.Topic] = true
	}
	for _, m := range b.Device("AA:BB:CC:00:00:05") {
		if !topics[m.Topic] {
			t.Errorf("All is missing the shared strap's topic %s", m.Topic)
		}
	}
}

func TestSameNameParticipantsStayApart(t *testing.T) {
	b := NewBuilder(oddConfig("fitbridge"), testVersion)
	first := b.Participant("p-1", "Alex")
	second := b.Participant("p_2", "Alex")
	for i := range first {
		if first[i].Topic == second[i].Topic {
			t.Errorf("both participants named Alex use topic %s", first[i].Topic)
		}
		if uniqueID(t, first[i]) == uniqueID(t, second[i]) {
			t.Errorf("both participants named Alex use unique_id %s", uniqueID(t, first[i]))
		}
	}
}

func TestRenameChangesOnlyNames(t *testing.T) {
	b := NewBuilder(oddConfig("fitbridge"), testVersion)
	before := b.Participant("p-1", "Alex")
	after := b.Participant("p-1", "Alexander")
	for i := range before {
		if before[i].Topic != after[i].Topic {
			t.Errorf("rename moved topic %s to %s", before[i].Topic, after[i].Topic)
		}
		if uniqueID(t, before[i]) != uniqueID(t, after[i]) {
			t.Errorf("rename changed unique_id %s to %s", uniqueID(t, before[i]), uniqueID(t, after[i]))
		}
		if !bytes.Contains(after[i].Payload, []byte(`"name":"Alexander"`)) {
			t.Errorf("renamed payload lacks the new device name: %s", after[i].Payload)
		}
	}
}

func TestDeviceNameDecoratedOnClash(t *testing.T) {
	b := NewBuilder(oddConfig("fitbridge"), testVersion)
	tests := []struct {
		kind       OwnerKind
		id, name   string
		wantDevice string
	}{
		{OwnerParticipant, "coins", "Coins", "Coins (participant)"},
		{OwnerParticipant, "h", "HEART", "HEART (participant)"},
		{OwnerParticipant, "t", "Time", "Time (participant)"},
		{OwnerParticipant, "a", "Alex", "Alex"},
		{OwnerParticipant, "nameless", "", "nameless"},
		{OwnerEquipment, "v", "Vibration", "Vibration (equipment)"},
		{OwnerEquipment, "bag", "Bag (heavy)", "Bag (heavy)"},
	}
	// The suffix only works because no entity name contains '('.
	for _, kind := range []OwnerKind{OwnerBridge, OwnerParticipant, OwnerDevice, OwnerEquipment} {
		for _, e := range b.rows(kind) {
			if strings.Contains(e.name, "(") {
				t.Errorf("entity name %q contains '(', so a suffixed device name could be its prefix", e.name)
			}
		}
	}
	for _, tt := range tests {
		got := b.deviceName(owner{kind: tt.kind, id: tt.id, name: tt.name})
		if got != tt.wantDevice {
			t.Errorf("device name for %s %q = %q, want %q", tt.kind, tt.name, got, tt.wantDevice)
		}
	}
}

func TestBuilderIsDeterministic(t *testing.T) {
	for name, cfg := range conformanceConfigs() {
		first := allMessages(cfg)
		second := allMessages(cfg)
		if len(first) != len(second) {
			t.Fatalf("%s: two builds returned %d and %d messages", name, len(first), len(second))
		}
		for i := range first {
			if first[i].Topic != second[i].Topic || !bytes.Equal(first[i].Payload, second[i].Payload) {
				t.Errorf("%s: message %d differs between builds:\n%s %s\n%s %s", name, i,
					first[i].Topic, first[i].Payload, second[i].Topic, second[i].Payload)
			}
		}
	}
}

func TestZoneOptionsFollowConfig(t *testing.T) {
	cfg := oddConfig("fitbridge")
	cfg.Zones = []config.Zone{{ID: "z1"}, {ID: "z2", Min: 120}, {ID: "z1", Min: 150}}
	zone := findMessage(t, NewBuilder(cfg, testVersion).Participant("p-1", "Alex"), "_zone/config")
	if !bytes.Contains(zone.Payload, []byte(`"options":["z1","z2"]`)) {
		t.Errorf("zone options are not the configured zone ids once each: %s", zone.Payload)
	}

	cfg.Zones = nil
	zone = findMessage(t, NewBuilder(cfg, testVersion).Participant("p-1", "Alex"), "_zone/config")
	var want []string
	for _, z := range config.DefaultZones() {
		want = append(want, z.ID)
	}
	wantJSON, _ := json.Marshal(want)
	if !bytes.Contains(zone.Payload, []byte(`"options":`+string(wantJSON))) {
		t.Errorf("zone options without configured zones are not the default zone ids %s: %s",
			wantJSON, zone.Payload)
	}
}

func TestZoneTimeEntityPerZone(t *testing.T) {
	cfg := oddConfig("fitbridge")
	cfg.Zones = []config.Zone{{ID: "easy", Name: "Easy"}, {ID: "hard-1", Name: "Hard", Min: 150}}
	msgs := NewBuilder(cfg, testVersion).Participant("p-1", "Alex")
	for _, tt := range []struct{ zoneID, name string }{{"easy", "Easy"}, {"hard-1", "Hard"}} {
		m := findMessage(t, msgs, "_zone_"+tt.zoneID+"_seconds/config")
		p := decodeObject(t, m.Payload)
		if p["name"] != "Time in "+tt.name {
			t.Errorf("zone %s entity name = %v, want %q", tt.zoneID, p["name"], "Time in "+tt.name)
		}
		want := "{{ value_json.zone_seconds['" + tt.zoneID + "'] }}"
		if p["value_template"] != want {
			t.Errorf("zone %s value_template = %v, want %s", tt.zoneID, p["value_template"], want)
		}
		if p["device_class"] != "duration" || p["unit_of_measurement"] != "s" {
			t.Errorf("zone %s entity is not a duration in s: %s", tt.zoneID, m.Payload)
		}
	}
}

func TestStrapSelectOffersParticipants(t *testing.T) {
	cfg := oddConfig("fitbridge")
	b := NewBuilder(cfg, testVersion)
	m := findMessage(t, b.Device("10001"), "_participant/config")
	p := decodeObject(t, m.Payload)
	var want []any
	for _, participant := range cfg.Participants {
		want = append(want, participant.ID)
	}
	want = append(want, AssignGuest)
	if fmt.Sprint(p["options"]) != fmt.Sprint(want) {
		t.Errorf("select options = %v, want %v", p["options"], want)
	}
	if p["command_topic"] != b.Topics().DeviceAssign("10001") {
		t.Errorf("select command_topic = %v, want %s", p["command_topic"], b.Topics().DeviceAssign("10001"))
	}
	if p["value_template"] != "{{ value_json.assigned }}" {
		t.Errorf("select value_template = %v, want the assigned field", p["value_template"])
	}
}

func TestConfigurationURLOnBridgeOnly(t *testing.T) {
	cfg := oddConfig("fitbridge")
	cfg.ConfigurationURL = "http://192.0.2.10:8080/"
	b := NewBuilder(cfg, testVersion)
	for _, m := range b.All(cfg) {
		device, _ := decodeObject(t, m.Payload)["device"].(map[string]any)
		isBridge := strings.Contains(m.Topic, "/bridge_")
		if url, has := device["configuration_url"]; has != isBridge || (has && url != cfg.ConfigurationURL) {
			t.Errorf("%s: configuration_url = %v, want it on the bridge device only", m.Topic, url)
		}
	}
}

func TestBinarySensorTemplateKeepsUnknown(t *testing.T) {
	got := valueTemplate(entity{component: componentBinarySensor, field: "active"})
	want := "{% if value_json.active is none %}None{% elif value_json.active %}ON{% else %}OFF{% endif %}"
	if got != want {
		t.Errorf("binary sensor template = %s, want %s", got, want)
	}
}

func TestFeatureKeysCannotCollide(t *testing.T) {
	// unique ids are <node>_<kind>_<slug>_<key>. Two owners of one kind can
	// only produce the same unique id if one key ends with '_' plus another
	// key, so the table must never contain such a pair. The zone-time keys
	// are checked for the default zones.
	b := NewBuilder(config.Default(), testVersion)
	for _, kind := range []OwnerKind{OwnerBridge, OwnerParticipant, OwnerDevice, OwnerEquipment} {
		rows := b.rows(kind)
		for _, a := range rows {
			for _, b := range rows {
				if a.key == b.key && a.component == b.component && a.name != b.name {
					t.Errorf("%s rows %q and %q share key %q", kind, a.name, b.name, a.key)
				}
				if a.key != b.key && strings.HasSuffix(a.key, "_"+b.key) {
					t.Errorf("%s key %q ends with _%s, so unique ids can collide", kind, a.key, b.key)
				}
			}
		}
	}
}

func TestRemovalIsEmptyRetained(t *testing.T) {
	topic := "homeassistant/sensor/fitbridge/participant_p-1_coins/config"
	m := Removal(topic)
	if m.Topic != topic {
		t.Errorf("Removal topic = %q, want %q", m.Topic, topic)
	}
	if len(m.Payload) != 0 {
		t.Errorf("Removal payload = %q, want empty", m.Payload)
	}
	if !m.Retain {
		t.Errorf("Removal message is not retained")
	}
	if m.QoS != 1 {
		t.Errorf("Removal QoS = %d, want 1", m.QoS)
	}
}

func uniqueID(t *testing.T, m Message) string {
	t.Helper()
	var payload struct {
		UniqueID string `json:"unique_id"`
	}
	if err := json.Unmarshal(m.Payload, &payload); err != nil {
		t.Fatalf("decoding %s failed: %v", m.Topic, err)
	}
	return payload.UniqueID
}

func findMessage(t *testing.T, msgs []Message, topicSuffix string) Message {
	t.Helper()
	for _, m := range msgs {
		if strings.HasSuffix(m.Topic, topicSuffix) {
			return m
		}
	}
	t.Fatalf("no message with topic suffix %q", topicSuffix)
	return Message{}
}

func ExampleBuilder_Participant() {
	cfg := config.Default()
	cfg.InstanceID = "gym"
	cfg.Zones = []config.Zone{{ID: "easy", Name: "Easy"}, {ID: "hard", Name: "Hard", Min: 140}}
	b := NewBuilder(cfg, "1.0.0")
	for _, m := range b.Participant("p-1", "Alex") {
		fmt.Println(m.Topic)
	}
	// Output:
	// homeassistant/sensor/gym/participant_p-1_heart_rate/config
	// homeassistant/sensor/gym/participant_p-1_zone/config
	// homeassistant/sensor/gym/participant_p-1_zone_progress/config
	// homeassistant/sensor/gym/participant_p-1_coins/config
	// homeassistant/sensor/gym/participant_p-1_status/config
	// homeassistant/binary_sensor/gym/participant_p-1_active/config
	// homeassistant/sensor/gym/participant_p-1_zone_easy_seconds/config
	// homeassistant/sensor/gym/participant_p-1_zone_hard_seconds/config
	// homeassistant/event/gym/participant_p-1_event/config
}
