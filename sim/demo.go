// Package sim publishes made-up live gym data to an MQTT broker for demos:
// four heart-rate straps and one zigbee2mqtt punching-bag vibration sensor
// following a deterministic interval workout.
package sim

// Topics the simulator publishes to.
const (
	// HeartRateTopicPrefix plus a device id is a strap's topic. Payloads are
	// JSON {"heart_rate": <bpm>, "battery": <percent>}.
	HeartRateTopicPrefix = "fitness/hr/"
	// HeartRateTopicFilter matches every strap topic, with the device id as
	// the single-level wildcard.
	HeartRateTopicFilter = HeartRateTopicPrefix + "+"
	// BagTopic is the zigbee2mqtt state topic of the Aqara DJT11LM vibration
	// sensor on the punching bag.
	BagTopic = "zigbee2mqtt/punching_bag"
	// BagActionTopic receives the plain string "vibration" right after each
	// vibration state report, as zigbee2mqtt does when its Home Assistant
	// integration is on.
	BagActionTopic = BagTopic + "/action"
)

// DemoParticipant is one simulated person and the strap they wear.
type DemoParticipant struct {
	ID       string
	Name     string
	DeviceID string
}

// DemoEquipment is one simulated piece of equipment with a vibration sensor.
type DemoEquipment struct {
	ID    string
	Name  string
	Topic string
}

// Demo describes everything the simulator publishes, so that a caller can
// build a matching fitbridge configuration.
type Demo struct {
	// HeartRateTopic is the MQTT topic filter of the straps.
	HeartRateTopic string
	Participants   []DemoParticipant
	Equipment      []DemoEquipment
}

// The demo cast. The third participant (index breakTaker) leaves for part of
// every workout.
var demoParticipants = []DemoParticipant{
	{ID: "alex", Name: "Alex", DeviceID: "demo-hr-1"},
	{ID: "blake", Name: "Blake", DeviceID: "demo-hr-2"},
	{ID: "casey", Name: "Casey", DeviceID: "demo-hr-3"},
	{ID: "drew", Name: "Drew", DeviceID: "demo-hr-4"},
}

var demoBag = DemoEquipment{ID: "punching_bag", Name: "Punching bag", Topic: BagTopic}

// DemoConfig returns the simulator's participants, straps and equipment. The
// result is a fresh copy that the caller may modify.
func DemoConfig() Demo {
	return Demo{
		HeartRateTopic: HeartRateTopicFilter,
		Participants:   append([]DemoParticipant(nil), demoParticipants...),
		Equipment:      []DemoEquipment{demoBag},
	}
}

// DeviceIDs returns the heart-rate device ids the simulator publishes for,
// in participant order.
func DeviceIDs() []string {
	ids := make([]string, len(demoParticipants))
	for i, p := range demoParticipants {
		ids[i] = p.DeviceID
	}
	return ids
}
