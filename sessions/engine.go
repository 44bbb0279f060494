// Package sessions is the workout session engine: roster, heart-rate zones,
// coins, participant status, and the start, end and resumption of sessions.
//
// The engine is pure. It never reads the wall clock: time moves only through
// the event times of readings and through Advance, so a replay gives the same
// result at any speed. It is not safe for concurrent use; one goroutine owns
// it and the Listener hears everything it produces.
package sessions

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/fitbridge/fitbridge/config"
)

// MultiStrapWindow is how long a strap's last valid reading counts towards
// its wearer's heart rate when the wearer has several straps. The lowest
// recent reading wins, because a loose strap reads high, not low.
const MultiStrapWindow = 10 * time.Second

// AssignGuest is the Assign target that makes a device's wearer the guest
// participant of that device.
const AssignGuest = "guest"

// Counters are the engine's running totals of rejected or dropped input,
// for metrics.
type Counters struct {
	// LateSamples counts valid samples whose coin window had already closed.
	LateSamples uint64 `json:"late_samples"`
	// Duplicates counts valid samples seen before with the same event time
	// and value from the same device, such as a QoS 1 redelivery.
	Duplicates uint64 `json:"duplicates"`
	// GuestsEvicted counts guests dropped to keep at most MaxGuests.
	GuestsEvicted uint64 `json:"guests_evicted"`
	// UnknownEquipment counts vibration readings for equipment not configured.
	UnknownEquipment uint64 `json:"unknown_equipment"`
}

// ErrUnknownParticipant is returned by Assign for a target that is neither a
// configured participant nor AssignGuest.
var ErrUnknownParticipant = errors.New("unknown participant")

// Engine runs sessions from heart-rate and vibration readings.
type Engine struct {
	cfg      config.Config
	listener Listener
	events   EventListener // nil when the listener takes no events
	onEvict  func(id string)

	clock time.Time

	configured map[string]*participant // by participant id
	byDevice   map[string]*participant // the configured wearer of each device
	assign     map[string]string       // device id -> participant id or AssignGuest
	straps     map[string]*strap       // configured devices and guests' devices
	guests     *simplelru.LRU[string, *participant]

	equipment []*equipment
	equipByID map[string]*equipment

	// pending holds the valid samples heard while no session runs; a
	// session starts once it holds Session.StartSamples recent ones.
	pending []HeartRateReading

	session *session
	// lastEnded is the session that ended last, kept so that it can resume.
	lastEnded     *session
	lastEndReason EndReason
	lastEndAt     time.Time
	// cooldownUntil blocks automatic starts after a requested end.
	cooldownUntil time.Time

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

type equipment struct {
	id          string
	name        string
	hold        time.Duration // active time after an event
	activeUntil time.Time
	events      int
	winEvents   int
}

// New returns an engine for cfg, which must already be validated. The
// listener may be nil; if it implements EventListener it also receives
// events. onGuestEvicted, if not nil, is called with the id of each guest
// dropped to keep at most Session.MaxGuests.
func New(cfg config.Config, listener Listener, onGuestEvicted func(id string)) *Engine {
	e := &Engine{
		cfg:        cfg,
		listener:   listener,
		onEvict:    onGuestEvicted,
		configured: make(map[string]*participant),
		byDevice:   make(map[string]*participant),
		assign:     make(map[string]string),
		straps:     make(map[string]*strap),
		equipByID:  make(map[string]*equipment),
	}
	if e.listener == nil {
		e.listener = nopListener{}
	}
	e.events, _ = e.listener.(EventListener)
	for _, pc := range cfg.Participants {
		p := newParticipant(pc.ID, pc.Name, false, Zones(cfg.ZonesFor(pc.ID)))
		for _, d := range pc.Devices {
			e.straps[d] = &strap{Battery: -1}
			e.byDevice[d] = p
		}
		p.devices = pc.Devices
		e.configured[pc.ID] = p
	}
	size := cfg.Session.MaxGuests
	if size < 1 {
		size = config.DefaultMaxGuests
	}
	guests, err := simplelru.NewLRU(size, e.evictGuest)
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	e.guests = guests
	for _, ec := range cfg.Equipment {
		eq := &equipment{id: ec.ID, name: ec.Name, hold: ec.Hold}
		if eq.hold <= 0 {
			eq.hold = cfg.Session.EquipmentTimeout
		}
		e.equipment = append(e.equipment, eq)
		e.equipByID[ec.ID] = eq
	}
	return e
}

// GuestID returns the participant id of a guest wearing an unknown device.
func GuestID(deviceID string) string { return config.GuestPrefix + deviceID }

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

	valid := r.Invalid == ""
	s := e.straps[r.DeviceID]
	if s == nil {
		if !valid {
			return // an invalid reading from a device nobody wears allocates nothing
		}
		s = &strap{Battery: -1}
	}
	p := e.wearer(r.DeviceID, true)
	if _, known := e.straps[r.DeviceID]; !known {
		e.straps[r.DeviceID] = s
	}
	if r.Battery >= 0 {
		s.Battery = r.Battery
	}
	if r.Time.After(s.LastSeen) {
		s.LastSeen = r.Time
	}

	if !valid {
		if e.session != nil && p.onRoster {
			p.invalid++
		}
		return
	}
	if s.duplicate(r.Time, r.BPM) {
		e.counters.Duplicates++
		return
	}
	if r.Time.After(s.LastValid) {
		s.LastBPM = r.BPM
		s.LastValid = r.Time
	}

	if e.session == nil {
		e.sampleWithoutSession(r)
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
		until := v.Time.Add(eq.hold)
		if until.After(eq.activeUntil) {
			eq.activeUntil = until
		}
	}
	if v.Vibrating != nil && !*v.Vibrating && !v.Event {
		eq.activeUntil = v.Time
	}
}

