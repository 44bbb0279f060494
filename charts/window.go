package charts

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/fitbridge/fitbridge/sessions"
)

// errTickOutOfOrder is returned for a tick whose index is not after the newest stored tick.
var errTickOutOfOrder = errors.New("tick index is not after the newest stored tick")

// liveWindow stores the newest ticks of one session, at most capacity of them, for every
// participant and piece of equipment. All series share one grid: the slot of tick index i is
// i % capacity, so appending a tick overwrites the oldest one without moving memory.
//
// liveWindow is not safe for concurrent use; the Hub guards it with its mutex.
type liveWindow struct {
	capacity   int
	intervalMS int64

	// count is the number of ticks stored, at most capacity.
	count int
	// newestIndex and newestStartMS describe the newest stored tick; valid when count > 0.
	newestIndex   int
	newestStartMS int64

	participants map[string]*participantTrack
	// roster is the participant ids of the newest tick (or of the session start before the
	// first tick), in roster order.
	roster []string

	equipment      map[string]*equipmentTrack
	equipmentOrder []string
}

// participantTrack is the stored series of one participant.
type participantTrack struct {
	name   string
	status sessions.Status
	// lastTickIndex is the newest tick that had this participant on the roster, or -1.
	lastTickIndex int
	// lastValidIndex is the newest tick with a heart rate, or -1. It outlives the window
	// so that a dropout longer than the window still gets its marker.
	lastValidIndex int
	// dropouts are the markers of the ticks in the window where the heart rate returned,
	// oldest first.
	dropouts []dropout
	points   []participantPoint
}

// participantPoint is one participant's values for one tick. The zero value means the
// participant was not on the roster for that tick, so every value is missing.
type participantPoint struct {
	onRoster     bool
	hasHeartRate bool
	heartRate    float64
	zone         string
	coins        int
}

// equipmentTrack is the stored series of one piece of equipment.
type equipmentTrack struct {
	name          string
	active        bool
	lastTickIndex int
	points        []equipmentPoint
}

// equipmentPoint is one piece of equipment's activity in one tick. The zero value means
// the tick did not report the equipment.
type equipmentPoint struct {
	reported bool
	active   bool
	events   int
}

func newLiveWindow(capacity int, intervalMS int64) *liveWindow {
	return &liveWindow{
		capacity:     capacity,
		intervalMS:   intervalMS,
		participants: make(map[string]*participantTrack),
		equipment:    make(map[string]*equipmentTrack),
	}
}

// setRoster replaces the roster and equipment list with the engine's view at session
// start. It stores no points, because the first tick has not closed yet.
func (w *liveWindow) setRoster(people []sessions.ParticipantState, gear []sessions.EquipmentState) {
	w.roster = w.roster[:0]
	for _, p := range people {
		track := w.participantTrack(p.ID)
		track.name = p.Name
		track.status = p.Status
		w.roster = append(w.roster, p.ID)
	}
	w.equipmentOrder = w.equipmentOrder[:0]
	for _, e := range gear {
		track := w.equipmentTrack(e.ID)
		track.name = e.Name
		track.active = e.Active
		w.equipmentOrder = append(w.equipmentOrder, e.ID)
	}
}

// appendTick stores t as the newest tick. Indexes skipped since the previous tick are
// stored as missing data. It returns errTickOutOfOrder, and stores nothing, when t.Index
// is not after the newest stored index.
func (w *liveWindow) appendTick(t sessions.Tick) error {
	if t.Index < 0 {
		return fmt.Errorf("invalid tick index %d: must be 0 or more", t.Index)
	}
	if w.count > 0 && t.Index <= w.newestIndex {
		return fmt.Errorf("%w: index %d, newest %d", errTickOutOfOrder, t.Index, w.newestIndex)
	}

	if w.count > 0 {
		skipped := t.Index - w.newestIndex - 1
		if skipped >= w.capacity {
			// Every stored tick would be overwritten by a missing one.
			w.count = 0
			w.clearAllSlots()
		} else {
			for index := w.newestIndex + 1; index < t.Index; index++ {
				w.clearSlot(index % w.capacity)
			}
			w.count = min(w.count+skipped, w.capacity)
		}
	}

	slot := t.Index % w.capacity
	w.clearSlot(slot)

	w.roster = w.roster[:0]
	for _, p := range t.Participants {
		track := w.participantTrack(p.ID)
		track.name = p.Name
		track.status = p.Status
		track.lastTickIndex = t.Index
		point := participantPoint{onRoster: true, zone: p.Zone, coins: p.Coins}
		// JSON has no NaN or infinity, and such a value is no heart rate anyway.
		if p.HeartRate != nil && isFinite(*p.HeartRate) {
			point.hasHeartRate = true
			point.heartRate = *p.HeartRate
			w.markReturn(track, t)
			track.lastValidIndex = t.Index
		} else {
			// A zone without a heart rate would colour a gap.
			point.zone = ""
		}
		track.points[slot] = point
		w.roster = append(w.roster, p.ID)
	}

	w.equipmentOrder = w.equipmentOrder[:0]
	for _, e := range t.Equipment {
		track := w.equipmentTrack(e.ID)
		track.active = e.Active
		track.lastTickIndex = t.Index
		track.points[slot] = equipmentPoint{reported: true, active: e.Active, events: e.Events}
		w.equipmentOrder = append(w.equipmentOrder, e.ID)
	}

	w.count = min(w.count+1, w.capacity)
	w.newestIndex = t.Index
	w.newestStartMS = t.Start.UnixMilli()
	w.pruneExpired()
	return nil
}

