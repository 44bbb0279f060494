package charts

import (
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// ProtocolVersion is the chart feed protocol version, sent as "v" in every server message.
// docs/chart-feed.md describes version 2.
const ProtocolVersion = 2

// Subprotocol is the WebSocket subprotocol name of this protocol version. The server
// selects it when the client offers it; offering it is optional.
const Subprotocol = "fitbridge.v2"

// Topic names. Every broadcast message belongs to exactly one topic, and each topic has
// its own sequence numbers.
const (
	TopicSession   = "session"
	TopicFitness   = "fitness"
	TopicEquipment = "equipment"
)

// allTopics lists the topics in the order in which a new connection receives their
// initial messages.
var allTopics = []string{TopicSession, TopicFitness, TopicEquipment}

// Message types of protocol version 2.
const (
	TypeHello          = "hello"
	TypeSnapshot       = "snapshot"
	TypeResumed        = "resumed"
	TypePoints         = "points"
	TypeSessionStarted = "session_started"
	TypeSessionState   = "session_state"
	TypeSessionEnded   = "session_ended"
	TypeRange          = "range"
	TypeRangeResult    = "range_result"
	TypeError          = "error"
)

// Error codes of error messages.
const (
	ErrorInvalidRequest  = "invalid_request"
	ErrorUnknownSession  = "unknown_session"
	ErrorStoreFailed     = "store_failed"
	ErrorNoSavedSessions = "no_saved_sessions"
)

// header starts every topic message. Seq is the topic's sequence number: broadcasts
// advance it by one, and a snapshot sent on connect repeats the seq of the newest
// broadcast it includes.
type header struct {
	Type  string `json:"type"`
	V     int    `json:"v"`
	Topic string `json:"topic"`
	Seq   uint64 `json:"seq"`
}

func newHeader(messageType, topic string, seq uint64) header {
	return header{Type: messageType, V: ProtocolVersion, Topic: topic, Seq: seq}
}

type helloMessage struct {
	Type          string   `json:"type"`
	V             int      `json:"v"`
	Epoch         string   `json:"epoch"`
	ServerVersion string   `json:"server_version"`
	IntervalMS    int64    `json:"interval_ms"`
	Topics        []string `json:"topics"`
	Limits        limits   `json:"limits"`
	Zones         []Zone   `json:"zones"`
	// ParticipantZones holds the zone lower bounds that differ from Zones, by participant
	// id and zone id.
	ParticipantZones map[string]map[string]float64 `json:"participant_zones"`
}

type limits struct {
	QueueLen              int   `json:"queue_len"`
	ResumeMessages        int   `json:"resume_messages"`
	LiveWindowTicks       int   `json:"live_window_ticks"`
	MaxClientMessageBytes int64 `json:"max_client_message_bytes"`
	MaxPendingRequests    int   `json:"max_pending_requests"`
	MaxRangePoints        int   `json:"max_range_points"`
	PingIntervalMS        int64 `json:"ping_interval_ms"`
}

// Zone is one heart-rate zone as the dashboard draws it.
type Zone struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	MinBPM float64 `json:"min_bpm"`
	Coins  int     `json:"coins"`
}

// resumedMessage confirms to a reconnecting client that its state at Seq is still valid,
// and that the broadcasts after Seq follow.
type resumedMessage struct {
	header
	Count int `json:"count"`
}

// Session topic.

// sessionState is the whole state of the session topic; every session message carries it.
type sessionState struct {
	ID        string     `json:"id"`
	StartedAt *time.Time `json:"started_at"`
	Running   bool       `json:"running"`
	EndedAt   *time.Time `json:"ended_at"`
	EndReason *string    `json:"end_reason"`
	// IntervalMS is the session's tick length.
	IntervalMS int64 `json:"interval_ms"`
	// ElapsedMS is the session time up to the end of the newest tick, or up to the end.
	ElapsedMS int64 `json:"elapsed_ms"`
	// TickIndex is the index of the newest tick, or nil before the first one.
	TickIndex    *int                `json:"tick_index"`
	TotalCoins   int                 `json:"total_coins"`
	Participants []rosterParticipant `json:"participants"`
	Equipment    []rosterEquipment   `json:"equipment"`
}

type rosterParticipant struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    *string  `json:"status"`
	HeartRate *float64 `json:"heart_rate"`
	Zone      *string  `json:"zone"`
	Coins     int      `json:"coins"`
}

type rosterEquipment struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active bool    `json:"active"`
	Events int     `json:"events"`
}

