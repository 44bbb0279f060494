package sessions

import (
	"math"
	"time"
)

// sampleWithoutSession handles a valid sample while no session runs: it
// resumes the session that ended for inactivity within Session.ResumeWithin,
// or buffers the sample until enough recent ones start a new session. After
// a requested end, automatic starts wait for Session.RestartCooldown.
func (e *Engine) sampleWithoutSession(r HeartRateReading) {
	if e.lastEnded != nil && e.lastEndReason == EndInactivity &&
		r.Time.Sub(e.lastEndAt) <= e.cfg.Session.ResumeWithin {
		e.resumeSession(r.Time)
		if e.session != nil {
			e.addSample(e.wearer(r.DeviceID, true), r.DeviceID, r.BPM, r.Time)
		}
		return
	}
	if r.Time.Before(e.cooldownUntil) {
		return
	}

	e.pending = append(e.pending, r)
	horizon := r.Time.Add(-e.cfg.Session.EndAfter)
	drop := 0
	for drop < len(e.pending) && e.pending[drop].Time.Before(horizon) {
		drop++
	}
	e.pending = append(e.pending[:0], e.pending[drop:]...)
	if len(e.pending) < e.cfg.Session.StartSamples {
		return
	}

	// Replay the buffered samples in time order, closing each window before
	// the first sample of the next one, as if the session had been running.
	e.startSession(e.pending[0].Time)
	for _, pr := range e.pending {
		e.advanceSession(pr.Time)
		if e.session == nil {
			break
		}
		e.addSample(e.wearer(pr.DeviceID, true), pr.DeviceID, pr.BPM, pr.Time)
	}
	e.pending = e.pending[:0]
}

// addSample adds one valid sample of bpm from deviceID at time t to p's
// running session values.
func (e *Engine) addSample(p *participant, deviceID string, bpm float64, t time.Time) {
	s := e.session
	if t.Before(s.start) {
		e.counters.LateSamples++
		return
	}
	window := int(t.Sub(s.start) / e.cfg.Session.CoinInterval)
	if window < s.nextTick {
		e.counters.LateSamples++
		return
	}
	if !p.onRoster {
		e.join(p, t)
	}
	if st := e.straps[deviceID]; st != nil && st.FirstValid.IsZero() {
		st.FirstValid = t
	}

	bpm = e.effectiveHeartRate(p, deviceID, bpm, t)
	if !p.addToWindow(window, bpm) {
		e.counters.LateSamples++
		return
	}
	p.addStats(bpm)
	if t.After(p.lastValid) {
		p.lastValid = t
		p.heartRate = bpm
		p.rawZone = p.zones.ZoneOf(bpm)
		previous := p.committed.Zone
		if p.committed.observe(p.zones, bpm, t) {
			e.emit(Event{Type: EventZoneChanged, Time: t, SessionID: s.id, Participant: p.id,
				Zone: p.zones.ID(p.committed.Zone), PreviousZone: p.zones.ID(previous)})
		}
	}
	if t.After(s.lastValidAny) {
		s.lastValidAny = t
	}
	if p.status != StatusActive {
		if p.status != "" {
			e.emit(Event{Type: EventParticipantActive, Time: t, SessionID: s.id, Participant: p.id})
		}
		p.status = StatusActive
	}
}

// effectiveHeartRate returns the lower of bpm, just read from deviceID at t,
// and the valid readings of p's other straps heard within MultiStrapWindow
// before t.
func (e *Engine) effectiveHeartRate(p *participant, deviceID string, bpm float64, t time.Time) float64 {
	if p.guest {
		return bpm
	}
	horizon := t.Add(-MultiStrapWindow)
	consider := func(id string) {
		s := e.straps[id]
		if s == nil || id == deviceID || s.LastBPM <= 0 || s.LastValid.Before(horizon) ||
			s.LastValid.After(t) {
			return
		}
		if e.wearer(id, false) == p {
			bpm = math.Min(bpm, s.LastBPM)
		}
	}
	// Only p's configured straps and the straps assigned to p can be worn
	// by p, so the cost does not grow with the number of straps in the room.
	for _, id := range p.devices {
		consider(id)
	}
	for id, target := range e.assign {
		if target == p.id {
			consider(id)
		}
	}
	return bpm
}

func (e *Engine) join(p *participant, t time.Time) {
	p.resetForSession(t, e.windowSlots())
	e.session.roster = append(e.session.roster, p)
	e.emit(Event{Type: EventParticipantJoined, Time: t, SessionID: e.session.id, Participant: p.id})
}

