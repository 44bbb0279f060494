package discovery

import (
	"strings"

	"github.com/fitbridge/fitbridge/config"
)

// Values of the device and origin blocks.
const (
	productName = "fitbridge"
	// SupportURL is the origin support_url of every discovery config.
	SupportURL = "https://github.com/fitbridge/fitbridge"
)

// Device models shown in Home Assistant, per owner kind.
var deviceModels = map[OwnerKind]string{
	OwnerBridge:      "Bridge",
	OwnerParticipant: "Participant",
	OwnerDevice:      "Heart-rate strap",
	OwnerEquipment:   "Equipment",
}

// Message is one MQTT publish. Discovery config and removal messages are
// retained, because Home Assistant keeps no discovery state over its restarts
// and reads the retained configs again. They use QoS 1 so that the broker
// acknowledges each one.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
	QoS     byte
}

// Removal returns an empty retained message on a discovery config topic.
// Publishing it removes the entity from Home Assistant and the retained
// config from the broker.
func Removal(topic string) Message {
	return Message{Topic: topic, Payload: []byte{}, Retain: true, QoS: 1}
}

// Builder builds the discovery config messages of one fitbridge instance.
// It is immutable after NewBuilder and safe for concurrent use.
type Builder struct {
	topics  Topics
	version string
	zoneIDs []string
}

// NewBuilder returns a Builder for the base topic, discovery prefix and
// heart-rate zones of cfg. version is the fitbridge version for sw_version.
// When cfg has no zones, the ids of config.DefaultZones are used, as the
// engine does.
func NewBuilder(cfg config.Config, version string) *Builder {
	zones := cfg.Zones
	if len(zones) == 0 {
		zones = config.DefaultZones()
	}
	seen := make(map[string]bool, len(zones))
	var zoneIDs []string
	for _, z := range zones {
		if z.ID == "" || seen[z.ID] {
			continue
		}
		seen[z.ID] = true
		zoneIDs = append(zoneIDs, z.ID)
	}
	return &Builder{
		topics:  NewTopics(cfg.BaseTopic, cfg.DiscoveryPrefix),
		version: version,
		zoneIDs: zoneIDs,
	}
}

// Topics returns the topic scheme the configs refer to.
func (b *Builder) Topics() Topics { return b.topics }

// Bridge returns the config messages of the bridge device.
func (b *Builder) Bridge() []Message {
	return b.build(owner{kind: OwnerBridge})
}

// Participant returns the config messages of one participant, configured or
// guest. id is the stable participant id, "guest-<device id>" for a guest.
// name is the display name, which may change without changing any id.
func (b *Builder) Participant(id, name string) []Message {
	return b.build(owner{kind: OwnerParticipant, id: id, name: name})
}

// Device returns the config messages of one heart-rate strap.
func (b *Builder) Device(deviceID string) []Message {
	return b.build(owner{kind: OwnerDevice, id: deviceID, name: "Heart-rate strap " + deviceID})
}

// Equipment returns the config messages of one piece of equipment.
func (b *Builder) Equipment(id, name string) []Message {
	return b.build(owner{kind: OwnerEquipment, id: id, name: name})
}

// All returns the config messages of everything known from configuration:
// the bridge, each configured participant followed by its straps, then all
// equipment. Only cfg's participant and equipment lists are read, so a
// caller can pass a reloaded roster. Topics, zones and version come from the
// config the Builder was made from. A topic is returned once even when ids
// repeat, for example a strap listed for two participants.
func (b *Builder) All(cfg config.Config) []Message {
	var all []Message
	seen := make(map[string]bool)
	add := func(msgs []Message) {
		for _, m := range msgs {
			if seen[m.Topic] {
				continue
			}
			seen[m.Topic] = true
			all = append(all, m)
		}
	}

	add(b.Bridge())
	for _, p := range cfg.Participants {
		add(b.Participant(p.ID, p.Name))
		for _, deviceID := range p.Devices {
			add(b.Device(deviceID))
		}
	}
	for _, e := range cfg.Equipment {
		add(b.Equipment(e.ID, e.Name))
	}
	return all
}

// owner is the Home Assistant device that a group of entities belongs to.
type owner struct {
	kind OwnerKind
	// id is the configured id, empty for the bridge.
	id   string
	name string
}

// objectID returns the object_id level of a discovery topic:
// <kind>_<slugged id>_<key>, or bridge_<key> for the bridge.
func (o owner) objectID(key string) string {
	if o.kind == OwnerBridge {
		return string(o.kind) + "_" + key
	}
	return string(o.kind) + "_" + Slug(o.id) + "_" + key
}

// identifier returns the device identifier: <node_id>_<kind>[_<slugged id>].
func (b *Builder) identifier(o owner) string {
	if o.kind == OwnerBridge {
		return b.topics.NodeID() + "_" + string(o.kind)
	}
	return b.topics.NodeID() + "_" + string(o.kind) + "_" + Slug(o.id)
}

