package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
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
// and id building: MACs, spaces, umlauts, slashes, brackets, two
// participants with the same name, names equal to entity names, a missing
// name and a strap shared by two participants.
func oddConfig(baseTopic string) config.Config {
	cfg := config.Default()
	cfg.BaseTopic = baseTopic
	cfg.Participants = []config.Participant{
		{ID: "p-1", Name: "Alex", Devices: []string{"AA:BB:CC:00:00:05"}},
		{ID: "p 2", Name: "Alex", Devices: []string{"hrm ä", "AA:BB:CC:00:00:05"}},
		{ID: "Zoë Ä.", Name: "Zoë Ä."},
		{ID: "Zoe A", Name: "Zoe A", Devices: []string{"10001"}},
		{ID: "coins", Name: "Coins"},
		{ID: "heart", Name: "heart"},
		{ID: "nameless"},
	}
	cfg.Equipment = []config.Equipment{
		{ID: "bag (heavy)", Name: "Bag (heavy)", Topic: "zigbee2mqtt/Bag (heavy)"},
		{ID: "gym/step", Name: "Step", Topic: "zigbee2mqtt/gym/step"},
		{ID: "vibration", Name: "Vibration", Topic: "zigbee2mqtt/vib"},
	}
	return cfg
}

// allMessages returns every config message for cfg plus one guest.
func allMessages(cfg config.Config) []Message {
	b := NewBuilder(cfg, testVersion)
	return append(b.All(cfg), b.Participant(guestID, guestName)...)
}

var entityObjectIDPattern = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

func TestConfigPayloadsFollowHomeAssistantRules(t *testing.T) {
	schema := loadHASchema(t)
	topicMatcher := schema.topicMatcher(t)

	for _, base := range []string{"fitbridge", "gym/fit bridge"} {
		cfg := oddConfig(base)
		topics := NewTopics(cfg.BaseTopic, cfg.DiscoveryPrefix)
		bridgeIdentifier := topics.NodeID() + "_bridge"
		uniqueIDs := make(map[string]string)
		entityIDs := make(map[string]string)

		for _, msg := range allMessages(cfg) {
			t.Run(base+" "+msg.Topic, func(t *testing.T) {
				after, ok := strings.CutPrefix(msg.Topic, topics.DiscoveryPrefix()+"/")
				if !ok {
					t.Fatalf("topic does not start with the discovery prefix %q", topics.DiscoveryPrefix())
				}
				match := topicMatcher.FindStringSubmatch(after)
				if match == nil {
					t.Fatalf("topic fails Home Assistant's discovery pattern %s",
						schema.Discovery.TopicRegexAfterPrefix)
				}
				component := match[topicMatcher.SubexpIndex("component")]
				if node := match[topicMatcher.SubexpIndex("node_id")]; node != topics.NodeID() {
					t.Errorf("node_id = %q, want %q", node, topics.NodeID())
				}
				if !msg.Retain {
					t.Errorf("config message is not retained")
				}
				if msg.QoS != 1 {
					t.Errorf("config message QoS = %d, want 1", msg.QoS)
				}

				payload := decodeObject(t, msg.Payload)
				checkKnownKeys(t, schema, component, payload)
				checkClasses(t, schema, component, payload)
				checkDeviceAndOrigin(t, schema, payload, bridgeIdentifier)
				checkAvailability(t, schema, topics, payload)

				uniqueID, _ := payload["unique_id"].(string)
				if !strings.HasPrefix(uniqueID, topics.NodeID()+"_") {
					t.Errorf("unique_id %q does not start with the node id %q", uniqueID, topics.NodeID())
				}
				if other, dup := uniqueIDs[uniqueID]; dup {
					t.Errorf("unique_id %q is also used by %s", uniqueID, other)
				}
				uniqueIDs[uniqueID] = msg.Topic

				objectID, _ := payload["object_id"].(string)
				if !entityObjectIDPattern.MatchString(objectID) {
					t.Errorf("object_id %q is not a valid entity object id", objectID)
				}
				entityID := component + "." + objectID
				if got := payload["default_entity_id"]; got != entityID {
					t.Errorf("default_entity_id = %v, want %q", got, entityID)
				}
				if other, dup := entityIDs[entityID]; dup {
					t.Errorf("default_entity_id %q is also used by %s", entityID, other)
				}
				entityIDs[entityID] = msg.Topic
			})
		}
	}
}

