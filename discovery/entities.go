package discovery

import "time"

// OwnerKind is the kind of Home Assistant device an entity belongs to. The
// value is also the topic level under the base topic and the middle part of
// unique ids and device identifiers, so it must never change.
type OwnerKind string

// Owner kinds.
const (
	OwnerBridge      OwnerKind = "bridge"
	OwnerParticipant OwnerKind = "participant"
	// OwnerDevice is a heart-rate strap. The name follows its topic level,
	// <base>/device/<did>.
	OwnerDevice    OwnerKind = "device"
	OwnerEquipment OwnerKind = "equipment"
)

// Home Assistant components (entity platforms) that fitbridge publishes, and
// the component level of a device-based discovery topic.
const (
	componentSensor       = "sensor"
	componentBinarySensor = "binary_sensor"
	componentButton       = "button"
	componentSelect       = "select"
	componentEvent        = "event"
	componentDevice       = "device"
)

// entitySource is the topic an entity reads its state from or sends commands to.
type entitySource int

const (
	// fromState reads field of the owner's JSON state topic; for the bridge
	// that is the session state.
	fromState entitySource = iota
	// fromBridgeState reads field of the bridge's own JSON state topic.
	fromBridgeState
	// fromAvailability reads the owner's availability topic as the state
	// itself ("online" is on), and the entity has no availability list, so
	// it can show the owner as offline instead of going unavailable.
	fromAvailability
	// toCommand is a button that publishes press on the session command topic.
	toCommand
	// toAssign is the strap's select: its state is field of the strap's
	// state, and a choice is published on the strap's assign topic.
	toAssign
	// fromEvents is an event entity fed by the owner's event topic.
	fromEvents
)

// optionSource names a list of options that comes from the configuration.
type optionSource int

const (
	optionsFixed optionSource = iota
	// optionsZones is the configured zone ids.
	optionsZones
	// optionsAssign is the configured participant ids and AssignGuest.
	optionsAssign
)

// entity is one row of the entity table, which contains everything that
// differs between the discovery configs of one feature. Adding an entity
// means adding a row here and, for rows that read a state, the field to the
// owner's state payload.
type entity struct {
	owner     OwnerKind
	component string
	// key is the feature part of object_id and unique_id. It must stay the
	// same forever, or Home Assistant creates a second entity.
	key string
	// name is the entity name shown after the device name. An empty name is
	// sent as null, which makes the entity the main feature of its device.
	name        string
	deviceClass string
	stateClass  string
	unit        string
	source      entitySource
	// field is the key of the state JSON that the row reads.
	field string
	// press is the payload a toCommand button publishes.
	press string
	// options lists the states of an enum sensor or select, unless
	// optionsFrom takes them from the configuration.
	options     []string
	optionsFrom optionSource
	// eventTypes lists the event types of an event entity.
	eventTypes []string
	// perZone expands the row into one entity per configured zone: the key
	// becomes "zone_<zone id>_<key>", the name gets the zone name put in for
	// %s, and field becomes field['<zone id>'].
	perZone bool
	// expireAfter and offDelay are in seconds, and 0 leaves the key out.
	expireAfter int
	offDelay    int
	category    string
	icon        string
	// disabled creates the entity disabled until the user enables it.
	disabled bool
	// qos is the MQTT QoS Home Assistant subscribes or publishes with, and 0
	// leaves the key out.
	qos byte
}

// Units that Home Assistant has no constant for. Without a device class any
// unit text is accepted.
const (
	unitBPM   = "bpm"
	unitCoins = "coins"
	// unitLQI is the zigbee link quality indicator, 0 to 255, with the unit
	// text zigbee2mqtt gives it. It is not a signal strength in dBm, so the
	// signal_strength device class must not be used with it.
	unitLQI = "lqi"
)

// heartRateExpireAfter is the time in seconds after which Home Assistant
// marks the heart rate unavailable when no participant state message
// arrives. The bridge sends an active participant's state at least every
// HeartRateRefresh, even when it did not change.
const heartRateExpireAfter = 15

// HeartRateRefresh is the longest time between two state messages of an
// active participant, a third of the heart rate's expire_after, so that one
// lost message does not make the heart rate unavailable.
const HeartRateRefresh = heartRateExpireAfter * time.Second / 3

// vibrationOffDelay is the time in seconds after which Home Assistant turns
// the vibration binary sensor off by itself, even when the "off" state
// message is lost.
const vibrationOffDelay = 2

// Event types of the event entities.
var (
	// SessionEventTypes are the events on Topics.SessionEvent.
	SessionEventTypes = []string{EventSessionStarted, EventSessionResumed, EventSessionEnded}
	// ParticipantEventTypes are the events on Topics.ParticipantEvent.
	ParticipantEventTypes = []string{EventZoneChanged, EventCoinMilestone}
	// EquipmentEventTypes are the events on Topics.EquipmentEvent.
	EquipmentEventTypes = []string{EventHit}
)

