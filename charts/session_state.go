package charts

import (
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// sessionFromStart returns the session topic's state at a session start. The roster and
// equipment are the engine's snapshot.
func sessionFromStart(s sessions.Snapshot, intervalMS int64) sessionState {
	state := sessionState{
		ID:           s.SessionID,
		Running:      true,
		IntervalMS:   intervalMS,
		Participants: make([]rosterParticipant, 0, len(s.Participants)),
		Equipment:    make([]rosterEquipment, 0, len(s.Equipment)),
	}
	if !s.StartedAt.IsZero() {
		startedAt := s.StartedAt
		state.StartedAt = &startedAt
	}
	for _, p := range s.Participants {
		entry := rosterParticipant{
			ID:     p.ID,
			Name:   p.Name,
			Status: optionalString(string(p.Status)),
			Coins:  p.Coins,
		}
		if p.HeartRate > 0 && isFinite(p.HeartRate) {
			heartRate := p.HeartRate
			entry.HeartRate = &heartRate
			entry.Zone = optionalString(p.Zone)
		}
		state.TotalCoins += p.Coins
		state.Participants = append(state.Participants, entry)
	}
	for _, e := range s.Equipment {
		state.Equipment = append(state.Equipment, rosterEquipment{
			ID: e.ID, Name: optionalString(e.Name), Active: e.Active,
		})
	}
	return state
}

// applyTick replaces the roster, equipment and totals with those of t. The roster is the
// tick's, so the session topic never lists anyone the engine has not put on it. names maps
// equipment ids to names, which ticks do not carry.
func (st *sessionState) applyTick(t sessions.Tick, intervalMS int64, names func(string) *string) {
	st.IntervalMS = intervalMS
	index := t.Index
	st.TickIndex = &index
	tickEnd := t.Start.Add(time.Duration(intervalMS) * time.Millisecond)
	if st.StartedAt != nil {
		st.ElapsedMS = max(0, tickEnd.Sub(*st.StartedAt).Milliseconds())
	} else {
		st.ElapsedMS = int64(t.Index+1) * intervalMS
	}
	st.TotalCoins = 0
	st.Participants = make([]rosterParticipant, 0, len(t.Participants))
	for _, p := range t.Participants {
		entry := rosterParticipant{
			ID:     p.ID,
			Name:   p.Name,
			Status: optionalString(string(p.Status)),
			Coins:  p.Coins,
		}
		if p.HeartRate != nil && isFinite(*p.HeartRate) {
			heartRate := *p.HeartRate
			entry.HeartRate = &heartRate
			entry.Zone = optionalString(p.Zone)
		}
		// The engine removes the coins of a participant it drops from the roster from the
		// session total, so the roster's sum is that total.
		st.TotalCoins += p.Coins
		st.Participants = append(st.Participants, entry)
	}
	st.Equipment = make([]rosterEquipment, 0, len(t.Equipment))
	for _, e := range t.Equipment {
		st.Equipment = append(st.Equipment, rosterEquipment{
			ID: e.ID, Name: names(e.ID), Active: e.Active, Events: e.Events,
		})
	}
}

// applyEnd marks the session ended with the summary's end time and reason.
func (st *sessionState) applyEnd(sum sessions.Summary) {
	st.Running = false
	if st.StartedAt == nil && !sum.StartedAt.IsZero() {
		startedAt := sum.StartedAt
		st.StartedAt = &startedAt
	}
	if !sum.EndedAt.IsZero() {
		endedAt := sum.EndedAt
		st.EndedAt = &endedAt
		if st.StartedAt != nil {
			st.ElapsedMS = max(0, endedAt.Sub(*st.StartedAt).Milliseconds())
		}
	}
	st.EndReason = optionalString(string(sum.EndReason))
}

// clone returns a deep copy, so that a message built from it shares nothing with the hub.
// Its lists are never nil, so they encode as [] and not null.
func (st *sessionState) clone() sessionState {
	c := *st
	c.Participants = append([]rosterParticipant{}, st.Participants...)
	c.Equipment = append([]rosterEquipment{}, st.Equipment...)
	return c
}
