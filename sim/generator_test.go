package sim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testStart = time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC)

// generate runs a generator for the given simulated duration.
func generate(seed uint64, length time.Duration) []Message {
	gen := NewGenerator(seed, testStart)
	var out []Message
	for range int(length / time.Second) {
		out = append(out, gen.Step()...)
	}
	return out
}

type reading struct {
	offset  time.Duration
	bpm     int
	battery int
}

// readingsByDevice decodes every heart-rate message, failing on a bad one.
func readingsByDevice(t *testing.T, messages []Message) map[string][]reading {
	t.Helper()
	byDevice := map[string][]reading{}
	for _, msg := range messages {
		device, ok := strings.CutPrefix(msg.Topic, HeartRateTopicPrefix)
		if !ok {
			continue
		}
		var payload map[string]int
		if err := json.Unmarshal(msg.Payload, &payload); err != nil {
			t.Fatalf("heart-rate payload %s: %v", msg.Payload, err)
		}
		if len(payload) != 2 {
			t.Fatalf("heart-rate payload %s: want exactly heart_rate and battery", msg.Payload)
		}
		r := reading{offset: msg.Offset, bpm: payload["heart_rate"], battery: payload["battery"]}
		byDevice[device] = append(byDevice[device], r)
	}
	return byDevice
}

