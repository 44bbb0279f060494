package sim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// Message is one simulated MQTT message.
type Message struct {
	// Offset is the simulated time since the simulator started.
	Offset  time.Duration
	Topic   string
	Payload []byte
}

// Within each second, strap i sends at strapSlot + i*strapSpacing, moved by
// up to strapJitter either way, so the four straps do not send at once.
const (
	strapSlot    = 150 * time.Millisecond
	strapSpacing = 200 * time.Millisecond
	strapJitter  = 50 * time.Millisecond
)

// seedStream is the second PCG seed word. The caller's seed is the first.
const seedStream = 0x66697462726964 // "fitbrid"

// Generator produces the simulated messages one second at a time. The output
// depends only on the seed and the start time, never on the wall clock, so
// tests can run hours of workout in milliseconds.
type Generator struct {
	rng      *rand.Rand
	athletes []*athlete
	bag      *bag
	elapsed  time.Duration
}

// NewGenerator returns a generator for the given seed. start is the
// wall-clock time of offset 0, used only for the sensor's last_seen field.
func NewGenerator(seed uint64, start time.Time) *Generator {
	return &Generator{
		rng:      rand.New(rand.NewPCG(seed, seedStream)),
		athletes: newAthletes(),
		bag:      &bag{start: start},
	}
}

// Step returns the messages of the next simulated second, ordered by Offset.
func (g *Generator) Step() []Message {
	t := g.elapsed
	g.elapsed += time.Second
	p := phaseAt(t)

	var out []Message
	for i, a := range g.athletes {
		jitter := time.Duration(g.rng.Int64N(int64(2*strapJitter))) - strapJitter
		payload, ok := a.step(g.rng, i, t, p)
		if !ok {
			continue
		}
		out = append(out, Message{
			Offset:  t + strapSlot + time.Duration(i)*strapSpacing + jitter,
			Topic:   HeartRateTopicPrefix + a.deviceID,
			Payload: payload,
		})
	}
	out = append(out, g.bag.step(g.rng, t, p)...)
	slices.SortStableFunc(out, func(a, b Message) int { return cmp.Compare(a.Offset, b.Offset) })
	return out
}
