package discovery

import "testing"

func TestTopicsLayout(t *testing.T) {
	topics := NewTopics("fitbridge", "homeassistant")
	mac := "AA:BB:CC:00:00:05"
	macSlug := Slug(mac)

	tests := []struct{ got, want string }{
		{topics.BridgeAvailability(), "fitbridge/bridge/availability"},
		{topics.BridgeState(), "fitbridge/bridge/state"},
		{topics.SessionState(), "fitbridge/session/state"},
		{topics.SessionCommand(), "fitbridge/session/set"},
		{topics.ParticipantState("alex"), "fitbridge/participant/alex/state"},
		{topics.ParticipantAvailability("alex"), "fitbridge/participant/alex/availability"},
		{topics.DeviceState(mac), "fitbridge/device/" + macSlug + "/state"},
		{topics.DeviceAvailability(mac), "fitbridge/device/" + macSlug + "/availability"},
		{topics.EquipmentState("bag"), "fitbridge/equipment/bag/state"},
		{topics.EquipmentAvailability("bag"), "fitbridge/equipment/bag/availability"},
		{topics.DiscoveryConfig("sensor", "participant_alex_coins"),
			"homeassistant/sensor/fitbridge/participant_alex_coins/config"},
		{topics.DiscoverySubscription(), "homeassistant/+/fitbridge/+/config"},
		{topics.HomeAssistantStatus(), "homeassistant/status"},
		{topics.NodeID(), "fitbridge"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got topic %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTopicsSlugEverySegment(t *testing.T) {
	topics := NewTopics("fitbridge", "homeassistant")
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
	empty := NewTopics("", "")
	if empty.Base() != "fitbridge" || empty.DiscoveryPrefix() != "homeassistant" {
		t.Errorf("NewTopics(\"\", \"\") = base %q, prefix %q, want the config defaults",
			empty.Base(), empty.DiscoveryPrefix())
	}

	slashed := NewTopics("gym/fitbridge/", "ha/")
	if got := slashed.SessionState(); got != "gym/fitbridge/session/state" {
		t.Errorf("SessionState() = %q, want the trailing '/' of the base removed", got)
	}
	if got := slashed.HomeAssistantStatus(); got != "ha/status" {
		t.Errorf("HomeAssistantStatus() = %q, want the trailing '/' of the prefix removed", got)
	}
}

func TestTopicsNodeIDIsSluggedBase(t *testing.T) {
	topics := NewTopics("gym/fit bridge", "homeassistant")
	if got, want := topics.NodeID(), Slug("gym/fit bridge"); got != want {
		t.Errorf("NodeID() = %q, want %q", got, want)
	}
	if !slugPattern.MatchString(topics.NodeID()) {
		t.Errorf("NodeID() = %q, want only [a-zA-Z0-9_-]", topics.NodeID())
	}
	// State topics keep the configured base; only the node id is slugged.
	if got := topics.BridgeState(); got != "gym/fit bridge/bridge/state" {
		t.Errorf("BridgeState() = %q, want the configured base kept", got)
	}
}
