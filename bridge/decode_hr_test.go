package bridge

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testMinBPM = 30
	testMaxBPM = 240
)

type heartRateCase struct {
	name    string
	payload string
	bpm     float64
	invalid string
	battery int // -1 unknown
	rr      []float64
	ignored string
	time    time.Time
}

// heartRateCases are shared by the table test and the fuzz seeds.
var heartRateCases = []heartRateCase{
	// Accepted shapes.
	{name: "typical object", payload: `{"heart_rate":123}`, bpm: 123, battery: -1},
	{name: "fraction kept", payload: `{"heart_rate":72.4}`, bpm: 72.4, battery: -1},
	{name: "numeric string", payload: `{"heart_rate":"72"}`, bpm: 72, battery: -1},
	{name: "numeric string fraction", payload: `{"heart_rate":"72.50"}`, bpm: 72.5, battery: -1},
	{name: "numeric string spaces", payload: `{"heart_rate":" 72 "}`, bpm: 72, battery: -1},
	{name: "numeric string escaped", payload: `{"heart_rate":"\u0037\u0032"}`,
		bpm: 72, battery: -1},
	{name: "exponent", payload: `{"heart_rate":1.2e2}`, bpm: 120, battery: -1},
	{name: "bare number", payload: `71`, bpm: 71, battery: -1},
	{name: "bare number newline", payload: " 71\n", bpm: 71, battery: -1},
	{name: "bare fraction", payload: `71.25`, bpm: 71.25, battery: -1},
	{name: "bare json string", payload: `"71"`, bpm: 71, battery: -1},
	{name: "hr alias", payload: `{"hr":72}`, bpm: 72, battery: -1},
	{name: "act_bpm alias", payload: `{"id":"AA:BB:CC:00:00:03","act_bpm":88}`,
		bpm: 88, battery: -1},
	{name: "escaped key", payload: `{"heart\u005frate":90}`, bpm: 90, battery: -1},
	{name: "min inclusive", payload: `30`, bpm: 30, battery: -1},
	{name: "max inclusive", payload: `240`, bpm: 240, battery: -1},
	{name: "unknown members skipped", payload: `{"a":{"b":[1,{"c":null}]},"heart_rate":99,"z":"x"}`,
		bpm: 99, battery: -1},
	{name: "openant type member", payload: `{"_type":"heart_rate","heart_rate":133}`,
		bpm: 133, battery: -1},
	{name: "relay ts member ignored", payload: `{"hr":101,"ts":5}`, bpm: 101, battery: -1},

	// Contact loss and sentinels.
	{name: "zero object", payload: `{"_type":"heart_rate","heart_rate":0}`,
		invalid: InvalidZero, battery: -1},
	{name: "zero bare", payload: `0`, invalid: InvalidZero, battery: -1},
	{name: "zero fraction", payload: `0.0`, invalid: InvalidZero, battery: -1},
	{name: "negative zero", payload: `-0`, invalid: InvalidZero, battery: -1},
	{name: "zero string", payload: `{"heart_rate":"0"}`, invalid: InvalidZero, battery: -1},
	{name: "sentinel byte", payload: `255`, invalid: InvalidSentinel, battery: -1},
	{name: "sentinel byte fraction", payload: `{"heart_rate":255.0}`,
		invalid: InvalidSentinel, battery: -1},
	{name: "sentinel byte string", payload: `{"heart_rate":"255"}`,
		invalid: InvalidSentinel, battery: -1},
	{name: "sentinel triple", payload: `{"heart_rate":16777215}`,
		invalid: InvalidSentinel, battery: -1},
	{name: "sentinel act_bpm",
		payload: `{"id":"AA:BB:CC:00:00:01","brand":"Xiaomi","model_id":"MiBand","steps":5421,"act_bpm":255}`,
		invalid: InvalidSentinel, battery: -1},

	// Range.
	{name: "implausible act_bpm", payload: `{"id":"AA:BB:CC:00:00:02","model_id":"MiBand","act_bpm":7}`,
		invalid: InvalidOutOfRange, battery: -1},
	{name: "negative one", payload: `{"heart_rate":-1}`, invalid: InvalidOutOfRange, battery: -1},
	{name: "negative string", payload: `{"heart_rate":"-72"}`,
		invalid: InvalidOutOfRange, battery: -1},
	{name: "below min", payload: `29.9`, invalid: InvalidOutOfRange, battery: -1},
	{name: "above max", payload: `240.5`, invalid: InvalidOutOfRange, battery: -1},
	{name: "huge exponent", payload: `{"heart_rate":1e400}`,
		invalid: InvalidOutOfRange, battery: -1},
	{name: "tiny exponent", payload: `{"heart_rate":1e-400}`, invalid: InvalidZero, battery: -1},
	{name: "huge integer", payload: `{"heart_rate":123456789012345678901234567890}`,
		invalid: InvalidOutOfRange, battery: -1},
	{name: "huge string", payload: `{"heart_rate":"1e999"}`,
		invalid: InvalidOutOfRange, battery: -1},

	// Non-finite values.
	{name: "nan token", payload: `{"heart_rate":NaN}`, invalid: InvalidNotFinite, battery: -1},
	{name: "infinity token", payload: `{"heart_rate":Infinity}`,
		invalid: InvalidNotFinite, battery: -1},
	{name: "negative infinity token", payload: `{"heart_rate":-Infinity}`,
		invalid: InvalidNotFinite, battery: -1},
	{name: "nan bare text", payload: `nan`, invalid: InvalidNotFinite, battery: -1},
	{name: "inf bare text", payload: `-inf`, invalid: InvalidNotFinite, battery: -1},
	{name: "nan string", payload: `{"heart_rate":"nan"}`, invalid: InvalidNotFinite, battery: -1},
	{name: "infinity string", payload: `{"heart_rate":"Infinity"}`,
		invalid: InvalidNotFinite, battery: -1},
	{name: "nan in other member", payload: `{"heart_rate":80,"rssi":NaN}`, bpm: 80, battery: -1},

	// Missing and wrong types.
	{name: "empty payload", payload: ``, invalid: InvalidEmpty, battery: -1},
	{name: "whitespace payload", payload: " \n\t", invalid: InvalidEmpty, battery: -1},
	{name: "empty object", payload: `{}`, invalid: InvalidMissing, battery: -1},
	{name: "other key only", payload: `{"heart":72}`, invalid: InvalidMissing, battery: -1},
	{name: "null value", payload: `{"heart_rate":null}`, invalid: InvalidMissing, battery: -1},
	{name: "empty string value", payload: `{"heart_rate":""}`,
		invalid: InvalidMissing, battery: -1},
	{name: "bare null", payload: `null`, invalid: InvalidMissing, battery: -1},
	{name: "bool value", payload: `{"heart_rate":true}`, invalid: InvalidWrongType, battery: -1},
	{name: "array value", payload: `{"heart_rate":[72]}`, invalid: InvalidWrongType, battery: -1},
	{name: "object value", payload: `{"heart_rate":{"v":72}}`,
		invalid: InvalidWrongType, battery: -1},
	{name: "word string", payload: `{"heart_rate":"abc"}`, invalid: InvalidWrongType, battery: -1},
	{name: "hex string", payload: `{"heart_rate":"0x48"}`, invalid: InvalidWrongType, battery: -1},
	{name: "unit string", payload: `{"heart_rate":"72bpm"}`,
		invalid: InvalidWrongType, battery: -1},
	{name: "plus string", payload: `{"heart_rate":"+72"}`, invalid: InvalidWrongType, battery: -1},
	// A long numeric string is read as the number it is, here far too high.
	{name: "long string", payload: `{"heart_rate":"` + strings.Repeat("7", 100) + `"}`,
		invalid: InvalidOutOfRange, battery: -1},
	{name: "bare true", payload: `true`, invalid: InvalidWrongType, battery: -1},
	{name: "bare array", payload: `[72]`, invalid: InvalidWrongType, battery: -1},

	// Duplicates.
	{name: "duplicate key", payload: `{"heart_rate":72,"heart_rate":0}`,
		invalid: InvalidDuplicate, battery: -1},
	{name: "duplicate alias", payload: `{"heart_rate":72,"hr":73}`,
		invalid: InvalidDuplicate, battery: -1},
	{name: "duplicate escaped key", payload: `{"heart_rate":72,"heart\u005frate":73}`,
		invalid: InvalidDuplicate, battery: -1},
	{name: "duplicate battery", payload: `{"heart_rate":72,"battery":50,"battery":60}`,
		bpm: 72, battery: -1, ignored: FieldBattery},

	// Broken JSON.
	{name: "truncated number", payload: `{"heart_rate":7`, invalid: InvalidNotJSON, battery: -1},
	{name: "truncated after value", payload: `{"heart_rate":72`,
		invalid: InvalidNotJSON, battery: -1},
	{name: "truncated key", payload: `{"heart_ra`, invalid: InvalidNotJSON, battery: -1},
	{name: "truncated rr", payload: `{"heart_rate":72,"rr":[8`,
		invalid: InvalidNotJSON, battery: -1},
	{name: "trailing garbage", payload: `{"heart_rate":72}x`, invalid: InvalidNotJSON, battery: -1},
	{name: "two values", payload: `72 73`, invalid: InvalidNotJSON, battery: -1},
	{name: "trailing comma", payload: `{"heart_rate":72,}`, invalid: InvalidNotJSON, battery: -1},
	{name: "single quotes", payload: `{'heart_rate':72}`, invalid: InvalidNotJSON, battery: -1},
	{name: "leading zero", payload: `{"heart_rate":072}`, invalid: InvalidNotJSON, battery: -1},
	{name: "raw ble bytes", payload: `16,72,93,3,102,3`, invalid: InvalidNotJSON, battery: -1},
	{name: "text with unit", payload: `72 bpm`, invalid: InvalidNotJSON, battery: -1},
	{name: "invalid utf8 string", payload: "{\"heart_rate\":72,\"name\":\"\xff\"}",
		invalid: InvalidNotJSON, battery: -1},
	{name: "invalid utf8 bare", payload: "\xff\xfe", invalid: InvalidNotJSON, battery: -1},
	{name: "raw control char", payload: "{\"heart_rate\":72,\"name\":\"a\x01\"}",
		invalid: InvalidNotJSON, battery: -1},
	{name: "bad escape", payload: `{"heart_rate":72,"name":"\x"}`,
		invalid: InvalidNotJSON, battery: -1},
	{name: "too deep",
		payload: `{"heart_rate":72,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		invalid: InvalidTooDeep, battery: -1},
	{name: "deep but allowed", bpm: 72, battery: -1,
		payload: `{"heart_rate":72,"x":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`},

	// Battery.
	{name: "battery percent", payload: `{"heart_rate":72,"battery":97}`, bpm: 72, battery: 97},
	{name: "battery string", payload: `{"heart_rate":72,"battery":"100.00"}`,
		bpm: 72, battery: 100},
	{name: "battery rounded", payload: `{"heart_rate":72,"battery":97.5}`, bpm: 72, battery: 98},
	{name: "battery zero", payload: `{"heart_rate":72,"battery":0}`, bpm: 72, battery: 0},
	{name: "battery sentinel", payload: `{"heart_rate":72,"battery":255}`, bpm: 72, battery: -1},
	{name: "battery above range", payload: `{"heart_rate":72,"battery":101}`, bpm: 72, battery: -1},
	{name: "battery negative", payload: `{"heart_rate":72,"battery":-5}`, bpm: 72, battery: -1},
	{name: "battery null", payload: `{"heart_rate":72,"battery":null}`, bpm: 72, battery: -1},
	{name: "battery word", payload: `{"heart_rate":72,"battery":"n/a"}`, bpm: 72, battery: -1,
		ignored: FieldBattery},
	{name: "battery array", payload: `{"heart_rate":72,"battery":[97]}`, bpm: 72, battery: -1,
		ignored: FieldBattery},
	{name: "battery nan", payload: `{"heart_rate":72,"battery":NaN}`, bpm: 72, battery: -1,
		ignored: FieldBattery},
	{name: "openant full record",
		payload: `{"_type":"heart_rate","heart_rate":71,"beat_count":254,"beat_time":63.2,` +
			`"battery_percentage":255,"operating_time":16777215,"previous_heart_beat_time":-1.0}`,
		bpm: 71, battery: -1},
	{name: "openant beat_time wrapped", bpm: 72, battery: -1,
		payload: `{"_type":"heart_rate","heart_rate":72,"beat_count":255,"beat_time":0.1}`},
	{name: "openant battery", payload: `{"heart_rate":72,"battery_percentage":64}`,
		bpm: 72, battery: 64},

	// RR intervals.
	{name: "rr empty", payload: `{"hr":72,"rr":[]}`, bpm: 72, battery: -1},
	{name: "rr one", payload: `{"hr":72,"rr":[845]}`, bpm: 72, battery: -1, rr: []float64{845}},
	{name: "rr two", payload: `{"hr":150,"rr":[402,398]}`,
		bpm: 150, battery: -1, rr: []float64{402, 398}},
	{name: "rr 1024 units", payload: `{"hr":72,"rr_1024":[865,870]}`, bpm: 72, battery: -1,
		rr: []float64{865 * 1000.0 / 1024, 870 * 1000.0 / 1024}},
	{name: "rr absent", payload: `{"hr":72}`, bpm: 72, battery: -1},
	{name: "rr scalar", payload: `{"hr":72,"rr":845}`, bpm: 72, battery: -1, rr: []float64{845}},
	{name: "rr null", payload: `{"hr":72,"rr":null}`, bpm: 72, battery: -1},
	{name: "rr implausible dropped", payload: `{"hr":72,"rr":[100,845,3000,850]}`,
		bpm: 72, battery: -1,
		rr: []float64{845, 850}},
	{name: "rr wrong element", payload: `{"hr":72,"rr":[845,"x",850]}`, bpm: 72, battery: -1,
		rr: []float64{845, 850}, ignored: FieldRR},
	{name: "rr wrong type", payload: `{"hr":72,"rr":"845"}`,
		bpm: 72, battery: -1, ignored: FieldRR},
	{name: "rr both units", payload: `{"hr":72,"rr":[845],"rr_1024":[865]}`, bpm: 72, battery: -1,
		ignored: FieldRR},
	{name: "rr too long", payload: `{"hr":72,"rr":[` + strings.Repeat("800,", 20) + `800]}`,
		bpm: 72, battery: -1,
		rr: slices.Repeat([]float64{800}, MaxRRPerMessage), ignored: FieldRR},
	{name: "rr with invalid rate", payload: `{"hr":0,"rr":[845]}`,
		invalid: InvalidZero, battery: -1,
		rr: []float64{845}},

	// Timestamps.
	{name: "timestamp rfc3339", payload: `{"heart_rate":72,"timestamp":"2026-06-27T19:59:41.566-07:00"}`,
		bpm: 72, battery: -1, time: time.Date(2026, 6, 28, 2, 59, 41, 566e6, time.UTC)},
	{name: "timestamp millis", payload: `{"heart_rate":72,"timestamp":1782615581566}`,
		bpm: 72, battery: -1, time: time.Date(2026, 6, 28, 2, 59, 41, 566e6, time.UTC)},
	{name: "timestamp millis fraction", payload: `{"heart_rate":72,"timestamp":1782615581566.5}`,
		bpm: 72, battery: -1, time: time.Date(2026, 6, 28, 2, 59, 41, 566500e3, time.UTC)},
	{name: "timestamp null", payload: `{"heart_rate":72,"timestamp":null}`, bpm: 72, battery: -1},
	{name: "timestamp word", payload: `{"heart_rate":72,"timestamp":"yesterday"}`,
		bpm: 72, battery: -1,
		ignored: FieldTimestamp},
	{name: "timestamp no zone", payload: `{"heart_rate":72,"timestamp":"2026-06-27T19:59:41"}`,
		bpm: 72, battery: -1, ignored: FieldTimestamp},
	{name: "timestamp bool", payload: `{"heart_rate":72,"timestamp":true}`, bpm: 72, battery: -1,
		ignored: FieldTimestamp},
	{name: "timestamp huge", payload: `{"heart_rate":72,"timestamp":1e300}`, bpm: 72, battery: -1,
		ignored: FieldTimestamp},
}

func TestDecodeHeartRateCases(t *testing.T) {
	for _, tc := range heartRateCases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecodeHeartRate([]byte(tc.payload), testMinBPM, testMaxBPM)
			if got.Invalid != tc.invalid {
				t.Errorf("Invalid = %q, want %q", got.Invalid, tc.invalid)
			}
			if got.BPM != tc.bpm {
				t.Errorf("BPM = %v, want %v", got.BPM, tc.bpm)
			}
			if got.Battery != tc.battery {
				t.Errorf("Battery = %d, want %d", got.Battery, tc.battery)
			}
			if !slices.Equal(got.RR, tc.rr) {
				t.Errorf("RR = %v, want %v", got.RR, tc.rr)
			}
			if got.Ignored != tc.ignored {
				t.Errorf("Ignored = %q, want %q", got.Ignored, tc.ignored)
			}
			if !got.Timestamp.Equal(tc.time) {
				t.Errorf("Timestamp = %v, want %v", got.Timestamp, tc.time)
			}
		})
	}
}

func TestDecodeHeartRateRecordings(t *testing.T) {
	names := recordingNames(t, "*.jsonl")
	decoded := 0
	for _, name := range names {
		if strings.HasPrefix(name, "z2m-") {
			continue
		}
		for _, m := range readRecording(t, name) {
			if !strings.HasPrefix(m.Topic, "fitness/hr/") {
				t.Fatalf("%s t_ms=%d: unexpected topic %q", name, m.Millis, m.Topic)
			}
			var want struct {
				HeartRate float64 `json:"heart_rate"`
			}
			if err := json.Unmarshal(m.Payload, &want); err != nil {
				t.Fatalf("%s t_ms=%d: %v", name, m.Millis, err)
			}
			got := DecodeHeartRate(m.wirePayload(t), testMinBPM, testMaxBPM)
			if got.Invalid != "" {
				t.Errorf("%s t_ms=%d %s: Invalid = %q", name, m.Millis, m.Payload, got.Invalid)
			}
			if got.BPM != want.HeartRate {
				t.Errorf("%s t_ms=%d: BPM = %v, want %v", name, m.Millis, got.BPM, want.HeartRate)
			}
			decoded++
		}
	}
	// Six heart-rate recordings with 21,433 messages in all; fewer means
	// files went missing.
	if decoded < 20000 {
		t.Errorf("decoded %d heart-rate messages, want at least 20000", decoded)
	}
}

func TestDecodeHeartRateBoundsAreInclusive(t *testing.T) {
	got := DecodeHeartRate([]byte(`50`), 50, 50)
	if got.Invalid != "" || got.BPM != 50 {
		t.Errorf("min = max = 50: got %+v, want BPM 50", got)
	}
	got = DecodeHeartRate([]byte(`50`), math.NaN(), 200)
	if got.Invalid != InvalidOutOfRange {
		t.Errorf("NaN min: Invalid = %q, want %q", got.Invalid, InvalidOutOfRange)
	}
}

func TestDecodeHeartRateSentinelWinsOverRange(t *testing.T) {
	// 255 stays a sentinel even when the configured range includes it.
	got := DecodeHeartRate([]byte(`255`), 30, 300)
	if got.Invalid != InvalidSentinel {
		t.Errorf("Invalid = %q, want %q", got.Invalid, InvalidSentinel)
	}
}

func TestDecodeHeartRateZeroAllocations(t *testing.T) {
	payloads := []string{
		`{"heart_rate":123}`,
		`{"_type":"heart_rate","heart_rate":71,"beat_count":254,"beat_time":63.2,"battery_percentage":255}`,
		`{"heart_rate":"72.5","battery":"100.00"}`,
		`71`,
	}
	for _, p := range payloads {
		payload := []byte(p)
		allocs := testing.AllocsPerRun(100, func() {
			DecodeHeartRate(payload, testMinBPM, testMaxBPM)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", p, allocs)
		}
	}
}

func BenchmarkDecodeHeartRate(b *testing.B) {
	payloads := []struct{ name, payload string }{
		{"typical", `{"heart_rate":123}`},
		{"openant", `{"_type":"heart_rate","heart_rate":71,"beat_count":254,"beat_time":63.2,` +
			`"battery_percentage":255,"operating_time":16777215,"previous_heart_beat_time":-1.0}`},
		{"rr", `{"heart_rate":150,"rr":[402,398]}`},
		{"timestamp", `{"heart_rate":72,"timestamp":"2026-06-27T19:59:41.566-07:00"}`},
	}
	for _, p := range payloads {
		payload := []byte(p.payload)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				DecodeHeartRate(payload, testMinBPM, testMaxBPM)
			}
		})
	}
}
