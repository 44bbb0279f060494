package sim

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// Timing of an Aqara DJT11LM vibration sensor under zigbee2mqtt. The sensor
// reports about one second after vibration starts, then at most once a
// minute however long the vibration lasts. It never reports the end of a
// vibration, so zigbee2mqtt publishes vibration:false itself once
// vibration_timeout (default 90 s) passes without a report.
// NOTE: these timings come from zigbee2mqtt's device notes and user reports,
// not from measuring a sensor.
const (
	detectionDelay   = time.Second
	reportLockout    = 60 * time.Second
	vibrationTimeout = 90 * time.Second
	// actionDelay separates the state message from the action message that
	// zigbee2mqtt publishes right after it.
	actionDelay = 3 * time.Millisecond
)

// Bounds of the random parts of a round on the bag.
const (
	maxOnsetDelay = 8 * time.Second // until the first punch after the bell
	maxEarlyStop  = 5 * time.Second // punching stops this much before the bell
)

// bagState is the sensor's zigbee2mqtt state message. Field order is the
// JSON key order, alphabetical as zigbee2mqtt sends it.
type bagState struct {
	Action            string `json:"action,omitempty"`
	Angle             int    `json:"angle"`
	AngleX            int    `json:"angle_x"`
	AngleY            int    `json:"angle_y"`
	AngleZ            int    `json:"angle_z"`
	Battery           int    `json:"battery"`
	DeviceTemperature int    `json:"device_temperature"`
	LastSeen          string `json:"last_seen"`
	LinkQuality       int    `json:"linkquality"`
	PowerOutageCount  int    `json:"power_outage_count"`
	Strength          int    `json:"strength"`
	Vibration         bool   `json:"vibration"`
	Voltage           int    `json:"voltage"`
}

// lastSeenLayout is ISO 8601 with a numeric zone, as zigbee2mqtt's
// last_seen setting "ISO_8601" writes it.
const lastSeenLayout = "2006-01-02T15:04:05-07:00"

// bag is the punching bag's sensor.
type bag struct {
	// start is the wall-clock time of elapsed 0, for last_seen.
	start time.Time

	punchFrom, punchUntil time.Duration // punching in the current round
	strength              int           // reported strength for the round

	reported   bool          // a report was ever sent
	lastReport time.Duration // time of the latest vibration report
	pending    bool          // a report is due at pendingAt
	pendingAt  time.Duration
	vibrating  bool // state is vibration:true, so a false is still due
}

// step advances the sensor through the second starting at elapsed and
// returns its messages in that second.
func (b *bag) step(rng *rand.Rand, elapsed time.Duration, p phase) []Message {
	if p.kind == phaseWork && p.sinceStart == 0 {
		b.punchFrom = elapsed + time.Duration(rng.Int64N(int64(maxOnsetDelay)))
		b.punchUntil = elapsed + workLength - time.Duration(rng.Int64N(int64(maxEarlyStop)))
		b.strength = 15 + rng.IntN(45)
	}
	// Drawn every second so the number of draws does not depend on state.
	linkQuality := 60 + rng.IntN(60)

	punching := elapsed >= b.punchFrom && elapsed < b.punchUntil
	detectAt := elapsed + detectionDelay
	if punching && !b.pending && (!b.reported || detectAt >= b.lastReport+reportLockout) {
		b.pending = true
		b.pendingAt = detectAt
	}

	var out []Message
	end := elapsed + time.Second
	if b.pending && b.pendingAt < end {
		b.pending = false
		b.reported = true
		b.vibrating = true
		b.lastReport = b.pendingAt
		state := b.state(b.pendingAt, linkQuality)
		state.Action = "vibration"
		state.Vibration = true
		out = append(out,
			Message{Offset: b.pendingAt, Topic: BagTopic, Payload: encode(state)},
			Message{Offset: b.pendingAt + actionDelay, Topic: BagActionTopic, Payload: []byte("vibration")},
		)
	}
	if clearAt := b.lastReport + vibrationTimeout; b.vibrating && clearAt < end {
		b.vibrating = false
		// zigbee2mqtt repeats the last known state, so last_seen stays at
		// the last report.
		state := b.state(b.lastReport, linkQuality)
		out = append(out, Message{Offset: clearAt, Topic: BagTopic, Payload: encode(state)})
	}
	return out
}

// state returns the sensor's fixed readings for a report at elapsed. The
// bag hangs still between punches, so the angles do not change.
func (b *bag) state(elapsed time.Duration, linkQuality int) bagState {
	return bagState{
		Angle:             11,
		AngleX:            4,
		AngleY:            -79,
		AngleZ:            9,
		Battery:           97,
		DeviceTemperature: 21,
		LastSeen:          b.start.Add(elapsed).UTC().Format(lastSeenLayout),
		LinkQuality:       linkQuality,
		PowerOutageCount:  12,
		Strength:          b.strength,
		Voltage:           3025,
	}
}

func encode(v any) []byte {
	payload, err := json.Marshal(v)
	if err != nil {
		panic(err) // the payload structs hold only numbers, strings and booleans
	}
	return payload
}
