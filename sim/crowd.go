package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Prefixes of the ids and topics of a crowd.
const (
	crowdParticipantPrefix = "sim-"
	crowdDevicePrefix      = "sim-hr-"
	crowdEquipmentPrefix   = "equipment_"
	crowdEquipmentTopic    = "zigbee2mqtt/"
)

// Crowd produces the messages of any number of participants and pieces of
// equipment, one simulated second at a time, for load and soak tests. Every
// participant follows the demo workout with heart parameters drawn from the
// seed, and every fourth one takes the demo's mid-workout break. Each piece
// of equipment is a punching-bag vibration sensor with its own punches.
// Like Generator, the output depends only on the seed and the start time.
type Crowd struct {
	rng      *rand.Rand
	athletes []*athlete
	bags     []*bag
	topics   []string // state topic of each bag
	elapsed  time.Duration
}

// CrowdConfig describes a crowd of participants and equipment, so that a
// caller can build a matching fitbridge configuration. Ids are numbered
// from 1 and padded to three (participants) or two (equipment) digits.
func CrowdConfig(participants, equipment int) Demo {
	d := Demo{HeartRateTopic: HeartRateTopicFilter}
	for i := 1; i <= participants; i++ {
		d.Participants = append(d.Participants, DemoParticipant{
			ID:       fmt.Sprintf("%s%03d", crowdParticipantPrefix, i),
			Name:     fmt.Sprintf("Participant %d", i),
			DeviceID: fmt.Sprintf("%s%03d", crowdDevicePrefix, i),
		})
	}
	for i := 1; i <= equipment; i++ {
		id := fmt.Sprintf("%s%02d", crowdEquipmentPrefix, i)
		d.Equipment = append(d.Equipment, DemoEquipment{
			ID: id, Name: fmt.Sprintf("Equipment %d", i), Topic: crowdEquipmentTopic + id,
		})
	}
	return d
}

// NewCrowd returns the generator of CrowdConfig(participants, equipment).
// start is the wall-clock time of offset 0, used only for the sensors'
// last_seen field.
func NewCrowd(seed uint64, start time.Time, participants, equipment int) *Crowd {
	c := &Crowd{rng: rand.New(rand.NewPCG(seed, seedStream))}
	cfg := CrowdConfig(participants, equipment)
	for _, p := range cfg.Participants {
		// Ranges around the demo cast's four hearts.
		a := &athlete{
			deviceID: p.DeviceID,
			restBPM:  50 + 25*c.rng.Float64(),
			maxBPM:   170 + 28*c.rng.Float64(),
			effort:   0.85 + 0.25*c.rng.Float64(),
			riseTau:  15 + 20*c.rng.Float64(),
			fallTau:  30 + 30*c.rng.Float64(),
			battery:  30 + c.rng.IntN(71),
		}
		a.bpm = a.restBPM + 10
		c.athletes = append(c.athletes, a)
	}
	for _, e := range cfg.Equipment {
		c.bags = append(c.bags, &bag{start: start})
		c.topics = append(c.topics, e.Topic)
	}
	return c
}

// Step returns the messages of the next simulated second, ordered by Offset.
func (c *Crowd) Step() []Message {
	t := c.elapsed
	c.elapsed += time.Second
	p := phaseAt(t)

	var out []Message
	if n := len(c.athletes); n > 0 {
		// The straps send in turn, spread over the second.
		spacing := time.Second / time.Duration(n)
		for i, a := range c.athletes {
			jitter := time.Duration(c.rng.Int64N(int64(max(spacing, 1))))
			payload, ok := a.step(c.rng, i%4, t, p)
			if !ok {
				continue
			}
			out = append(out, Message{
				Offset:  t + time.Duration(i)*spacing + jitter,
				Topic:   HeartRateTopicPrefix + a.deviceID,
				Payload: payload,
			})
		}
	}
	for i, b := range c.bags {
		for _, m := range b.step(c.rng, t, p) {
			// The bag model publishes on the demo topics; move its messages
			// to this bag's topic, keeping the /action suffix.
			m.Topic = c.topics[i] + strings.TrimPrefix(m.Topic, BagTopic)
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b Message) int { return cmp.Compare(a.Offset, b.Offset) })
	return out
}
