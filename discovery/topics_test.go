package discovery

import (
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

// topicsFor returns the topics of the default configuration with a base
// topic, a discovery prefix and an instance id.
func topicsFor(base, prefix, instanceID string) Topics {
	cfg := config.Default()
	cfg.BaseTopic, cfg.DiscoveryPrefix, cfg.InstanceID = base, prefix, instanceID
	return TopicsFor(cfg)
}

func TestTopicsLayout(t *testing.T) {
	topics := topicsFor("fitbridge", "homeassistant", "gym")
	mac := "AA:BB:CC:00:00:05"
	macSlug := Slug(mac)

	tests := []struct{ got, want string }{
		{topics.BridgeAvailability(), "fitbridge/bridge/availability"},
		{topics.BridgeState(), "fitbridge/bridge/state"},
		{topics.SessionState(), "fitbridge/session/state"},
		{topics.SessionEvent(), "fitbridge/session/event"},
		{topics.SessionCommand(), "fitbridge/session/set"},
		{topics.ParticipantState("alex"), "fitbridge/participant/alex/state"},
		{topics.ParticipantAvailability("alex"), "fitbridge/participant/alex/availability"},
		{topics.ParticipantEvent("alex"), "fitbridge/participant/alex/event"},
		{topics.DeviceState(mac), "fitbridge/device/" + macSlug + "/state"},
		{topics.DeviceAvailability(mac), "fitbridge/device/" + macSlug + "/availability"},
		{topics.DeviceAssign(mac), "fitbridge/device/" + mac + "/assign"},
		{topics.EquipmentState("bag"), "fitbridge/equipment/bag/state"},
		{topics.EquipmentAvailability("bag"), "fitbridge/equipment/bag/availability"},
		{topics.EquipmentEvent("bag"), "fitbridge/equipment/bag/event"},
		{topics.DiscoveryConfig("sensor", "participant_alex_coins"),
			"homeassistant/sensor/gym/participant_alex_coins/config"},
		{topics.DiscoveryDeviceConfig("participant_alex"),
			"homeassistant/device/gym/participant_alex/config"},
		{topics.DiscoverySubscription(), "homeassistant/+/gym/+/config"},
		{topics.SyncMarker(), "fitbridge/bridge/discovery_sync"},
		{topics.HomeAssistantStatus(), "homeassistant/status"},
		{topics.NodeID(), "gym"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got topic %q, want %q", tt.got, tt.want)
		}
	}
	subs := topics.OwnerStateSubscriptions()
	if len(subs) != 2 || subs[0] != "fitbridge/+/+/state" || subs[1] != "fitbridge/+/+/availability" {
		t.Errorf("OwnerStateSubscriptions() = %q", subs)
	}
}

func TestTopicsSlugEverySegment(t *testing.T) {
	topics := topicsFor("fitbridge", "homeassistant", "gym")
	id := "gym/step #1"
	want := "fitbridge/equipment/" + Slug(id) + "/state"
	if got := topics.EquipmentState(id); got != want {
		t.Errorf("EquipmentState(%q) = %q, want %q", id, got, want)
	}
	if got := topics.ParticipantState("a+b"); got != "fitbridge/participant/"+Slug("a+b")+"/state" {
		t.Errorf("ParticipantState kept a wildcard: %q", got)
	}
}

func TestTopicsDefaultsAndTrailingSlash(t *testing.T) {
	empty := TopicsFor(config.Config{InstanceID: "gym"})
	if empty.Base() != "fitbridge" || empty.DiscoveryPrefix() != "homeassistant" ||
		empty.HomeAssistantStatus() != "homeassistant/status" {
		t.Errorf("TopicsFor(empty) = base %q, prefix %q, status %q, want the config defaults",
			empty.Base(), empty.DiscoveryPrefix(), empty.HomeAssistantStatus())
	}

	slashed := topicsFor("gym/fitbridge/", "ha/", "gym")
	if got := slashed.SessionState(); got != "gym/fitbridge/session/state" {
		t.Errorf("SessionState() = %q, want the trailing '/' of the base removed", got)
	}
	if got := slashed.DiscoveryConfig("sensor", "x"); got != "ha/sensor/gym/x/config" {
		t.Errorf("DiscoveryConfig() = %q, want the trailing '/' of the prefix removed", got)
	}
}

func TestTopicsStatusTopicFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Discovery.StatusTopic = "hass/status"
	if got := TopicsFor(cfg).HomeAssistantStatus(); got != "hass/status" {
		t.Errorf("HomeAssistantStatus() = %q, want the configured hass/status", got)
	}
}

func TestTopicsNodeIDIsInstanceID(t *testing.T) {
	topics := topicsFor("gym/fit bridge", "homeassistant", "room-2")
	if got := topics.NodeID(); got != "room-2" {
		t.Errorf("NodeID() = %q, want the instance id room-2", got)
	}
	// State topics keep the configured base.
	if got := topics.BridgeState(); got != "gym/fit bridge/bridge/state" {
		t.Errorf("BridgeState() = %q, want the configured base kept", got)
	}
}

func TestParseOwnerState(t *testing.T) {
	topics := topicsFor("gym/fitbridge", "homeassistant", "gym")
	tests := []struct {
		topic    string
		wantKind OwnerKind
		wantSlug string
		wantOK   bool
	}{
		{"gym/fitbridge/participant/alex/state", OwnerParticipant, "alex", true},
		{"gym/fitbridge/device/aabb_12345678/availability", OwnerDevice, "aabb_12345678", true},
		{"gym/fitbridge/equipment/bag/state", OwnerEquipment, "bag", true},
		{"gym/fitbridge/equipment/bag/event", "", "", false},
		{"gym/fitbridge/device/x/assign", "", "", false},
		{"gym/fitbridge/bridge/x/state", "", "", false},
		{"gym/fitbridge/session/state", "", "", false},
		{"other/participant/alex/state", "", "", false},
		{"gym/fitbridge/participant//state", "", "", false},
	}
	for _, tt := range tests {
		kind, slug, ok := topics.ParseOwnerState(tt.topic)
		if kind != tt.wantKind || slug != tt.wantSlug || ok != tt.wantOK {
			t.Errorf("ParseOwnerState(%q) = %q, %q, %v, want %q, %q, %v", tt.topic,
				kind, slug, ok, tt.wantKind, tt.wantSlug, tt.wantOK)
		}
	}
}

func TestInstanceIDFromHostName(t *testing.T) {
	tests := []struct{ host, want string }{
		{"gym-pi", "gym-pi"},
		{"Gym.Local", "gym_local"},
		{"", "fitbridge"},
		{"a0d7b954-fitbridge", "a0d7b954-fitbridge"},
		{string(make([]byte, 100)), "________________________________________________________________"},
	}
	for _, tt := range tests {
		if got := HostInstanceID(tt.host); got != tt.want {
			t.Errorf("HostInstanceID(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
	if got := InstanceID(config.Config{InstanceID: "set"}); got != "set" {
		t.Errorf("InstanceID with instance_id set = %q, want set", got)
	}
	if got := InstanceID(config.Config{}); !slugPattern.MatchString(got) {
		t.Errorf("InstanceID from the host name = %q, want a slug", got)
	}
}
