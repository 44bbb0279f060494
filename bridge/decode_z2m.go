package bridge

import (
	"time"
	"unicode/utf8"
)

// VibrationDedup is the default window in which further vibration signals
// belong to the last counted event. zigbee2mqtt sends one physical report as
// up to three messages within a few tens of milliseconds (the state, the
// state again with an empty action, and the plain-text <topic>/action
// message), while the Aqara DJT11LM reports at most once per minute.
const VibrationDedup = 2 * time.Second

// Actions of a vibration sensor, as stored in SensorState.LastAction and
// Report.Action. Only ActionVibration is an event. ActionOther is any action
// text this package does not know.
const (
	ActionVibration = "vibration"
	ActionTilt      = "tilt"
	ActionDrop      = "drop"
	ActionOther     = "other"
)

// Measurement is one numeric sensor attribute and whether any message has
// carried it.
type Measurement struct {
	Value float64
	Known bool
}

// SensorState is the merged state of one zigbee2mqtt vibration sensor. The
// zero value is a sensor with nothing known. It is not safe for concurrent
// use.
type SensorState struct {
	Battery     Measurement // percent, 0-100
	Voltage     Measurement // millivolts
	LinkQuality Measurement // zigbee link quality indicator, 0-255
	// Strength is zigbee2mqtt's maximum over the last 300 s report window. It
	// keeps its last value after activity stops, so it is no sign of activity.
	Strength Measurement

	// Tilt angles in degrees: Angle is the last tilt change, AngleX/Y/Z are
	// in -90..90 and the absolute ones in 0..180.
	Angle          Measurement
	AngleX         Measurement
	AngleY         Measurement
	AngleZ         Measurement
	AngleXAbsolute Measurement
	AngleYAbsolute Measurement

	// Raw accelerometer axes, about ±1000 per g.
	XAxis Measurement
	YAxis Measurement
	ZAxis Measurement

	// Vibration is zigbee2mqtt's vibration flag, valid when VibrationKnown.
	// zigbee2mqtt itself sets it back to false after its vibration_timeout,
	// and some versions never do.
	Vibration      bool
	VibrationKnown bool

	// LastAction is the last non-empty action (an Action* constant) and
	// LastActionAt the time of its message.
	LastAction   string
	LastActionAt time.Time
	// LastSeen is zigbee2mqtt's last_seen of the latest message that had one.
	LastSeen time.Time
	// LastEvent is the time of the last counted vibration event.
	LastEvent time.Time
	// Updated is the time of the last message applied.
	Updated time.Time
}

// Report is the outcome of one applied message.
type Report struct {
	// Event is true when the message is a new vibration event, after
	// de-duplication.
	Event bool
	// Vibrating is the vibration flag the message carried, or nil.
	Vibrating *bool
	// Action is the action the message carried (an Action* constant), or "".
	Action string
	// Ignored names a field that was present but unusable (wrong type,
	// non-numeric string, battery outside 0-100, duplicate key), or is "".
	// The state keeps that field's old value. When several fields are
	// unusable it names the first of them in this order: the numeric fields
	// as listed in SensorState, then action, vibration and last_seen.
	Ignored string
	// State is the merged state after the message.
	State SensorState
}

// reasonInvalidField is the reason label of fitbridge_readings_invalid_total
// for a state message that was applied although Report.Ignored names one of
// its fields. A message counts once, however many of its fields are unusable.
const reasonInvalidField = "invalid_field"

// PayloadError is a zigbee2mqtt payload that could not be decoded at all.
type PayloadError struct {
	// Reason is one of the Invalid* constants.
	Reason string
}

func (e *PayloadError) Error() string {
	return "invalid zigbee2mqtt payload: " + e.Reason
}

// Numeric fields of a zigbee2mqtt state, in the order of measurements.
var numericFieldNames = [...]string{
	"battery", "voltage", "linkquality", "strength",
	"angle", "angle_x", "angle_y", "angle_z", "angle_x_absolute", "angle_y_absolute",
	"x_axis", "y_axis", "z_axis",
}

const numericFieldCount = len(numericFieldNames)

// fieldBattery is the index of "battery" in numericFieldNames.
const fieldBattery = 0

