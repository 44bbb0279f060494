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
	devices := e.devicesByWearer()
	for _, p := range all {
		ps := e.participantState(p)
		ps.Devices = devices[p]
		snap.Participants = append(snap.Participants, ps)
	}

	for id, st := range e.straps {
		wearer := e.wearer(id, false)
		if wearer == nil {
			continue
		}
		snap.Devices = append(snap.Devices, DeviceState{
			ID:            id,
			ParticipantID: wearer.id,
			Battery:       st.Battery,
			LastSeen:      st.LastSeen,
		})
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

// devicesByWearer returns the sorted device ids each participant wears.
func (e *Engine) devicesByWearer() map[*participant][]string {
	out := make(map[*participant][]string)
	for id := range e.straps {
		if p := e.wearer(id, false); p != nil {
			out[p] = append(out[p], id)
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}

// allParticipants returns configured participants in configuration order,
// then every guest still known, from least to most recently heard.
func (e *Engine) allParticipants() []*participant {
	out := make([]*participant, 0, len(e.configured)+e.guests.Len())
	for _, pc := range e.cfg.Participants {
		out = append(out, e.configured[pc.ID])
	}
	out = append(out, e.guests.Values()...)
	return out
}

func (e *Engine) participantState(p *participant) ParticipantState {
	ps := ParticipantState{ID: p.id, Name: p.name, Guest: p.guest, Progress: -1}
	// Coins keep the last session's total until the participant joins the
	// next one, so Home Assistant's total_increasing sensor does not drop
	// to zero between sessions.
	ps.Coins = p.coins
	if e.session == nil || !p.onRoster {
		return ps
	}
	ps.Status = e.statusAt(p, e.clock)
	ps.SecondsInZone = make(map[string]int, len(p.zones))
	for i, z := range p.zones {
		ps.SecondsInZone[z.ID] = p.zoneSeconds[i]
	}
	// The heart rate shown is the latest sample while it is fresh; an idle
	// participant shows none rather than a stale value.
	if ps.Status == StatusActive {
		ps.HeartRate = p.heartRate
		ps.Zone = p.zones.ID(p.rawZone)
		ps.CommittedZone = p.zones.ID(p.committed.Zone)
		ps.Progress = p.zones.Progress(p.heartRate)
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