// decodeObject checks that payload is one JSON object without non-finite
// numbers and returns it.
func decodeObject(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	for _, bad := range []string{"NaN", "Infinity", "nan", "inf"} {
		if bytes.Contains(payload, []byte(bad)) {
			t.Errorf("payload contains %q: %s", bad, payload)
		}
	}
	var object map[string]any
	if err := json.Unmarshal(payload, &object); err != nil {
		t.Fatalf("payload is not a JSON object: %v: %s", err, payload)
	}
	return object
}

func checkKnownKeys(t *testing.T, schema haSchema, component string, payload map[string]any) {
	rules, ok := schema.Components[component]
	if !ok {
		t.Fatalf("component %q is not in the rules file", component)
	}
	for key := range payload {
		if _, ok := rules.AllowedKeys[key]; !ok {
			t.Errorf("key %q is not allowed for %s", key, component)
		}
	}
	for _, key := range rules.Required {
		if _, ok := payload[key]; !ok {
			t.Errorf("required key %q is missing", key)
		}
	}
	if _, ok := payload["unique_id"]; !ok {
		t.Errorf("unique_id is missing")
	}
	if category, ok := payload["entity_category"].(string); ok {
		if !contains(rules.AllowedKeys["entity_category"].Values, category) {
			t.Errorf("entity_category %q is not a valid value", category)
		}
		if category == "config" && component != componentButton {
			t.Errorf("entity_category config is not allowed on %s", component)
		}
	}
}

func checkClasses(t *testing.T, schema haSchema, component string, payload map[string]any) {
	rules := schema.Components[component]
	deviceClass, hasClass := payload["device_class"].(string)
	if hasClass && !contains(rules.DeviceClass, deviceClass) {
		t.Errorf("device_class %q is not valid for %s", deviceClass, component)
	}
	if component != componentSensor {
		return
	}

	unit, hasUnit := payload["unit_of_measurement"].(string)
	stateClass, hasStateClass := payload["state_class"].(string)
	if hasStateClass && !contains(rules.StateClass, stateClass) {
		t.Errorf("state_class %q is not valid", stateClass)
	}
	if classUnits, ok := rules.DeviceClassUnits[deviceClass]; hasClass && ok {
		if hasUnit && !contains(classUnits.ConservativeUnits, unit) {
			t.Errorf("unit %q is not accepted with device_class %q (accepted: %v)",
				unit, deviceClass, classUnits.ConservativeUnits)
		}
		if hasStateClass && !contains(classUnits.AllowedStateClasses, stateClass) {
			t.Errorf("state_class %q does not fit device_class %q (allowed: %v)",
				stateClass, deviceClass, classUnits.AllowedStateClasses)
		}
	}

	options, hasOptions := payload["options"].([]any)
	if deviceClass == "enum" {
		if !hasOptions || len(options) == 0 {
			t.Errorf("enum sensor has no options")
		}
		if hasUnit {
			t.Errorf("enum sensor has unit %q", unit)
		}
		if hasStateClass {
			t.Errorf("enum sensor has state_class %q", stateClass)
		}
	} else if hasOptions {
		t.Errorf("options on a sensor with device_class %q", deviceClass)
	}
}

func checkDeviceAndOrigin(t *testing.T, schema haSchema, payload map[string]any, bridgeIdentifier string) {
	device, ok := payload["device"].(map[string]any)
	if !ok {
		t.Fatalf("device block is missing")
	}
	for key := range device {
		if _, ok := schema.DeviceKeys[key]; !ok {
			t.Errorf("device key %q is not allowed", key)
		}
	}
	identifiers, _ := device["identifiers"].([]any)
	if len(identifiers) == 0 {
		t.Errorf("device has no identifiers")
	}
	for _, key := range []string{"name", "manufacturer", "model", "sw_version"} {
		if s, _ := device[key].(string); s == "" {
			t.Errorf("device %s is missing or empty", key)
		}
	}
	if device["manufacturer"] != productName {
		t.Errorf("device manufacturer = %v, want %q", device["manufacturer"], productName)
	}
	isBridge := len(identifiers) > 0 && identifiers[0] == bridgeIdentifier
	via, hasVia := device["via_device"]
	switch {
	case isBridge && hasVia:
		t.Errorf("bridge device has via_device %v", via)
	case !isBridge && via != bridgeIdentifier:
		t.Errorf("via_device = %v, want the bridge identifier %q", via, bridgeIdentifier)
	}

	deviceName, _ := device["name"].(string)
	if name, ok := payload["name"].(string); ok {
		if name == "" {
			t.Errorf("entity name is empty; use null for the main feature")
		}
		if strings.HasPrefix(strings.ToLower(name), strings.ToLower(deviceName)) {
			t.Errorf("entity name %q starts with the device name %q", name, deviceName)
		}
	} else if payload["name"] != nil {
		t.Errorf("entity name is %T, want a string or null", payload["name"])
	} else if _, present := payload["name"]; !present {
		t.Errorf("entity name is missing; send null for the main feature")
	}

	origin, ok := payload["origin"].(map[string]any)
	if !ok {
		t.Fatalf("origin block is missing")
	}
	for key := range origin {
		if _, ok := schema.Discovery.OriginKeys[key]; !ok {
			t.Errorf("origin key %q is not allowed", key)
		}
	}
	if origin["name"] != productName {
		t.Errorf("origin name = %v, want %q", origin["name"], productName)
	}
}