func TestGeneratorDeterministic(t *testing.T) {
	a := generate(7, 30*time.Minute)
	b := generate(7, 30*time.Minute)
	if len(a) != len(b) {
		t.Fatalf("same seed gave %d and %d messages", len(a), len(b))
	}
	for i := range a {
		same := a[i].Offset == b[i].Offset && a[i].Topic == b[i].Topic &&
			bytes.Equal(a[i].Payload, b[i].Payload)
		if !same {
			t.Fatalf("same seed differs at message %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	c := generate(8, 30*time.Minute)
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = bytes.Equal(a[i].Payload, c[i].Payload)
	}
	if same {
		t.Error("seeds 7 and 8 gave identical output")
	}
}

func TestGeneratorOrderedOffsets(t *testing.T) {
	messages := generate(1, cycleLength)
	for i := 1; i < len(messages); i++ {
		if messages[i].Offset < messages[i-1].Offset {
			t.Fatalf("message %d at %v is before %v", i, messages[i].Offset, messages[i-1].Offset)
		}
	}
}

func TestGeneratorHeartRatePerDevice(t *testing.T) {
	messages := generate(1, 2*cycleLength)
	byDevice := readingsByDevice(t, messages)
	if len(byDevice) != 4 {
		t.Fatalf("got readings from %d devices, want 4", len(byDevice))
	}
	zeros := 0
	for _, device := range DeviceIDs() {
		readings := byDevice[device]
		// Everyone is present for the warm-up: about one reading a second.
		warmUp := 0
		for _, r := range readings {
			if r.offset < warmUpLength {
				warmUp++
			}
		}
		if warmUp < 250 || warmUp > 300 {
			t.Errorf("%s sent %d readings in the %v warm-up, want about one a second",
				device, warmUp, warmUpLength)
		}
		for _, r := range readings {
			if r.bpm == 0 {
				zeros++
				continue
			}
			if r.bpm < 45 || r.bpm > 200 {
				t.Errorf("%s reading %d bpm at %v is implausible", device, r.bpm, r.offset)
			}
			if r.battery < 1 || r.battery > 100 {
				t.Errorf("%s battery %d%% at %v", device, r.battery, r.offset)
			}
		}
	}
	if zeros == 0 {
		t.Error("no 0 bpm reading in two workouts")
	}
	if total := len(messages); zeros > total/100 {
		t.Errorf("%d of %d readings are 0 bpm, want them rare", zeros, total)
	}
}

func TestGeneratorIntervalsRaiseHeartRate(t *testing.T) {
	byDevice := readingsByDevice(t, generate(3, cycleLength))
	for _, device := range DeviceIDs() {
		var work, rest, warm []int
		for _, r := range byDevice[device] {
			if r.bpm == 0 {
				continue
			}
			p := phaseAt(r.offset)
			switch {
			case p.kind == phaseWarmUp && p.progress < 0.3:
				warm = append(warm, r.bpm)
			case p.kind == phaseWork && p.progress > 0.6:
				work = append(work, r.bpm)
			case p.kind == phaseRest && p.progress > 0.6:
				rest = append(rest, r.bpm)
			}
		}
		workMean, restMean, warmMean := mean(work), mean(rest), mean(warm)
		if workMean < restMean+15 {
			t.Errorf("%s: late-work mean %.0f bpm is not well above late-rest mean %.0f",
				device, workMean, restMean)
		}
		if warmMean >= restMean {
			t.Errorf("%s: early warm-up mean %.0f bpm is not below late-rest mean %.0f",
				device, warmMean, restMean)
		}
	}
}

func mean(values []int) float64 {
	if len(values) == 0 {
		return 0
	}
	sum := 0
	for _, v := range values {
		sum += v
	}
	return float64(sum) / float64(len(values))
}

// gaps returns the pauses longer than minGap between a device's readings.
func gaps(readings []reading, minGap time.Duration) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(readings); i++ {
		if gap := readings[i].offset - readings[i-1].offset; gap > minGap {
			out = append(out, gap)
		}
	}
	return out
}

func TestGeneratorShortDropouts(t *testing.T) {
	byDevice := readingsByDevice(t, generate(1, 2*cycleLength))
	short := 0
	for _, device := range DeviceIDs() {
		for _, gap := range gaps(byDevice[device], 2*time.Second) {
			if gap <= dropoutMax+2*time.Second {
				short++
			}
		}
	}
	if short == 0 {
		t.Error("no short dropout in two workouts")
	}
}

func TestGeneratorBreakAndChangeover(t *testing.T) {
	byDevice := readingsByDevice(t, generate(1, cycleLength+time.Minute))
	breakStart := warmUpLength + breakFirstRound*(workLength+restLength)
	breakEnd := warmUpLength + (breakLastRound+1)*(workLength+restLength)
	changeoverStart := cycleLength - changeoverLength

	for i, device := range DeviceIDs() {
		var duringBreak, duringChangeover, afterBreak, nextWorkout int
		for _, r := range byDevice[device] {
			switch {
			case r.offset >= breakStart && r.offset < breakEnd:
				duringBreak++
			case r.offset >= breakEnd && r.offset < breakEnd+time.Minute:
				afterBreak++
			case r.offset >= changeoverStart && r.offset < cycleLength:
				duringChangeover++
			case r.offset >= cycleLength:
				nextWorkout++
			}
		}
		if i == breakTaker {
			if duringBreak != 0 {
				t.Errorf("%s sent %d readings during its break", device, duringBreak)
			}
			if afterBreak == 0 {
				t.Errorf("%s did not come back after its break", device)
			}
		} else if duringBreak == 0 {
			t.Errorf("%s sent nothing while %s was on a break", device, DeviceIDs()[breakTaker])
		}
		if duringChangeover != 0 {
			t.Errorf("%s sent %d readings during the changeover", device, duringChangeover)
		}
		if nextWorkout == 0 {
			t.Errorf("%s sent nothing when the next workout began", device)
		}
	}
}

func TestGeneratorBagFollowsSensorTiming(t *testing.T) {
	messages := generate(5, 2*cycleLength)
	var reports, clears []time.Duration
	for i, msg := range messages {
		switch msg.Topic {
		case BagTopic:
			var state map[string]any
			if err := json.Unmarshal(msg.Payload, &state); err != nil {
				t.Fatalf("bag payload %s: %v", msg.Payload, err)
			}
			if _, ok := state["last_seen"].(string); !ok {
				t.Errorf("bag payload lacks last_seen: %s", msg.Payload)
			}
			switch state["vibration"] {
			case true:
				if state["action"] != "vibration" {
					t.Errorf("vibration report without action: %s", msg.Payload)
				}
				if p := phaseAt(msg.Offset - detectionDelay); p.kind != phaseWork {
					t.Errorf("vibration report at %v, not during a round", msg.Offset)
				}
				if i+1 >= len(messages) || messages[i+1].Topic != BagActionTopic {
					t.Errorf("vibration report at %v not followed by an action message", msg.Offset)
				}
				reports = append(reports, msg.Offset)
			case false:
				if _, ok := state["action"]; ok {
					t.Errorf("vibration:false state carries an action: %s", msg.Payload)
				}
				clears = append(clears, msg.Offset)
			default:
				t.Errorf("bag payload without a vibration boolean: %s", msg.Payload)
			}
		case BagActionTopic:
			if string(msg.Payload) != "vibration" {
				t.Errorf("action payload = %q, want the plain string vibration", msg.Payload)
			}
		}
	}

	// Every round of both workouts reports, at most once per minute, up to
	// three times in a three-minute round.
	if len(reports) < 2*roundCount || len(reports) > 2*roundCount*3 {
		t.Errorf("%d vibration reports in %d rounds", len(reports), 2*roundCount)
	}
	for i := 1; i < len(reports); i++ {
		if gap := reports[i] - reports[i-1]; gap < reportLockout {
			t.Errorf("reports at %v and %v are %v apart, under the %v lockout",
				reports[i-1], reports[i], gap, reportLockout)
		}
	}
	// Each clear comes exactly vibrationTimeout after the last report before it.
	if len(clears) != 2*roundCount {
		t.Errorf("%d vibration:false messages, want one per round (%d)", len(clears), 2*roundCount)
	}
	for _, clear := range clears {
		i, _ := slices.BinarySearch(reports, clear)
		if i == 0 {
			t.Errorf("vibration:false at %v before any report", clear)
			continue
		}
		if last := reports[i-1]; clear-last != vibrationTimeout {
			t.Errorf("vibration:false at %v is %v after the last report, want %v",
				clear, clear-last, vibrationTimeout)
		}
	}
}

func TestDemoConfigMatchesGenerator(t *testing.T) {
	demo := DemoConfig()
	if len(demo.Participants) != 4 {
		t.Fatalf("demo has %d participants, want 4", len(demo.Participants))
	}
	if demo.HeartRateTopic != "fitness/hr/+" {
		t.Errorf("heart-rate topic = %q", demo.HeartRateTopic)
	}
	ids := map[string]bool{}
	devices := DeviceIDs()
	for i, p := range demo.Participants {
		if p.ID == "" || p.Name == "" {
			t.Errorf("participant %d has an empty id or name: %+v", i, p)
		}
		if ids[p.ID] {
			t.Errorf("participant id %q repeats", p.ID)
		}
		ids[p.ID] = true
		if p.DeviceID != devices[i] {
			t.Errorf("participant %s device %q, DeviceIDs has %q", p.ID, p.DeviceID, devices[i])
		}
	}
	if len(demo.Equipment) != 1 || demo.Equipment[0].Topic != BagTopic || demo.Equipment[0].ID == "" {
		t.Errorf("equipment = %+v, want one with topic %s", demo.Equipment, BagTopic)
	}

	byDevice := readingsByDevice(t, generate(1, time.Minute))
	for _, device := range devices {
		if len(byDevice[device]) == 0 {
			t.Errorf("generator sent nothing for demo device %s", device)
		}
	}

	demo.Participants[0].Name = "changed"
	if DemoConfig().Participants[0].Name == "changed" {
		t.Error("DemoConfig returns shared data")
	}
}