// windowSlots returns how many coin windows can be open at once: the
// current one plus those still waiting for late readings.
func (e *Engine) windowSlots() int {
	return int(e.cfg.Session.MaxLateness/e.cfg.Session.CoinInterval) + 2
}

// dropFromRoster takes p off the running session's roster. When
// removeCoins is set, p's coins leave the session total too (an evicted
// guest); otherwise they moved to someone else and the total stays.
func (e *Engine) dropFromRoster(p *participant, removeCoins bool) {
	if e.session == nil || !p.onRoster {
		return
	}
	p.onRoster = false
	if removeCoins {
		e.session.totalCoins -= p.coins
	}
	e.session.roster = removeParticipant(e.session.roster, p)
	p.resetForSession(time.Time{}, 0)
	p.onRoster = false
}

func removeParticipant(roster []*participant, p *participant) []*participant {
	for i, q := range roster {
		if q == p {
			return append(roster[:i], roster[i+1:]...)
		}
	}
	return roster
}

func (e *Engine) startSession(start time.Time) {
	// A new session drops the one that ended: that one can no longer resume.
	if e.lastEnded != nil {
		for _, p := range e.lastEnded.roster {
			p.onRoster = false
		}
		e.lastEnded = nil
	}
	for _, s := range e.straps {
		s.FirstValid = time.Time{}
	}
	e.session = &session{
		id:    start.UTC().Format("20060102T150405Z"),
		start: start,
	}
	for _, eq := range e.equipment {
		eq.winEvents = 0
	}
	e.listener.SessionStarted(e.Snapshot())
	e.emit(Event{Type: EventSessionStarted, Time: start, SessionID: e.session.id})
}

// resumeSession makes the session that ended last run again from t. The
// windows from its end to t close without samples: a gap, not zeros.
func (e *Engine) resumeSession(t time.Time) {
	s := e.lastEnded
	e.lastEnded = nil
	s.lastValidAny = t
	e.session = s
	e.listener.SessionStarted(e.Snapshot())
	e.emit(Event{Type: EventSessionResumed, Time: t, SessionID: s.id})
	e.advanceSession(t)
}

// advanceSession closes every window whose lateness allowance ends at or
// before now, and ends the session when nobody has had a valid sample for
// Session.EndAfter, handling both in time order.
func (e *Engine) advanceSession(now time.Time) {
	interval := e.cfg.Session.CoinInterval
	for e.session != nil {
		s := e.session
		closeAt := s.start.Add(time.Duration(s.nextTick+1)*interval + e.cfg.Session.MaxLateness)
		endAt := s.start.Add(e.cfg.Session.EndAfter)
		if !s.lastValidAny.IsZero() {
			endAt = s.lastValidAny.Add(e.cfg.Session.EndAfter)
		}
		switch {
		case !endAt.After(now) && endAt.Before(closeAt):
			e.endSession(e.activityEnd(), EndInactivity)
		case !closeAt.After(now):
			e.closeWindow()
		default:
			return
		}
	}
}

// activityEnd returns the end of the window holding the session's last
// valid sample, or the session start when there was none.
func (e *Engine) activityEnd() time.Time {
	s := e.session
	if s.lastValidAny.IsZero() {
		return s.start
	}
	interval := e.cfg.Session.CoinInterval
	window := s.lastValidAny.Sub(s.start) / interval
	return s.start.Add((window + 1) * interval)
}

// closeWindow pays the window s.nextTick and reports it as a tick.
func (e *Engine) closeWindow() {
	s := e.session
	index := s.nextTick
	interval := e.cfg.Session.CoinInterval
	tick := Tick{
		SessionID:    s.id,
		Index:        index,
		Start:        s.start.Add(time.Duration(index) * interval),
		IntervalMS:   interval.Milliseconds(),
		Participants: make([]TickPoint, 0, len(s.roster)),
		Equipment:    make([]EquipmentPoint, 0, len(e.equipment)),
	}
	windowEnd := tick.Start.Add(interval)
	for _, p := range s.roster {
		point := TickPoint{ID: p.id, Name: p.name}
		if bpm := p.takeWindow(index); bpm > 0 {
			zone := p.zones.ZoneOf(bpm)
			if zone >= 0 {
				coins := p.zones.Coins(zone)
				p.coins += coins
				p.coinsInZone[zone] += coins
				p.zoneSeconds[zone] += int(interval / time.Second)
				s.totalCoins += coins
			}
			hr := bpm
			point.HeartRate = &hr
			point.Zone = p.zones.ID(zone)
		}
		point.Coins = p.coins
		point.Status = e.statusAt(p, windowEnd)
		e.reportStatus(p, point.Status, windowEnd)
		e.reportMilestone(p, windowEnd)
		tick.Participants = append(tick.Participants, point)
	}
	for _, eq := range e.equipment {
		tick.Equipment = append(tick.Equipment, EquipmentPoint{
			ID:     eq.id,
			Active: windowEnd.Before(eq.activeUntil) || eq.winEvents > 0,
			Events: eq.winEvents,
		})
		eq.winEvents = 0
	}
	s.nextTick++
	e.listener.TickClosed(tick)
}

