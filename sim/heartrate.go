package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Strap behaviour, per reading or per second of simulated time.
const (
	// dropoutChance is the chance per second that a present strap starts a
	// short dropout (lost contact or radio) of dropoutMin to dropoutMax.
	dropoutChance = 1.0 / 400
	dropoutMin    = 3 * time.Second
	dropoutMax    = 12 * time.Second
	// zeroChance is the chance that a reading is 0 bpm, an invalid value
	// that real straps send when contact is poor.
	zeroChance = 1.0 / 600
	// batteryDrainEvery is how long a strap takes to lose one percent.
	batteryDrainEvery = 20 * time.Minute
)

// athlete is one participant's heart and strap.
type athlete struct {
	deviceID string
	// restBPM and maxBPM are the resting and maximum heart rates.
	restBPM, maxBPM float64
	// effort scales the planned intensity (1 is as planned).
	effort float64
	// riseTau and fallTau are the time constants, in seconds, with which the
	// heart rate follows a rise or a fall of the target.
	riseTau, fallTau float64
	// battery is the strap's starting battery in percent.
	battery int

	bpm          float64
	dropoutUntil time.Duration
}

// newAthletes returns the demo cast's hearts. The numbers are chosen to give
// four different, plausible people.
func newAthletes() []*athlete {
	specs := []athlete{
		{restBPM: 58, maxBPM: 188, effort: 1.00, riseTau: 20, fallTau: 35, battery: 92},
		{restBPM: 66, maxBPM: 181, effort: 0.95, riseTau: 25, fallTau: 45, battery: 78},
		{restBPM: 72, maxBPM: 176, effort: 0.90, riseTau: 30, fallTau: 55, battery: 55},
		{restBPM: 52, maxBPM: 194, effort: 1.05, riseTau: 18, fallTau: 30, battery: 31},
	}
	athletes := make([]*athlete, len(specs))
	for i := range specs {
		a := specs[i]
		a.deviceID = demoParticipants[i].DeviceID
		a.bpm = a.restBPM + 10
		athletes[i] = &a
	}
	return athletes
}

// heartRatePayload is the strap message. Field order is the JSON key order.
type heartRatePayload struct {
	HeartRate int `json:"heart_rate"`
	Battery   int `json:"battery"`
}

// step advances the heart by one second at elapsed and returns the reading
// to publish, if the strap sends one this second.
func (a *athlete) step(rng *rand.Rand, index int, elapsed time.Duration, p phase) ([]byte, bool) {
	reserve := a.maxBPM - a.restBPM
	target := math.Min(a.restBPM+a.effort*intensity(p)*reserve, a.maxBPM)
	absent := p.kind == phaseChangeover || onBreak(index, p)
	if absent {
		// Sitting out: the heart settles toward resting.
		target = a.restBPM + 0.05*reserve
	}
	tau := a.riseTau
	if target < a.bpm {
		tau = a.fallTau
	}
	a.bpm += (target-a.bpm)*(1-math.Exp(-1/tau)) + rng.NormFloat64()*1.2
	a.bpm = math.Max(a.restBPM-5, math.Min(a.bpm, a.maxBPM))

	// These draws happen every second, present or not, so the sequence of
	// draws, and with it the whole output, depends only on the seed.
	startDropout := rng.Float64() < dropoutChance
	dropoutLength := dropoutMin + time.Duration(rng.Int64N(int64(dropoutMax-dropoutMin)))
	zero := rng.Float64() < zeroChance

	if absent || elapsed < a.dropoutUntil {
		return nil, false
	}
	if startDropout {
		a.dropoutUntil = elapsed + dropoutLength
		return nil, false
	}
	reading := heartRatePayload{HeartRate: int(math.Round(a.bpm)), Battery: a.batteryAt(elapsed)}
	if zero {
		reading.HeartRate = 0
	}
	return encode(reading), true
}

func (a *athlete) batteryAt(elapsed time.Duration) int {
	return max(1, a.battery-int(elapsed/batteryDrainEvery))
}