func (s *SensorState) measurements() [numericFieldCount]*Measurement {
	return [numericFieldCount]*Measurement{
		&s.Battery, &s.Voltage, &s.LinkQuality, &s.Strength,
		&s.Angle, &s.AngleX, &s.AngleY, &s.AngleZ, &s.AngleXAbsolute, &s.AngleYAbsolute,
		&s.XAxis, &s.YAxis, &s.ZAxis,
	}
}

// Field ids of a state payload: the numeric fields first, by their index in
// numericFieldNames, then the others.
const (
	fieldAction = numericFieldCount + iota
	fieldVibration
	fieldLastSeen
	stateFieldCount
)

var stateFieldNames = func() map[string]int {
	m := make(map[string]int, stateFieldCount)
	for i, name := range numericFieldNames {
		m[name] = i
	}
	m["action"] = fieldAction
	m["vibration"] = fieldVibration
	m["last_seen"] = fieldLastSeen
	return m
}()

func stateFieldName(id int) string {
	switch id {
	case fieldAction:
		return "action"
	case fieldVibration:
		return "vibration"
	case fieldLastSeen:
		return "last_seen"
	}
	return numericFieldNames[id]
}

// sensorUpdate is one decoded message: only the fields it set.
type sensorUpdate struct {
	numbers      [numericFieldCount]Measurement
	action       string
	vibration    bool
	hasVibration bool
	lastSeen     time.Time
	ignored      string
}

func (u *sensorUpdate) ignore(id int) {
	if u.ignored == "" {
		u.ignored = stateFieldName(id)
	}
}

// Apply merges one message into the state and reports whether it is a new
// vibration event.
//
// payload is the JSON state from zigbee2mqtt/<name>, or the plain-text word
// from zigbee2mqtt/<name>/action when actionTopic is true. at is the
// message's event time, and dedup the de-duplication window; zero or less
// means VibrationDedup.
//
// Fields missing from the message keep their values, and null keeps the old
// value too. A field with a wrong type or a non-numeric string ("n/a") is
// skipped and named in Report.Ignored. Unknown members, such as the nested
// "device" object, are skipped.
//
// A vibration signal is an "action":"vibration" on either topic, or the
// vibration flag turning true from false or unknown. A signal is counted as
// an event unless it is less than dedup away from the last counted event,
// measured from that event (the window does not slide). An empty or null
// action is no signal and changes nothing.
//
// A payload that cannot be decoded returns a *PayloadError and leaves the
// state untouched. Apply cannot tell a retained message from a live one: the
// caller passes retained messages to ApplyRetained instead.
func (s *SensorState) Apply(
	payload []byte, actionTopic bool, at time.Time, dedup time.Duration,
) (Report, error) {
	return s.apply(payload, actionTopic, at, dedup, true)
}

// ApplyRetained merges a retained message like Apply but never reports an
// event and leaves LastEvent unchanged. A retained state is history from
// before the subscription: it may seed battery and flags, but it must not
// mark the sensor active, nor swallow a live event that follows within the
// de-duplication window.
func (s *SensorState) ApplyRetained(payload []byte, actionTopic bool, at time.Time) (Report, error) {
	return s.apply(payload, actionTopic, at, 0, false)
}

func (s *SensorState) apply(
	payload []byte, actionTopic bool, at time.Time, dedup time.Duration, events bool,
) (Report, error) {
	var u sensorUpdate
	var reason string
	if actionTopic {
		u.action, reason = decodeActionText(payload)
	} else {
		reason = decodeState(payload, &u)
	}
	if reason != "" {
		return Report{State: *s}, &PayloadError{Reason: reason}
	}
	return s.merge(&u, at, dedup, events), nil
}

func (s *SensorState) merge(u *sensorUpdate, at time.Time, dedup time.Duration, events bool) Report {
	wasVibrating := s.VibrationKnown && s.Vibration
	for i, m := range s.measurements() {
		if u.numbers[i].Known {
			*m = u.numbers[i]
		}
	}
	if u.hasVibration {
		s.Vibration = u.vibration
		s.VibrationKnown = true
	}
	if !u.lastSeen.IsZero() {
		s.LastSeen = u.lastSeen
	}
	if u.action != "" {
		s.LastAction = u.action
		s.LastActionAt = at
	}
	s.Updated = at

	rep := Report{Action: u.action, Ignored: u.ignored}
	if u.hasVibration {
		vibrating := u.vibration
		rep.Vibrating = &vibrating
	}
	rising := u.hasVibration && u.vibration && !wasVibrating
	if events && (u.action == ActionVibration || rising) {
		rep.Event = s.countEvent(at, dedup)
	}
	rep.State = *s
	return rep
}