// reportStatus emits the event of a status change seen at a window's end.
func (e *Engine) reportStatus(p *participant, status Status, at time.Time) {
	if status == p.status || p.status == "" {
		return
	}
	types := map[Status]EventType{
		StatusActive: EventParticipantActive,
		StatusIdle:   EventParticipantIdle,
		StatusLeft:   EventParticipantLeft,
	}
	p.status = status
	e.emit(Event{Type: types[status], Time: at, SessionID: e.session.id, Participant: p.id})
}

// reportMilestone emits an event each time p's coins pass a multiple of
// Session.CoinMilestone.
func (e *Engine) reportMilestone(p *participant, at time.Time) {
	step := e.cfg.Session.CoinMilestone
	if step <= 0 {
		return
	}
	for reached := p.coins / step; p.milestone < reached; {
		p.milestone++
		e.emit(Event{Type: EventCoinMilestone, Time: at, SessionID: e.session.id,
			Participant: p.id, Coins: p.milestone * step})
	}
}

// endSession closes the windows that began before end, reports the summary
// and keeps the session so that it can resume.
func (e *Engine) endSession(end time.Time, reason EndReason) {
	s := e.session
	interval := e.cfg.Session.CoinInterval
	for s.start.Add(time.Duration(s.nextTick) * interval).Before(end) {
		e.closeWindow()
	}
	if e.openWindowHasSamples() {
		e.closeWindow()
	}
	sum := e.summary(end, reason)
	e.session = nil
	e.lastEnded, e.lastEndReason, e.lastEndAt = s, reason, end
	if reason == EndRequested {
		e.cooldownUntil = e.clock.Add(e.cfg.Session.RestartCooldown)
	}
	e.pending = e.pending[:0]
	e.listener.SessionEnded(sum)
	e.emit(Event{Type: EventSessionEnded, Time: end, SessionID: s.id, Reason: reason,
		Coins: s.totalCoins})
}

func (e *Engine) openWindowHasSamples() bool {
	for _, p := range e.session.roster {
		if p.hasWindow(e.session.nextTick) {
			return true
		}
	}
	return false
}

func (e *Engine) summary(end time.Time, reason EndReason) Summary {
	s := e.session
	sum := Summary{
		SessionID:      s.id,
		StartedAt:      s.start.UTC(),
		EndedAt:        end.UTC(),
		EndReason:      reason,
		CoinIntervalMS: e.cfg.Session.CoinInterval.Milliseconds(),
		Participants:   make([]ParticipantSummary, 0, len(s.roster)),
	}
	for _, z := range e.cfg.Zones {
		sum.Zones = append(sum.Zones, z.ID)
	}
	for _, p := range s.roster {
		ps := ParticipantSummary{
			ID:             p.id,
			Name:           p.name,
			Coins:          p.coins,
			CoinsInZone:    make(map[string]int, len(p.zones)),
			SecondsInZone:  make(map[string]int, len(p.zones)),
			HeartRateMax:   p.maxHR,
			HeartRateMin:   p.minHR,
			Samples:        p.samples,
			InvalidSamples: p.invalid,
		}
		for i, z := range p.zones {
			ps.CoinsInZone[z.ID] = p.coinsInZone[i]
			ps.SecondsInZone[z.ID] = p.zoneSeconds[i]
		}
		if p.samples > 0 {
			ps.HeartRateAvg = math.Round(p.sumHR/float64(p.samples)*10) / 10
		}
		sum.Participants = append(sum.Participants, ps)
	}
	return sum
}

// statusAt derives a participant's status at time t from their last valid
// sample. It is the single definition of active, idle and left.
func (e *Engine) statusAt(p *participant, t time.Time) Status {
	if !p.onRoster {
		return ""
	}
	quiet := t.Sub(p.lastValid)
	switch {
	case quiet < e.cfg.Session.IdleAfter:
		return StatusActive
	case quiet < e.cfg.Session.LeaveAfter:
		return StatusIdle
	default:
		return StatusLeft
	}
}
