package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var knownInvalidReasons = []string{
	"", InvalidEmpty, InvalidNotJSON, InvalidTooDeep, InvalidMissing, InvalidWrongType,
	InvalidNotFinite, InvalidZero, InvalidSentinel, InvalidOutOfRange, InvalidDuplicate,
}

// addRecordingSeeds adds the first payloads of every recording to a fuzz
// corpus, in the form add takes them.
func addRecordingSeeds(f *testing.F, add func(topic string, payload []byte)) {
	for _, name := range recordingNames(f, "*.jsonl") {
		messages := readRecording(f, name)
		for _, m := range messages[:min(len(messages), 20)] {
			add(m.Topic, m.wirePayload(f))
		}
	}
}

func FuzzDecodeHeartRate(f *testing.F) {
	for _, tc := range heartRateCases {
		f.Add([]byte(tc.payload))
	}
	addRecordingSeeds(f, func(_ string, payload []byte) { f.Add(payload) })

	f.Fuzz(func(t *testing.T, payload []byte) {
		got := DecodeHeartRate(payload, testMinBPM, testMaxBPM)
		if !slices.Contains(knownInvalidReasons, got.Invalid) {
			t.Fatalf("Invalid = %q, not a known reason", got.Invalid)
		}
		if got.Invalid == "" {
			if math.IsNaN(got.BPM) || got.BPM < testMinBPM || got.BPM > testMaxBPM {
				t.Fatalf("valid BPM %v outside [%d, %d]", got.BPM, testMinBPM, testMaxBPM)
			}
			if got.BPM == sentinelByte {
				t.Fatal("valid BPM is the 255 sentinel")
			}
		} else if got.BPM != 0 {
			t.Fatalf("BPM = %v with Invalid %q, want 0", got.BPM, got.Invalid)
		}
		if got.Battery < -1 || got.Battery > 100 {
			t.Fatalf("Battery = %d, want -1..100", got.Battery)
		}
		if len(got.RR) > MaxRRPerMessage {
			t.Fatalf("%d RR values, want at most %d", len(got.RR), MaxRRPerMessage)
		}
		for _, rr := range got.RR {
			if !(rr >= MinRRMillis && rr <= MaxRRMillis) {
				t.Fatalf("RR %v outside [%d, %d]", rr, MinRRMillis, MaxRRMillis)
			}
		}
		if got.Ignored != "" && got.Ignored != FieldBattery && got.Ignored != FieldRR &&
			got.Ignored != FieldTimestamp {
			t.Fatalf("Ignored = %q, not a known field", got.Ignored)
		}
		checkHeartRateAgainstStd(t, payload, got)
	})
}

// checkHeartRateAgainstStd compares the decoder with encoding/json on the
// payloads where both define the answer: a valid UTF-8 JSON object whose only
// heart-rate member is one "heart_rate" number.
func checkHeartRateAgainstStd(t *testing.T, payload []byte, got HeartRateFields) {
	if got.Invalid == InvalidTooDeep || !utf8.Valid(payload) || !json.Valid(payload) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return
	}
	var number json.Number
	found := 0
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := keyTok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		switch key {
		case "heart_rate":
			found++
			if err := json.Unmarshal(raw, &number); err != nil {
				return // not a number: the reasons are the decoder's own
			}
		case "hr", "act_bpm":
			return
		}
	}
	if found != 1 {
		return
	}
	want, err := number.Float64()
	if err != nil {
		return // beyond float64
	}
	valid := want != 0 && want != sentinelByte && want != sentinelTriple &&
		want >= testMinBPM && want <= testMaxBPM
	if valid && (got.Invalid != "" || got.BPM != want) {
		t.Fatalf("%q: got BPM %v Invalid %q, encoding/json reads %v", payload, got.BPM, got.Invalid, want)
	}
	if !valid && got.Invalid == "" {
		t.Fatalf("%q: accepted BPM %v, want it rejected", payload, got.BPM)
	}
}

func FuzzSensorStateApply(f *testing.F) {
	seeds := []string{
		`{"action":"vibration","vibration":true,"strength":12,"battery":97,"voltage":3005,` +
			`"linkquality":120}`,
		`{"action":"","vibration":true,"strength":12,"battery":97,"voltage":3005,"linkquality":120}`,
		`{"action":null,"vibration":true}`,
		`{"voltage":3145,"battery":100}`,
		`{"battery":"100.00","voltage":"3145","linkquality":134,"action":"drop"}`,
		`{"action":"tilt","angle":46,"angle_x":0,"angle_y":30,"angle_z":60}`,
		`{"battery":null,"strength":"n/a"}`,
		`{"action":"vibr`,
		`{"vibration":true,"strength":25,"battery":96,"last_seen":"2026-06-27T17:00:00Z"}`,
		`{"action":null,"battery":100,` +
			`"device":{"ieeeAddr":"0x00158d00000000a2","dateCode":"20180130\u0000"}}`,
		`{"strength":NaN,"last_seen":1704910566000}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	for _, s := range []string{"vibration", "", "tilt", `"vibration"`, "vib\xff"} {
		f.Add([]byte(s), true)
	}
	addRecordingSeeds(f, func(topic string, payload []byte) {
		if strings.HasPrefix(topic, "zigbee2mqtt/") {
			f.Add(payload, strings.HasSuffix(topic, "/action"))
		}
	})

	f.Fuzz(func(t *testing.T, payload []byte, actionTopic bool) {
		s := SensorState{
			Battery: Measurement{50, true}, Strength: Measurement{7, true},
			Vibration: true, VibrationKnown: true, LastAction: ActionTilt,
		}
		before := s
		at := ms(10_000)
		rep, err := s.Apply(payload, actionTopic, at, 0)
		if err != nil {
			if s != before {
				t.Fatalf("error %v changed the state", err)
			}
			if rep.Event {
				t.Fatal("error with an event")
			}
			var perr *PayloadError
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a PayloadError", err)
			}
			object := bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{"))
			if !actionTopic && object && utf8.Valid(payload) && json.Valid(payload) &&
				perr.Reason != InvalidTooDeep {
				t.Fatalf("valid JSON object rejected: %v", err)
			}
			return
		}
		if rep.State != s {
			t.Fatal("report state differs from the state")
		}
		if s.Updated != at {
			t.Fatalf("Updated = %v, want %v", s.Updated, at)
		}
		if rep.Event != (s.LastEvent == at) {
			t.Fatalf("Event = %v but LastEvent = %v", rep.Event, s.LastEvent)
		}
		if s.Battery.Known && (s.Battery.Value < 0 || s.Battery.Value > 100) {
			t.Fatalf("Battery = %v, want 0..100", s.Battery.Value)
		}
		if rep.Action == "" && s.LastAction != ActionTilt {
			t.Fatalf("LastAction changed to %q without an action", s.LastAction)
		}
		for _, m := range s.measurements() {
			if m.Known && (math.IsNaN(m.Value) || math.IsInf(m.Value, 0)) {
				t.Fatalf("non-finite measurement %v", m.Value)
			}
		}
		// The same message again, at once, is never a second event.
		again, err := s.Apply(payload, actionTopic, at.Add(time.Millisecond), 0)
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		if again.Event {
			t.Fatal("repeated message counted twice")
		}
	})
}
