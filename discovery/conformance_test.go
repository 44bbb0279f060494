package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

// haMaxEntityIDLen is Home Assistant's limit on an entity id.
const haMaxEntityIDLen = 255

var entityObjectIDPattern = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// configView is one entity config as Home Assistant validates it: for a
// device-based message, one component with the root's device and origin.
type configView struct {
	topic     string
	component string
	payload   map[string]any
}

// decodeObject checks that payload is one JSON object without non-finite
// numbers and returns it.
func decodeObject(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	for _, bad := range []string{"NaN", "Infinity"} {
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

// views splits msgs into one view per entity and checks the topic and the
// root of each message on the way.
func views(t *testing.T, topics Topics, msgs []Message) []configView {
	t.Helper()
	var out []configView
	for _, m := range msgs {
		after, ok := strings.CutPrefix(m.Topic, topics.DiscoveryPrefix()+"/")
		if !ok {
			t.Fatalf("%s: topic does not start with the discovery prefix", m.Topic)
		}
		match := haTopicPattern.FindStringSubmatch(after)
		if match == nil {
			t.Fatalf("%s: topic fails Home Assistant's discovery pattern", m.Topic)
		}
		if node := match[haTopicPattern.SubexpIndex("node_id")]; node != topics.NodeID() {
			t.Errorf("%s: node_id = %q, want %q", m.Topic, node, topics.NodeID())
		}
		if !m.Retain || m.QoS != 1 {
			t.Errorf("%s: retain %v QoS %d, want a retained QoS 1 message", m.Topic, m.Retain, m.QoS)
		}
		payload := decodeObject(t, m.Payload)
		component := match[haTopicPattern.SubexpIndex("component")]
		if component != componentDevice {
			out = append(out, configView{topic: m.Topic, component: component, payload: payload})
			continue
		}

		for key := range payload {
			if !slices.Contains(haDeviceMessageKeys, key) {
				t.Errorf("%s: device message key %q is not allowed", m.Topic, key)
			}
		}
		components, ok := payload["components"].(map[string]any)
		if !ok || len(components) == 0 {
			t.Fatalf("%s: device message has no components", m.Topic)
		}
		for id, raw := range components {
			c, ok := raw.(map[string]any)
			if !ok {
				t.Fatalf("%s: component %s is not an object", m.Topic, id)
			}
			platform, _ := c["platform"].(string)
			if _, known := haComponents[platform]; !known {
				t.Fatalf("%s: component %s has platform %q", m.Topic, id, platform)
			}
			if !haTopicPattern.MatchString(platform + "/" + topics.NodeID() + "/" + id + "/config") {
				t.Errorf("%s: component id %q is not a valid object id", m.Topic, id)
			}
			delete(c, "platform")
			c["device"], c["origin"] = payload["device"], payload["origin"]
			out = append(out, configView{topic: m.Topic + "#" + id, component: platform, payload: c})
		}
	}
	return out
}

// checkConfig checks one entity config against the Home Assistant rules of
// its platform and fitbridge's own rules.
func checkConfig(t *testing.T, topics Topics, v configView) {
	t.Helper()
	rules, ok := haComponents[v.component]
	if !ok {
		t.Fatalf("component %q has no rules", v.component)
	}
	p := v.payload
	for key := range p {
		if !slices.Contains(haCommonKeys, key) && !slices.Contains(rules.keys, key) {
			t.Errorf("key %q is not a %s key in %s", key, v.component, haRulesVersion)
		}
	}
	for _, key := range append([]string{"unique_id", "device", "origin"}, rules.required...) {
		if _, ok := p[key]; !ok {
			t.Errorf("required key %q is missing", key)
		}
	}
	if class, ok := p["device_class"].(string); ok && !slices.Contains(rules.deviceClasses, class) {
		t.Errorf("device_class %q is not a %s class", class, v.component)
	}
	if category, ok := p["entity_category"]; ok && !slices.Contains(rules.categories, fmt.Sprint(category)) {
		t.Errorf("entity_category %v is not allowed on %s", category, v.component)
	}

	switch v.component {
	case componentSensor:
		checkSensor(t, p)
	case componentEvent:
		types, _ := p["event_types"].([]any)
		if len(types) == 0 {
			t.Errorf("event entity has no event_types")
		}
	case componentSelect:
		checkOptions(t, p)
	}
	checkDevice(t, topics, p)
	checkAvailability(t, topics, p)
	checkIDs(t, v.component, p)
}

func checkSensor(t *testing.T, p map[string]any) {
	t.Helper()
	class, hasClass := p["device_class"].(string)
	unit, hasUnit := p["unit_of_measurement"].(string)
	stateClass, hasStateClass := p["state_class"].(string)
	if hasStateClass && !slices.Contains(haSensorStateClasses, stateClass) {
		t.Errorf("state_class %q is not valid", stateClass)
	}
	if hasStateClass && stateClass == "measurement_angle" && unit != "°" {
		t.Errorf("state_class measurement_angle needs unit °, got %q", unit)
	}
	if _, ok := p["last_reset_value_template"]; ok && stateClass != "total" {
		t.Errorf("last_reset_value_template needs state_class total, got %q", stateClass)
	}
	if hasClass {
		rule, known := haClassRules[class]
		switch {
		case !known:
			t.Errorf("device_class %q has no unit rule in the test tables; add it from %s",
				class, haRulesVersion)
		case hasUnit && !slices.Contains(rule.units, unit):
			t.Errorf("unit %q is not valid with device_class %q (valid: %v)", unit, class, rule.units)
		case hasStateClass && !slices.Contains(rule.stateClasses, stateClass):
			t.Errorf("state_class %q does not fit device_class %q (fits: %v)",
				stateClass, class, rule.stateClasses)
		}
	}
	if unit == "" && hasUnit {
		t.Errorf("unit_of_measurement is blank")
	}

	_, hasOptions := p["options"]
	switch {
	case class == "enum":
		checkOptions(t, p)
		if hasUnit || hasStateClass {
			t.Errorf("enum sensor has a unit or state_class")
		}
	case hasOptions:
		t.Errorf("options on a sensor with device_class %q", class)
	}
}

func checkOptions(t *testing.T, p map[string]any) {
	t.Helper()
	options, _ := p["options"].([]any)
	if len(options) == 0 {
		t.Errorf("options are missing or empty")
	}
	seen := map[any]bool{}
	for _, o := range options {
		if seen[o] {
			t.Errorf("option %v is listed twice", o)
		}
		seen[o] = true
	}
}

func checkDevice(t *testing.T, topics Topics, p map[string]any) {
	t.Helper()
	device, ok := p["device"].(map[string]any)
	if !ok {
		t.Fatalf("device block is missing")
	}
	for key := range device {
		if !slices.Contains(haDeviceKeys, key) {
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
	bridgeIdentifier := topics.NodeID() + "_bridge"
	isBridge := len(identifiers) > 0 && identifiers[0] == bridgeIdentifier
	via, hasVia := device["via_device"]
	switch {
	case isBridge && hasVia:
		t.Errorf("bridge device has via_device %v", via)
	case !isBridge && via != bridgeIdentifier:
		t.Errorf("via_device = %v, want the bridge identifier %q", via, bridgeIdentifier)
	}

	deviceName, _ := device["name"].(string)
	name, present := p["name"]
	switch n := name.(type) {
	case nil:
		if !present {
			t.Errorf("entity name is missing; send null for the main feature")
		}
	case string:
		if n == "" {
			t.Errorf("entity name is empty; use null for the main feature")
		}
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(deviceName)) {
			t.Errorf("entity name %q starts with the device name %q", n, deviceName)
		}
	default:
		t.Errorf("entity name is %T, want a string or null", name)
	}

	origin, ok := p["origin"].(map[string]any)
	if !ok {
		t.Fatalf("origin block is missing")
	}
	for key := range origin {
		if !slices.Contains(haOriginKeys, key) {
			t.Errorf("origin key %q is not allowed", key)
		}
	}
	if origin["name"] != productName {
		t.Errorf("origin name = %v, want %q", origin["name"], productName)
	}
}

func checkAvailability(t *testing.T, topics Topics, p map[string]any) {
	t.Helper()
	if _, ok := p["availability_topic"]; ok {
		t.Errorf("availability_topic is set; the availability list is used instead")
	}
	items, hasList := p["availability"].([]any)
	if p["state_topic"] == topics.BridgeAvailability() {
		if hasList {
			t.Errorf("bridge connectivity has an availability list, so it could never show offline")
		}
		return
	}
	if len(items) == 0 {
		t.Fatalf("availability list is missing")
	}
	mode, _ := p["availability_mode"].(string)
	if !slices.Contains(haAvailabilityModes, mode) || mode != "all" {
		t.Errorf("availability_mode = %q, want all", mode)
	}
	for i, raw := range items {
		item, ok := raw.(map[string]any)
		if !ok {
			t.Fatalf("availability[%d] is %T, want an object", i, raw)
		}
		for key := range item {
			if !slices.Contains(haAvailabilityItemKeys, key) {
				t.Errorf("availability[%d] key %q is not allowed", i, key)
			}
		}
		if _, ok := item["topic"].(string); !ok {
			t.Errorf("availability[%d] has no topic", i)
		}
	}
	if first, _ := items[0].(map[string]any); first["topic"] != topics.BridgeAvailability() {
		t.Errorf("availability[0] = %v, want the bridge availability topic", first["topic"])
	}
}

func checkIDs(t *testing.T, component string, p map[string]any) {
	t.Helper()
	objectID, _ := p["object_id"].(string)
	if !entityObjectIDPattern.MatchString(objectID) {
		t.Errorf("object_id %q is not a valid entity object id", objectID)
	}
	entityID := component + "." + objectID
	if p["default_entity_id"] != entityID {
		t.Errorf("default_entity_id = %v, want %q", p["default_entity_id"], entityID)
	}
	if len(entityID) > haMaxEntityIDLen {
		t.Errorf("entity id %s is longer than %d characters", entityID, haMaxEntityIDLen)
	}
}

// conformanceConfigs are the configurations the conformance test builds, in
// both discovery modes.
func conformanceConfigs() map[string]config.Config {
	out := map[string]config.Config{}
	for _, mode := range []string{config.DiscoveryModeComponent, config.DiscoveryModeDevice} {
		for _, base := range []string{"fitbridge", "gym/fit bridge"} {
			cfg := oddConfig(base)
			cfg.Discovery.Mode = mode
			out[mode+" "+base] = cfg
		}
	}
	return out
}

func TestConfigsFollowHomeAssistantRules(t *testing.T) {
	for name, cfg := range conformanceConfigs() {
		t.Run(name, func(t *testing.T) {
			b := NewBuilder(cfg, testVersion)
			uniqueIDs := map[string]string{}
			entityIDs := map[string]string{}
			for _, v := range views(t, b.Topics(), allMessages(cfg)) {
				t.Run(v.topic, func(t *testing.T) { checkConfig(t, b.Topics(), v) })

				uniqueID, _ := v.payload["unique_id"].(string)
				if !strings.HasPrefix(uniqueID, b.Topics().NodeID()+"_") {
					t.Errorf("%s: unique_id %q does not start with the node id", v.topic, uniqueID)
				}
				if other, dup := uniqueIDs[uniqueID]; dup {
					t.Errorf("unique_id %q is used by %s and %s", uniqueID, other, v.topic)
				}
				uniqueIDs[uniqueID] = v.topic
				entityID, _ := v.payload["default_entity_id"].(string)
				if other, dup := entityIDs[entityID]; dup {
					t.Errorf("default_entity_id %q is used by %s and %s", entityID, other, v.topic)
				}
				entityIDs[entityID] = v.topic
			}
		})
	}
}

// entitiesByUniqueID returns each entity config of msgs without its device,
// origin and platform, by unique id.
func entitiesByUniqueID(t *testing.T, topics Topics, msgs []Message) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range views(t, topics, msgs) {
		p := v.payload
		delete(p, "device")
		delete(p, "origin")
		p["component"] = v.component
		canonical, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(p["unique_id"])] = string(canonical)
	}
	return out
}

func TestDeviceModeGivesSameEntities(t *testing.T) {
	cfg := oddConfig("fitbridge")
	perComponent := NewBuilder(cfg, testVersion)
	cfg.Discovery.Mode = config.DiscoveryModeDevice
	perDevice := NewBuilder(cfg, testVersion)

	want := entitiesByUniqueID(t, perComponent.Topics(), perComponent.All(cfg))
	got := entitiesByUniqueID(t, perDevice.Topics(), perDevice.All(cfg))
	if len(got) != len(want) {
		t.Errorf("device mode has %d entities, component mode %d", len(got), len(want))
	}
	for id, config := range want {
		if got[id] != config {
			t.Errorf("entity %s differs between modes:\ncomponent %s\n   device %s", id, config, got[id])
		}
	}
	if n, devices := len(perDevice.All(cfg)), 1+len(cfg.Participants)+len(cfg.Equipment)+3; n != devices {
		t.Errorf("device mode made %d messages, want one per device (%d)", n, devices)
	}
}