func checkAvailability(t *testing.T, schema haSchema, topics Topics, payload map[string]any) {
	if _, ok := payload["availability_topic"]; ok {
		t.Errorf("availability_topic is set; the availability list is used instead")
	}
	items, hasList := payload["availability"].([]any)
	if payload["state_topic"] == topics.BridgeAvailability() {
		if hasList {
			t.Errorf("bridge connectivity has an availability list, so it could never show offline")
		}
		return
	}
	if len(items) == 0 {
		t.Fatalf("availability list is missing")
	}
	mode, _ := payload["availability_mode"].(string)
	if !contains(schema.AvailabilityKeys["availability_mode"].Values, mode) {
		t.Errorf("availability_mode %q is not a valid value", mode)
	}
	if mode != "all" {
		t.Errorf("availability_mode = %q, want all", mode)
	}
	for i, raw := range items {
		item, ok := raw.(map[string]any)
		if !ok {
			t.Fatalf("availability[%d] is %T, want an object", i, raw)
		}
		for key := range item {
			if !availabilityItemKeys[key] {
				t.Errorf("availability[%d] key %q is not allowed", i, key)
			}
		}
		if _, ok := item["topic"].(string); !ok {
			t.Errorf("availability[%d] has no topic", i)
		}
	}
	first, _ := items[0].(map[string]any)
	if first["topic"] != topics.BridgeAvailability() {
		t.Errorf("availability[0] = %v, want the bridge availability topic", first["topic"])
	}
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
	want := len(entitiesOf(OwnerBridge)) +
		len(cfg.Participants)*len(entitiesOf(OwnerParticipant)) +
		len(straps)*len(entitiesOf(OwnerDevice)) +
		len(cfg.Equipment)*len(entitiesOf(OwnerEquipment))
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
	second := b.Participant("p 2", "Alex")
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
		{OwnerParticipant, "a", "Alex", "Alex"},
		{OwnerParticipant, "nameless", "", "nameless"},
		{OwnerEquipment, "v", "Vibration", "Vibration (equipment)"},
		{OwnerEquipment, "bag", "Bag (heavy)", "Bag (heavy)"},
	}
	// The suffix only works because no entity name contains '('.
	for _, e := range entities {
		if strings.Contains(e.name, "(") {
			t.Errorf("entity name %q contains '(', so a suffixed device name could be its prefix", e.name)
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
	cfg := oddConfig("gym/fit bridge")
	first := allMessages(cfg)
	second := allMessages(cfg)
	if len(first) != len(second) {
		t.Fatalf("two builds returned %d and %d messages", len(first), len(second))
	}
	for i := range first {
		if first[i].Topic != second[i].Topic || !bytes.Equal(first[i].Payload, second[i].Payload) {
			t.Errorf("message %d differs between builds:\n%s %s\n%s %s", i,
				first[i].Topic, first[i].Payload, second[i].Topic, second[i].Payload)
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

func TestFeatureKeysCannotCollide(t *testing.T) {
	// unique ids are <node>_<kind>_<slug>_<key>. Two owners of one kind can
	// only produce the same unique id if one key ends with '_' plus another
	// key, so the table must never contain such a pair.
	for _, kind := range []OwnerKind{OwnerBridge, OwnerParticipant, OwnerDevice, OwnerEquipment} {
		rows := entitiesOf(kind)
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
	b := NewBuilder(config.Default(), "1.0.0")
	for _, m := range b.Participant("p-1", "Alex") {
		fmt.Println(m.Topic)
	}
	// Output:
	// homeassistant/sensor/fitbridge/participant_p-1_heart_rate/config
	// homeassistant/sensor/fitbridge/participant_p-1_zone/config
	// homeassistant/sensor/fitbridge/participant_p-1_coins/config
	// homeassistant/sensor/fitbridge/participant_p-1_status/config
	// homeassistant/binary_sensor/fitbridge/participant_p-1_active/config
}
