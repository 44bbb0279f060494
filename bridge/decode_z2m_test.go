package bridge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// t0 is an arbitrary base time for message sequences.
var t0 = time.Date(2026, 6, 27, 19, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// sensorMessage is one message of a sequence applied to one SensorState.
type sensorMessage struct {
	at      time.Time
	action  bool // the <topic>/action subtopic
	payload string
}

// applyAll applies messages in order and returns the reports, failing the
// test on any error.
func applyAll(t *testing.T, s *SensorState, messages []sensorMessage) []Report {
	t.Helper()
	reports := make([]Report, len(messages))
	for i, m := range messages {
		rep, err := s.Apply([]byte(m.payload), m.action, m.at, 0)
		if err != nil {
			t.Fatalf("message %d %q: %v", i, m.payload, err)
		}
		reports[i] = rep
	}
	return reports
}

func countEvents(reports []Report) int {
	n := 0
	for _, r := range reports {
		if r.Event {
			n++
		}
	}
	return n
}

func TestApplyOneHitThreeMessages(t *testing.T) {
	for _, cleared := range []string{`""`, `null`} {
		t.Run("action "+cleared, func(t *testing.T) {
			var s SensorState
			reports := applyAll(t, &s, []sensorMessage{
				{ms(0), false, `{"action":"vibration","vibration":true,"strength":12,"battery":97,` +
					`"voltage":3005,"linkquality":120}`},
				{ms(18), false, `{"action":` + cleared + `,"vibration":true,"strength":12,"battery":97,` +
					`"voltage":3005,"linkquality":120}`},
				{ms(21), true, `vibration`},
			})
			if got := countEvents(reports); got != 1 {
				t.Errorf("events = %d, want 1", got)
			}
			if !reports[0].Event {
				t.Error("first message is not the event")
			}
			if reports[1].Action != "" {
				t.Errorf("cleared action reported as %q, want empty", reports[1].Action)
			}
			if s.LastAction != ActionVibration {
				t.Errorf("LastAction = %q after cleared action, want %q", s.LastAction, ActionVibration)
			}
			if s.LastActionAt != ms(21) {
				t.Errorf("LastActionAt = %v, want the /action message's time %v", s.LastActionAt, ms(21))
			}
			if s.LastEvent != ms(0) {
				t.Errorf("LastEvent = %v, want %v", s.LastEvent, ms(0))
			}
			if s.Battery != (Measurement{97, true}) {
				t.Errorf("Battery = %+v, want 97", s.Battery)
			}
		})
	}
}

func TestApplyPartialNullAndStringPayloads(t *testing.T) {
	var s SensorState
	first := `{"action":null,"battery":100,"device":{"ieeeAddr":"0x00158d00000000a2",` +
		`"friendlyName":"step_sensor","model":"DJT11LM","dateCode":"20180130\u0000"},` +
		`"device_temperature":30,"linkquality":131,"power_outage_count":113,"sensitivity":"medium",` +
		`"strength":9,"vibration":false,"voltage":3145,"x_axis":-17,"y_axis":1038,"z_axis":296}`

	rep, err := s.Apply([]byte(first), false, ms(0), 0)
	if err != nil {
		t.Fatalf("full state: %v", err)
	}
	if rep.Event {
		t.Error("full state with vibration false is an event")
	}
	if rep.Vibrating == nil || *rep.Vibrating {
		t.Errorf("Vibrating = %v, want false", rep.Vibrating)
	}
	if rep.Action != "" {
		t.Errorf("null action reported as %q", rep.Action)
	}
	if s.Strength != (Measurement{9, true}) {
		t.Errorf("Strength = %+v, want 9", s.Strength)
	}
	if s.ZAxis != (Measurement{296, true}) {
		t.Errorf("ZAxis = %+v, want 296", s.ZAxis)
	}

	rep, err = s.Apply([]byte(`{"voltage":3145,"battery":100}`), false, ms(1000), 0)
	if err != nil {
		t.Fatalf("battery report: %v", err)
	}
	if rep.Vibrating != nil {
		t.Errorf("Vibrating = %v for a report without the flag, want nil", *rep.Vibrating)
	}
	if s.Strength != (Measurement{9, true}) {
		t.Errorf("Strength = %+v after partial report, want 9 kept", s.Strength)
	}
	if !s.VibrationKnown || s.Vibration {
		t.Errorf("Vibration = %v (known %v) after partial report, want false kept",
			s.Vibration, s.VibrationKnown)
	}

	stringNumbers := `{"battery":"100.00","voltage":"3145","linkquality":134,"action":"drop"}`
	rep, err = s.Apply([]byte(stringNumbers), false, ms(2000), 0)
	if err != nil {
		t.Fatalf("string numbers: %v", err)
	}
	if s.Battery != (Measurement{100, true}) {
		t.Errorf("Battery = %+v, want 100", s.Battery)
	}
	if s.Voltage != (Measurement{3145, true}) {
		t.Errorf("Voltage = %+v, want 3145", s.Voltage)
	}
	if s.LinkQuality != (Measurement{134, true}) {
		t.Errorf("LinkQuality = %+v, want 134", s.LinkQuality)
	}
	if rep.Event {
		t.Error("drop counted as a vibration event")
	}
	if rep.Action != ActionDrop {
		t.Errorf("Action = %q, want %q", rep.Action, ActionDrop)
	}

	tilt := `{"action":"tilt","angle":46,"angle_x":0,"angle_y":30,"angle_z":60}`
	rep, err = s.Apply([]byte(tilt), false, ms(3000), 0)
	if err != nil {
		t.Fatalf("tilt: %v", err)
	}
	if rep.Event {
		t.Error("tilt counted as a vibration event")
	}
	if rep.Action != ActionTilt {
		t.Errorf("Action = %q, want %q", rep.Action, ActionTilt)
	}
	if s.Angle != (Measurement{46, true}) {
		t.Errorf("Angle = %+v, want 46", s.Angle)
	}
	if s.AngleX != (Measurement{0, true}) {
		t.Errorf("AngleX = %+v, want 0", s.AngleX)
	}
	if s.AngleZ != (Measurement{60, true}) {
		t.Errorf("AngleZ = %+v, want 60", s.AngleZ)
	}
	if s.Strength != (Measurement{9, true}) {
		t.Errorf("Strength = %+v after tilt, want 9 kept", s.Strength)
	}

	rep, err = s.Apply([]byte(`{"battery":null,"strength":"n/a"}`), false, ms(4000), 0)
	if err != nil {
		t.Fatalf("null and n/a: %v", err)
	}
	if rep.Ignored != "strength" {
		t.Errorf("Ignored = %q, want strength", rep.Ignored)
	}
	if s.Battery != (Measurement{100, true}) {
		t.Errorf("Battery = %+v after null, want 100 kept", s.Battery)
	}
	if s.Strength != (Measurement{9, true}) {
		t.Errorf("Strength = %+v after n/a, want 9 kept", s.Strength)
	}

	before := s
	rep, err = s.Apply([]byte(`{"action":"vibr`), false, ms(5000), 0)
	var perr *PayloadError
	if !errors.As(err, &perr) || perr.Reason != InvalidNotJSON {
		t.Fatalf("truncated: err = %v, want PayloadError %s", err, InvalidNotJSON)
	}
	if s != before {
		t.Error("truncated payload changed the state")
	}
	if rep.Event {
		t.Error("truncated payload reported an event")
	}
	if rep.State != before {
		t.Error("error report does not carry the unchanged state")
	}
}

func TestApplyStaleVibrationTrue(t *testing.T) {
	var s SensorState
	retained := `{"vibration":true,"strength":25,"battery":96,"last_seen":"2026-06-27T17:00:00Z"}`
	rep, err := s.ApplyRetained([]byte(retained), false, ms(-100))
	if err != nil {
		t.Fatalf("retained: %v", err)
	}
	if rep.Event {
		t.Error("retained state counted as an event")
	}
	if !s.LastEvent.IsZero() {
		t.Errorf("retained state set LastEvent to %v", s.LastEvent)
	}
	if s.Battery != (Measurement{96, true}) {
		t.Errorf("Battery = %+v, want 96 seeded from the retained state", s.Battery)
	}
	if want := time.Date(2026, 6, 27, 17, 0, 0, 0, time.UTC); !s.LastSeen.Equal(want) {
		t.Errorf("LastSeen = %v, want %v", s.LastSeen, want)
	}

	reports := applyAll(t, &s, []sensorMessage{
		{ms(0), false, `{"action":"vibration","vibration":true,"strength":25}`},
		{ms(20), false, `{"action":"","vibration":true,"strength":25}`},
		{ms(300_000), false, `{"battery":96,"voltage":2995,"vibration":true,"strength":25}`},
		{ms(3_600_000), false, `{"battery":96,"voltage":2990,"vibration":true,"strength":25}`},
	})
	if !reports[0].Event {
		t.Error("live action right after the retained state is not an event")
	}
	for i, r := range reports[1:] {
		if r.Event {
			t.Errorf("report %d with unchanged vibration true is an event", i+1)
		}
	}
}

func TestApplyRetainedMatchesApplyState(t *testing.T) {
	payload := []byte(`{"action":"vibration","vibration":true,"battery":80}`)
	var live, retained SensorState
	if _, err := live.Apply(payload, false, ms(0), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := retained.ApplyRetained(payload, false, ms(0)); err != nil {
		t.Fatal(err)
	}
	live.LastEvent = time.Time{}
	if live != retained {
		t.Errorf("retained state %+v differs from live %+v beyond LastEvent", retained, live)
	}
	_, err := retained.ApplyRetained([]byte(`{`), false, ms(1))
	var perr *PayloadError
	if !errors.As(err, &perr) || perr.Reason != InvalidNotJSON {
		t.Errorf("broken retained payload: err = %v, want %s", err, InvalidNotJSON)
	}
}

func TestApplyDeduplication(t *testing.T) {
	vibration := `{"action":"vibration"}`
	tests := []struct {
		name   string
		dedup  time.Duration
		times  []int // ms of each vibration signal
		events []bool
	}{
		{"inside default window", 0, []int{0, 1999}, []bool{true, false}},
		{"at default window", 0, []int{0, 2000}, []bool{true, true}},
		{"window does not slide", 0, []int{0, 1500, 2500}, []bool{true, false, true}},
		{"out of order", 0, []int{5000, 4000}, []bool{true, false}},
		{"custom window", 10 * time.Second, []int{0, 9000, 10_000}, []bool{true, false, true}},
		{"negative means default", -time.Second, []int{0, 1000}, []bool{true, false}},
		{"punching bag minute", 0, []int{1000, 1003, 62000, 62003, 123000},
			[]bool{true, false, true, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s SensorState
			for i, at := range tc.times {
				rep, err := s.Apply([]byte(vibration), false, ms(at), tc.dedup)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Event != tc.events[i] {
					t.Errorf("signal %d at %d ms: Event = %v, want %v", i, at, rep.Event, tc.events[i])
				}
			}
		})
	}
}

func TestApplyVibrationFlagEdges(t *testing.T) {
	tests := []struct {
		name     string
		payloads []string
		events   []bool
	}{
		{"unknown to true", []string{`{"vibration":true}`}, []bool{true}},
		{"false to true", []string{`{"vibration":false}`, `{"vibration":true}`}, []bool{false, true}},
		{"true stays true", []string{`{"vibration":true}`, `{"vibration":true}`}, []bool{true, false}},
		{"true false true", []string{`{"vibration":true}`, `{"vibration":false}`, `{"vibration":true}`},
			[]bool{true, false, true}},
		{"null flag keeps true", []string{`{"vibration":true}`, `{"vibration":null}`, `{"vibration":true}`},
			[]bool{true, false, false}},
		{"string flag ignored", []string{`{"vibration":"true"}`}, []bool{false}},
		{"action and flag once", []string{`{"action":"vibration","vibration":true}`}, []bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s SensorState
			for i, p := range tc.payloads {
				// 10 s apart, so de-duplication never hides an edge.
				rep, err := s.Apply([]byte(p), false, ms(i*10_000), 0)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Event != tc.events[i] {
					t.Errorf("payload %d %s: Event = %v, want %v", i, p, rep.Event, tc.events[i])
				}
			}
		})
	}
}

func TestApplyActionTopic(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		action  string
		event   bool
		reason  string
	}{
		{"plain word", "vibration", ActionVibration, true, ""},
		{"trailing newline", "vibration\n", ActionVibration, true, ""},
		{"json string", `"vibration"`, ActionVibration, true, ""},
		{"tilt", "tilt", ActionTilt, false, ""},
		{"drop", "drop", ActionDrop, false, ""},
		{"unknown word", "shake", ActionOther, false, ""},
		{"long word", strings.Repeat("x", 100), ActionOther, false, ""},
		{"empty", "", "", false, ""},
		{"spaces", "  ", "", false, ""},
		{"empty json string", `""`, "", false, ""},
		{"invalid utf8", "vib\xffration", "", false, InvalidNotText},
		{"control char", "vib\x00ration", "", false, InvalidNotText},
		{"escaped control char", `"vib\u0000"`, "", false, InvalidNotText},
		{"broken json string", `"vibr`, "", false, InvalidNotJSON},
		{"json string then text", `"vibration" x`, "", false, InvalidNotJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s SensorState
			before := s
			rep, err := s.Apply([]byte(tc.payload), true, ms(0), 0)
			if tc.reason != "" {
				var perr *PayloadError
				if !errors.As(err, &perr) || perr.Reason != tc.reason {
					t.Fatalf("err = %v, want PayloadError %s", err, tc.reason)
				}
				if s != before {
					t.Error("rejected payload changed the state")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if rep.Action != tc.action {
				t.Errorf("Action = %q, want %q", rep.Action, tc.action)
			}
			if rep.Event != tc.event {
				t.Errorf("Event = %v, want %v", rep.Event, tc.event)
			}
		})
	}
}

func TestApplyBrokenStatePayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		reason  string
	}{
		{"empty", "", InvalidEmpty},
		{"null", "null", InvalidWrongType},
		{"array", `[{"vibration":true}]`, InvalidWrongType},
		{"number", "12", InvalidWrongType},
		{"plain word on state topic", "vibration", InvalidNotJSON},
		{"truncated", `{"action":"vibr`, InvalidNotJSON},
		{"trailing garbage", `{"vibration":true}}`, InvalidNotJSON},
		{"invalid utf8", "{\"action\":\"vibration\",\"x\":\"\xc3\x28\"}", InvalidNotJSON},
		{"too deep", `{"vibration":true,"device":` + strings.Repeat(`{"a":`, 80) + "1" +
			strings.Repeat("}", 80) + "}", InvalidTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := SensorState{Battery: Measurement{50, true}, LastEvent: ms(-60_000)}
			before := s
			rep, err := s.Apply([]byte(tc.payload), false, ms(0), 0)
			var perr *PayloadError
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want a PayloadError", err)
			}
			if perr.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q", perr.Reason, tc.reason)
			}
			if rep.Event {
				t.Error("broken payload reported an event")
			}
			if s != before {
				t.Error("broken payload changed the state")
			}
		})
	}
}

func TestApplyFieldErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		ignored string
		event   bool
	}{
		{"duplicate battery", `{"battery":60,"battery":70}`, "battery", false},
		{"duplicate action", `{"action":"vibration","action":""}`, "action", false},
		{"action number", `{"action":5}`, "action", false},
		{"battery out of range", `{"battery":150}`, "battery", false},
		{"linkquality bool", `{"linkquality":true}`, "linkquality", false},
		{"strength nan", `{"strength":NaN}`, "strength", false},
		{"last_seen word", `{"last_seen":"yesterday"}`, "last_seen", false},
		{"vibration number", `{"vibration":1}`, "vibration", false},
		{"first of several", `{"voltage":"x","strength":"y","action":"vibration"}`, "voltage", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := SensorState{Battery: Measurement{50, true}, Voltage: Measurement{3000, true}}
			rep, err := s.Apply([]byte(tc.payload), false, ms(0), 0)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if rep.Ignored != tc.ignored {
				t.Errorf("Ignored = %q, want %q", rep.Ignored, tc.ignored)
			}
			if rep.Event != tc.event {
				t.Errorf("Event = %v, want %v", rep.Event, tc.event)
			}
			if s.Battery != (Measurement{50, true}) {
				t.Errorf("Battery = %+v, want 50 kept", s.Battery)
			}
			if s.Voltage != (Measurement{3000, true}) {
				t.Errorf("Voltage = %+v, want 3000 kept", s.Voltage)
			}
		})
	}
}