func (b *Builder) stateTopic(o owner) string {
	switch o.kind {
	case OwnerParticipant:
		return b.topics.ParticipantState(o.id)
	case OwnerDevice:
		return b.topics.DeviceState(o.id)
	case OwnerEquipment:
		return b.topics.EquipmentState(o.id)
	}
	return b.topics.SessionState()
}

func (b *Builder) availabilityTopic(o owner) string {
	switch o.kind {
	case OwnerParticipant:
		return b.topics.ParticipantAvailability(o.id)
	case OwnerDevice:
		return b.topics.DeviceAvailability(o.id)
	case OwnerEquipment:
		return b.topics.EquipmentAvailability(o.id)
	}
	return b.topics.BridgeAvailability()
}

// deviceName returns the device name Home Assistant shows and puts in front
// of entity names. An empty name falls back to the id. Home Assistant raises
// a repair when an entity name starts with its device name (case is ignored
// here to be safe), so a participant called "Coins" becomes the device
// "Coins (participant)". No entity name contains '(', so the suffixed name
// can never be such a prefix.
func (b *Builder) deviceName(o owner) string {
	if o.kind == OwnerBridge {
		if b.topics.Base() == config.DefaultBaseTopic {
			return productName
		}
		return productName + " (" + b.topics.Base() + ")"
	}

	name := strings.TrimSpace(o.name)
	if name == "" {
		name = o.id
	}
	lowerName := strings.ToLower(name)
	for _, e := range entitiesOf(o.kind) {
		if e.name != "" && strings.HasPrefix(strings.ToLower(e.name), lowerName) {
			return name + " (" + string(o.kind) + ")"
		}
	}
	return name
}

func (b *Builder) device(o owner) deviceInfo {
	d := deviceInfo{
		Identifiers:  []string{b.identifier(o)},
		Name:         b.deviceName(o),
		Manufacturer: productName,
		Model:        deviceModels[o.kind],
		SWVersion:    b.version,
	}
	if o.kind != OwnerBridge {
		d.ViaDevice = b.identifier(owner{kind: OwnerBridge})
	}
	return d
}

func (b *Builder) availability(o owner) []availabilityItem {
	topics := []string{b.topics.BridgeAvailability()}
	if own := b.availabilityTopic(o); own != topics[0] {
		topics = append(topics, own)
	}
	items := make([]availabilityItem, len(topics))
	for i, t := range topics {
		items[i] = availabilityItem{
			Topic:               t,
			PayloadAvailable:    PayloadOnline,
			PayloadNotAvailable: PayloadOffline,
		}
	}
	return items
}

// build returns one config message per table row of the owner's kind.
func (b *Builder) build(o owner) []Message {
	rows := entitiesOf(o.kind)
	msgs := make([]Message, 0, len(rows))
	for _, e := range rows {
		objectID := o.objectID(e.key)
		msgs = append(msgs, Message{
			Topic:   b.topics.DiscoveryConfig(e.component, objectID),
			Payload: marshalJSON(b.config(o, e, objectID)),
			Retain:  true,
			QoS:     1,
		})
	}
	return msgs
}

// config fills the discovery config of one row for one owner.
func (b *Builder) config(o owner, e entity, objectID string) discoveryConfig {
	uniqueID := b.topics.NodeID() + "_" + objectID
	c := discoveryConfig{
		UniqueID:          uniqueID,
		DefaultEntityID:   e.component + "." + entityObjectID(uniqueID),
		ObjectID:          entityObjectID(uniqueID),
		DeviceClass:       e.deviceClass,
		StateClass:        e.stateClass,
		UnitOfMeasurement: e.unit,
		EntityCategory:    e.category,
		Icon:              e.icon,
		ExpireAfter:       e.expireAfter,
		OffDelay:          e.offDelay,
		QoS:               e.qos,
		Device:            b.device(o),
		Origin:            originInfo{Name: productName, SWVersion: b.version, SupportURL: SupportURL},
	}
	if e.name != "" {
		name := e.name
		c.Name = &name
	}
	if e.disabled {
		enabled := false
		c.EnabledByDefault = &enabled
	}
	c.Options = e.options
	if e.zoneOptions {
		c.Options = b.zoneIDs
	}

	switch e.source {
	case fromState:
		c.StateTopic = b.stateTopic(o)
		c.ValueTemplate = valueTemplate(e)
	case fromAvailability:
		c.StateTopic = b.availabilityTopic(o)
		c.PayloadOn = PayloadOnline
		c.PayloadOff = PayloadOffline
	case toCommand:
		c.CommandTopic = b.topics.SessionCommand()
		c.PayloadPress = e.press
	}

	if e.source != fromAvailability {
		c.Availability = b.availability(o)
		c.AvailabilityMode = "all"
	}
	return c
}

// valueTemplate returns the Jinja template that picks the row's field out of
// the JSON state. A JSON null renders as "None", which Home Assistant takes
// as an unknown state. Binary sensors get Home Assistant's default "ON" and
// "OFF" payloads.
func valueTemplate(e entity) string {
	if e.component == componentBinarySensor {
		return "{{ 'ON' if value_json." + e.field + " else 'OFF' }}"
	}
	return "{{ value_json." + e.field + " }}"
}
