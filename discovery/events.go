package discovery

import (
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// Event types of the event entities. Home Assistant drops an event whose
// type is not listed in the entity's event_types.
const (
	EventSessionStarted = "session_started"
	EventSessionResumed = "session_resumed"
	EventSessionEnded   = "session_ended"
	EventZoneChanged    = "zone_changed"
	EventCoinMilestone  = "coin_milestone"
	EventHit            = "hit"
)

// EventMessage returns an event on topic. Events are not retained: Home
// Assistant ignores retained event messages, and an old event must not fire
// an automation again.
func EventMessage(topic string, payload []byte) Message {
	return Message{Topic: topic, Payload: payload, QoS: 1}
}

// The keys of every event payload other than event_type become attributes of
// the event entity's state in Home Assistant.

type sessionStartedEvent struct {
	EventType string `json:"event_type"`
	SessionID string `json:"session_id"`
	StartedAt string `json:"started_at"`
}

// SessionStartedPayload renders the session_started event.
func SessionStartedPayload(sessionID string, startedAt time.Time) []byte {
	return marshalJSON(sessionStartedEvent{
		EventType: EventSessionStarted, SessionID: sessionID, StartedAt: formatTime(startedAt),
	})
}

type sessionResumedEvent struct {
	EventType string `json:"event_type"`
	SessionID string `json:"session_id"`
}

// SessionResumedPayload renders the session_resumed event.
func SessionResumedPayload(sessionID string) []byte {
	return marshalJSON(sessionResumedEvent{EventType: EventSessionResumed, SessionID: sessionID})
}

type sessionEndedEvent struct {
	EventType    string                    `json:"event_type"`
	SessionID    string                    `json:"session_id"`
	Reason       string                    `json:"reason"`
	StartedAt    string                    `json:"started_at"`
	EndedAt      string                    `json:"ended_at"`
	TotalCoins   int                       `json:"total_coins"`
	Participants []sessionEndedParticipant `json:"participants"`
}

type sessionEndedParticipant struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Coins int    `json:"coins"`
}

// SessionEndedPayload renders the session_ended event from a summary: the
// end reason, the total coins and each participant's id, name and coins in
// roster order.
func SessionEndedPayload(sum sessions.Summary) []byte {
	ev := sessionEndedEvent{
		EventType:    EventSessionEnded,
		SessionID:    sum.SessionID,
		Reason:       string(sum.EndReason),
		StartedAt:    formatTime(sum.StartedAt),
		EndedAt:      formatTime(sum.EndedAt),
		Participants: make([]sessionEndedParticipant, 0, len(sum.Participants)),
	}
	for _, p := range sum.Participants {
		ev.TotalCoins += p.Coins
		ev.Participants = append(ev.Participants,
			sessionEndedParticipant{ID: p.ID, Name: p.Name, Coins: p.Coins})
	}
	return marshalJSON(ev)
}

type zoneChangedEvent struct {
	EventType    string  `json:"event_type"`
	Zone         string  `json:"zone"`
	PreviousZone *string `json:"previous_zone"`
}

// ZoneChangedPayload renders the zone_changed event of a participant whose
// committed zone became zone. previous is null for the first zone of a
// session.
func ZoneChangedPayload(zone, previous string) []byte {
	ev := zoneChangedEvent{EventType: EventZoneChanged, Zone: zone}
	if previous != "" {
		ev.PreviousZone = &previous
	}
	return marshalJSON(ev)
}

type coinMilestoneEvent struct {
	EventType string `json:"event_type"`
	Coins     int    `json:"coins"`
}

// CoinMilestonePayload renders the coin_milestone event of a participant
// who has reached coins.
func CoinMilestonePayload(coins int) []byte {
	return marshalJSON(coinMilestoneEvent{EventType: EventCoinMilestone, Coins: coins})
}

type hitEvent struct {
	EventType string   `json:"event_type"`
	Hits      int      `json:"hits"`
	Events    int      `json:"events"`
	Intensity *float64 `json:"intensity"`
}

// HitPayload renders the hit event of a piece of equipment. hits is the
// number of vibration events it covers, more than one when several arrived
// between two publishes. events is the total since fitbridge started, and
// intensity the sensor's strength, null when unknown or not finite.
func HitPayload(hits, events int, intensity *float64) []byte {
	ev := hitEvent{EventType: EventHit, Hits: hits, Events: events}
	if intensity != nil && finite(*intensity) {
		value := *intensity
		ev.Intensity = &value
	}
	return marshalJSON(ev)
}
