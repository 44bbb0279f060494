package sessions

import (
	"fmt"
	"time"
)

// StateVersion is the version of the State format; Restore rejects others.
const StateVersion = 1

// State is everything the engine needs to continue after a restart: the
// running session, the one that may still resume, device assignments,
// straps, guests and counters. It is what a checkpoint stores, as JSON.
type State struct {
	Version       int                     `json:"version"`
	Clock         time.Time               `json:"clock"`
	Session       *SessionState           `json:"session,omitempty"`
	LastEnded     *SessionState           `json:"last_ended,omitempty"`
	LastEndReason EndReason               `json:"last_end_reason,omitempty"`
	LastEndAt     time.Time               `json:"last_end_at,omitzero"`
	CooldownUntil time.Time               `json:"cooldown_until,omitzero"`
	Assignments   map[string]string       `json:"assignments,omitempty"`
	Straps        map[string]StrapState   `json:"straps,omitempty"`
	Equipment     map[string]EquipState   `json:"equipment,omitempty"`
	Pending       []HeartRateReading      `json:"pending,omitempty"`
	Counters      Counters                `json:"counters"`
	Idle          map[string]Participated `json:"idle,omitempty"`
}

// SessionState is a session in a State.
type SessionState struct {
	ID           string              `json:"id"`
	Start        time.Time           `json:"start"`
	NextTick     int                 `json:"next_tick"`
	LastValidAny time.Time           `json:"last_valid_any,omitzero"`
	TotalCoins   int                 `json:"total_coins"`
	Roster       []ParticipantRecord `json:"roster"`
}

// ParticipantRecord is one participant's session values in a State.
type ParticipantRecord struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Guest       bool          `json:"guest,omitempty"`
	JoinedAt    time.Time     `json:"joined_at"`
	LastValid   time.Time     `json:"last_valid,omitzero"`
	Status      Status        `json:"status,omitempty"`
	HeartRate   float64       `json:"heart_rate"`
	RawZone     int           `json:"raw_zone"`
	Committed   committedZone `json:"committed"`
	Coins       int           `json:"coins"`
	CoinsInZone []int         `json:"coins_in_zone"`
	ZoneSeconds []int         `json:"zone_seconds"`
	Milestone   int           `json:"milestone"`
	Windows     []openWindow  `json:"windows"`
	Samples     int           `json:"samples"`
	Invalid     int           `json:"invalid"`
	SumHR       float64       `json:"sum_hr"`
	MinHR       float64       `json:"min_hr"`
	MaxHR       float64       `json:"max_hr"`
}

// Participated is the coins a participant keeps showing between sessions.
type Participated struct {
	Coins int `json:"coins"`
}

// StrapState is one heart-rate device in a State.
type StrapState struct {
	strap
}

// EquipState is one piece of equipment in a State.
type EquipState struct {
	ActiveUntil time.Time `json:"active_until,omitzero"`
	Events      int       `json:"events"`
}

// State returns the engine's state for a checkpoint. It shares no memory
// with the engine.
func (e *Engine) State() State {
	st := State{
		Version:       StateVersion,
		Clock:         e.clock,
		LastEndReason: e.lastEndReason,
		LastEndAt:     e.lastEndAt,
		CooldownUntil: e.cooldownUntil,
		Assignments:   e.Assignments(),
		Straps:        make(map[string]StrapState, len(e.straps)),
		Equipment:     make(map[string]EquipState, len(e.equipment)),
		Pending:       append([]HeartRateReading(nil), e.pending...),
		Counters:      e.counters,
		Idle:          make(map[string]Participated),
	}
	if e.session != nil {
		st.Session = recordSession(e.session)
	}
	if e.lastEnded != nil {
		st.LastEnded = recordSession(e.lastEnded)
	}
	for id, s := range e.straps {
		st.Straps[id] = StrapState{strap: *s}
	}
	for _, eq := range e.equipment {
		st.Equipment[eq.id] = EquipState{ActiveUntil: eq.activeUntil, Events: eq.events}
	}
	for id, p := range e.configured {
		if !p.onRoster && p.coins > 0 {
			st.Idle[id] = Participated{Coins: p.coins}
		}
	}
	return st
}

