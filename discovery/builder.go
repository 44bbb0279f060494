package discovery

import (
	"fmt"
	"slices"
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

// zone is one configured heart-rate zone as the entities show it.
type zone struct {
	id, name string
}

// Builder builds the discovery config messages of one fitbridge instance.
// It is immutable after NewBuilder and safe for concurrent use.
type Builder struct {
	topics           Topics
	version          string
	mode             string
	zones            []zone
	assignOptions    []string
	configurationURL string
}

// NewBuilder returns a Builder for the topics, discovery mode, heart-rate
// zones and participants of cfg. version is the fitbridge version for
// sw_version. When cfg has no zones, config.DefaultZones is used, as the
// engine does.
func NewBuilder(cfg config.Config, version string) *Builder {
	zones := cfg.Zones
	if len(zones) == 0 {
		zones = config.DefaultZones()
	}
	b := &Builder{
		topics:           TopicsFor(cfg),
		version:          version,
		mode:             cfg.Discovery.Mode,
		configurationURL: cfg.ConfigurationURL,
	}
	seen := make(map[string]bool, len(zones))
	for _, z := range zones {
		if z.ID == "" || seen[z.ID] {
			continue
		}
		seen[z.ID] = true
		name := z.Name
		if name == "" {
			name = z.ID
		}
		b.zones = append(b.zones, zone{id: z.ID, name: name})
	}
	for _, p := range cfg.Participants {
		if !slices.Contains(b.assignOptions, p.ID) {
			b.assignOptions = append(b.assignOptions, p.ID)
		}
	}
	if !slices.Contains(b.assignOptions, AssignGuest) {
		b.assignOptions = append(b.assignOptions, AssignGuest)
	}
	return b
}

// Topics returns the topic scheme the configs refer to.
func (b *Builder) Topics() Topics { return b.topics }

// DeviceMode reports whether the builder makes one device-based discovery
// message per device instead of one message per entity.
func (b *Builder) DeviceMode() bool { return b.mode == config.DiscoveryModeDevice }

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
// caller can pass a reloaded roster. Topics, zones, mode and version come
// from the config the Builder was made from. A topic is returned once even
// when ids repeat, for example a strap listed for two participants.
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
	return o.deviceObjectID() + "_" + key
}

// deviceObjectID returns <kind>_<slugged id>, or bridge for the bridge: the
// object_id level of the owner's device-based discovery topic.
func (o owner) deviceObjectID() string {
	if o.kind == OwnerBridge {
		return string(o.kind)
	}
	return string(o.kind) + "_" + Slug(o.id)
}

// identifier returns the device identifier: <node_id>_<kind>[_<slugged id>].
func (b *Builder) identifier(o owner) string {
	return b.topics.NodeID() + "_" + o.deviceObjectID()
}

// rows returns the entity rows of an owner kind with every perZone row
// expanded into one row per configured zone.
func (b *Builder) rows(kind OwnerKind) []entity {
	var rows []entity
	for _, e := range entitiesOf(kind) {
		if !e.perZone {
			rows = append(rows, e)
			continue
		}
		for _, z := range b.zones {
			zoneRow := e
			zoneRow.perZone = false
			zoneRow.key = "zone_" + z.id + "_" + e.key
			zoneRow.name = fmt.Sprintf(e.name, z.name)
			zoneRow.field = e.field + "['" + z.id + "']"
			rows = append(rows, zoneRow)
		}
	}
	return rows
}

func (b *Builder) stateTopic(o owner, e entity) string {
	if e.source == fromBridgeState {
		return b.topics.BridgeState()
	}
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

func (b *Builder) eventTopic(o owner) string {
	switch o.kind {
	case OwnerParticipant:
		return b.topics.ParticipantEvent(o.id)
	case OwnerEquipment:
		return b.topics.EquipmentEvent(o.id)
	}
	return b.topics.SessionEvent()
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
	for _, e := range b.rows(o.kind) {
		if e.name != "" && strings.HasPrefix(strings.ToLower(e.name), lowerName) {
			return name + " (" + string(o.kind) + ")"
		}
	}
	return name
}

func (b *Builder) device(o owner) *deviceInfo {
	d := &deviceInfo{
		Identifiers:  []string{b.identifier(o)},
		Name:         b.deviceName(o),
		Manufacturer: productName,
		Model:        deviceModels[o.kind],
		SWVersion:    b.version,
	}
	if o.kind == OwnerBridge {
		d.ConfigurationURL = b.configurationURL
	} else {
		d.ViaDevice = b.identifier(owner{kind: OwnerBridge})
	}
	return d
}

func (b *Builder) origin() *originInfo {
	return &originInfo{Name: productName, SWVersion: b.version, SupportURL: SupportURL}
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

// build returns the config messages of one owner: one per table row, or in
// device mode one message for the whole device.
func (b *Builder) build(o owner) []Message {
	rows := b.rows(o.kind)
	if b.DeviceMode() {
		return []Message{b.deviceMessage(o, rows)}
	}
	msgs := make([]Message, 0, len(rows))
	for _, e := range rows {
		objectID := o.objectID(e.key)
		c := b.config(o, e, objectID)
		c.Device = b.device(o)
		c.Origin = b.origin()
		msgs = append(msgs, Message{
			Topic:   b.topics.DiscoveryConfig(e.component, objectID),
			Payload: marshalJSON(c),
			Retain:  true,
			QoS:     1,
		})
	}
	return msgs
}

// config fills the discovery config of one row for one owner, without the
// device and origin blocks.
func (b *Builder) config(o owner, e entity, objectID string) discoveryConfig {
	uniqueID := b.topics.NodeID() + "_" + objectID
	c := discoveryConfig{
		UniqueID:          uniqueID,
		DefaultEntityID:   e.component + "." + entityObjectID(uniqueID),
		ObjectID:          entityObjectID(uniqueID),
		DeviceClass:       e.deviceClass,
		StateClass:        e.stateClass,
		UnitOfMeasurement: e.unit,
		EventTypes:        e.eventTypes,
		EntityCategory:    e.category,
		Icon:              e.icon,
		ExpireAfter:       e.expireAfter,
		OffDelay:          e.offDelay,
		QoS:               e.qos,
	}
	if e.name != "" {
		name := e.name
		c.Name = &name
	}
	if e.disabled {
		enabled := false
		c.EnabledByDefault = &enabled
	}
	switch e.optionsFrom {
	case optionsZones:
		for _, z := range b.zones {
			c.Options = append(c.Options, z.id)
		}
	case optionsAssign:
		c.Options = b.assignOptions
	default:
		c.Options = e.options
	}

	switch e.source {
	case fromState, fromBridgeState:
		c.StateTopic = b.stateTopic(o, e)
		c.ValueTemplate = valueTemplate(e)
	case fromAvailability:
		c.StateTopic = b.availabilityTopic(o)
		c.PayloadOn = PayloadOnline
		c.PayloadOff = PayloadOffline
	case toCommand:
		c.CommandTopic = b.topics.SessionCommand()
		c.PayloadPress = e.press
	case toAssign:
		c.StateTopic = b.stateTopic(o, e)
		c.ValueTemplate = valueTemplate(e)
		c.CommandTopic = b.topics.DeviceAssign(o.id)
	case fromEvents:
		c.StateTopic = b.eventTopic(o)
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
// "OFF" payloads, and "None" for null.
func valueTemplate(e entity) string {
	value := "value_json." + e.field
	if e.component == componentBinarySensor {
		return "{% if " + value + " is none %}None{% elif " + value +
			" %}ON{% else %}OFF{% endif %}"
	}
	return "{{ " + value + " }}"
}
