package charts

import (
	"slices"

	"github.com/fitbridge/fitbridge/sessions"
)

// Event implements sessions.EventListener. The chart feed acts on one event: a strap
// handed over early enough that its earnings moved to the new wearer. The previous
// wearer's series in the live window move too, and the clients get a new fitness
// snapshot, because points already sent cannot be changed by an incremental message.
func (h *Hub) Event(ev sessions.Event) {
	if ev.Type != sessions.EventDeviceAssigned || !ev.Moved {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.session == nil || h.session.ID != ev.SessionID || h.window == nil {
		return
	}
	if !h.window.moveSeries(ev.From, ev.Participant, h.rosterName(ev.Participant)) {
		return
	}
	h.broadcastLocked(TopicFitness, buildFitnessSnapshot(h.window, optionalString(ev.SessionID),
		h.topics[TopicFitness].seq+1))
}

// rosterName returns the name the session's roster gives a participant, or the id when
// the roster does not list them yet. h.mu must be held.
func (h *Hub) rosterName(id string) string {
	for _, p := range h.session.Participants {
		if p.ID == id {
			return p.Name
		}
	}
	return id
}

// moveSeries merges the track of from into the track of to, tick by tick, and puts to in
// from's place on the roster unless to is on it already. For each tick, to keeps its own
// heart rate and zone where it had one and takes from's otherwise. The coin counts add up,
// because the engine adds the previous wearer's coins to the new wearer's. name is to's
// name for a track that did not exist. It reports whether from had a track.
func (w *liveWindow) moveSeries(from, to, name string) bool {
	src := w.participants[from]
	if src == nil || from == to {
		return false
	}
	dst, existed := w.participants[to]
	if !existed {
		dst = w.participantTrack(to)
		dst.name, dst.status = name, src.status
	}
	for slot := range dst.points {
		f, t := src.points[slot], &dst.points[slot]
		switch {
		case !f.onRoster:
		case !t.onRoster:
			*t = f
		default:
			if !t.hasHeartRate && f.hasHeartRate {
				t.hasHeartRate, t.heartRate, t.zone = true, f.heartRate, f.zone
			}
			t.coins += f.coins
		}
	}
	dst.lastTickIndex = max(dst.lastTickIndex, src.lastTickIndex)
	w.rebuildDropouts(dst, max(dst.lastValidIndex, src.lastValidIndex))
	delete(w.participants, from)

	at := slices.Index(w.roster, from)
	switch {
	case at < 0:
	case slices.Contains(w.roster, to):
		w.roster = slices.Delete(w.roster, at, at+1)
	default:
		w.roster[at] = to
	}
	return true
}

// rebuildDropouts recomputes a merged track's dropout markers from its points in the
// window. A dropout that began before the window and ended inside it loses its marker,
// because the window no longer shows where it began. lastValid is the newest tick with a
// heart rate in either merged track.
func (w *liveWindow) rebuildDropouts(track *participantTrack, lastValid int) {
	track.dropouts = track.dropouts[:0]
	previous := -1
	for index := w.oldestIndex(); index <= w.newestIndex && w.count > 0; index++ {
		point := track.points[index%w.capacity]
		if !point.hasHeartRate {
			continue
		}
		if previous >= 0 && index > previous+1 {
			startMS := w.newestStartMS - int64(w.newestIndex-index)*w.intervalMS
			track.dropouts = append(track.dropouts, w.dropoutAt(index, startMS, index-previous-1))
		}
		previous = index
	}
	track.lastValidIndex = lastValid
}
