package charts

import (
	"maps"
	"slices"

	"github.com/fitbridge/fitbridge/sessions"
)

// Builders of topic messages. Each copies what it needs, so the caller may encode the result
// after releasing the hub's mutex.

// seriesRange returns the interval, start and first index of the window's series, with
// start and first index nil when the window is empty.
func seriesRange(w *liveWindow) (startMS *int64, firstIndex *int) {
	if w.count == 0 {
		return nil, nil
	}
	start := w.oldestStartMS()
	first := w.oldestIndex()
	return &start, &first
}

func buildFitnessSnapshot(w *liveWindow, sessionID *string, seq uint64) *fitnessSnapshotMessage {
	msg := &fitnessSnapshotMessage{
		header:       newHeader(TypeSnapshot, TopicFitness, seq),
		SessionID:    sessionID,
		IntervalMS:   w.intervalMS,
		Participants: make([]participantSeries, 0, len(w.roster)),
	}
	msg.StartMS, msg.FirstIndex = seriesRange(w)
	for _, id := range w.roster {
		msg.Participants = append(msg.Participants, participantSeriesOf(w, id))
	}
	return msg
}

func buildEquipmentSnapshot(w *liveWindow, sessionID *string, seq uint64) *equipmentSnapshotMessage {
	msg := &equipmentSnapshotMessage{
		header:     newHeader(TypeSnapshot, TopicEquipment, seq),
		SessionID:  sessionID,
		IntervalMS: w.intervalMS,
		Equipment:  make([]equipmentSeries, 0, len(w.equipmentOrder)),
	}
	msg.StartMS, msg.FirstIndex = seriesRange(w)
	for _, id := range w.equipmentOrder {
		msg.Equipment = append(msg.Equipment, equipmentSeriesOf(w, id))
	}
	return msg
}

func participantSeriesOf(w *liveWindow, id string) participantSeries {
	track := w.participants[id]
	series := participantSeries{
		ID:        id,
		Name:      track.name,
		Status:    optionalString(string(track.status)),
		HeartRate: make([]*float64, w.count),
		Zone:      make([]*string, w.count),
		Coins:     make([]*int, w.count),
		Dropouts:  append([]dropout{}, track.dropouts...),
	}
	// One backing array per series keeps the pointers to a few allocations.
	heartRates := make([]float64, w.count)
	zones := make([]string, w.count)
	coins := make([]int, w.count)
	oldest := w.oldestIndex()
	for i := range w.count {
		point := track.points[(oldest+i)%w.capacity]
		if !point.onRoster {
			continue
		}
		if point.hasHeartRate {
			heartRates[i] = point.heartRate
			series.HeartRate[i] = &heartRates[i]
		}
		if point.zone != "" {
			zones[i] = point.zone
			series.Zone[i] = &zones[i]
		}
		coins[i] = point.coins
		series.Coins[i] = &coins[i]
	}
	return series
}

func equipmentSeriesOf(w *liveWindow, id string) equipmentSeries {
	track := w.equipment[id]
	series := equipmentSeries{
		ID:     id,
		Name:   optionalString(track.name),
		Active: make([]*bool, w.count),
		Events: make([]*int, w.count),
	}
	actives := make([]bool, w.count)
	events := make([]int, w.count)
	oldest := w.oldestIndex()
	for i := range w.count {
		point := track.points[(oldest+i)%w.capacity]
		if !point.reported {
			continue
		}
		actives[i] = point.active
		series.Active[i] = &actives[i]
		events[i] = point.events
		series.Events[i] = &events[i]
	}
	return series
}

// timelineOf copies every series the window holds, including those of participants who
// have left the roster but still have points in the window.
func timelineOf(w *liveWindow, sessionID string) Timeline {
	tl := Timeline{
		SessionID:  sessionID,
		IntervalMS: w.intervalMS,
		Length:     w.count,
	}
	if w.count > 0 {
		tl.FirstIndex = w.oldestIndex()
		tl.StartMS = w.oldestStartMS()
	}
	for _, id := range slices.Sorted(maps.Keys(w.participants)) {
		s := participantSeriesOf(w, id)
		tl.Participants = append(tl.Participants, ParticipantTimeline{
			ID: s.ID, Name: s.Name, HeartRate: s.HeartRate, Zone: s.Zone, Coins: s.Coins,
		})
	}
	for _, id := range slices.Sorted(maps.Keys(w.equipment)) {
		s := equipmentSeriesOf(w, id)
		tl.Equipment = append(tl.Equipment, EquipmentTimeline{
			ID: s.ID, Name: s.Name, Active: s.Active, Events: s.Events,
		})
	}
	return tl
}

// buildFitnessPoints converts a tick that the window has stored. A non-finite heart rate
// becomes null, as it does in the window, and a participant whose heart rate returned in
// this tick carries the window's dropout marker.
func buildFitnessPoints(w *liveWindow, t sessions.Tick, seq uint64) *fitnessPointsMessage {
	msg := &fitnessPointsMessage{
		header:       newHeader(TypePoints, TopicFitness, seq),
		SessionID:    t.SessionID,
		Index:        t.Index,
		StartMS:      t.Start.UnixMilli(),
		IntervalMS:   w.intervalMS,
		Participants: make([]fitnessPoint, 0, len(t.Participants)),
	}
	for _, p := range t.Participants {
		entry := fitnessPoint{
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
		if track := w.participants[p.ID]; track != nil && len(track.dropouts) > 0 {
			if last := track.dropouts[len(track.dropouts)-1]; last.Index == t.Index {
				entry.Dropout = &last
			}
		}
		msg.Participants = append(msg.Participants, entry)
	}
	return msg
}

func buildEquipmentPoints(w *liveWindow, t sessions.Tick, seq uint64) *equipmentPointsMessage {
	msg := &equipmentPointsMessage{
		header:     newHeader(TypePoints, TopicEquipment, seq),
		SessionID:  t.SessionID,
		Index:      t.Index,
		StartMS:    t.Start.UnixMilli(),
		IntervalMS: w.intervalMS,
		Equipment:  make([]equipmentEntry, 0, len(t.Equipment)),
	}
	for _, e := range t.Equipment {
		point := equipmentEntry{ID: e.ID, Active: e.Active, Events: e.Events}
		if track := w.equipment[e.ID]; track != nil {
			point.Name = optionalString(track.name)
		}
		msg.Equipment = append(msg.Equipment, point)
	}
	return msg
}