func recordSession(s *session) *SessionState {
	out := &SessionState{
		ID: s.id, Start: s.start, NextTick: s.nextTick, LastValidAny: s.lastValidAny,
		TotalCoins: s.totalCoins,
	}
	for _, p := range s.roster {
		out.Roster = append(out.Roster, ParticipantRecord{
			ID: p.id, Name: p.name, Guest: p.guest, JoinedAt: p.joinedAt,
			LastValid: p.lastValid, Status: p.status, HeartRate: p.heartRate,
			RawZone: p.rawZone, Committed: p.committed, Coins: p.coins,
			CoinsInZone: append([]int(nil), p.coinsInZone...),
			ZoneSeconds: append([]int(nil), p.zoneSeconds...),
			Milestone:   p.milestone,
			Windows:     append([]openWindow(nil), p.windows...),
			Samples:     p.samples, Invalid: p.invalid,
			SumHR: p.sumHR, MinHR: p.minHR, MaxHR: p.maxHR,
		})
	}
	return out
}

// Restore replaces the engine's state with st, from a checkpoint taken by
// an engine with the same configuration. Participants that are no longer
// configured come back as guests only if st names them as guests; others
// are dropped. It reports nothing to the listener: the caller publishes the
// restored state.
func (e *Engine) Restore(st State) error {
	if st.Version != StateVersion {
		return fmt.Errorf("restore engine state: version %d, want %d", st.Version, StateVersion)
	}
	e.clock = st.Clock
	e.lastEndReason, e.lastEndAt, e.cooldownUntil = st.LastEndReason, st.LastEndAt, st.CooldownUntil
	e.counters = st.Counters
	e.pending = append(e.pending[:0], st.Pending...)

	e.assign = make(map[string]string)
	for d, target := range st.Assignments {
		if target == AssignGuest || e.configured[target] != nil {
			e.assign[d] = target
		}
	}
	for id, s := range st.Straps {
		restored := s.strap
		e.straps[id] = &restored
	}
	for id, es := range st.Equipment {
		if eq := e.equipByID[id]; eq != nil {
			eq.activeUntil, eq.events = es.ActiveUntil, es.Events
		}
	}
	for id, idle := range st.Idle {
		if p := e.configured[id]; p != nil {
			p.coins = idle.Coins
		}
	}

	e.session = e.restoreSession(st.Session)
	e.lastEnded = e.restoreSession(st.LastEnded)
	return nil
}

func (e *Engine) restoreSession(ss *SessionState) *session {
	if ss == nil {
		return nil
	}
	s := &session{id: ss.ID, start: ss.Start, nextTick: ss.NextTick,
		lastValidAny: ss.LastValidAny, totalCoins: ss.TotalCoins}
	slots := e.windowSlots()
	for _, r := range ss.Roster {
		p := e.configured[r.ID]
		if p == nil && r.Guest {
			p = newParticipant(r.ID, r.Name, true, Zones(e.cfg.ZonesFor(r.ID)))
			e.guests.Add(r.ID, p)
		}
		if p == nil || len(r.CoinsInZone) != len(p.zones) || len(r.ZoneSeconds) != len(p.zones) {
			s.totalCoins -= r.Coins // no longer configured, or the zones changed
			continue
		}
		p.resetForSession(r.JoinedAt, slots)
		p.lastValid, p.status, p.heartRate = r.LastValid, r.Status, r.HeartRate
		p.rawZone, p.committed, p.coins = r.RawZone, r.Committed, r.Coins
		copy(p.coinsInZone, r.CoinsInZone)
		copy(p.zoneSeconds, r.ZoneSeconds)
		p.milestone = r.Milestone
		for _, w := range r.Windows {
			if w.Index >= 0 {
				p.addToWindow(w.Index, w.Max)
			}
		}
		p.samples, p.invalid = r.Samples, r.Invalid
		p.sumHR, p.minHR, p.maxHR = r.SumHR, r.MinHR, r.MaxHR
		s.roster = append(s.roster, p)
	}
	return s
}
