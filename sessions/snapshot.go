package sessions

import (
	"sort"
	"time"
)

// Snapshot returns the engine's state at its clock.
func (e *Engine) Snapshot() Snapshot {
	snap := Snapshot{
		Time:       e.clock,
		IntervalMS: e.cfg.Session.CoinInterval.Milliseconds(),
	}
	if s := e.session; s != nil {
		snap.Running = true
		snap.SessionID = s.id
		snap.StartedAt = s.start
		if e.clock.After(s.start) {
			snap.Elapsed = e.clock.Sub(s.start)
		}
		snap.TotalCoins = s.totalCoins
	}

	all := e.allParticipants()
	for _, p := range all {
		snap.Participants = append(snap.Participants, e.participantState(p))
	}
	for _, p := range all {
		for id, st := range p.devices {
			snap.Devices = append(snap.Devices, DeviceState{
				ID:            id,
				ParticipantID: p.id,
				Battery:       st.battery,
				LastSeen:      st.lastSeen,
			})
		}
	}
	sort.Slice(snap.Devices, func(i, j int) bool { return snap.Devices[i].ID < snap.Devices[j].ID })

	for _, eq := range e.equipment {
		snap.Equipment = append(snap.Equipment, EquipmentState{
			ID:     eq.id,
			Name:   eq.name,
			Active: e.clock.Before(eq.activeUntil),
			Events: eq.events,
		})
	}
	return snap
}

// allParticipants returns configured participants and every guest still
// known, guests from least to most recently heard.
func (e *Engine) allParticipants() []*participant {
	out := make([]*participant, 0, len(e.configured)+e.guests.Len())
	for _, pc := range e.cfg.Participants {
		out = append(out, e.configured[pc.ID])
	}
	out = append(out, e.guests.Values()...)
	return out
}

func (e *Engine) participantState(p *participant) ParticipantState {
	ps := ParticipantState{ID: p.id, Name: p.name, Guest: p.guest}
	for id := range p.devices {
		ps.Devices = append(ps.Devices, id)
	}
	sort.Strings(ps.Devices)
	// Coins keep the last session's total until the participant joins the
	// next one, so Home Assistant's total_increasing sensor does not drop
	// to zero between sessions.
	ps.Coins = p.coins
	if e.session == nil || !p.onRoster {
		return ps
	}
	ps.Status = e.statusAt(p, e.clock)
	// The heart rate shown is the latest sample while it is fresh; an idle
	// participant shows none rather than a stale value.
	if ps.Status == StatusActive {
		ps.HeartRate = p.heartRate
		ps.Zone = p.zones.ID(p.zone)
	}
	return ps
}

// SessionStart returns the start of the running session, or the zero time.
func (e *Engine) SessionStart() time.Time {
	if e.session == nil {
		return time.Time{}
	}
	return e.session.start
}
