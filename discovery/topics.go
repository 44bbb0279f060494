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

// AssignGuest is the payload on Topics.DeviceAssign that makes a strap's
// wearer a guest. Any other payload is a participant id.
const AssignGuest = "guest"

// Topic levels below the base topic.
const (
	levelState        = "state"
	levelAvailability = "availability"
	levelEvent        = "event"
)

// Topics is the topic scheme of one fitbridge instance. Every id used as a
// topic segment goes through Slug, so the raw configured id may contain any
// characters. The base topic is used as configured, so it must be a valid
// MQTT topic without wildcards.
type Topics struct {
	base   string
	prefix string
	nodeID string
	status string
}

// TopicsFor returns the topic scheme of cfg. Empty base topic, discovery
// prefix and status topic take the config package defaults, and trailing
// '/' are removed from the first two. The node id is InstanceID(cfg).
func TopicsFor(cfg config.Config) Topics {
	base := strings.TrimRight(cfg.BaseTopic, "/")
	if base == "" {
		base = config.DefaultBaseTopic
	}
	prefix := strings.TrimRight(cfg.DiscoveryPrefix, "/")
	if prefix == "" {
		prefix = config.DefaultDiscoveryPrefix
	}
	status := cfg.Discovery.StatusTopic
	if status == "" {
		status = config.DefaultStatusTopic
	}
	return Topics{base: base, prefix: prefix, nodeID: Slug(InstanceID(cfg)), status: status}
}

// Base returns the base topic that all state topics start with.
func (t Topics) Base() string { return t.base }

// DiscoveryPrefix returns the Home Assistant discovery prefix.
func (t Topics) DiscoveryPrefix() string { return t.prefix }

// NodeID returns the instance id as a slug. It is the node_id level of every
// discovery topic and starts every unique id and device identifier, so two
// instances with different ids can share one Home Assistant.
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

// SessionEvent returns <base>/session/event, where the session start and end
// events of the bridge's event entity arrive, not retained.
func (t Topics) SessionEvent() string { return t.base + "/session/event" }

// SessionCommand returns <base>/session/set, where the Home Assistant
// buttons publish CommandStart or CommandEnd.
func (t Topics) SessionCommand() string { return t.base + "/session/set" }

// ParticipantState returns <base>/participant/<pid>/state, the JSON rendered
// by Builder.ParticipantStatePayload.
func (t Topics) ParticipantState(participantID string) string {
	return t.owner(OwnerParticipant, participantID, levelState)
}

// ParticipantAvailability returns <base>/participant/<pid>/availability.
func (t Topics) ParticipantAvailability(participantID string) string {
	return t.owner(OwnerParticipant, participantID, levelAvailability)
}

// ParticipantEvent returns <base>/participant/<pid>/event, where the
// participant's zone and coin events arrive, not retained.
func (t Topics) ParticipantEvent(participantID string) string {
	return t.owner(OwnerParticipant, participantID, levelEvent)
}

// DeviceState returns <base>/device/<did>/state for a heart-rate strap, the
// JSON rendered by DeviceStatePayload.
func (t Topics) DeviceState(deviceID string) string {
	return t.owner(OwnerDevice, deviceID, levelState)
}

// DeviceAvailability returns <base>/device/<did>/availability.
func (t Topics) DeviceAvailability(deviceID string) string {
	return t.owner(OwnerDevice, deviceID, levelAvailability)
}

// DeviceAssign returns <base>/device/<device id>/assign, where the strap's
// select entity publishes a participant id or AssignGuest. Unlike the state
// topics it holds the device id itself, not its slug, because the bridge
// reads the device id from this topic level. A device id never contains
// '/', '+' or '#': configured ones are validated, and a guest's comes from
// one level of the heart-rate topic.
func (t Topics) DeviceAssign(deviceID string) string {
	return t.base + "/" + string(OwnerDevice) + "/" + deviceID + "/assign"
}

// EquipmentState returns <base>/equipment/<eid>/state, the JSON rendered by
// EquipmentStatePayload.
func (t Topics) EquipmentState(equipmentID string) string {
	return t.owner(OwnerEquipment, equipmentID, levelState)
}

// EquipmentAvailability returns <base>/equipment/<eid>/availability.
func (t Topics) EquipmentAvailability(equipmentID string) string {
	return t.owner(OwnerEquipment, equipmentID, levelAvailability)
}

// EquipmentEvent returns <base>/equipment/<eid>/event, where hit events
// arrive, not retained.
func (t Topics) EquipmentEvent(equipmentID string) string {
	return t.owner(OwnerEquipment, equipmentID, levelEvent)
}

func (t Topics) owner(kind OwnerKind, id, level string) string {
	return t.base + "/" + string(kind) + "/" + Slug(id) + "/" + level
}

// DiscoveryConfig returns <prefix>/<component>/<node_id>/<objectID>/config.
// objectID must already be a slug.
func (t Topics) DiscoveryConfig(component, objectID string) string {
	return t.prefix + "/" + component + "/" + t.nodeID + "/" + objectID + "/config"
}

// DiscoveryDeviceConfig returns <prefix>/device/<node_id>/<objectID>/config,
// the topic of one device-based discovery message. objectID must already be
// a slug.
func (t Topics) DiscoveryDeviceConfig(objectID string) string {
	return t.DiscoveryConfig(componentDevice, objectID)
}

// DiscoverySubscription returns the topic filter that matches every
// discovery config topic of this instance, per-component and device-based,
// so a caller can collect the retained configs it published before and
// clear the ones it no longer produces.
func (t Topics) DiscoverySubscription() string {
	return t.prefix + "/+/" + t.nodeID + "/+/config"
}

// OwnerStateSubscriptions returns the topic filters that match the retained
// state and availability topics of participants, straps and equipment, so
// that those of owners no longer known can be cleared.
func (t Topics) OwnerStateSubscriptions() []string {
	return []string{t.base + "/+/+/" + levelState, t.base + "/+/+/" + levelAvailability}
}

// ParseOwnerState reports whether topic is the state or availability topic
// of a participant, strap or piece of equipment, and returns its owner kind
// and slugged id.
func (t Topics) ParseOwnerState(topic string) (kind OwnerKind, slug string, ok bool) {
	rest, found := strings.CutPrefix(topic, t.base+"/")
	if !found {
		return "", "", false
	}
	levels := strings.Split(rest, "/")
	if len(levels) != 3 || levels[1] == "" ||
		(levels[2] != levelState && levels[2] != levelAvailability) {
		return "", "", false
	}
	switch k := OwnerKind(levels[0]); k {
	case OwnerParticipant, OwnerDevice, OwnerEquipment:
		return k, levels[1], true
	}
	return "", "", false
}

// SyncMarker returns <base>/bridge/discovery_sync. The bridge publishes a
// marker there after subscribing to its retained configs: the broker sends
// retained messages before later ones, so the marker's arrival ends the
// collection.
func (t Topics) SyncMarker() string { return t.base + "/bridge/discovery_sync" }

// HomeAssistantStatus returns the topic where Home Assistant publishes its
// birth ("online") and last will ("offline"). After a birth message the
// caller should publish availability and state again.
func (t Topics) HomeAssistantStatus() string { return t.status }