// markReturn adds a dropout marker when t brings track's heart rate back after one or more
// ticks without one. The marker holds absolute tick indexes and times, so it stays where
// it is while the window slides.
func (w *liveWindow) markReturn(track *participantTrack, t sessions.Tick) {
	if track.lastValidIndex < 0 || t.Index <= track.lastValidIndex+1 {
		return
	}
	missing := t.Index - track.lastValidIndex - 1
	track.dropouts = append(track.dropouts, w.dropoutAt(t.Index, t.Start.UnixMilli(), missing))
}

// dropoutAt returns the marker of a heart rate that returned in tick index, which starts
// at startMS, after missing ticks without one.
func (w *liveWindow) dropoutAt(index int, startMS int64, missing int) dropout {
	return dropout{
		Index:   index,
		AtMS:    startMS,
		SinceMS: startMS - int64(missing)*w.intervalMS,
		Ticks:   missing,
	}
}

// pruneExpired frees the tracks that are off the roster and have no point left in the
// window. Such a track would only hold missing data, so memory stays bounded by the ids
// seen within one window even when guests come and go.
func (w *liveWindow) pruneExpired() {
	oldest := w.oldestIndex()
	for id, track := range w.participants {
		if track.lastTickIndex < oldest {
			delete(w.participants, id)
			continue
		}
		kept := 0
		for kept < len(track.dropouts) && track.dropouts[kept].Index < oldest {
			kept++
		}
		track.dropouts = track.dropouts[kept:]
	}
	for id, track := range w.equipment {
		if track.lastTickIndex < oldest {
			delete(w.equipment, id)
		}
	}
	w.capOffRoster()
}

// maxOffRosterTracks bounds the tracks kept for participants no longer on
// the roster (evicted guests; the engine keeps everyone else on the roster
// until the session ends). Each track holds a whole window of points, 144
// KiB for an hour of 1 s ticks, so without a bound a flood of short-lived
// guests would cost a track per id for a whole window.
const maxOffRosterTracks = 8

// capOffRoster frees the off-roster tracks beyond maxOffRosterTracks, those
// that left the roster longest ago first.
func (w *liveWindow) capOffRoster() {
	if len(w.participants) <= len(w.roster)+maxOffRosterTracks {
		return
	}
	onRoster := make(map[string]bool, len(w.roster))
	for _, id := range w.roster {
		onRoster[id] = true
	}
	var off []string
	for id := range w.participants {
		if !onRoster[id] {
			off = append(off, id)
		}
	}
	if len(off) <= maxOffRosterTracks {
		return
	}
	slices.SortFunc(off, func(a, b string) int {
		return w.participants[a].lastTickIndex - w.participants[b].lastTickIndex
	})
	for _, id := range off[:len(off)-maxOffRosterTracks] {
		delete(w.participants, id)
	}
}

// freeOffRoster frees every track that is not on the current roster or equipment list.
// The hub calls it at session end.
func (w *liveWindow) freeOffRoster() {
	for id := range w.participants {
		if !slices.Contains(w.roster, id) {
			delete(w.participants, id)
		}
	}
	for id := range w.equipment {
		if !slices.Contains(w.equipmentOrder, id) {
			delete(w.equipment, id)
		}
	}
}

// oldestIndex returns the tick index of the oldest stored tick; with count 0 it returns
// the index after the newest one.
func (w *liveWindow) oldestIndex() int {
	return w.newestIndex - w.count + 1
}

// oldestStartMS returns the start, in Unix ms, of the oldest stored tick on the grid of
// the newest tick.
func (w *liveWindow) oldestStartMS() int64 {
	return w.newestStartMS - int64(w.count-1)*w.intervalMS
}

func (w *liveWindow) participantTrack(id string) *participantTrack {
	track, ok := w.participants[id]
	if !ok {
		track = &participantTrack{
			lastTickIndex:  -1,
			lastValidIndex: -1,
			points:         make([]participantPoint, w.capacity),
		}
		w.participants[id] = track
	}
	return track
}

func (w *liveWindow) equipmentTrack(id string) *equipmentTrack {
	track, ok := w.equipment[id]
	if !ok {
		track = &equipmentTrack{lastTickIndex: -1, points: make([]equipmentPoint, w.capacity)}
		w.equipment[id] = track
	}
	return track
}

func (w *liveWindow) clearSlot(slot int) {
	for _, track := range w.participants {
		track.points[slot] = participantPoint{}
	}
	for _, track := range w.equipment {
		track.points[slot] = equipmentPoint{}
	}
}

func (w *liveWindow) clearAllSlots() {
	for _, track := range w.participants {
		clear(track.points)
	}
	for _, track := range w.equipment {
		clear(track.points)
	}
}

func isFinite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}
