package sim

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func generateCrowd(seed uint64, participants, equipment int, length time.Duration) []Message {
	c := NewCrowd(seed, testStart, participants, equipment)
	var out []Message
	for range int(length / time.Second) {
		out = append(out, c.Step()...)
	}
	return out
}

func TestCrowdConfigIDs(t *testing.T) {
	d := CrowdConfig(12, 3)
	if len(d.Participants) != 12 || len(d.Equipment) != 3 {
		t.Fatalf("got %d participants and %d equipment, want 12 and 3",
			len(d.Participants), len(d.Equipment))
	}
	if p := d.Participants[11]; p.ID != "sim-012" || p.DeviceID != "sim-hr-012" {
		t.Errorf("participant 12 = %+v", p)
	}
	if e := d.Equipment[2]; e.ID != "equipment_03" || e.Topic != "zigbee2mqtt/equipment_03" {
		t.Errorf("equipment 3 = %+v", e)
	}
	if d.HeartRateTopic != HeartRateTopicFilter {
		t.Errorf("heart-rate topic %q, want %q", d.HeartRateTopic, HeartRateTopicFilter)
	}
}

func TestCrowdDeterministic(t *testing.T) {
	a := generateCrowd(5, 10, 2, 20*time.Minute)
	b := generateCrowd(5, 10, 2, 20*time.Minute)
	if len(a) != len(b) {
		t.Fatalf("same seed gave %d and %d messages", len(a), len(b))
	}
	for i := range a {
		if a[i].Offset != b[i].Offset || a[i].Topic != b[i].Topic ||
			!bytes.Equal(a[i].Payload, b[i].Payload) {
			t.Fatalf("same seed differs at message %d: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestCrowdEveryStrapSendsOrdered(t *testing.T) {
	const participants = 50
	messages := generateCrowd(1, participants, 0, warmUpLength)
	for i := 1; i < len(messages); i++ {
		if messages[i].Offset < messages[i-1].Offset {
			t.Fatalf("message %d at %v is before %v", i, messages[i].Offset, messages[i-1].Offset)
		}
	}
	byDevice := readingsByDevice(t, messages)
	if len(byDevice) != participants {
		t.Fatalf("readings from %d devices, want %d", len(byDevice), participants)
	}
	for device, readings := range byDevice {
		// Everyone is present in the warm-up: about one reading a second.
		if n := len(readings); n < 250 || n > 300 {
			t.Errorf("%s sent %d readings in the %v warm-up, want about one a second",
				device, n, warmUpLength)
		}
	}
}

func TestCrowdEquipmentUsesOwnTopics(t *testing.T) {
	messages := generateCrowd(1, 0, 3, cycleLength)
	states := map[string]int{}
	actions := map[string]int{}
	for _, m := range messages {
		if strings.HasPrefix(m.Topic, BagTopic) {
			t.Fatalf("message on the demo bag topic %s", m.Topic)
		}
		if topic, ok := strings.CutSuffix(m.Topic, "/action"); ok {
			actions[topic]++
			continue
		}
		states[m.Topic]++
	}
	for _, e := range CrowdConfig(0, 3).Equipment {
		if states[e.Topic] == 0 {
			t.Errorf("no state message on %s", e.Topic)
		}
		if actions[e.Topic] == 0 {
			t.Errorf("no action message on %s/action", e.Topic)
		}
	}
	if len(states) != 3 {
		t.Errorf("state topics %v, want the 3 configured", states)
	}
}
