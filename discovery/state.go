package discovery

import (
	"math"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// The state payloads below are structs so their keys have a fixed order.
// Pointer fields are JSON null when unknown, which Home Assistant shows as an
// unknown state. No payload ever contains NaN or an infinity.

type bridgeState struct {
	Version   string `json:"version"`
	StartedAt string `json:"started_at"`
}

// BridgeStatePayload renders the retained JSON of Topics.BridgeState:
// {"version": string, "started_at": RFC 3339 in UTC}.
func BridgeStatePayload(version string, startedAt time.Time) []byte {
	return marshalJSON(bridgeState{Version: version, StartedAt: formatTime(startedAt)})
}

type sessionState struct {
	Running      bool    `json:"running"`
	SessionID    *string `json:"session_id"`
	StartedAt    *string `json:"started_at"`
	ElapsedS     int64   `json:"elapsed_s"`
	Participants int     `json:"participants"`
	TotalCoins   int     `json:"total_coins"`
}

// SessionStatePayload renders the JSON of Topics.SessionState. session_id and
// started_at are null unless a session is running. elapsed_s is the elapsed
// session time in whole seconds (never negative). participants counts the
// participants whose status is active or idle.
func SessionStatePayload(s sessions.Snapshot) []byte {
	state := sessionState{
		Running:    s.Running,
		ElapsedS:   max(0, int64(s.Elapsed/time.Second)),
		TotalCoins: s.TotalCoins,
	}
	if s.Running && s.SessionID != "" {
		state.SessionID = &s.SessionID
	}
	if s.Running && !s.StartedAt.IsZero() {
		started := formatTime(s.StartedAt)
		state.StartedAt = &started
	}
	for _, p := range s.Participants {
		if ParticipantAvailable(p) {
			state.Participants++
		}
	}
	return marshalJSON(state)
}

type participantState struct {
	HeartRate *float64 `json:"heart_rate"`
	Zone      *string  `json:"zone"`
	Coins     int      `json:"coins"`
	Status    *string  `json:"status"`
	Active    bool     `json:"active"`
}

// ParticipantStatePayload renders the JSON of Topics.ParticipantState.
// heart_rate is in bpm rounded to 0.1, and null when there is no valid heart
// rate (zero, negative or not finite). zone and status are null when empty.
// active is true only for the active status.
func ParticipantStatePayload(p sessions.ParticipantState) []byte {
	state := participantState{
		HeartRate: heartRate(p.HeartRate),
		Coins:     p.Coins,
		Active:    p.Status == sessions.StatusActive,
	}
	if p.Zone != "" {
		state.Zone = &p.Zone
	}
	if p.Status != "" {
		status := string(p.Status)
		state.Status = &status
	}
	return marshalJSON(state)
}

// ParticipantAvailable reports whether a participant's availability topic
// carries "online", which is while the participant's status is active or
// idle. It is false before the first sample of a session and after leaving.
func ParticipantAvailable(p sessions.ParticipantState) bool {
	return p.Status == sessions.StatusActive || p.Status == sessions.StatusIdle
}

// AvailabilityPayload returns PayloadOnline or PayloadOffline.
func AvailabilityPayload(online bool) []byte {
	if online {
		return []byte(PayloadOnline)
	}
	return []byte(PayloadOffline)
}

// DeviceState is the bridge's view of one heart-rate strap.
type DeviceState struct {
	// Battery is the battery level in percent, or -1 when unknown.
	Battery int
	// LastSeen is the time of the strap's last message, zero when none came.
	LastSeen time.Time
	// ParticipantID is the id of the participant the strap reports for.
	ParticipantID string
}

type deviceState struct {
	Battery     *int    `json:"battery"`
	LastSeen    *string `json:"last_seen"`
	Participant string  `json:"participant"`
}

// DeviceStatePayload renders the JSON of Topics.DeviceState. battery is null
// outside 0..100, last_seen (RFC 3339 in UTC) is null for a zero time, and
// participant is the participant id.
func DeviceStatePayload(d DeviceState) []byte {
	state := deviceState{
		Battery:     intInRange(d.Battery, 0, 100),
		Participant: d.ParticipantID,
	}
	if !d.LastSeen.IsZero() {
		seen := formatTime(d.LastSeen)
		state.LastSeen = &seen
	}
	return marshalJSON(state)
}

// SensorReport is the latest values a zigbee2mqtt vibration sensor reported,
// which the session engine does not keep.
type SensorReport struct {
	// Vibration is the sensor's last reported vibration state.
	Vibration bool
	// Battery is the battery level in percent, or -1 when unknown.
	Battery int
	// LinkQuality is the zigbee link quality indicator (0 to 255), or -1
	// when unknown.
	LinkQuality int
}

type equipmentState struct {
	Vibration   bool `json:"vibration"`
	Active      bool `json:"active"`
	Events      int  `json:"events"`
	Battery     *int `json:"battery"`
	LinkQuality *int `json:"linkquality"`
}

// EquipmentStatePayload renders the JSON of Topics.EquipmentState from the
// engine's view of the equipment and the sensor's last report. battery is
// null outside 0..100 and linkquality is null outside 0..255.
func EquipmentStatePayload(e sessions.EquipmentState, r SensorReport) []byte {
	return marshalJSON(equipmentState{
		Vibration:   r.Vibration,
		Active:      e.Active,
		Events:      e.Events,
		Battery:     intInRange(r.Battery, 0, 100),
		LinkQuality: intInRange(r.LinkQuality, 0, 255),
	})
}

// heartRate returns bpm rounded to 0.1, or nil when it is not a valid heart
// rate. The engine uses 0 for "no heart rate".
func heartRate(bpm float64) *float64 {
	if math.IsNaN(bpm) || math.IsInf(bpm, 0) || bpm <= 0 {
		return nil
	}
	rounded := math.Round(bpm*10) / 10
	return &rounded
}

func intInRange(v, lo, hi int) *int {
	if v < lo || v > hi {
		return nil
	}
	return &v
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