// Start starts a session now if none is running, with an empty roster. It
// ignores the restart cooldown.
func (e *Engine) Start() {
	if e.session != nil {
		return
	}
	e.pending = e.pending[:0]
	e.startSession(e.clock)
}

// Resume resumes the session that ended last, whatever its end reason, and
// reports whether there was one to resume. Windows since its end are
// recorded as a gap.
func (e *Engine) Resume() bool {
	if e.session != nil || e.lastEnded == nil {
		return false
	}
	e.resumeSession(e.clock)
	return true
}

// End ends the running session, if any, for the given reason. For a
// requested end or a shutdown the session ends at the engine's clock; at
// the end of a replay it ends with the window of the last valid sample.
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

// Assign makes target the wearer of deviceID from its next reading on.
// target is a configured participant id or AssignGuest. When the strap's
// first reading for its current wearer in the running session is less than
// Session.HandoverWindow old, and that wearer has no other strap in use, what
// they earned moves to the new wearer; after that the old wearer keeps it.
// It returns whether that happened.
func (e *Engine) Assign(deviceID, target string) (moved bool, err error) {
	if target != AssignGuest && e.configured[target] == nil {
		return false, fmt.Errorf("assign device %q: %w %q", deviceID, ErrUnknownParticipant, target)
	}
	if _, known := e.straps[deviceID]; !known {
		return false, fmt.Errorf("assign device %q: unknown device; it must have sent a reading "+
			"or be configured", deviceID)
	}
	old := e.wearer(deviceID, false)
	e.assign[deviceID] = target
	if p := e.configured[target]; p != nil && e.byDevice[deviceID] == p {
		delete(e.assign, deviceID) // back to the configured wearer
	}
	next := e.wearer(deviceID, true)
	s := e.straps[deviceID]

	if e.session != nil && old != nil && old != next && old.onRoster &&
		!s.FirstValid.IsZero() && e.clock.Sub(s.FirstValid) < e.cfg.Session.HandoverWindow &&
		!e.otherStrapInUse(old, deviceID) {
		if !next.onRoster {
			e.join(next, e.clock)
		}
		next.absorb(old)
		e.dropFromRoster(old, false)
		moved = true
	}
	s.FirstValid = time.Time{}
	ev := Event{Type: EventDeviceAssigned, Time: e.clock, Device: deviceID,
		Participant: next.id, Moved: moved}
	if old != nil {
		ev.From = old.id
	}
	if e.session != nil {
		ev.SessionID = e.session.id
	}
	e.emit(ev)
	return moved, nil
}

// Assignments returns the device assignments made with Assign that differ
// from the configuration, by device id.
func (e *Engine) Assignments() map[string]string {
	out := make(map[string]string, len(e.assign))
	for d, p := range e.assign {
		out[d] = p
	}
	return out
}

// otherStrapInUse reports whether p wears a strap other than deviceID that
// sent a valid reading in the running session.
func (e *Engine) otherStrapInUse(p *participant, deviceID string) bool {
	for id, s := range e.straps {
		if id != deviceID && !s.FirstValid.IsZero() && e.wearer(id, false) == p {
			return true
		}
	}
	return false
}

// wearer returns the participant wearing deviceID: an assignment first,
// then the configuration, else the device's guest, who is created only when
// create is set.
func (e *Engine) wearer(deviceID string, create bool) *participant {
	target, assigned := e.assign[deviceID]
	if assigned && target != AssignGuest {
		return e.configured[target]
	}
	if !assigned {
		if p := e.byDevice[deviceID]; p != nil {
			return p
		}
	}
	// Only a reading (create) counts as hearing from a guest: look-ups for
	// snapshots must not change which guest is evicted next.
	id := GuestID(deviceID)
	if !create {
		if p, ok := e.guests.Peek(id); ok {
			return p
		}
		return e.rosterGuest(id)
	}
	if p, ok := e.guests.Get(id); ok {
		return p
	}
	if p := e.rosterGuest(id); p != nil {
		e.guests.Add(id, p)
		return p
	}
	p := newParticipant(id, "Guest "+deviceID, true, Zones(e.cfg.ZonesFor(id)))
	e.guests.Add(id, p)
	return p
}

// rosterGuest returns a guest with id on the roster of the running session
// or of the one that ended last, so a returning guest keeps their coins.
func (e *Engine) rosterGuest(id string) *participant {
	for _, s := range []*session{e.session, e.lastEnded} {
		if s == nil {
			continue
		}
		for _, p := range s.roster {
			if p.id == id {
				return p
			}
		}
	}
	return nil
}

// evictGuest drops the guest heard least recently from the roster, its
// straps and Home Assistant, to keep at most Session.MaxGuests.
func (e *Engine) evictGuest(id string, p *participant) {
	e.counters.GuestsEvicted++
	e.dropFromRoster(p, true)
	for _, s := range []*session{e.lastEnded} {
		if s != nil {
			s.roster = removeParticipant(s.roster, p)
		}
	}
	device := id[len(config.GuestPrefix):]
	if _, assigned := e.assign[device]; !assigned && e.byDevice[device] == nil {
		delete(e.straps, device)
	}
	if e.onEvict != nil {
		e.onEvict(id)
	}
}

func (e *Engine) emit(ev Event) {
	if e.events != nil {
		e.events.Event(ev)
	}
}

type nopListener struct{}

func (nopListener) SessionStarted(Snapshot) {}
func (nopListener) TickClosed(Tick)         {}
func (nopListener) SessionEnded(Summary)    {}
