// Package sessions is the workout session engine: roster, heart-rate zones,
// coins, participant status, and the start and end of sessions.
//
// The engine is pure. It never reads the wall clock: time moves only through
// the event times of readings and through Advance, so a replay gives the same
// result at any speed. It is not safe for concurrent use; one goroutine owns
// it and the Listener hears everything it produces.
package sessions

import (
	"math"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/fitbridge/fitbridge/config"
)

// MultiStrapWindow is how long a strap's last valid reading counts towards
// its wearer's heart rate when the wearer has several straps. The lowest
// recent reading wins, because a loose strap reads high, not low.
const MultiStrapWindow = 10 * time.Second

// Counters are the engine's running totals of rejected or dropped input,
// for metrics.
type Counters struct {
	// LateSamples counts valid samples whose coin window had already closed.
	LateSamples uint64
	// GuestsEvicted counts guests dropped to keep at most MaxGuests.
	GuestsEvicted uint64
	// UnknownEquipment counts vibration readings for equipment not configured.
	UnknownEquipment uint64
}

// Engine runs sessions from heart-rate and vibration readings.
type Engine struct {
	cfg      config.Config
	listener Listener

	clock time.Time

	configured map[string]*participant // by participant id
	byDevice   map[string]*participant // configured devices only
	guests     *simplelru.LRU[string, *participant]

	equipment []*equipment
	equipByID map[string]*equipment

	// pending holds the valid samples heard while no session runs; a
	// session starts once it holds Session.StartSamples of them.
	pending []HeartRateReading

	session  *session
	counters Counters
}

type session struct {
	id    string
	start time.Time
	// nextTick is the index of the oldest window not yet closed.
	nextTick     int
	lastValidAny time.Time
	totalCoins   int
	roster       []*participant
}

type participant struct {
	id    string
	name  string
	guest bool
	zones Zones

	devices map[string]*strap

	// Fields below describe the running session and are reset at its start.
	onRoster  bool
	lastValid time.Time
	heartRate float64
	zone      int
	coins     int

	// winIndex is the window the current maximum belongs to; winMax is 0
	// when that window has no valid sample.
	winIndex int
	winMax   float64

	zoneSeconds []int // per zone index
	samples     int
	invalid     int
	sumHR       float64
	minHR       float64
	maxHR       float64
}

type strap struct {
	battery   int
	lastSeen  time.Time
	lastBPM   float64
	lastValid time.Time
}

type equipment struct {
	id          string
	name        string
	activeUntil time.Time
	events      int
	winEvents   int
}

// New returns an engine for cfg, which must already be validated. The
// listener may be nil. onGuestEvicted, if not nil, is called with the id of
// each guest dropped to keep at most Session.MaxGuests.
func New(cfg config.Config, listener Listener, onGuestEvicted func(id string)) *Engine {
	e := &Engine{
		cfg:        cfg,
		listener:   listener,
		configured: make(map[string]*participant),
		byDevice:   make(map[string]*participant),
		equipByID:  make(map[string]*equipment),
	}
	if e.listener == nil {
		e.listener = nopListener{}
	}
	for _, pc := range cfg.Participants {
		p := newParticipant(pc.ID, pc.Name, false, Zones(cfg.ZonesFor(pc.ID)))
		for _, d := range pc.Devices {
			p.devices[d] = &strap{battery: -1}
			e.byDevice[d] = p
		}
		e.configured[pc.ID] = p
	}
	size := cfg.Session.MaxGuests
	if size < 1 {
		size = config.DefaultMaxGuests
	}
	guests, err := simplelru.NewLRU(size, func(id string, p *participant) {
		e.counters.GuestsEvicted++
		e.dropFromRoster(p)
		if onGuestEvicted != nil {
			onGuestEvicted(id)
		}
	})
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	e.guests = guests
	for _, ec := range cfg.Equipment {
		eq := &equipment{id: ec.ID, name: ec.Name}
		e.equipment = append(e.equipment, eq)
		e.equipByID[ec.ID] = eq
	}
	return e
}

func newParticipant(id, name string, guest bool, zones Zones) *participant {
	return &participant{
		id:      id,
		name:    name,
		guest:   guest,
		zones:   zones,
		devices: make(map[string]*strap),
		zone:    -1,
	}
}

// GuestID returns the participant id of a guest wearing an unknown device.
func GuestID(deviceID string) string { return "guest-" + deviceID }

