package discovery

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

func TestEventPayloads(t *testing.T) {
	strength := 12.0
	nan := math.NaN()
	ended := sessions.Summary{
		SessionID: "s1", StartedAt: testStart, EndedAt: testStart.Add(time.Hour),
		EndReason: sessions.EndInactivity,
		Participants: []sessions.ParticipantSummary{
			{ID: "alex", Name: "Alex", Coins: 120}, {ID: "guest-1", Name: "Guest 1", Coins: 7},
		},
	}
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"session started", SessionStartedPayload("s1", testStart),
			`{"event_type":"session_started","session_id":"s1","started_at":"2026-06-28T02:59:41Z"}`},
		{"session resumed", SessionResumedPayload("s1"),
			`{"event_type":"session_resumed","session_id":"s1"}`},
		{"session ended", SessionEndedPayload(ended),
			`{"event_type":"session_ended","session_id":"s1","reason":"inactivity",` +
				`"started_at":"2026-06-28T02:59:41Z","ended_at":"2026-06-28T03:59:41Z",` +
				`"total_coins":127,"participants":[{"id":"alex","name":"Alex","coins":120},` +
				`{"id":"guest-1","name":"Guest 1","coins":7}]}`},
		{"session ended empty", SessionEndedPayload(sessions.Summary{SessionID: "s2"}),
			`{"event_type":"session_ended","session_id":"s2","reason":"",` +
				`"started_at":"0001-01-01T00:00:00Z","ended_at":"0001-01-01T00:00:00Z",` +
				`"total_coins":0,"participants":[]}`},
		{"zone changed", ZoneChangedPayload("warm", "active"),
			`{"event_type":"zone_changed","zone":"warm","previous_zone":"active"}`},
		{"first zone", ZoneChangedPayload("cool", ""),
			`{"event_type":"zone_changed","zone":"cool","previous_zone":null}`},
		{"milestone", CoinMilestonePayload(200), `{"event_type":"coin_milestone","coins":200}`},
		{"hit", HitPayload(1, 4, &strength), `{"event_type":"hit","hits":1,"events":4,"intensity":12}`},
		{"hit NaN", HitPayload(2, 6, &nan), `{"event_type":"hit","hits":2,"events":6,"intensity":null}`},
	}
	for _, tt := range tests {
		if string(tt.payload) != tt.want {
			t.Errorf("%s: payload =\n%s\nwant\n%s", tt.name, tt.payload, tt.want)
		}
	}
}

// TestEventTypesMatchEntities checks that every event payload carries an
// event_type its entity lists, because Home Assistant drops any other.
func TestEventTypesMatchEntities(t *testing.T) {
	tests := []struct {
		types   []string
		payload []byte
	}{
		{SessionEventTypes, SessionStartedPayload("s", testStart)},
		{SessionEventTypes, SessionResumedPayload("s")},
		{SessionEventTypes, SessionEndedPayload(sessions.Summary{})},
		{ParticipantEventTypes, ZoneChangedPayload("a", "")},
		{ParticipantEventTypes, CoinMilestonePayload(100)},
		{EquipmentEventTypes, HitPayload(1, 1, nil)},
	}
	for _, tt := range tests {
		var ev struct {
			EventType string `json:"event_type"`
		}
		if err := json.Unmarshal(tt.payload, &ev); err != nil {
			t.Fatalf("%s: %v", tt.payload, err)
		}
		if !slices.Contains(tt.types, ev.EventType) {
			t.Errorf("event type %q is not in the entity's event_types %q", ev.EventType, tt.types)
		}
	}
	if m := EventMessage("t", []byte("{}")); m.Retain || m.QoS != 1 {
		t.Errorf("EventMessage retain %v QoS %d, want a QoS 1 message that is not retained",
			m.Retain, m.QoS)
	}
}
