package bridge

import (
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/sessions"
)

// SessionStarted implements sessions.Listener.
func (b *Bridge) SessionStarted(s sessions.Snapshot) {
	b.log.Info("session started", "session_id", s.SessionID, "started_at", s.StartedAt)
	b.metrics.SessionActive.Set(1)
	clear(b.coins)
	if b.opts.Listener != nil {
		b.opts.Listener.SessionStarted(s)
	}
}

// TickClosed implements sessions.Listener.
func (b *Bridge) TickClosed(t sessions.Tick) {
	b.metrics.Ticks.Inc()
	for _, p := range t.Participants {
		if d := p.Coins - b.coins[p.ID]; d > 0 {
			b.metrics.CoinsAwarded.Add(float64(d))
		}
		b.coins[p.ID] = p.Coins
	}
	if b.opts.Listener != nil {
		b.opts.Listener.TickClosed(t)
	}
}

// SessionEnded implements sessions.Listener: it writes the summary file and
// keeps the summary for Summaries.
func (b *Bridge) SessionEnded(sum sessions.Summary) {
	b.log.Info("session ended", "session_id", sum.SessionID, "reason", sum.EndReason,
		"participants", len(sum.Participants), "ended_at", sum.EndedAt)
	b.metrics.SessionActive.Set(0)

	if b.opts.DataDir != "" {
		path, err := WriteSummary(b.opts.DataDir, sum)
		if err != nil {
			b.metrics.SummaryWrites.WithLabelValues("error").Inc()
			b.log.Error("session summary not written", "session_id", sum.SessionID, "err", err)
		} else {
			b.metrics.SummaryWrites.WithLabelValues("ok").Inc()
			b.log.Info("session summary written", "session_id", sum.SessionID, "path", path)
		}
	}

	b.mu.Lock()
	b.summaries = append(b.summaries, sum)
	if n := len(b.summaries) - b.opts.KeepSummaries; n > 0 {
		b.summaries = append(b.summaries[:0], b.summaries[n:]...)
	}
	b.mu.Unlock()

	if b.opts.Listener != nil {
		b.opts.Listener.SessionEnded(sum)
	}
}

// announce publishes everything a fresh broker connection needs: bridge
// availability and state, every discovery config, then every current state.
func (b *Bridge) announce() {
	b.put(discovery.Message{
		Topic: b.topics.BridgeAvailability(), Payload: discovery.AvailabilityPayload(true),
		QoS: 1, Retain: true,
	})
	b.put(discovery.Message{
		Topic:   b.topics.BridgeState(),
		Payload: discovery.BridgeStatePayload(b.opts.Version, b.started),
		QoS:     1, Retain: true,
	})
	for _, m := range b.builder.All(b.cfg) {
		b.put(m)
	}
	clear(b.guests)
	b.published = make(map[string]string)
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
// published, and the discovery configs of guests seen for the first time.
func (b *Bridge) publishStates(force bool) {
	snap := b.engine.Snapshot()
	t := b.topics

	b.putState(t.SessionState(), discovery.SessionStatePayload(snap), force)

	for _, p := range snap.Participants {
		if p.Guest && !b.guests[p.ID] {
			b.guests[p.ID] = true
			for _, m := range b.builder.Participant(p.ID, p.Name) {
				b.put(m)
			}
			for _, d := range p.Devices {
				for _, m := range b.builder.Device(d) {
					b.put(m)
				}
			}
		}
		b.putState(t.ParticipantState(p.ID), discovery.ParticipantStatePayload(p), force)
		b.putState(t.ParticipantAvailability(p.ID),
			discovery.AvailabilityPayload(discovery.ParticipantAvailable(p)), force)
	}

	for _, d := range snap.Devices {
		b.putState(t.DeviceState(d.ID), discovery.DeviceStatePayload(discovery.DeviceState{
			Battery:       d.Battery,
			LastSeen:      d.LastSeen,
			ParticipantID: d.ParticipantID,
		}), force)
		online := !d.LastSeen.IsZero() && snap.Time.Sub(d.LastSeen) < b.cfg.Session.IdleAfter
		b.putState(t.DeviceAvailability(d.ID), discovery.AvailabilityPayload(online), force)
	}

	for _, e := range snap.Equipment {
		s := b.sensors[e.ID]
		b.putState(t.EquipmentState(e.ID), discovery.EquipmentStatePayload(e, s.report()), force)
		// zigbee2mqtt's DJT11LM sends a heartbeat about hourly, so a sensor
		// is available once it has sent anything at all.
		b.putState(t.EquipmentAvailability(e.ID),
			discovery.AvailabilityPayload(!s.seenAt.IsZero()), force)
	}
}

// removeGuests removes the discovery configs and retained states of the
// guests the engine evicted, so Home Assistant keeps no stale entities.
func (b *Bridge) removeGuests() {
	for _, id := range b.evicted {
		b.log.Info("guest evicted", "participant_id", id)
		delete(b.guests, id)
		device := id[len(sessions.GuestID("")):]
		var msgs []discovery.Message
		msgs = append(msgs, b.builder.Participant(id, "")...)
		msgs = append(msgs, b.builder.Device(device)...)
		for _, m := range msgs {
			b.put(discovery.Removal(m.Topic))
		}
		for _, topic := range []string{
			b.topics.ParticipantState(id), b.topics.ParticipantAvailability(id),
			b.topics.DeviceState(device), b.topics.DeviceAvailability(device),
		} {
			delete(b.published, topic)
			b.put(discovery.Removal(topic))
		}
	}
	b.evicted = b.evicted[:0]
}
