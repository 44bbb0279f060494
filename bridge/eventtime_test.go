package bridge

import (
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

func TestEventTime(t *testing.T) {
	arrival := time.Date(2026, 6, 27, 19, 0, 10, 0, time.UTC)
	payload := time.Date(2026, 6, 27, 19, 0, 8, 0, time.UTC)
	property := time.Date(2026, 6, 27, 19, 0, 9, 123456789, time.UTC)
	props := func(kv ...string) paho.UserProperties {
		var p paho.UserProperties
		for i := 0; i+1 < len(kv); i += 2 {
			p.Add(kv[i], kv[i+1])
		}
		return p
	}
	tests := []struct {
		name    string
		props   paho.UserProperties
		payload time.Time
		want    time.Time
		source  string
	}{
		{"property first", props("timestamp", "2026-06-27T19:00:09.123456789Z"), payload,
			property, TimeFromProperty},
		{"property with offset", props("timestamp", "2026-06-27T21:00:09.123456789+02:00"), payload,
			property, TimeFromProperty},
		{"property without fraction", props("timestamp", "2026-06-27T19:00:09Z"), time.Time{},
			property.Truncate(time.Second), TimeFromProperty},
		{"property among others", props("source", "relay1", "timestamp", "2026-06-27T19:00:09.123456789Z"),
			time.Time{}, property, TimeFromProperty},
		{"property ahead kept", props("timestamp", "2026-06-27T20:00:00Z"), time.Time{},
			time.Date(2026, 6, 27, 20, 0, 0, 0, time.UTC), TimeFromProperty},
		{"payload second", nil, payload, payload, TimeFromPayload},
		{"payload with other props", props("source", "relay1"), payload, payload, TimeFromPayload},
		{"arrival last", nil, time.Time{}, arrival, TimeFromArrival},
		{"unparsable property uses payload", props("timestamp", "yesterday"), payload,
			payload, TimeFromPayloadInvalidProp},
		{"unparsable property uses arrival", props("timestamp", "1782615581566"), time.Time{},
			arrival, TimeFromArrivalInvalidProp},
		{"empty property", props("timestamp", ""), time.Time{}, arrival, TimeFromArrivalInvalidProp},
		{"property without zone", props("timestamp", "2026-06-27T19:00:09"), time.Time{},
			arrival, TimeFromArrivalInvalidProp},
		{"property before 2020", props("timestamp", "1970-01-01T00:00:05Z"), payload,
			payload, TimeFromPayloadInvalidProp},
		{"payload before 2020", nil, time.Unix(5, 0), arrival, TimeFromArrivalInvalidPayload},
		{"both rejected names property", props("timestamp", "x"), time.Unix(5, 0),
			arrival, TimeFromArrivalInvalidProp},
		{"first property counts", props("timestamp", "x", "timestamp", "2026-06-27T19:00:09Z"), payload,
			payload, TimeFromPayloadInvalidProp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, source := EventTime(tc.props, tc.payload, arrival)
			if !got.Equal(tc.want) {
				t.Errorf("time = %v, want %v", got, tc.want)
			}
			if source != tc.source {
				t.Errorf("source = %q, want %q", source, tc.source)
			}
		})
	}
}

func TestEventTimeFromDecodedPayload(t *testing.T) {
	arrival := time.Date(2026, 6, 28, 3, 0, 0, 0, time.UTC)
	f := DecodeHeartRate([]byte(`{"heart_rate":72,"timestamp":1782615581566}`), testMinBPM, testMaxBPM)
	got, source := EventTime(nil, f.Timestamp, arrival)
	if source != TimeFromPayload {
		t.Errorf("source = %q, want %q", source, TimeFromPayload)
	}
	if want := time.UnixMilli(1782615581566); !got.Equal(want) {
		t.Errorf("time = %v, want %v", got, want)
	}

	// A relay without NTP sends seconds since boot, which decode as a time
	// in 1970.
	f = DecodeHeartRate([]byte(`{"hr":101,"timestamp":5}`), testMinBPM, testMaxBPM)
	got, source = EventTime(nil, f.Timestamp, arrival)
	if source != TimeFromArrivalInvalidPayload {
		t.Errorf("source = %q, want %q", source, TimeFromArrivalInvalidPayload)
	}
	if !got.Equal(arrival) {
		t.Errorf("time = %v, want arrival %v", got, arrival)
	}
}
