package discovery

import (
	"encoding/json"
)

// deviceDiscovery is the JSON of one device-based discovery message, which
// Home Assistant 2024.12 and later read on <prefix>/device/<node>/<id>/config.
// Each component has the same keys as the per-component config of the same
// entity, plus platform, so both modes give the same entities.
type deviceDiscovery struct {
	Device *deviceInfo `json:"device"`
	Origin *originInfo `json:"origin"`
	// Components maps each entity's object id to its config. Go sorts map
	// keys when it encodes, so the order on the wire is stable.
	Components map[string]json.RawMessage `json:"components"`
}

// deviceMessage returns the device-based discovery message of one owner.
func (b *Builder) deviceMessage(o owner, rows []entity) Message {
	d := deviceDiscovery{
		Device:     b.device(o),
		Origin:     b.origin(),
		Components: make(map[string]json.RawMessage, len(rows)),
	}
	for _, e := range rows {
		objectID := o.objectID(e.key)
		c := b.config(o, e, objectID)
		c.Platform = e.component
		d.Components[objectID] = marshalJSON(c)
	}
	return Message{
		Topic:   b.topics.DiscoveryDeviceConfig(o.deviceObjectID()),
		Payload: marshalJSON(d),
		Retain:  true,
		QoS:     1,
	}
}

// componentStub returns the component config that removes one entity of a
// device-based discovery message: only its platform.
func componentStub(platform string) json.RawMessage {
	return marshalJSON(struct {
		Platform string `json:"platform"`
	}{platform})
}
