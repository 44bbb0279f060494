package charts

import (
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// ProtocolVersion is the chart feed protocol version, sent as "v" in every message.
// docs/chart-feed.md describes version 1.
const ProtocolVersion = 1

// Message types of protocol version 1.
const (
	TypeHello          = "hello"
	TypeSnapshot       = "snapshot"
	TypeTick           = "tick"
	TypeSessionStarted = "session_started"
	TypeSessionEnded   = "session_ended"
)

// header is the part every message starts with. Seq increases by one with every
// broadcast message. Hello and snapshot repeat the seq of the newest broadcast that the
// snapshot includes, so a client expects snapshot.seq+1 next.
type header struct {
	Type string `json:"type"`
	V    int    `json:"v"`
	Seq  uint64 `json:"seq"`
}

type helloMessage struct {
	header
	ServerVersion string `json:"server_version"`
	IntervalMS    int64  `json:"interval_ms"`
	Limits        limits `json:"limits"`
}

type limits struct {
	QueueLen              int   `json:"queue_len"`
	LiveWindowTicks       int   `json:"live_window_ticks"`
	MaxClientMessageBytes int64 `json:"max_client_message_bytes"`
	PingIntervalMS        int64 `json:"ping_interval_ms"`
}

// sessionInfo identifies a session. StartedAt is nil when the hub learned of the session
// from a tick instead of a session start.
type sessionInfo struct {
	ID        string     `json:"id"`
	StartedAt *time.Time `json:"started_at"`
	Running   bool       `json:"running"`
}

type snapshotMessage struct {
	header
	IntervalMS int64 `json:"interval_ms"`
	// StartMS and FirstIndex are nil when the series are empty.
	StartMS      *int64              `json:"start_ms"`
	FirstIndex   *int                `json:"first_index"`
	Session      *sessionInfo        `json:"session"`
	Participants []participantSeries `json:"participants"`
	Equipment    []equipmentSeries   `json:"equipment"`
}

type participantSeries struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Status    *string    `json:"status"`
	HeartRate []*float64 `json:"heart_rate"`
	Zone      []*string  `json:"zone"`
	Coins     []*int     `json:"coins"`
}

type equipmentSeries struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active []*bool `json:"active"`
	Events []*int  `json:"events"`
}

type tickMessage struct {
	header
	SessionID    string            `json:"session_id"`
	Index        int               `json:"index"`
	StartMS      int64             `json:"start_ms"`
	IntervalMS   int64             `json:"interval_ms"`
	Participants []tickParticipant `json:"participants"`
	Equipment    []tickEquipment   `json:"equipment"`
}

type tickParticipant struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    *string  `json:"status"`
	HeartRate *float64 `json:"heart_rate"`
	Zone      *string  `json:"zone"`
	Coins     int      `json:"coins"`
}

type tickEquipment struct {
	ID     string `json:"id"`
	Active bool   `json:"active"`
	Events int    `json:"events"`
}

type sessionStartedMessage struct {
	header
	IntervalMS   int64            `json:"interval_ms"`
	Session      sessionInfo      `json:"session"`
	Participants []rosterEntry    `json:"participants"`
	Equipment    []equipmentEntry `json:"equipment"`
}

type rosterEntry struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Status *string `json:"status"`
}

type equipmentEntry struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active bool    `json:"active"`
}

type sessionEndedMessage struct {
	header
	Session sessionInfo      `json:"session"`
	Summary sessions.Summary `json:"summary"`
}

func newHeader(messageType string, seq uint64) header {
	return header{Type: messageType, V: ProtocolVersion, Seq: seq}
}

// buildSnapshot copies the window into a snapshot message that shares no memory with it,
// so the caller may encode it after releasing the hub's mutex.
func buildSnapshot(w *liveWindow, session *sessionInfo, seq uint64) *snapshotMessage {
	msg := &snapshotMessage{
		header:       newHeader(TypeSnapshot, seq),
		IntervalMS:   w.intervalMS,
		Session:      session,
		Participants: make([]participantSeries, 0, len(w.roster)),
		Equipment:    make([]equipmentSeries, 0, len(w.equipmentOrder)),
	}
	if w.count > 0 {
		startMS := w.oldestStartMS()
		firstIndex := w.oldestIndex()
		msg.StartMS = &startMS
		msg.FirstIndex = &firstIndex
	}
	for _, id := range w.roster {
		msg.Participants = append(msg.Participants, participantSeriesOf(w, id))
	}
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

// buildTick converts an engine tick. A non-finite heart rate becomes null, as it does in
// the window.
func buildTick(t sessions.Tick, intervalMS int64, seq uint64) *tickMessage {
	msg := &tickMessage{
		header:       newHeader(TypeTick, seq),
		SessionID:    t.SessionID,
		Index:        t.Index,
		StartMS:      t.Start.UnixMilli(),
		IntervalMS:   intervalMS,
		Participants: make([]tickParticipant, 0, len(t.Participants)),
		Equipment:    make([]tickEquipment, 0, len(t.Equipment)),
	}
	for _, p := range t.Participants {
		entry := tickParticipant{
			ID:     p.ID,
			Name:   p.Name,
			Status: optionalString(string(p.Status)),
			Zone:   optionalString(p.Zone),
			Coins:  p.Coins,
		}
		if p.HeartRate != nil && isFinite(*p.HeartRate) {
			heartRate := *p.HeartRate
			entry.HeartRate = &heartRate
		}
		msg.Participants = append(msg.Participants, entry)
	}
	for _, e := range t.Equipment {
		msg.Equipment = append(msg.Equipment, tickEquipment{ID: e.ID, Active: e.Active, Events: e.Events})
	}
	return msg
}

func buildSessionStarted(
	s sessions.Snapshot, session sessionInfo, intervalMS int64, seq uint64,
) *sessionStartedMessage {
	msg := &sessionStartedMessage{
		header:       newHeader(TypeSessionStarted, seq),
		IntervalMS:   intervalMS,
		Session:      session,
		Participants: make([]rosterEntry, 0, len(s.Participants)),
		Equipment:    make([]equipmentEntry, 0, len(s.Equipment)),
	}
	for _, p := range s.Participants {
		msg.Participants = append(msg.Participants, rosterEntry{
			ID:     p.ID,
			Name:   p.Name,
			Status: optionalString(string(p.Status)),
		})
	}
	for _, e := range s.Equipment {
		msg.Equipment = append(msg.Equipment, equipmentEntry{
			ID:     e.ID,
			Name:   optionalString(e.Name),
			Active: e.Active,
		})
	}
	return msg
}

// optionalString returns nil for "", which JSON encodes as null.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
