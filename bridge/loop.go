package bridge

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions"
)

// futureTolerance is how far ahead of the wall clock an event time may be
// before the arrival time is used instead: a relay with a wrong clock must
// not move the session into the future.
const futureTolerance = 5 * time.Second

// routes prepares the topic matching of input messages.
func (b *Bridge) routes() error {
	filter := b.cfg.HeartRate.Topic
	before, after, found := strings.Cut(filter, "+")
	if !found || strings.Contains(after, "+") {
		return fmt.Errorf("heart_rate.topic %q: want exactly one + wildcard", filter)
	}
	b.hrPrefix, b.hrSuffix = before, after
	return nil
}

// deviceFromTopic returns the device id that the heart-rate filter's
// wildcard matches in topic.
func (b *Bridge) deviceFromTopic(topic string) (string, bool) {
	if !strings.HasPrefix(topic, b.hrPrefix) || !strings.HasSuffix(topic, b.hrSuffix) {
		return "", false
	}
	id := topic[len(b.hrPrefix) : len(topic)-len(b.hrSuffix)]
	if id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// Accepts reports whether topic is one of the bridge's input topics, so a
// message published on it reaches the engine loop.
func (b *Bridge) Accepts(topic string) bool {
	if _, ok := b.deviceFromTopic(topic); ok {
		return true
	}
	if s, _ := b.sensorFor(topic); s != nil {
		return true
	}
	if _, ok := b.assignDevice(topic); ok {
		return true
	}
	return topic == b.topics.SessionCommand() || topic == b.topics.HomeAssistantStatus()
}

// assignDevice returns the device id of a <base>/device/<id>/assign topic.
func (b *Bridge) assignDevice(topic string) (string, bool) {
	prefix := b.topics.Base() + "/device/"
	if !strings.HasPrefix(topic, prefix) || !strings.HasSuffix(topic, assignSuffix) {
		return "", false
	}
	id := topic[len(prefix) : len(topic)-len(assignSuffix)]
	if id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// assignSuffix ends the command topic that reassigns a device.
const assignSuffix = "/assign"

// loop is the engine loop: the only goroutine that touches the engine. It
// returns when ctx ends.
func (b *Bridge) loop(ctx context.Context) {
	ticker := time.NewTicker(b.opts.PublishInterval)
	defer ticker.Stop()
	var republish <-chan time.Time

	b.lastLoop.Store(time.Now().UnixNano())
	for {
		select {
		case <-ctx.Done():
			return

		case in := <-b.known:
			b.handleInput(in)

		case in := <-b.input:
			// Readings of configured straps go first, so a flood of made-up
			// device ids cannot delay them past their coin window.
			for drained := false; !drained; {
				select {
				case k := <-b.known:
					b.handleInput(k)
				default:
					drained = true
				}
			}
			b.handleInput(in)

		case f := <-b.commands:
			b.advanceWall()
			f()
			b.maybeCheckpoint(time.Now())

		case <-b.reconnected:
			b.announce()

		case <-republish:
			republish = nil
			b.log.Info("home assistant came online; republishing states")
			b.published = make(map[string]string)
			b.publishStates(false)

		case now := <-ticker.C:
			b.lastLoop.Store(now.UnixNano())
			b.advanceWall()
			b.afterEngine()
			b.maybeCheckpoint(now)
			b.publishStates(false)
			if b.haOnline {
				b.haOnline = false
				// Spread the republish of many bridges after an HA restart.
				delay := 2*time.Second + rand.N(3*time.Second)
				republish = time.After(delay)
			}
		}
	}
}

// handleInput handles one input message and what follows from it.
func (b *Bridge) handleInput(in inbound) {
	b.queuedBytes.Add(-int64(len(in.payload)))
	b.advanceWall()
	b.handle(in)
	b.maybeCheckpoint(time.Now())
	b.processed.Add(1)
	b.metrics.InputQueueDepth.Set(float64(len(b.input) + len(b.known)))
}

// knownInput reports whether topic carries readings of a configured strap.
// It runs on the client's receive path, so it only reads immutable data.
func (b *Bridge) knownInput(topic string) bool {
	id, ok := b.deviceFromTopic(topic)
	return ok && b.configuredDevices[id]
}

// advanceWall moves the engine to the wall clock, unless the bridge runs
// on event time only.
func (b *Bridge) advanceWall() {
	if !b.opts.EventClock {
		b.engine.Advance(time.Now())
	}
}

// handle routes one input message to its decoder and the engine.
func (b *Bridge) handle(in inbound) {
	switch {
	case in.topic == b.topics.SessionCommand():
		b.metrics.MessagesReceived.WithLabelValues(metrics.KindCommand).Inc()
		b.handleCommand(string(in.payload))

	case in.topic == b.topics.HomeAssistantStatus():
		b.metrics.MessagesReceived.WithLabelValues(metrics.KindHAStatus).Inc()
		if strings.TrimSpace(string(in.payload)) == availabilityOnline {
			b.haOnline = true
		}

	default:
		if id, ok := b.assignDevice(in.topic); ok {
			b.metrics.MessagesReceived.WithLabelValues(metrics.KindCommand).Inc()
			b.handleAssign(id, string(in.payload))
			return
		}
		if id, ok := b.deviceFromTopic(in.topic); ok {
			b.metrics.MessagesReceived.WithLabelValues(metrics.KindHeartRate).Inc()
			b.handleHeartRate(id, in)
			return
		}
		if s, action := b.sensorFor(in.topic); s != nil {
			b.metrics.MessagesReceived.WithLabelValues(metrics.KindVibration).Inc()
			b.handleVibration(s, action, in)
			return
		}
		b.metrics.MessagesReceived.WithLabelValues(metrics.KindOther).Inc()
	}
}

func (b *Bridge) handleCommand(payload string) {
	switch strings.ToLower(strings.TrimSpace(payload)) {
	case "start":
		b.log.Info("session start requested")
		b.engine.Start()
	case "end":
		b.log.Info("session end requested")
		b.engine.End(sessions.EndRequested)
	case "resume":
		if b.engine.Resume() {
			b.log.Info("session resumed on request")
		} else {
			b.log.Warn("session resume requested, but no session can resume")
		}
	default:
		b.limiter.log("invalid session command; want start, end or resume", "payload",
			truncate(payload, 64))
		b.metrics.InvalidReadings.WithLabelValues("bad_command").Inc()
		return
	}
	b.publishStates(false)
}

// handleAssign reassigns a device to a participant id or "guest", from its
// next reading on. The assignment is kept in the checkpoint.
func (b *Bridge) handleAssign(deviceID, payload string) {
	target := strings.TrimSpace(payload)
	moved, err := b.engine.Assign(deviceID, target)
	if err != nil {
		b.metrics.InvalidReadings.WithLabelValues("bad_command").Inc()
		b.limiter.log("device assignment rejected", "device", deviceID, "err", err)
		return
	}
	b.log.Info("device reassigned", "device", deviceID, "participant_id", target, "coins_moved", moved)
	b.checkpointNow = true
	b.publishStates(false)
}

// truncate shortens s to at most n bytes for logging.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (b *Bridge) handleHeartRate(deviceID string, in inbound) {
	if in.retained {
		// A retained heart rate is some earlier reading, not a live one.
		b.metrics.InvalidReadings.WithLabelValues(reasonRetained).Inc()
		return
	}
	f := DecodeHeartRate(in.payload, b.cfg.HeartRate.Min, b.cfg.HeartRate.Max)
	at := b.eventTime(in, f.Timestamp)
	r := sessions.HeartRateReading{
		DeviceID: deviceID,
		Time:     at,
		BPM:      f.BPM,
		Battery:  f.Battery,
		Invalid:  f.Invalid,
	}
	switch {
	case f.Invalid != "":
		b.metrics.InvalidReadings.WithLabelValues(f.Invalid).Inc()
		b.deviceLog.log(deviceID, "invalid heart-rate reading", "reason", f.Invalid,
			"payload", truncate(string(in.payload), 64))
	case f.Ignored != "":
		// The heart rate counts; only the broken optional member is dropped.
		b.metrics.InvalidReadings.WithLabelValues(reasonInvalidField).Inc()
		b.deviceLog.log(deviceID, "heart-rate field ignored", "field", f.Ignored,
			"payload", truncate(string(in.payload), 64))
	}
	b.engine.HeartRate(r)
	b.afterEngine()
}

func (b *Bridge) handleVibration(s *sensorInput, action bool, in inbound) {
	at := b.eventTime(in, time.Time{})
	var rep Report
	var err error
	if in.retained {
		// A retained report still brings battery and link quality, but its
		// vibration is old news: merge it without counting an event or
		// opening the de-duplication window of a live one.
		rep, err = s.state.ApplyRetained(in.payload, action, at)
	} else {
		rep, err = s.state.Apply(in.payload, action, at, VibrationDedup)
	}
	if err != nil {
		reason := InvalidNotJSON
		if pe, ok := err.(*PayloadError); ok {
			reason = pe.Reason
		}
		b.metrics.InvalidReadings.WithLabelValues(reason).Inc()
		b.limiter.log("invalid vibration payload", "topic", in.topic, "err", err)
		return
	}
	if rep.Ignored != "" {
		b.metrics.InvalidReadings.WithLabelValues(reasonInvalidField).Inc()
		b.deviceLog.log(s.id, "vibration sensor field ignored", "field", rep.Ignored,
			"topic", in.topic, "payload", truncate(string(in.payload), 128))
	}
	s.seenAt = at
	if in.retained {
		rep.Vibrating = nil
	}
	b.engine.Vibration(sessions.VibrationReading{
		EquipmentID: s.id,
		Time:        at,
		Event:       rep.Event,
		Vibrating:   rep.Vibrating,
	})
	b.afterEngine()
}

// eventTime picks a message's event time. With a wall clock, a time too far
// in the future is replaced by the arrival time.
func (b *Bridge) eventTime(in inbound, payloadTime time.Time) time.Time {
	at, _ := EventTime(in.props, payloadTime, in.arrival)
	if !b.opts.EventClock && at.After(in.arrival.Add(futureTolerance)) {
		b.metrics.InvalidReadings.WithLabelValues("future_timestamp").Inc()
		b.limiter.log("event time in the future; using arrival time", "topic", in.topic,
			"event_time", at, "arrival", in.arrival)
		return in.arrival
	}
	return at
}

// afterEngine applies side effects of the engine's last step that must not
// wait for the next publish: discovery removal of evicted guests.
func (b *Bridge) afterEngine() {
	c := b.engine.Counters()
	now := floatCounters{
		LateSamples:      float64(c.LateSamples),
		Duplicates:       float64(c.Duplicates),
		GuestsEvicted:    float64(c.GuestsEvicted),
		UnknownEquipment: float64(c.UnknownEquipment),
	}
	last := b.lastCounters
	if d := now.LateSamples - last.LateSamples; d > 0 {
		b.metrics.LateSamples.Add(d)
		b.metrics.InvalidReadings.WithLabelValues(reasonLate).Add(d)
	}
	if d := now.Duplicates - last.Duplicates; d > 0 {
		b.metrics.InvalidReadings.WithLabelValues(reasonDuplicate).Add(d)
	}
	if d := now.GuestsEvicted - last.GuestsEvicted; d > 0 {
		b.metrics.GuestsEvicted.Add(d)
		b.metrics.InvalidReadings.WithLabelValues(reasonEvicted).Add(d)
	}
	if d := now.UnknownEquipment - last.UnknownEquipment; d > 0 {
		b.metrics.UnknownSensors.Add(d)
	}
	b.lastCounters = now
	if len(b.evicted) > 0 {
		b.removeGuests()
	}
}

// floatCounters are the engine's counters at the last metrics update.
type floatCounters struct {
	LateSamples, Duplicates, GuestsEvicted, UnknownEquipment float64
}

// Reasons, beyond the decoders', for which a reading is rejected; they are
// values of the "reason" label of fitbridge_readings_invalid_total.
const (
	reasonLate      = "late"
	reasonDuplicate = "duplicate"
	reasonEvicted   = "unknown_device_evicted"
)

// sensorInput is the merged state of one equipment vibration sensor.
type sensorInput struct {
	id     string
	topic  string
	state  SensorState
	seenAt time.Time // event time of the last valid message, zero before one
}

// report returns what Home Assistant shows of the sensor beyond the engine's
// view of the equipment.
func (s *sensorInput) report() discovery.SensorReport {
	r := discovery.SensorReport{
		Vibration:   s.state.VibrationKnown && s.state.Vibration,
		Battery:     -1,
		LinkQuality: -1,
	}
	if s.state.Battery.Known {
		r.Battery = int(math.Round(s.state.Battery.Value))
	}
	if s.state.LinkQuality.Known {
		r.LinkQuality = int(math.Round(s.state.LinkQuality.Value))
	}
	return r
}

func newSensorInput(eq config.Equipment) *sensorInput {
	return &sensorInput{id: eq.ID, topic: eq.Topic}
}

// sensorFor returns the sensor whose state topic or action subtopic is
// topic, and whether it is the action subtopic.
func (b *Bridge) sensorFor(topic string) (*sensorInput, bool) {
	for _, s := range b.sensors {
		switch topic {
		case s.topic:
			return s, false
		case s.topic + "/action":
			return s, true
		}
	}
	return nil, false
}