// entities is the table of every entity fitbridge announces, grouped by owner.
var entities = []entity{
	// Bridge device.
	{
		owner: OwnerBridge, component: componentBinarySensor, key: "connectivity",
		name: "Connection state", deviceClass: "connectivity",
		source: fromAvailability, category: "diagnostic",
	},
	{
		owner: OwnerBridge, component: componentSensor, key: "version",
		name: "Version", source: fromBridgeState, field: "version",
		category: "diagnostic", icon: "mdi:information-outline",
	},
	{
		owner: OwnerBridge, component: componentBinarySensor, key: "memory_pressure",
		name: "Memory pressure", deviceClass: "problem", source: fromBridgeState,
		field: "memory_pressure", category: "diagnostic",
	},
	{
		owner: OwnerBridge, component: componentBinarySensor, key: "running",
		name: "Session running", deviceClass: "running", field: "running",
	},
	{
		owner: OwnerBridge, component: componentSensor, key: "elapsed",
		name: "Session elapsed", deviceClass: "duration", unit: "s", field: "elapsed_s",
	},
	{
		owner: OwnerBridge, component: componentSensor, key: "participants",
		name: "Participants", stateClass: "measurement", field: "participants",
		icon: "mdi:account-group",
	},
	{
		owner: OwnerBridge, component: componentSensor, key: "total_coins",
		name: "Total coins", unit: unitCoins, stateClass: "total_increasing",
		field: "total_coins", icon: "mdi:circle-multiple",
	},
	{
		owner: OwnerBridge, component: componentButton, key: "start_session",
		name: "Start session", source: toCommand, press: CommandStart,
		icon: "mdi:play", qos: 1,
	},
	{
		owner: OwnerBridge, component: componentButton, key: "end_session",
		name: "End session", source: toCommand, press: CommandEnd,
		icon: "mdi:stop", qos: 1,
	},
	{
		owner: OwnerBridge, component: componentEvent, key: "session_event",
		name: "Session event", source: fromEvents, eventTypes: SessionEventTypes,
		icon: "mdi:flag-checkered",
	},

	// Participant device. Home Assistant has no heart-rate device class.
	{
		owner: OwnerParticipant, component: componentSensor, key: "heart_rate",
		unit: unitBPM, stateClass: "measurement", field: "heart_rate",
		expireAfter: heartRateExpireAfter, icon: "mdi:heart-pulse",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "zone",
		name: "Heart rate zone", deviceClass: "enum", optionsFrom: optionsZones,
		field: "zone", icon: "mdi:gauge",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "zone_progress",
		name: "Progress to next zone", unit: "%", stateClass: "measurement",
		field: "zone_progress", icon: "mdi:progress-upload",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "coins",
		name: "Coins", unit: unitCoins, stateClass: "total_increasing", field: "coins",
		icon: "mdi:circle-multiple",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "status",
		name: "Status", deviceClass: "enum", options: []string{"active", "idle", "left"},
		field: "status", icon: "mdi:account-clock",
	},
	{
		owner: OwnerParticipant, component: componentBinarySensor, key: "active",
		name: "Active", deviceClass: "running", field: "active",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "seconds", perZone: true,
		name: "Time in %s", deviceClass: "duration", unit: "s",
		stateClass: "total_increasing", field: "zone_seconds", icon: "mdi:timer-outline",
	},
	{
		owner: OwnerParticipant, component: componentEvent, key: "event",
		name: "Zone and coin events", source: fromEvents, eventTypes: ParticipantEventTypes,
		icon: "mdi:trophy-outline",
	},

	// Heart-rate strap.
	{
		owner: OwnerDevice, component: componentSensor, key: "battery",
		name: "Battery", deviceClass: "battery", unit: "%", stateClass: "measurement",
		field: "battery", category: "diagnostic",
	},
	{
		owner: OwnerDevice, component: componentSensor, key: "last_seen",
		name: "Last seen", deviceClass: "timestamp", field: "last_seen",
		category: "diagnostic",
	},
	{
		owner: OwnerDevice, component: componentSelect, key: "participant",
		name: "Worn by", source: toAssign, optionsFrom: optionsAssign, field: "assigned",
		category: "config", icon: "mdi:account-switch", qos: 1,
	},

	// Equipment with a zigbee2mqtt vibration sensor.
	{
		owner: OwnerEquipment, component: componentBinarySensor, key: "vibration",
		name: "Vibration", deviceClass: "vibration", field: "vibration",
		offDelay: vibrationOffDelay,
	},
	{
		owner: OwnerEquipment, component: componentBinarySensor, key: "active",
		name: "Active", deviceClass: "running", field: "active",
	},
	{
		owner: OwnerEquipment, component: componentSensor, key: "events",
		name: "Vibration events", stateClass: "total_increasing", field: "events",
		icon: "mdi:counter",
	},
	{
		owner: OwnerEquipment, component: componentSensor, key: "intensity",
		name: "Intensity", stateClass: "measurement", field: "intensity",
		icon: "mdi:pulse",
	},
	{
		owner: OwnerEquipment, component: componentEvent, key: "hit",
		name: "Hit", source: fromEvents, eventTypes: EquipmentEventTypes,
		icon: "mdi:boxing-glove",
	},
	{
		owner: OwnerEquipment, component: componentSensor, key: "battery",
		name: "Battery", deviceClass: "battery", unit: "%", stateClass: "measurement",
		field: "battery", category: "diagnostic",
	},
	{
		owner: OwnerEquipment, component: componentSensor, key: "link_quality",
		name: "Link quality", unit: unitLQI, stateClass: "measurement",
		field: "linkquality", category: "diagnostic", icon: "mdi:signal", disabled: true,
	},
}

// entitiesOf returns the table rows of one owner kind, in table order, with
// perZone rows not yet expanded.
func entitiesOf(kind OwnerKind) []entity {
	var rows []entity
	for _, e := range entities {
		if e.owner == kind {
			rows = append(rows, e)
		}
	}
	return rows
}