func TestApplyKeepsFieldsBesideBrokenOne(t *testing.T) {
	s := SensorState{Battery: Measurement{50, true}}
	payload := `{"battery":"x","vibration":true,"linkquality":120,"voltage":"3005"}`
	rep, err := s.Apply([]byte(payload), false, ms(0), 0)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	if rep.Ignored != "battery" {
		t.Errorf("Ignored = %q, want battery", rep.Ignored)
	}
	if !rep.Event {
		t.Error("vibration beside a broken battery is no event")
	}
	if rep.Vibrating == nil || !*rep.Vibrating {
		t.Errorf("Vibrating = %v, want true", rep.Vibrating)
	}
	if !s.VibrationKnown || !s.Vibration {
		t.Errorf("Vibration = %v (known %v), want true", s.Vibration, s.VibrationKnown)
	}
	if s.LinkQuality != (Measurement{120, true}) {
		t.Errorf("LinkQuality = %+v, want 120", s.LinkQuality)
	}
	if s.Voltage != (Measurement{3005, true}) {
		t.Errorf("Voltage = %+v, want 3005", s.Voltage)
	}
	if s.Battery != (Measurement{50, true}) {
		t.Errorf("Battery = %+v, want 50 kept", s.Battery)
	}
}

func TestApplyLastSeenForms(t *testing.T) {
	want := time.Date(2024, 1, 10, 18, 16, 6, 0, time.UTC)
	for _, payload := range []string{
		`{"last_seen":"2024-01-10T18:16:06+00:00"}`,
		`{"last_seen":"2024-01-10T19:16:06+01:00"}`,
		`{"last_seen":1704910566000}`,
	} {
		var s SensorState
		if _, err := s.Apply([]byte(payload), false, ms(0), 0); err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		if !s.LastSeen.Equal(want) {
			t.Errorf("%s: LastSeen = %v, want %v", payload, s.LastSeen, want)
		}
	}
}

