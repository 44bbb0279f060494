package bridge

import (
	"time"
)

// Heart-rate values that relays send to mean "not available": 0xFF is the
// ANT+ and BLE one-byte marker, 0xFFFFFF the three-byte one.
const (
	sentinelByte   = 0xFF
	sentinelTriple = 0xFFFFFF
)

// Plausible RR interval bounds in milliseconds (240 down to 24 bpm). Values
// outside are dropped one by one.
const (
	MinRRMillis = 250
	MaxRRMillis = 2500
)

// MaxRRPerMessage bounds the RR values kept from one message. At the default
// BLE ATT MTU of 23 bytes a Heart Rate Measurement notification has room for
// nine, so a longer list is malformed and its surplus is dropped.
const MaxRRPerMessage = 16

// Names of the optional heart-rate fields, as reported in
// HeartRateFields.Ignored.
const (
	FieldBattery   = "battery"
	FieldRR        = "rr"
	FieldTimestamp = "timestamp"
)

// HeartRateFields is one decoded heart-rate payload.
type HeartRateFields struct {
	// BPM is the heart rate in beats per minute, fractions kept. It is 0
	// whenever Invalid is set.
	BPM float64
	// Battery is the device battery in percent, or -1 when unknown.
	Battery int
	// RR lists the beat-to-beat intervals in milliseconds, in payload order,
	// or is nil when the payload has none.
	RR []float64
	// Timestamp is the payload's own time, or zero when it has none.
	Timestamp time.Time
	// Invalid is the reason the payload holds no valid heart rate (one of
	// the Invalid* constants), or "".
	Invalid string
	// Ignored names an optional field (FieldBattery, FieldRR or
	// FieldTimestamp, checked in that order) that was present but unusable:
	// a wrong type, a non-finite or unparsable value, a duplicate key, or an
	// RR list over MaxRRPerMessage. The heart rate stays valid. A battery
	// outside 0-100 and RR values outside the plausible range are "unknown"
	// values, not errors, so they are not reported here.
	Ignored string
}

// heartRateField identifies the fields DecodeHeartRate reads.
type heartRateField int

const (
	hrUnknown heartRateField = iota
	hrBPM
	hrBattery
	hrRRMillis
	hrRR1024
	hrTimestamp
)

// heartRateFieldOf maps a member name to its field. Several names map to one
// field because relays disagree. The rate is "heart_rate" in openant, "act_bpm"
// in OpenMQTTGateway and "hr" in some relays. The battery is
// "battery_percentage" in openant. "rr_1024" carries RR in 1/1024 s, the BLE
// unit.
func heartRateFieldOf(key jsonValue) heartRateField {
	var buf [32]byte
	name, ok := unescapeString(buf[:0], key)
	if !ok {
		return hrUnknown
	}
	switch string(name) {
	case "heart_rate", "hr", "act_bpm":
		return hrBPM
	case "battery", "battery_percentage":
		return hrBattery
	case "rr":
		return hrRRMillis
	case "rr_1024":
		return hrRR1024
	case "timestamp":
		return hrTimestamp
	}
	return hrUnknown
}

// DecodeHeartRate decodes one heart-rate payload and validates the rate
// against [min, max] bpm, both inclusive.
//
// It accepts a JSON object with the rate in "heart_rate" (or "hr",
// "act_bpm") as a number or numeric string, plus optional "battery",
// "rr" (ms), "rr_1024" (1/1024 s) and "timestamp" (RFC 3339 string or Unix
// milliseconds). It also accepts a bare number, as JSON or plain text. Other
// members are skipped. A typical payload such as {"heart_rate":123} decodes
// without allocating. RR lists and numbers that need strconv allocate.
//
// Any syntax error anywhere in the payload invalidates it, because a
// truncated message cannot be trusted. A heart-rate field that appears twice
// (by any of its names) is InvalidDuplicate rather than "last wins", because
// the two values may disagree. A duplicate optional field is dropped and
// named in Ignored.
func DecodeHeartRate(payload []byte, min, max float64) HeartRateFields {
	f := HeartRateFields{Battery: -1}
	s := jsonScanner{data: payload}
	if s.atEnd() {
		f.Invalid = InvalidEmpty
		return f
	}
	if payload[s.pos] != '{' {
		v := s.value(1)
		switch {
		case s.err != "":
			f.Invalid = s.err
		case !s.atEnd():
			f.Invalid = InvalidNotJSON
		default:
			f.BPM, f.Invalid = heartRateValue(v, min, max)
		}
		return f
	}

	s.pos++
	members := objectMembers{s: &s, depth: 1}
	var values [hrTimestamp + 1]jsonValue
	var counts [hrTimestamp + 1]int
	for {
		key, val, ok := members.next()
		if !ok {
			break
		}
		field := heartRateFieldOf(key)
		counts[field]++
		values[field] = val
	}
	if s.err != "" {
		f.Invalid = s.err
		return f
	}
	if !s.atEnd() {
		f.Invalid = InvalidNotJSON
		return f
	}

	switch counts[hrBPM] {
	case 0:
		f.Invalid = InvalidMissing
	case 1:
		f.BPM, f.Invalid = heartRateValue(values[hrBPM], min, max)
	default:
		f.Invalid = InvalidDuplicate
	}
	f.decodeOptional(values[:], counts[:])
	return f
}

