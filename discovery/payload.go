package discovery

import (
	"bytes"
	"encoding/json"
)

// discoveryConfig is the JSON of one per-component discovery message. The
// field order is the key order on the wire, so identical input gives
// byte-identical payloads. Keys are full names, never abbreviations.
type discoveryConfig struct {
	// Platform is only set inside a device-based discovery message.
	Platform string `json:"platform,omitempty"`
	// Name is a pointer because null (the device's main feature) and a
	// missing key mean different things to Home Assistant.
	Name            *string `json:"name"`
	UniqueID        string  `json:"unique_id"`
	DefaultEntityID string  `json:"default_entity_id"`
	// ObjectID is deprecated since Home Assistant 2025.10 in favour of
	// DefaultEntityID. Both are sent so older versions still get the entity id.
	ObjectID          string   `json:"object_id"`
	DeviceClass       string   `json:"device_class,omitempty"`
	StateClass        string   `json:"state_class,omitempty"`
	UnitOfMeasurement string   `json:"unit_of_measurement,omitempty"`
	Options           []string `json:"options,omitempty"`
	EventTypes        []string `json:"event_types,omitempty"`
	EntityCategory    string   `json:"entity_category,omitempty"`
	// EnabledByDefault is only sent as false, because true is the default.
	EnabledByDefault *bool  `json:"enabled_by_default,omitempty"`
	Icon             string `json:"icon,omitempty"`
	StateTopic       string `json:"state_topic,omitempty"`
	ValueTemplate    string `json:"value_template,omitempty"`
	PayloadOn        string `json:"payload_on,omitempty"`
	PayloadOff       string `json:"payload_off,omitempty"`
	ExpireAfter      int    `json:"expire_after,omitempty"`
	OffDelay         int    `json:"off_delay,omitempty"`
	CommandTopic     string `json:"command_topic,omitempty"`
	PayloadPress     string `json:"payload_press,omitempty"`
	QoS              byte   `json:"qos,omitempty"`
	// Availability and AvailabilityMode are left out only for the bridge
	// connectivity entity, which must stay available to show "offline".
	Availability     []availabilityItem `json:"availability,omitempty"`
	AvailabilityMode string             `json:"availability_mode,omitempty"`
	// Device and Origin are nil inside a device-based discovery message,
	// which has them once at its root.
	Device *deviceInfo `json:"device,omitempty"`
	Origin *originInfo `json:"origin,omitempty"`
}

// availabilityItem is one entry of the availability list. The payloads are
// Home Assistant's defaults, sent anyway so the contract is visible in the
// config.
type availabilityItem struct {
	Topic               string `json:"topic"`
	PayloadAvailable    string `json:"payload_available"`
	PayloadNotAvailable string `json:"payload_not_available"`
}

// deviceInfo is the device block. Home Assistant rejects the whole config on
// an unknown key in it, so it only has keys from Home Assistant's device
// schema.
type deviceInfo struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
	SWVersion    string   `json:"sw_version,omitempty"`
	ViaDevice    string   `json:"via_device,omitempty"`
	// ConfigurationURL is set on the bridge device only, when configured.
	ConfigurationURL string `json:"configuration_url,omitempty"`
}

// originInfo is the origin block, which Home Assistant shows in its debug
// logs to name the publisher.
type originInfo struct {
	Name       string `json:"name"`
	SWVersion  string `json:"sw_version,omitempty"`
	SupportURL string `json:"support_url"`
}

// marshalJSON encodes v without escaping '<', '>' and '&', so names and
// templates stay readable in the broker. It panics on an encoding error,
// which only a programming error can cause, because the payload types contain
// only strings, integers, booleans and float pointers that are nil or finite.
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("discovery: encoding a payload failed: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
