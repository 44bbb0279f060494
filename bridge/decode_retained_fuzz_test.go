package bridge

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// FuzzSensorStateApplyRetained checks the path of retained zigbee2mqtt
// messages, which the broker replays at every subscribe: whatever the
// payload, it never counts an event, never moves LastEvent, and leaves the
// state untouched when it returns an error.
func FuzzSensorStateApplyRetained(f *testing.F) {
	for _, s := range []string{
		`{"action":"vibration","vibration":true,"strength":33,` +
			`"last_seen":"2025-01-01T10:00:00.123Z"}`,
		`{"vibration":true,"strength":25,"battery":96}`,
		`{"battery":"100.00","voltage":"3145","linkquality":134,"action":"drop"}`,
		`{"battery":null,"strength":"n/a"}`,
		`{"action":"vibr`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("vibration"), true)
	addRecordingSeeds(f, func(topic string, payload []byte) {
		if strings.HasPrefix(topic, "zigbee2mqtt/") {
			f.Add(payload, strings.HasSuffix(topic, "/action"))
		}
	})

	f.Fuzz(func(t *testing.T, payload []byte, actionTopic bool) {
		lastEvent := ms(5_000)
		s := SensorState{Battery: Measurement{50, true}, LastEvent: lastEvent}
		before := s
		rep, err := s.ApplyRetained(payload, actionTopic, ms(10_000))
		if err != nil {
			if s != before {
				t.Fatalf("error %v changed the state", err)
			}
			var perr *PayloadError
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a PayloadError", err)
			}
			return
		}
		if rep.Event {
			t.Fatal("a retained message counted as an event")
		}
		if !s.LastEvent.Equal(lastEvent) {
			t.Fatalf("LastEvent moved to %v", s.LastEvent)
		}
		if s.Battery.Known && (s.Battery.Value < 0 || s.Battery.Value > 100) {
			t.Fatalf("Battery = %v, want 0..100", s.Battery.Value)
		}
		for _, m := range s.measurements() {
			if m.Known && (math.IsNaN(m.Value) || math.IsInf(m.Value, 0)) {
				t.Fatalf("non-finite measurement %v", m.Value)
			}
		}
		// A live message after the retained one is not swallowed by the
		// de-duplication window of the retained one.
		live, err := s.Apply([]byte(`{"action":"vibration"}`), false, ms(10_100), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !live.Event {
			t.Fatal("a live vibration after a retained message was not counted")
		}
	})
}