// decodeOptional fills Battery, RR and Timestamp from the collected members.
func (f *HeartRateFields) decodeOptional(values []jsonValue, counts []int) {
	if counts[hrBattery] > 1 {
		f.ignore(FieldBattery)
	} else if counts[hrBattery] == 1 {
		battery, ok := batteryValue(values[hrBattery])
		f.Battery = battery
		if !ok {
			f.ignore(FieldBattery)
		}
	}

	// rr and rr_1024 are one field in two units, so having both is a
	// duplicate.
	switch counts[hrRRMillis] + counts[hrRR1024] {
	case 0:
	case 1:
		v, scale := values[hrRRMillis], 1.0
		if counts[hrRR1024] == 1 {
			v, scale = values[hrRR1024], 1000.0/1024.0
		}
		var ok bool
		f.RR, ok = rrValues(v, scale)
		if !ok {
			f.ignore(FieldRR)
		}
	default:
		f.ignore(FieldRR)
	}

	if counts[hrTimestamp] > 1 {
		f.ignore(FieldTimestamp)
	} else if counts[hrTimestamp] == 1 && values[hrTimestamp].kind != kindNull {
		ts, ok := timestampValue(values[hrTimestamp])
		f.Timestamp = ts
		if !ok {
			f.ignore(FieldTimestamp)
		}
	}
}

func (f *HeartRateFields) ignore(field string) {
	if f.Ignored == "" {
		f.Ignored = field
	}
}

// heartRateValue classifies a heart-rate value. The checks run in a fixed
// order so that each reason means one thing: zero before the sentinels, the
// sentinels before the range.
func heartRateValue(v jsonValue, min, max float64) (float64, string) {
	bpm, reason := numberValue(v)
	switch {
	case reason != "":
		return 0, reason
	case bpm == 0:
		return 0, InvalidZero
	case bpm == sentinelByte || bpm == sentinelTriple:
		return 0, InvalidSentinel
	case bpm < 0 || !(bpm >= min && bpm <= max):
		return 0, InvalidOutOfRange
	}
	return bpm, ""
}

// batteryValue returns the battery percent rounded to an integer, or -1. It
// reports false for a value that is not a finite number at all. 255 and
// other values outside 0-100 are a valid "unknown" and report true.
func batteryValue(v jsonValue) (int, bool) {
	percent, reason := numberValue(v)
	switch reason {
	case "":
	case InvalidMissing, InvalidOutOfRange:
		return -1, true
	default:
		return -1, false
	}
	if percent < 0 || percent > 100 {
		return -1, true
	}
	return int(percent + 0.5), true
}

// rrValues decodes an RR list (a single number is a list of one) and
// converts it to milliseconds with scale. Values outside
// [MinRRMillis, MaxRRMillis] are dropped silently. It reports false when the
// field or an element has the wrong type, or when the list is longer than
// MaxRRPerMessage.
func rrValues(v jsonValue, scale float64) ([]float64, bool) {
	switch v.kind {
	case kindNull:
		return nil, true
	case kindNumber:
		ms, reason := parseNumber(v.raw)
		ms *= scale
		if reason != "" || ms < MinRRMillis || ms > MaxRRMillis {
			return nil, true
		}
		return []float64{ms}, true
	case kindArray:
	default:
		return nil, false
	}

	// The array was validated when it was scanned, so this second pass over
	// its bytes finds no syntax errors.
	inner := jsonScanner{data: v.raw, pos: 1}
	elements := arrayElements{s: &inner, depth: 1}
	var rr []float64
	ok := true
	for n := 0; ; n++ {
		e, more := elements.next()
		if !more {
			break
		}
		if n == MaxRRPerMessage {
			ok = false
			break
		}
		if e.kind != kindNumber {
			ok = false
			continue
		}
		ms, reason := parseNumber(e.raw)
		ms *= scale
		if reason != "" || ms < MinRRMillis || ms > MaxRRMillis {
			continue
		}
		if rr == nil {
			rr = make([]float64, 0, 4)
		}
		rr = append(rr, ms)
	}
	return rr, ok
}
