package discovery

import "regexp"

// The tables below encode the checks Home Assistant makes on MQTT discovery
// messages, as the conformance tests need them. They come from these
// Home Assistant sources, read as data:
//
//   - Entity schemas of the MQTT integration as of Home Assistant 2025.10
//     (the first release with default_entity_id): the common entity keys,
//     and the sensor, binary_sensor, button, select and event platforms.
//   - Sensor device classes, their units and their state classes from
//     homeassistant/components/sensor/const.py of early 2025; only units
//     that 2025.1 already accepts are listed, so newer units such as µs are
//     left out on purpose.
//   - Device-based discovery (one message per device) from Home Assistant
//     2024.12, the first release that reads it.
//   - The discovery topic pattern (TOPIC_MATCHER) of
//     homeassistant/components/mqtt/discovery.py, unchanged since 2023.
const haRulesVersion = "Home Assistant 2025.10"

// haTopicPattern is the discovery topic after the prefix. Home Assistant
// drops a config whose topic fails it.
var haTopicPattern = regexp.MustCompile(
	`^(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config$`)

// haCommonKeys are the keys every entity platform accepts.
var haCommonKeys = []string{
	"availability", "availability_mode", "availability_template", "availability_topic",
	"payload_available", "payload_not_available", "default_entity_id", "device",
	"enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
	"json_attributes_template", "json_attributes_topic", "object_id", "origin", "unique_id",
	"name", "qos",
}

// haComponent is the schema of one entity platform.
type haComponent struct {
	// keys are the platform's own keys besides haCommonKeys. Home Assistant
	// drops other top-level keys silently, which hides typos, so the tests
	// allow no others.
	keys []string
	// required keys reject the config when missing.
	required []string
	// deviceClasses are the valid device classes; none means the platform
	// has no device_class key.
	deviceClasses []string
	// categories are the entity_category values the platform takes. Home
	// Assistant rejects config on sensor and binary_sensor, and
	// zigbee2mqtt sends none on event entities.
	categories []string
}

var haComponents = map[string]haComponent{
	"sensor": {
		keys: []string{"device_class", "expire_after", "force_update",
			"last_reset_value_template", "options", "state_class", "state_topic",
			"suggested_display_precision", "unit_of_measurement", "value_template"},
		required:      []string{"state_topic"},
		deviceClasses: haSensorDeviceClasses,
		categories:    []string{"diagnostic"},
	},
	"binary_sensor": {
		keys: []string{"device_class", "expire_after", "force_update", "off_delay",
			"payload_off", "payload_on", "state_topic", "value_template"},
		required: []string{"state_topic"},
		deviceClasses: []string{"battery", "battery_charging", "carbon_monoxide", "cold",
			"connectivity", "door", "garage_door", "gas", "heat", "light", "lock", "moisture",
			"motion", "moving", "occupancy", "opening", "plug", "power", "presence", "problem",
			"running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window"},
		categories: []string{"diagnostic"},
	},
	"button": {
		keys:          []string{"command_template", "command_topic", "device_class", "payload_press", "retain"},
		required:      []string{"command_topic"},
		deviceClasses: []string{"identify", "restart", "update"},
		categories:    []string{"config", "diagnostic"},
	},
	"select": {
		keys: []string{"command_template", "command_topic", "optimistic", "options", "retain",
			"state_topic", "value_template"},
		required:   []string{"command_topic", "options"},
		categories: []string{"config", "diagnostic"},
	},
	"event": {
		keys:          []string{"device_class", "event_types", "state_topic", "value_template"},
		required:      []string{"event_types", "state_topic"},
		deviceClasses: []string{"button", "doorbell", "motion"},
	},
}

// haSensorDeviceClasses are the sensor device classes. Home Assistant
// rejects any other, such as a made-up heart_rate.
var haSensorDeviceClasses = []string{
	"absolute_humidity", "apparent_power", "aqi", "area", "atmospheric_pressure", "battery",
	"blood_glucose_concentration", "carbon_dioxide", "carbon_monoxide", "conductivity",
	"current", "data_rate", "data_size", "date", "distance", "duration", "energy",
	"energy_distance", "energy_storage", "enum", "frequency", "gas", "humidity",
	"illuminance", "irradiance", "moisture", "monetary", "nitrogen_dioxide",
	"nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1", "pm10", "pm25", "pm4",
	"power", "power_factor", "precipitation", "precipitation_intensity", "pressure",
	"radon", "reactive_energy", "reactive_power", "signal_strength", "sound_pressure",
	"speed", "sulphur_dioxide", "temperature", "temperature_delta", "timestamp", "uptime",
	"volatile_organic_compounds", "volatile_organic_compounds_parts", "voltage", "volume",
	"volume_flow_rate", "volume_storage", "water", "weight", "wind_direction", "wind_speed",
}

// haSensorStateClasses are the valid sensor state classes.
var haSensorStateClasses = []string{"measurement", "measurement_angle", "total", "total_increasing"}

// haClassRule is what Home Assistant accepts with one sensor device class.
type haClassRule struct {
	// units are the accepted units; nil means the class takes no unit.
	units []string
	// stateClasses are the state classes that fit the class; others make
	// Home Assistant warn and drop long-term statistics.
	stateClasses []string
}

// haClassRules covers the sensor device classes fitbridge may use. A class
// missing here fails the conformance test, so that its rule is looked up
// before it is used.
var haClassRules = map[string]haClassRule{
	"battery":         {units: []string{"%"}, stateClasses: []string{"measurement"}},
	"duration":        {units: []string{"d", "h", "min", "s", "ms"}, stateClasses: []string{"measurement", "total", "total_increasing"}},
	"signal_strength": {units: []string{"dB", "dBm"}, stateClasses: []string{"measurement"}},
	"enum":            {},
	"timestamp":       {},
}

// haDeviceKeys are the keys of the device block. Home Assistant rejects the
// whole config on any other key in it.
var haDeviceKeys = []string{
	"identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version",
	"serial_number", "sw_version", "via_device", "suggested_area", "configuration_url",
}

// haOriginKeys are the keys of the origin block, which is strict too.
var haOriginKeys = []string{"name", "sw_version", "support_url"}

// haAvailabilityItemKeys are the keys of one availability list entry, which
// is strict too.
var haAvailabilityItemKeys = []string{"topic", "payload_available", "payload_not_available", "value_template"}

// haAvailabilityModes are the values of availability_mode.
var haAvailabilityModes = []string{"all", "any", "latest"}

// haDeviceMessageKeys are the root keys of a device-based discovery message:
// the three required ones and the options shared with every component.
var haDeviceMessageKeys = []string{
	"device", "origin", "components", "availability", "availability_mode",
	"availability_template", "availability_topic", "command_topic", "encoding",
	"payload_available", "payload_not_available", "qos", "state_topic",
}