// Counters returns the engine's running totals.
func (e *Engine) Counters() Counters { return e.counters }

// Running reports whether a session is running.
func (e *Engine) Running() bool { return e.session != nil }

// Clock returns the engine's current time.
func (e *Engine) Clock() time.Time { return e.clock }

// Advance moves the engine's clock to now, closing the coin windows and
// ending the session if that time has come. A time before the clock is
// ignored.
func (e *Engine) Advance(now time.Time) {
	if !now.After(e.clock) {
		return
	}
	e.advanceSession(now)
	e.clock = now
}

// HeartRate handles one heart-rate reading.
func (e *Engine) HeartRate(r HeartRateReading) {
	e.Advance(r.Time)

	p := e.lookup(r.DeviceID, r.Invalid == "")
	if p == nil {
		return // an invalid reading from a device nobody wears
	}
	s := p.devices[r.DeviceID]
	if r.Battery >= 0 {
		s.battery = r.Battery
	}
	if r.Time.After(s.lastSeen) {
		s.lastSeen = r.Time
	}

	if r.Invalid != "" {
		if e.session != nil && p.onRoster {
			p.invalid++
		}
		return
	}
	s.lastBPM = r.BPM
	s.lastValid = r.Time

	if e.session == nil {
		e.buffer(r)
		return
	}
	e.addSample(p, r.DeviceID, r.BPM, r.Time)
}

// Vibration handles one merged report from an equipment vibration sensor.
func (e *Engine) Vibration(v VibrationReading) {
	e.Advance(v.Time)
	eq := e.equipByID[v.EquipmentID]
	if eq == nil {
		e.counters.UnknownEquipment++
		return
	}
	if v.Event {
		eq.events++
		eq.winEvents++
		until := v.Time.Add(e.cfg.Session.EquipmentTimeout)
		if until.After(eq.activeUntil) {
			eq.activeUntil = until
		}
	}
	if v.Vibrating != nil && !*v.Vibrating && !v.Event {
		eq.activeUntil = v.Time
	}
}

// Start starts a session now if none is running, with an empty roster.
func (e *Engine) Start() {
	if e.session != nil {
		return
	}
	e.startSession(e.clock)
	e.pending = e.pending[:0]
}

// End ends the running session, if any, for the given reason. For a
// requested end or a shutdown the session ends at the engine's clock; at the
// end of a replay it ends with the window of the last valid sample.
func (e *Engine) End(reason EndReason) {
	if e.session == nil {
		return
	}
	end := e.clock
	if reason == EndReplay || reason == EndInactivity {
		end = e.activityEnd()
	}
	e.endSession(end, reason)
}

// lookup returns the participant wearing deviceID. An unknown device becomes
// a guest, but only when create is set, so that invalid readings from made-up
// device ids allocate nothing.
func (e *Engine) lookup(deviceID string, create bool) *participant {
	if p := e.byDevice[deviceID]; p != nil {
		return p
	}
	id := GuestID(deviceID)
	if p, ok := e.guests.Get(id); ok {
		return p
	}
	if !create {
		return nil
	}
	p := newParticipant(id, "Guest "+deviceID, true, Zones(e.cfg.ZonesFor(id)))
	p.devices[deviceID] = &strap{battery: -1}
	e.guests.Add(id, p)
	return p
}

// buffer keeps a valid sample heard while no session runs and starts a
// session once enough recent samples have arrived. Samples older than
// Session.EndAfter do not count, so stray readings hours apart start nothing.
func (e *Engine) buffer(r HeartRateReading) {
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
		// A guest may have been evicted while the samples waited.
		if p := e.lookup(pr.DeviceID, true); p != nil && e.session != nil {
			e.addSample(p, pr.DeviceID, pr.BPM, pr.Time)
		}
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
		e.join(p)
	}

	bpm = p.effectiveHeartRate(deviceID, bpm, t)
	if t.After(p.lastValid) {
		p.lastValid = t
	}
	if t.After(s.lastValidAny) {
		s.lastValidAny = t
	}
	p.heartRate = bpm
	p.zone = p.zones.ZoneOf(bpm)

	if window != p.winIndex {
		p.winIndex = window
		p.winMax = 0
	}
	p.winMax = math.Max(p.winMax, bpm)

	p.samples++
	p.sumHR += bpm
	if p.samples == 1 || bpm < p.minHR {
		p.minHR = bpm
	}
	p.maxHR = math.Max(p.maxHR, bpm)
}

