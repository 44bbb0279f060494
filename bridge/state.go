package bridge

import (
	"math"
	"strings"
	"time"

	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions"
)

// announce publishes everything a fresh broker connection needs: bridge
// availability, the discovery configs that differ from the retained ones
// (and removals of those no longer produced), then every current state.
func (b *Bridge) announce() {
	b.published = make(map[string]string)
	b.putState(b.topics.BridgeAvailability(), discovery.AvailabilityPayload(true), true)
	b.reconcileConfigs(b.engine.Snapshot())
	b.publishStates(false)
}

// put queues m for publishing.
func (b *Bridge) put(m discovery.Message) { b.out.put(m) }

// putState queues a retained state message unless the same payload was the
// last one published on its topic, or force is set.
func (b *Bridge) putState(topic string, payload []byte, force bool) {
	if !force && b.published[topic] == string(payload) {
		return
	}
	b.published[topic] = string(payload)
	b.put(discovery.Message{Topic: topic, Payload: payload, QoS: 1, Retain: true})
}

// publishStates publishes every state that changed since it was last
// published, the discovery configs of guests seen for the first time, and
// hit events. Bridge availability is part of it, so a republish after Home
// Assistant's birth message sends it too. Each owner's availability goes
// before its state, as zigbee2mqtt orders them.
func (b *Bridge) publishStates(force bool) {
	snap := b.engine.Snapshot()
	b.recordParticipants(snap)
	t := b.topics

	b.putState(t.BridgeAvailability(), discovery.AvailabilityPayload(true), force)
	b.putState(t.BridgeState(), discovery.BridgeStatePayload(b.bridgeInfo()), force)
	b.putState(t.SessionState(), discovery.SessionStatePayload(snap), force)

	now := time.Now()
	for _, p := range snap.Participants {
		if p.Guest && !b.guests[p.ID] {
			// A replay announces guests at once: its input is a known
			// recording, and it may end before any delay passes.
			if !b.opts.EventClock && !b.guestDue(p.ID, snap.Time) {
				continue // not announced yet: no configs, no states
			}
			b.guests[p.ID] = true
			b.publishConfigs(b.guestConfigs(p))
		}
		topic := t.ParticipantState(p.ID)
		payload := b.builder.ParticipantStatePayload(p, p.SecondsInZone)
		// The heart rate has expire_after, so an active participant's state
		// goes out at least every HeartRateRefresh even when unchanged.
		refresh := p.Status == sessions.StatusActive &&
			now.Sub(b.disc.refreshedAt[topic]) >= discovery.HeartRateRefresh
		if force || refresh || b.published[topic] != string(payload) {
			b.disc.refreshedAt[topic] = now
		}
		b.putState(t.ParticipantAvailability(p.ID),
			discovery.AvailabilityPayload(discovery.ParticipantAvailable(p)), force)
		b.putState(topic, payload, force || refresh)
	}

	for _, d := range snap.Devices {
		if strings.HasPrefix(d.ParticipantID, sessions.GuestID("")) && !b.guests[d.ParticipantID] {
			continue // the strap of a guest not announced yet
		}
		online := !d.LastSeen.IsZero() && snap.Time.Sub(d.LastSeen) < b.cfg.Session.IdleAfter
		b.putState(t.DeviceAvailability(d.ID), discovery.AvailabilityPayload(online), force)
		b.putState(t.DeviceState(d.ID), discovery.DeviceStatePayload(discovery.DeviceState{
			Battery:       d.Battery,
			LastSeen:      d.LastSeen,
			ParticipantID: d.ParticipantID,
		}), force)
	}

	for _, e := range snap.Equipment {
		s := b.sensors[e.ID]
		// zigbee2mqtt's DJT11LM sends a heartbeat about hourly, so a sensor
		// is available once it has sent anything at all.
		b.putState(t.EquipmentAvailability(e.ID),
			discovery.AvailabilityPayload(!s.seenAt.IsZero()), force)
		r := b.sensorReport(s, snap.Time)
		b.publishHits(e, r)
		b.putState(t.EquipmentState(e.ID), discovery.EquipmentStatePayload(e, r), force)
	}
}

// sensorReport returns the report of a vibration sensor at the engine time
// now. Vibration is true only for vibrationHold after a counted event,
// because zigbee2mqtt's own vibration flag may stay true for minutes or for
// good. The sensor's strength becomes the intensity.
func (b *Bridge) sensorReport(s *sensorInput, now time.Time) discovery.SensorReport {
	r := s.report()
	last := s.state.LastEvent
	r.Vibration = !last.IsZero() && !now.Before(last) && now.Sub(last) < vibrationHold
	if s.state.Strength.Known && !math.IsNaN(s.state.Strength.Value) {
		strength := s.state.Strength.Value
		r.Intensity = &strength
	}
	return r
}

// removeGuests removes the discovery configs and retained states of the
// guests the engine evicted, so Home Assistant keeps no stale entities. A
// guest that comes back gets them again.
func (b *Bridge) removeGuests() {
	for _, id := range b.evicted {
		delete(b.guestSeen, id)
		if !b.guests[id] {
			continue // never announced, so nothing to remove
		}
		b.log.Info("guest evicted", "participant_id", id)
		delete(b.guests, id)
		device := id[len(sessions.GuestID("")):]
		b.removeConfigs(b.builder.Participant(id, ""))
		b.removeConfigs(b.builder.Device(device))
		delete(b.disc.slugWarned, device)
		for _, topic := range []string{
			b.topics.ParticipantState(id), b.topics.ParticipantAvailability(id),
			b.topics.DeviceState(device), b.topics.DeviceAvailability(device),
		} {
			delete(b.published, topic)
			delete(b.disc.refreshedAt, topic)
			b.put(discovery.Removal(topic))
		}
	}
	b.evicted = b.evicted[:0]
}

// guestAnnounceDelay is how long a guest must have been known before Home
// Assistant hears of them: a strap that sends one reading, or a flood of
// made-up device ids, creates no entities.
const guestAnnounceDelay = 10 * time.Second

// guestDue reports whether the guest id has been known for
// guestAnnounceDelay of engine time, and remembers when it was first seen.
// The map holds
// only guests the engine keeps, because evictions remove their entries.
func (b *Bridge) guestDue(id string, now time.Time) bool {
	first, ok := b.guestSeen[id]
	if !ok {
		b.guestSeen[id] = now
		return false
	}
	return now.Sub(first) >= guestAnnounceDelay
}

// recordParticipants sets the participants metric by status from the
// engine's snapshot. Participants off the roster have no status, so every
// status counts 0 between sessions.
func (b *Bridge) recordParticipants(snap sessions.Snapshot) {
	var active, idle, left int
	for _, p := range snap.Participants {
		switch p.Status {
		case sessions.StatusActive:
			active++
		case sessions.StatusIdle:
			idle++
		case sessions.StatusLeft:
			left++
		}
	}
	b.metrics.Participants.WithLabelValues(metrics.StatusActive).Set(float64(active))
	b.metrics.Participants.WithLabelValues(metrics.StatusIdle).Set(float64(idle))
	b.metrics.Participants.WithLabelValues(metrics.StatusLeft).Set(float64(left))
}