type sessionSnapshotMessage struct {
	header
	Session *sessionState `json:"session"`
}

type sessionMessage struct {
	header
	Session sessionState `json:"session"`
}

type sessionEndedMessage struct {
	header
	Session sessionState     `json:"session"`
	Summary sessions.Summary `json:"summary"`
}

// Fitness topic.

type fitnessSnapshotMessage struct {
	header
	SessionID  *string `json:"session_id"`
	IntervalMS int64   `json:"interval_ms"`
	// StartMS and FirstIndex are nil when the series are empty.
	StartMS      *int64              `json:"start_ms"`
	FirstIndex   *int                `json:"first_index"`
	Participants []participantSeries `json:"participants"`
}

type participantSeries struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Status    *string    `json:"status"`
	HeartRate []*float64 `json:"heart_rate"`
	Zone      []*string  `json:"zone"`
	Coins     []*int     `json:"coins"`
	Dropouts  []dropout  `json:"dropouts"`
}

// dropout marks the tick at which a participant's heart rate returned after one or more
// ticks without one. It is fixed to that tick: later messages never move it.
type dropout struct {
	// Index and AtMS are the tick where the data returned.
	Index int   `json:"index"`
	AtMS  int64 `json:"at_ms"`
	// SinceMS is the start of the first tick without a heart rate, and Ticks the number
	// of ticks without one.
	SinceMS int64 `json:"since_ms"`
	Ticks   int   `json:"ticks"`
}

type fitnessPointsMessage struct {
	header
	SessionID    string         `json:"session_id"`
	Index        int            `json:"index"`
	StartMS      int64          `json:"start_ms"`
	IntervalMS   int64          `json:"interval_ms"`
	Participants []fitnessPoint `json:"participants"`
}

type fitnessPoint struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    *string  `json:"status"`
	HeartRate *float64 `json:"heart_rate"`
	Zone      *string  `json:"zone"`
	Coins     int      `json:"coins"`
	Dropout   *dropout `json:"dropout,omitempty"`
}

// Equipment topic.

type equipmentSnapshotMessage struct {
	header
	SessionID  *string           `json:"session_id"`
	IntervalMS int64             `json:"interval_ms"`
	StartMS    *int64            `json:"start_ms"`
	FirstIndex *int              `json:"first_index"`
	Equipment  []equipmentSeries `json:"equipment"`
}

type equipmentSeries struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active []*bool `json:"active"`
	Events []*int  `json:"events"`
}

type equipmentPointsMessage struct {
	header
	SessionID  string           `json:"session_id"`
	Index      int              `json:"index"`
	StartMS    int64            `json:"start_ms"`
	IntervalMS int64            `json:"interval_ms"`
	Equipment  []equipmentEntry `json:"equipment"`
}

type equipmentEntry struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active bool    `json:"active"`
	Events int     `json:"events"`
}

// Requests and replies. They belong to one connection and carry no seq.

// rangeRequest requests a time range of one topic's series, downsampled to at most
// MaxPoints buckets.
type rangeRequest struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	SessionID string `json:"session_id"`
	FromMS    *int64 `json:"from_ms"`
	ToMS      *int64 `json:"to_ms"`
	MaxPoints int    `json:"max_points"`
}

type rangeResultMessage struct {
	Type      string `json:"type"`
	V         int    `json:"v"`
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	SessionID string `json:"session_id"`
	// Live is true when the reply came from the live window, false for a saved session.
	Live   bool  `json:"live"`
	FromMS int64 `json:"from_ms"`
	ToMS   int64 `json:"to_ms"`
	// IntervalMS is the bucket width, a whole multiple of the session's tick length.
	IntervalMS     int64 `json:"interval_ms"`
	TickMS         int64 `json:"tick_interval_ms"`
	TicksPerBucket int   `json:"ticks_per_bucket"`
	// StartMS and FirstIndex describe the first bucket; nil when no tick is in the range.
	StartMS    *int64 `json:"start_ms"`
	FirstIndex *int   `json:"first_index"`
}

type participantBins struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	HeartRateMin []*float64 `json:"heart_rate_min"`
	HeartRateMax []*float64 `json:"heart_rate_max"`
	Zone         []*string  `json:"zone"`
	Coins        []*int     `json:"coins"`
}

type equipmentBins struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Active []*bool `json:"active"`
	Events []*int  `json:"events"`
}

type errorMessage struct {
	Type    string `json:"type"`
	V       int    `json:"v"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// optionalString returns nil for "", which JSON encodes as null.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