// applyRecording applies every message of a recording, one SensorState per
// sensor (a state topic and its /action subtopic share one), at the
// recording's offsets from t0.
func applyRecording(t *testing.T, name string) (map[string][]Report, map[string]*SensorState) {
	t.Helper()
	reports := make(map[string][]Report)
	states := make(map[string]*SensorState)
	for _, m := range readRecording(t, name) {
		if m.Retain {
			t.Fatalf("%s t_ms=%d: retained message, the test does not model it", name, m.Millis)
		}
		topic, action := strings.CutSuffix(m.Topic, "/action")
		s := states[topic]
		if s == nil {
			s = &SensorState{}
			states[topic] = s
		}
		rep, err := s.Apply(m.wirePayload(t), action, ms(int(m.Millis)), 0)
		if err != nil {
			t.Fatalf("%s t_ms=%d %s: %v", name, m.Millis, m.Topic, err)
		}
		reports[topic] = append(reports[topic], rep)
	}
	return reports, states
}

func TestApplyPayloadVariantsRecording(t *testing.T) {
	reports, states := applyRecording(t, "z2m-djt11lm-payload-variants.jsonl")
	// The 2024b and 2024c states carry only vibration:false, so they hold
	// no event; each installation with a vibration report has exactly one.
	want := map[string]int{
		"zigbee2mqtt/vibration_2019":  1,
		"zigbee2mqtt/vibration_2020":  1,
		"zigbee2mqtt/vibration_2024a": 1,
		"zigbee2mqtt/vibration_2024b": 0,
		"zigbee2mqtt/vibration_2024c": 0,
	}
	if len(reports) != len(want) {
		t.Errorf("sensors = %d, want %d", len(reports), len(want))
	}
	for topic, n := range want {
		if got := countEvents(reports[topic]); got != n {
			t.Errorf("%s: events = %d, want %d", topic, got, n)
		}
	}

	checks := []struct {
		topic string
		field string
		got   Measurement
		want  float64
	}{
		{"vibration_2019", "battery", states["zigbee2mqtt/vibration_2019"].Battery, 51},
		{"vibration_2019", "angle_y_absolute", states["zigbee2mqtt/vibration_2019"].AngleYAbsolute, 169},
		{"vibration_2020", "strength", states["zigbee2mqtt/vibration_2020"].Strength, 20},
		{"vibration_2024a", "voltage", states["zigbee2mqtt/vibration_2024a"].Voltage, 3155},
		{"vibration_2024c", "y_axis", states["zigbee2mqtt/vibration_2024c"].YAxis, 1068},
	}
	for _, c := range checks {
		if c.got != (Measurement{c.want, true}) {
			t.Errorf("%s %s = %+v, want %v", c.topic, c.field, c.got, c.want)
		}
	}
	if states["zigbee2mqtt/vibration_2019"].VibrationKnown {
		t.Error("2019 payloads have no vibration flag, but the state knows one")
	}
	if got := states["zigbee2mqtt/vibration_2020"].LastAction; got != ActionVibration {
		t.Errorf("2020 LastAction = %q, want %q", got, ActionVibration)
	}
	if s := states["zigbee2mqtt/vibration_2024a"]; !s.VibrationKnown || !s.Vibration {
		t.Error("2024a state is not vibrating")
	}
	if s := states["zigbee2mqtt/vibration_2024c"]; !s.VibrationKnown || s.Vibration {
		t.Error("2024c state is not known to be still")
	}
	for topic, list := range reports {
		for i, r := range list {
			if r.Ignored != "" {
				t.Errorf("%s message %d: Ignored = %q, want none", topic, i, r.Ignored)
			}
		}
	}
}

func TestApplyPunchingBagRecording(t *testing.T) {
	reports, states := applyRecording(t, "z2m-djt11lm-punching-bag-round.jsonl")
	const topic = "zigbee2mqtt/punching_bag"
	list := reports[topic]
	if len(list) != 7 {
		t.Fatalf("messages = %d, want 7", len(list))
	}
	if got := countEvents(list); got != 3 {
		t.Errorf("events = %d, want 3", got)
	}
	for _, i := range []int{0, 2, 4} {
		if !list[i].Event {
			t.Errorf("state message %d is not an event", i)
		}
	}
	last := list[len(list)-1]
	if last.Vibrating == nil || *last.Vibrating {
		t.Errorf("final Vibrating = %v, want false", last.Vibrating)
	}
	s := states[topic]
	if s.LastEvent != ms(123_000) {
		t.Errorf("LastEvent = %v, want %v", s.LastEvent, ms(123_000))
	}
	if !s.VibrationKnown || s.Vibration {
		t.Error("final state is still vibrating")
	}
}
