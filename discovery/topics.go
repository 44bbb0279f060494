package discovery

import (
	"strings"

	"github.com/fitbridge/fitbridge/config"
)

// Availability payloads, the defaults Home Assistant expects.
const (
	PayloadOnline  = "online"
	PayloadOffline = "offline"
)

// Payloads accepted on Topics.SessionCommand.
const (
	CommandStart = "start"
	CommandEnd   = "end"
)

// Topics is the topic scheme of one fitbridge instance. Every id used as a
// topic segment goes through Slug, so the raw configured id may contain any
// characters. The base topic is used as configured, so it must be a valid
// MQTT topic without wildcards.
type Topics struct {
	base   string
	prefix string
	nodeID string
}

// NewTopics returns the topic scheme for a base topic and a discovery prefix.
// An empty value takes the config package default, and trailing '/' are
// removed from both.
func NewTopics(baseTopic, discoveryPrefix string) Topics {
	base := strings.TrimRight(baseTopic, "/")
	if base == "" {
		base = config.DefaultBaseTopic
	}
	prefix := strings.TrimRight(discoveryPrefix, "/")
	if prefix == "" {
		prefix = config.DefaultDiscoveryPrefix
	}
	return Topics{base: base, prefix: prefix, nodeID: Slug(base)}
}

// Base returns the base topic that all state topics start with.
func (t Topics) Base() string { return t.base }

// DiscoveryPrefix returns the Home Assistant discovery prefix.
func (t Topics) DiscoveryPrefix() string { return t.prefix }

// NodeID returns the bridge instance id: the slugged base topic. It is the
// node_id level of every discovery topic and the first part of every
// unique_id, so two instances with different base topics can share one Home
// Assistant.
func (t Topics) NodeID() string { return t.nodeID }

// BridgeAvailability returns <base>/bridge/availability. It carries "online"
// or "offline", retained, and is the MQTT last will of the bridge.
func (t Topics) BridgeAvailability() string { return t.base + "/bridge/availability" }

// BridgeState returns <base>/bridge/state, the retained JSON rendered by
// BridgeStatePayload.
func (t Topics) BridgeState() string { return t.base + "/bridge/state" }

// SessionState returns <base>/session/state, the JSON rendered by
// SessionStatePayload.
func (t Topics) SessionState() string { return t.base + "/session/state" }

// SessionCommand returns <base>/session/set, where the Home Assistant
// buttons publish CommandStart or CommandEnd.
func (t Topics) SessionCommand() string { return t.base + "/session/set" }

// ParticipantState returns <base>/participant/<pid>/state, the JSON rendered
// by ParticipantStatePayload.
func (t Topics) ParticipantState(participantID string) string {
	return t.base + "/participant/" + Slug(participantID) + "/state"
}

// ParticipantAvailability returns <base>/participant/<pid>/availability.
func (t Topics) ParticipantAvailability(participantID string) string {
	return t.base + "/participant/" + Slug(participantID) + "/availability"
}

// DeviceState returns <base>/device/<did>/state for a heart-rate strap, the
// JSON rendered by DeviceStatePayload.
func (t Topics) DeviceState(deviceID string) string {
	return t.base + "/device/" + Slug(deviceID) + "/state"
}

// DeviceAvailability returns <base>/device/<did>/availability.
func (t Topics) DeviceAvailability(deviceID string) string {
	return t.base + "/device/" + Slug(deviceID) + "/availability"
}

// EquipmentState returns <base>/equipment/<eid>/state, the JSON rendered by
// EquipmentStatePayload.
func (t Topics) EquipmentState(equipmentID string) string {
	return t.base + "/equipment/" + Slug(equipmentID) + "/state"
}

// EquipmentAvailability returns <base>/equipment/<eid>/availability.
func (t Topics) EquipmentAvailability(equipmentID string) string {
	return t.base + "/equipment/" + Slug(equipmentID) + "/availability"
}

// DiscoveryConfig returns <prefix>/<component>/<node_id>/<objectID>/config.
// objectID must already be a slug.
func (t Topics) DiscoveryConfig(component, objectID string) string {
	return t.prefix + "/" + component + "/" + t.nodeID + "/" + objectID + "/config"
}

// DiscoverySubscription returns the topic filter that matches every
// per-component config topic of this instance, so a caller can collect the
// retained configs it published before and clear the ones it no longer
// produces.
func (t Topics) DiscoverySubscription() string {
	return t.prefix + "/+/" + t.nodeID + "/+/config"
}

// HomeAssistantStatus returns <prefix>/status, where Home Assistant publishes
// its birth ("online") and last will ("offline") with its default settings.
// After a birth message the caller should re-publish availability and state.
func (t Topics) HomeAssistantStatus() string { return t.prefix + "/status" }
