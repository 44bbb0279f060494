package sessions

import "time"

// Status is a participant's presence in the session. The engine is the only
// place that decides it; everything published reads it from the engine.
type Status string

// Participant statuses.
const (
	StatusActive Status = "active" // valid samples are arriving
	StatusIdle   Status = "idle"   // no valid sample for Config.IdleAfter
	StatusLeft   Status = "left"   // no valid sample for Config.LeaveAfter
)

// EndReason says why a session ended.
type EndReason string

// End reasons.
const (
	EndInactivity EndReason = "inactivity" // nobody had a valid sample for Config.EndAfter
	EndRequested  EndReason = "requested"  // ended by a command
	EndReplay     EndReason = "replay_end" // the replayed recordings ran out
	EndShutdown   EndReason = "shutdown"   // the service stopped for good
)

// HeartRateReading is one heart-rate message from a device, already decoded.
// A reading with Invalid set carries no heart rate and changes nothing but
// the invalid-sample count.
type HeartRateReading struct {
	DeviceID string
	Time     time.Time
	BPM      float64
	// Battery is the device battery in percent, or -1 when unknown.
	Battery int
	// Invalid is the reason the reading holds no valid heart rate, or "".
	Invalid string
}

// VibrationReading is one merged report from an equipment vibration sensor.
type VibrationReading struct {
	EquipmentID string
	Time        time.Time
	// Event is true when this report is a new vibration event (already
	// de-duplicated across the messages of one physical report).
	Event bool
	// Vibrating is the sensor's vibration state, when the report has one.
	Vibrating *bool
}

// Snapshot is a consistent view of the engine at one moment. It shares no
// memory with the engine and may be read from any goroutine.
type Snapshot struct {
	Time    time.Time
	Running bool
	// SessionID is empty when no session is running.
	SessionID    string
	StartedAt    time.Time
	Elapsed      time.Duration
	TotalCoins   int
	IntervalMS   int64
	Participants []ParticipantState
	Devices      []DeviceState
	Equipment    []EquipmentState
}

// DeviceState is one heart-rate device (a strap) as the engine sees it now.
type DeviceState struct {
	ID            string
	ParticipantID string
	// Battery is the last reported battery level in percent, or -1 when unknown.
	Battery  int
	LastSeen time.Time
}

// ParticipantState is one participant as the engine sees it now.
type ParticipantState struct {
	ID    string
	Name  string
	Guest bool
	// Status is empty for a participant who has no sample in the current session.
	Status Status
	// HeartRate is the latest valid heart rate in bpm, or 0 when there is none.
	HeartRate float64
	// Zone is the zone id of HeartRate, or "" when there is none.
	Zone string
	// CommittedZone is the displayed zone: Zone with hysteresis, so it does
	// not flicker at a boundary (see docs/sessions.md). "" when none.
	CommittedZone string
	// Progress is the way from the start of Zone to the start of the next
	// zone, 0 to 100 percent; 100 in the top zone, -1 when there is no zone.
	Progress float64
	Coins    int
	// SecondsInZone is the time in each zone, by zone id, in the session
	// the participant is on the roster of; nil when they are on none.
	SecondsInZone map[string]int
	// Devices lists the ids of the devices that report for this participant.
	Devices []string
}

// EquipmentState is one piece of equipment as the engine sees it now.
type EquipmentState struct {
	ID     string
	Name   string
	Active bool
	// Events counts vibration events since fitbridge started.
	Events int
}

// Tick is the closed coin window of every participant, emitted each
// Config.CoinInterval of session time. It is the unit the chart feed sends.
type Tick struct {
	SessionID string
	// Index is the window number from the session start, starting at 0.
	Index int
	// Start is the time the window opened.
	Start      time.Time
	IntervalMS int64
	// Participants holds every participant on the roster, in roster order.
	Participants []TickPoint
	Equipment    []EquipmentPoint
}

// TickPoint is one participant's values for one window. HeartRate is nil when
// the window had no valid sample (a dropout), and Zone is then "".
type TickPoint struct {
	ID        string
	Name      string
	Status    Status
	HeartRate *float64
	Zone      string
	// Coins is the cumulative total at the end of the window.
	Coins int
}

// EquipmentPoint is one piece of equipment's activity in one window.
type EquipmentPoint struct {
	ID     string
	Active bool
	// Events is the number of vibration events in the window.
	Events int
}

// Summary is the saved record of one session. Its JSON form is documented
// in docs/sessions.md (section "Summary file").
type Summary struct {
	SessionID      string    `json:"session_id"`
	StartedAt      time.Time `json:"started_at"`
	EndedAt        time.Time `json:"ended_at"`
	EndReason      EndReason `json:"end_reason"`
	CoinIntervalMS int64     `json:"coin_interval_ms"`
	// Zones lists the zone ids from the lowest zone to the highest.
	Zones        []string             `json:"zones"`
	Participants []ParticipantSummary `json:"participants"`
}

// ParticipantSummary is one participant's totals for a session.
type ParticipantSummary struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Coins         int            `json:"coins"`
	CoinsInZone   map[string]int `json:"coins_in_zone"`
	SecondsInZone map[string]int `json:"seconds_in_zone"`
	// HeartRateAvg is the mean of the valid samples, rounded to 0.1 bpm.
	HeartRateAvg   float64 `json:"heart_rate_avg"`
	HeartRateMax   float64 `json:"heart_rate_max"`
	HeartRateMin   float64 `json:"heart_rate_min"`
	Samples        int     `json:"samples"`
	InvalidSamples int     `json:"invalid_samples"`
}

// EventType names an Event.
type EventType string

// Event types.
const (
	EventSessionStarted    EventType = "session_started"
	EventSessionEnded      EventType = "session_ended"
	EventSessionResumed    EventType = "session_resumed"
	EventParticipantJoined EventType = "participant_joined"
	EventParticipantActive EventType = "participant_active" // back after idle or left
	EventParticipantIdle   EventType = "participant_idle"
	EventParticipantLeft   EventType = "participant_left"
	EventZoneChanged       EventType = "zone_changed" // the committed zone changed
	EventCoinMilestone     EventType = "coin_milestone"
	EventDeviceAssigned    EventType = "device_assigned"
)

// Event is something that happened in a session, for automations. Fields
// that do not apply to a type are empty.
type Event struct {
	Type      EventType `json:"event_type"`
	Time      time.Time `json:"time"`
	SessionID string    `json:"session_id,omitempty"`
	// Participant is the participant id of participant and zone events.
	Participant string `json:"participant,omitempty"`
	// Device is the device id of a device assignment.
	Device string `json:"device,omitempty"`
	// From is the previous wearer of an assigned device.
	From string `json:"from,omitempty"`
	// Zone and PreviousZone are committed zone ids of a zone change.
	Zone         string `json:"zone,omitempty"`
	PreviousZone string `json:"previous_zone,omitempty"`
	// Coins is the participant's coins at a milestone, or the session total
	// when it ends.
	Coins int `json:"coins,omitempty"`
	// Reason is the end reason of a session end.
	Reason EndReason `json:"reason,omitempty"`
	// Moved is set on a device assignment that moved the previous wearer's
	// coins to the new one.
	Moved bool `json:"moved,omitempty"`
}

// EventListener is an optional extension of Listener: a Listener that also
// implements it receives every Event.
type EventListener interface {
	Event(ev Event)
}

// Listener receives what the engine produces. The engine calls it
// synchronously from the goroutine that drives it, so a Listener must not
// block and must not call back into the engine.
type Listener interface {
	SessionStarted(s Snapshot)
	TickClosed(t Tick)
	SessionEnded(sum Summary)
}
