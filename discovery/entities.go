package discovery

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

// Home Assistant components (entity platforms) that fitbridge publishes.
const (
	componentSensor       = "sensor"
	componentBinarySensor = "binary_sensor"
	componentButton       = "button"
)

// entitySource is the topic an entity reads its state from or sends
// commands to.
type entitySource int

const (
	// fromState reads field of the owner's JSON state topic.
	fromState entitySource = iota
	// fromAvailability reads the owner's availability topic as the state
	// itself ("online" is on), and the entity has no availability list, so
	// it can show the owner as offline instead of going unavailable.
	fromAvailability
	// toCommand is a button that publishes press on the session command topic.
	toCommand
)

// entity is one row of the entity table, which contains everything that
// differs between the discovery configs of one feature. Adding an entity means adding a row here
// and, for fromState rows, the field to the owner's state payload.
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
	// field is the key of the owner's state JSON that a fromState row reads.
	field string
	// press is the payload a toCommand button publishes.
	press string
	// options lists the states of an enum sensor. zoneOptions uses the
	// configured heart-rate zone ids instead.
	options     []string
	zoneOptions bool
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
	// unitLQI is the zigbee link quality indicator, 0 to 255. It is not a
	// signal strength in dBm, so the signal_strength device class must not be
	// used with it.
	unitLQI = "lqi"
)

// heartRateExpireAfter is the time in seconds after which Home Assistant
// marks the heart rate unavailable when no new participant state message
// arrives. It bounds how long a stale value is shown when state
// messages stop while the bridge stays online, so the bridge must publish
// participant state more often than this during a session.
const heartRateExpireAfter = 30

// entities is the table of every entity fitbridge announces, grouped by owner.
var entities = []entity{
	// Bridge device.
	{
		owner: OwnerBridge, component: componentBinarySensor, key: "connectivity",
		name: "Connection state", deviceClass: "connectivity",
		source: fromAvailability, category: "diagnostic",
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

	// Participant device. Home Assistant has no heart-rate device class.
	{
		owner: OwnerParticipant, component: componentSensor, key: "heart_rate",
		unit: unitBPM, stateClass: "measurement", field: "heart_rate",
		expireAfter: heartRateExpireAfter, icon: "mdi:heart-pulse",
	},
	{
		owner: OwnerParticipant, component: componentSensor, key: "zone",
		name: "Heart rate zone", deviceClass: "enum", zoneOptions: true, field: "zone",
		icon: "mdi:gauge",
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

	// Equipment with a zigbee2mqtt vibration sensor.
	{
		owner: OwnerEquipment, component: componentBinarySensor, key: "vibration",
		name: "Vibration", deviceClass: "vibration", field: "vibration",
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

// entitiesOf returns the rows of one owner kind, in table order.
func entitiesOf(kind OwnerKind) []entity {
	var rows []entity
	for _, e := range entities {
		if e.owner == kind {
			rows = append(rows, e)
		}
	}
	return rows
}
