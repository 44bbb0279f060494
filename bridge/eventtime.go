package bridge

import (
	"math"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// TimestampProperty is the MQTT v5 user property that carries a message's
// event time as RFC 3339 text, fractional seconds allowed.
const TimestampProperty = "timestamp"

// Sources of an event time, as returned by EventTime. Each value is usable
// as a Prometheus label. A value with "invalid" names the source used and,
// after it, the first source that was present but rejected.
const (
	TimeFromProperty              = "property"
	TimeFromPayload               = "payload"
	TimeFromArrival               = "arrival"
	TimeFromPayloadInvalidProp    = "payload_invalid_property"
	TimeFromArrivalInvalidProp    = "arrival_invalid_property"
	TimeFromArrivalInvalidPayload = "arrival_invalid_payload"
)

// minEventTime rejects device clocks that were never set: a relay that has
// not synced yet reports times near the Unix epoch or the firmware date.
var minEventTime = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

// maxUnixMillis bounds a numeric timestamp (about the year 33658) so that the
// conversion to time.Time cannot overflow.
const maxUnixMillis = 1e15

// EventTime picks a message's event time: the MQTT v5 user property
// "timestamp" first, then the timestamp from the payload, else the arrival
// time. A candidate that does not parse or lies before 2020 (a device clock
// that was never set) is rejected and the next one is tried. The returned
// source names the one used and the first one rejected. Of several "timestamp" properties only the
// first counts. A zero payloadTS means the payload had none.
//
// EventTime does not reject times ahead of arrival or late ones, because a
// replay moves event time faster than the wall clock. The caller applies
// that policy when it runs on the wall clock.
func EventTime(props paho.UserProperties, payloadTS, arrival time.Time) (time.Time, string) {
	propertyRejected := false
	for _, p := range props {
		if p.Key != TimestampProperty {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.Value)
		if err == nil && !t.Before(minEventTime) {
			return t, TimeFromProperty
		}
		propertyRejected = true
		break
	}

	if !payloadTS.IsZero() {
		if !payloadTS.Before(minEventTime) {
			if propertyRejected {
				return payloadTS, TimeFromPayloadInvalidProp
			}
			return payloadTS, TimeFromPayload
		}
		if !propertyRejected {
			return arrival, TimeFromArrivalInvalidPayload
		}
	}

	if propertyRejected {
		return arrival, TimeFromArrivalInvalidProp
	}
	return arrival, TimeFromArrival
}

// timestampValue decodes a payload timestamp: an RFC 3339 string or a number
// of Unix milliseconds, fractions kept. It reports false for anything else,
// including numbers beyond maxUnixMillis.
func timestampValue(v jsonValue) (time.Time, bool) {
	switch v.kind {
	case kindString:
		var buf [64]byte
		text, ok := unescapeString(buf[:0], v)
		if !ok {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339, string(text))
		if err != nil {
			return time.Time{}, false
		}
		return t, true
	case kindNumber:
		ms, reason := parseNumber(v.raw)
		if reason != "" || math.Abs(ms) > maxUnixMillis {
			return time.Time{}, false
		}
		seconds := math.Floor(ms / 1000)
		nanos := math.Round((ms - seconds*1000) * 1e6)
		return time.Unix(int64(seconds), int64(nanos)).UTC(), true
	}
	return time.Time{}, false
}