// effectiveHeartRate returns the lower of bpm, just read from deviceID at t,
// and the valid readings of p's other straps heard within MultiStrapWindow
// before t.
func (p *participant) effectiveHeartRate(deviceID string, bpm float64, t time.Time) float64 {
	if len(p.devices) < 2 {
		return bpm
	}
	horizon := t.Add(-MultiStrapWindow)
	for id, s := range p.devices {
		if id == deviceID || s.lastBPM <= 0 || s.lastValid.Before(horizon) || s.lastValid.After(t) {
			continue
		}
		bpm = math.Min(bpm, s.lastBPM)
	}
	return bpm
}

func (e *Engine) join(p *participant) {
	p.onRoster = true
	p.lastValid = time.Time{}
	p.heartRate = 0
	p.zone = -1
	p.coins = 0
	p.winIndex = -1
	p.winMax = 0
	p.zoneSeconds = make([]int, len(p.zones))
	p.samples, p.invalid = 0, 0
	p.sumHR, p.minHR, p.maxHR = 0, 0, 0
	e.session.roster = append(e.session.roster, p)
}

func (e *Engine) dropFromRoster(p *participant) {
	if e.session == nil || !p.onRoster {
		return
	}
	p.onRoster = false
	roster := e.session.roster
	for i, q := range roster {
		if q == p {
			e.session.totalCoins -= p.coins
			e.session.roster = append(roster[:i], roster[i+1:]...)
			return
		}
	}
}

func (e *Engine) startSession(start time.Time) {
	e.session = &session{
		id:    start.UTC().Format("20060102T150405Z"),
		start: start,
	}
	for _, eq := range e.equipment {
		eq.winEvents = 0
	}
	e.listener.SessionStarted(e.Snapshot())
}

// advanceSession closes every window that ends at or before now and ends
// the session when nobody has had a valid sample for Session.EndAfter,
// handling both in time order.
func (e *Engine) advanceSession(now time.Time) {
	for e.session != nil {
		s := e.session
		interval := e.cfg.Session.CoinInterval
		boundary := s.start.Add(time.Duration(s.nextTick+1) * interval)
		endAt := s.start.Add(e.cfg.Session.EndAfter)
		if !s.lastValidAny.IsZero() {
			endAt = s.lastValidAny.Add(e.cfg.Session.EndAfter)
		}
		switch {
		case !endAt.After(now) && endAt.Before(boundary):
			e.clock = endAt
			e.endSession(e.activityEnd(), EndInactivity)
		case !boundary.After(now):
			e.clock = boundary
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
		if p.winIndex == index && p.winMax > 0 {
			zone := p.zones.ZoneOf(p.winMax)
			coins := p.zones.Coins(zone)
			p.coins += coins
			s.totalCoins += coins
			if zone >= 0 {
				p.zoneSeconds[zone] += int(interval / time.Second)
			}
			hr := p.winMax
			point.HeartRate = &hr
			point.Zone = p.zones.ID(zone)
		}
		point.Coins = p.coins
		point.Status = e.statusAt(p, windowEnd)
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

// endSession closes the open window, reports the summary and clears the
// session. Windows are closed up to end, which may lie before the clock.
func (e *Engine) endSession(end time.Time, reason EndReason) {
	s := e.session
	interval := e.cfg.Session.CoinInterval
	openStart := s.start.Add(time.Duration(s.nextTick) * interval)
	if end.After(openStart) || e.openWindowHasSamples() {
		e.closeWindow()
	}
	sum := e.summary(end, reason)
	for _, p := range s.roster {
		p.onRoster = false
	}
	e.session = nil
	e.listener.SessionEnded(sum)
}

func (e *Engine) openWindowHasSamples() bool {
	for _, p := range e.session.roster {
		if p.winIndex == e.session.nextTick && p.winMax > 0 {
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
	for _, p := range s.roster {
		ps := ParticipantSummary{
			ID:             p.id,
			Name:           p.name,
			Coins:          p.coins,
			SecondsInZone:  make(map[string]int, len(p.zones)),
			HeartRateMax:   p.maxHR,
			HeartRateMin:   p.minHR,
			Samples:        p.samples,
			InvalidSamples: p.invalid,
		}
		for i, z := range p.zones {
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

type nopListener struct{}

func (nopListener) SessionStarted(Snapshot) {}
func (nopListener) TickClosed(Tick)         {}
func (nopListener) SessionEnded(Summary)    {}
