package discovery

import (
	"math"
	"strings"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

// The state payloads below are structs so their keys have a fixed order.
// Pointer fields are JSON null when unknown, which Home Assistant shows as an
// unknown state. No payload ever contains NaN or an infinity.

// Memory pressure levels of BridgeInfo, the level names of the heap
// watchdog.
const (
	MemoryNormal   = "normal"
	MemoryHigh     = "high"
	MemoryCritical = "critical"
)

// BridgeInfo is the process information on the bridge state topic.
type BridgeInfo struct {
	Version   string
	StartedAt time.Time
	// MemoryPressure is MemoryNormal, MemoryHigh or MemoryCritical, or empty
	// while no heap watchdog has reported a level.
	MemoryPressure string
}

type bridgeState struct {
	Version             string  `json:"version"`
	StartedAt           string  `json:"started_at"`
	MemoryPressure      *bool   `json:"memory_pressure"`
	MemoryPressureLevel *string `json:"memory_pressure_level"`
}

// BridgeStatePayload renders the retained JSON of Topics.BridgeState:
// version, started_at (RFC 3339 in UTC), memory_pressure (true at the high
// and critical levels) and memory_pressure_level. Both memory fields are
// null while the level is unknown.
func BridgeStatePayload(info BridgeInfo) []byte {
	state := bridgeState{Version: info.Version, StartedAt: formatTime(info.StartedAt)}
	if info.MemoryPressure != "" {
		level := info.MemoryPressure
		high := level == MemoryHigh || level == MemoryCritical
		state.MemoryPressure = &high
		state.MemoryPressureLevel = &level
	}
	return marshalJSON(state)
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
	HeartRate    *float64        `json:"heart_rate"`
	Zone         *string         `json:"zone"`
	ZoneProgress *float64        `json:"zone_progress"`
	Coins        int             `json:"coins"`
	Status       *string         `json:"status"`
	Active       bool            `json:"active"`
	ZoneSeconds  map[string]*int `json:"zone_seconds"`
}

// ParticipantStatePayload renders the JSON of Topics.ParticipantState.
// heart_rate is in bpm rounded to 0.1, and null when there is no valid heart
// rate (zero, negative or not finite). zone is the committed zone id, and
// zone_progress is the percent (0 to 100) from the start of the heart rate's
// zone to the next one. Both are null while unknown. status is null before
// the participant's first sample, and active is true only for the active
// status. zone_seconds has a key for every configured zone: the seconds in
// that zone this session from secondsInZone, or null when secondsInZone is
// nil or lacks the zone.
func (b *Builder) ParticipantStatePayload(p sessions.ParticipantState,
	secondsInZone map[string]int) []byte {
	state := participantState{
		HeartRate:   heartRate(p.HeartRate),
		Coins:       p.Coins,
		Active:      p.Status == sessions.StatusActive,
		ZoneSeconds: make(map[string]*int, len(b.zones)),
	}
	if p.CommittedZone != "" {
		state.Zone = &p.CommittedZone
		state.ZoneProgress = percent(p.Progress)
	}
	if p.Status != "" {
		status := string(p.Status)
		state.Status = &status
	}
	for _, z := range b.zones {
		if seconds, ok := secondsInZone[z.id]; ok && seconds >= 0 {
			state.ZoneSeconds[z.id] = &seconds
		} else {
			state.ZoneSeconds[z.id] = nil
		}
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
	Participant *string `json:"participant"`
	Assigned    *string `json:"assigned"`
}

// DeviceStatePayload renders the JSON of Topics.DeviceState. battery is null
// outside 0..100, last_seen (RFC 3339 in UTC) is null for a zero time,
// participant is the participant id, and assigned is the option of the
// strap's select: the participant id, or AssignGuest for a guest.
func DeviceStatePayload(d DeviceState) []byte {
	state := deviceState{Battery: intInRange(d.Battery, 0, 100)}
	if !d.LastSeen.IsZero() {
		seen := formatTime(d.LastSeen)
		state.LastSeen = &seen
	}
	if d.ParticipantID != "" {
		participant := d.ParticipantID
		assigned := participant
		if strings.HasPrefix(participant, config.GuestPrefix) {
			assigned = AssignGuest
		}
		state.Participant = &participant
		state.Assigned = &assigned
	}
	return marshalJSON(state)
}

// SensorReport is the latest values a zigbee2mqtt vibration sensor reported,
// which the session engine does not keep.
type SensorReport struct {
	// Vibration is whether the sensor reported a vibration event moments ago.
	Vibration bool
	// Battery is the battery level in percent, or -1 when unknown.
	Battery int
	// LinkQuality is the zigbee link quality indicator (0 to 255), or -1
	// when unknown.
	LinkQuality int
	// Intensity is the sensor's vibration strength, nil when unknown.
	Intensity *float64
}

type equipmentState struct {
	Vibration   bool     `json:"vibration"`
	Active      bool     `json:"active"`
	Events      int      `json:"events"`
	Intensity   *float64 `json:"intensity"`
	Battery     *int     `json:"battery"`
	LinkQuality *int     `json:"linkquality"`
}

// EquipmentStatePayload renders the JSON of Topics.EquipmentState from the
// engine's view of the equipment and the sensor's last report. intensity is
// null when unknown or not finite, battery is null outside 0..100 and
// linkquality is null outside 0..255.
func EquipmentStatePayload(e sessions.EquipmentState, r SensorReport) []byte {
	state := equipmentState{
		Vibration:   r.Vibration,
		Active:      e.Active,
		Events:      e.Events,
		Battery:     intInRange(r.Battery, 0, 100),
		LinkQuality: intInRange(r.LinkQuality, 0, 255),
	}
	if r.Intensity != nil && finite(*r.Intensity) {
		intensity := *r.Intensity
		state.Intensity = &intensity
	}
	return marshalJSON(state)
}

// heartRate returns bpm rounded to 0.1, or nil when it is not a valid heart
// rate. The engine uses 0 for "no heart rate".
func heartRate(bpm float64) *float64 {
	if !finite(bpm) || bpm <= 0 {
		return nil
	}
	rounded := math.Round(bpm*10) / 10
	return &rounded
}

// percent returns p rounded to 0.1 and limited to 0..100, or nil when p is
// negative (the engine's "unknown") or not finite.
func percent(p float64) *float64 {
	if !finite(p) || p < 0 {
		return nil
	}
	rounded := math.Round(min(p, 100)*10) / 10
	return &rounded
}

func finite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
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
