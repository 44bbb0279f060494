package discovery

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Plan is the list of messages a publisher must send so that the broker
// holds exactly the configs an instance produces now.
type Plan struct {
	// Removals clears retained configs of this instance that it no longer
	// produces. They must go out before Publish, so that an entity that
	// moves to another topic (a change of discovery mode) is removed before
	// it is created again with the same unique id.
	Removals []Message
	// Publish holds the produced configs whose retained payload differs or
	// is missing.
	Publish []Message
	// Current is every produced config as it will be on the broker, for the
	// publisher's record of the last payload per topic.
	Current []Message
	// Foreign lists retained config topics under this instance's node id
	// that fitbridge did not write or cannot read. They are left alone.
	Foreign []string
}

// Reconcile compares the retained configs found under
// Topics.DiscoverySubscription with produced, the configs of every owner
// the instance has now, and returns the plan that brings the broker in line.
// A retained config counts as this instance's own only when it is a JSON
// object whose origin name is fitbridge and whose unique id (or, in a device
// message, device identifier) is the node id followed by an owner kind. In device mode, a component that a
// retained device message has and the produced one lacks is kept as a stub
// of its platform alone, which is how Home Assistant removes one component
// of a device.
func (b *Builder) Reconcile(retained map[string][]byte, produced []Message) Plan {
	var plan Plan
	producedTopics := make(map[string]bool, len(produced))
	for _, m := range produced {
		producedTopics[m.Topic] = true
	}

	for _, topic := range slices.Sorted(maps.Keys(retained)) {
		payload := retained[topic]
		if !b.owns(payload) {
			plan.Foreign = append(plan.Foreign, topic)
			continue
		}
		if !producedTopics[topic] {
			plan.Removals = append(plan.Removals, Removal(topic))
		}
	}

	for _, m := range produced {
		if old, ok := retained[m.Topic]; ok && b.owns(old) && b.isDeviceTopic(m.Topic) {
			m.Payload = keepRemovedComponents(m.Payload, old)
		}
		plan.Current = append(plan.Current, m)
		if old, ok := retained[m.Topic]; !ok || !bytes.Equal(old, m.Payload) {
			plan.Publish = append(plan.Publish, m)
		}
	}
	return plan
}

// ownedConfig is the part of a retained config that identifies its publisher.
type ownedConfig struct {
	UniqueID string `json:"unique_id"`
	Origin   struct {
		Name string `json:"name"`
	} `json:"origin"`
	Device struct {
		Identifiers []string `json:"identifiers"`
	} `json:"device"`
}

// owns reports whether a retained config payload was written by a fitbridge
// instance with this node id.
func (b *Builder) owns(payload []byte) bool {
	var c ownedConfig
	if err := json.Unmarshal(payload, &c); err != nil || c.Origin.Name != productName {
		return false
	}
	id := c.UniqueID
	if id == "" && len(c.Device.Identifiers) > 0 {
		id = c.Device.Identifiers[0]
	}
	rest, ok := strings.CutPrefix(id, b.topics.NodeID()+"_")
	if !ok {
		return false
	}
	for _, kind := range []OwnerKind{OwnerBridge, OwnerParticipant, OwnerDevice, OwnerEquipment} {
		if rest == string(kind) || strings.HasPrefix(rest, string(kind)+"_") {
			return true
		}
	}
	return false
}

func (b *Builder) isDeviceTopic(topic string) bool {
	return strings.HasPrefix(topic, b.topics.DiscoveryPrefix()+"/"+componentDevice+"/")
}

// keepRemovedComponents adds a platform stub to the device message payload
// for every component of old that payload lacks. It returns payload
// unchanged when either does not parse.
func keepRemovedComponents(payload, old []byte) []byte {
	var current deviceDiscovery
	var previous struct {
		Components map[string]struct {
			Platform string `json:"platform"`
		} `json:"components"`
	}
	if json.Unmarshal(payload, &current) != nil || json.Unmarshal(old, &previous) != nil {
		return payload
	}
	changed := false
	for id, c := range previous.Components {
		if _, ok := current.Components[id]; ok || c.Platform == "" {
			continue
		}
		current.Components[id] = componentStub(c.Platform)
		changed = true
	}
	if !changed {
		return payload
	}
	return marshalJSON(current)
}

// StaleStates returns removals for the retained state and availability
// topics in retained whose owner is not in known, a set of slugged ids per
// owner kind. Other topics in retained are ignored.
func (t Topics) StaleStates(retained map[string][]byte, known map[OwnerKind]map[string]bool) []Message {
	var msgs []Message
	for _, topic := range slices.Sorted(maps.Keys(retained)) {
		kind, slug, ok := t.ParseOwnerState(topic)
		if ok && !known[kind][slug] {
			msgs = append(msgs, Removal(topic))
		}
	}
	return msgs
}