// countEvent reports whether a vibration signal at time at is a new event,
// and if so records it.
func (s *SensorState) countEvent(at time.Time, dedup time.Duration) bool {
	if dedup <= 0 {
		dedup = VibrationDedup
	}
	if !s.LastEvent.IsZero() {
		gap := at.Sub(s.LastEvent)
		if gap < 0 {
			gap = -gap // messages can arrive out of order
		}
		if gap < dedup {
			return false
		}
	}
	s.LastEvent = at
	return true
}

// decodeState decodes a JSON state payload into u and returns the reason it
// failed, or "".
func decodeState(payload []byte, u *sensorUpdate) string {
	s := jsonScanner{data: payload}
	if s.atEnd() {
		return InvalidEmpty
	}
	if payload[s.pos] != '{' {
		s.value(1)
		if s.err != "" {
			return s.err
		}
		if !s.atEnd() {
			return InvalidNotJSON
		}
		return InvalidWrongType
	}

	s.pos++
	members := objectMembers{s: &s, depth: 1}
	var values [stateFieldCount]jsonValue
	var counts [stateFieldCount]int
	for {
		key, val, ok := members.next()
		if !ok {
			break
		}
		var buf [32]byte
		name, fits := unescapeString(buf[:0], key)
		if !fits {
			continue
		}
		if id, known := stateFieldNames[string(name)]; known {
			counts[id]++
			values[id] = val
		}
	}
	if s.err != "" {
		return s.err
	}
	if !s.atEnd() {
		return InvalidNotJSON
	}

	for id := range stateFieldCount {
		switch {
		case counts[id] == 0, counts[id] == 1 && values[id].kind == kindNull:
		case counts[id] > 1:
			u.ignore(id) // the duplicates may disagree, so neither is used
		default:
			u.set(id, values[id])
		}
	}
	return ""
}

// set stores one non-null field value in u.
func (u *sensorUpdate) set(id int, v jsonValue) {
	switch id {
	case fieldAction:
		if v.kind != kindString {
			u.ignore(id)
			return
		}
		var buf [32]byte
		text, fits := unescapeString(buf[:0], v)
		if !fits {
			u.action = ActionOther
			return
		}
		u.action = actionOf(text)
	case fieldVibration:
		if v.kind != kindTrue && v.kind != kindFalse {
			u.ignore(id)
			return
		}
		u.vibration = v.kind == kindTrue
		u.hasVibration = true
	case fieldLastSeen:
		t, ok := timestampValue(v)
		if !ok {
			u.ignore(id)
			return
		}
		u.lastSeen = t
	default:
		value, reason := numberValue(v)
		if reason != "" || id == fieldBattery && (value < 0 || value > 100) {
			u.ignore(id)
			return
		}
		u.numbers[id] = Measurement{Value: value, Known: true}
	}
}

// actionOf maps action text to an Action* constant. Empty text maps to "".
func actionOf(text []byte) string {
	switch string(text) {
	case "":
		return ""
	case ActionVibration:
		return ActionVibration
	case ActionTilt:
		return ActionTilt
	case ActionDrop:
		return ActionDrop
	}
	return ActionOther
}

// decodeActionText decodes the payload of <topic>/action: a bare word, or the
// same word as a JSON string. Surrounding whitespace is ignored, and an empty
// payload means no action. Text with invalid UTF-8 or control characters is
// InvalidNotText.
func decodeActionText(payload []byte) (string, string) {
	s := jsonScanner{data: payload}
	s.skipSpace()
	text := payload[s.pos:]
	for len(text) > 0 && isSpace(text[len(text)-1]) {
		text = text[:len(text)-1]
	}
	if len(text) > 0 && text[0] == '"' {
		v := s.value(1)
		if s.err != "" || !s.atEnd() {
			return "", InvalidNotJSON
		}
		var buf [32]byte
		decoded, fits := unescapeString(buf[:0], v)
		if !fits {
			return ActionOther, ""
		}
		text = decoded
	}
	if !utf8.Valid(text) {
		return "", InvalidNotText
	}
	for _, c := range text {
		if c < 0x20 || c == 0x7f {
			return "", InvalidNotText
		}
	}
	return actionOf(text), ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
