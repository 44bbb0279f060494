package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/bridge"
)

// EventBase is the event time of the first stamped message. The session
// starts with that message, so its coin windows start at EventBase.
var EventBase = time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)

// Load describes one publisher run: Count heart-rate messages, round robin
// over Devices straps, on TopicPrefix + device id.
type Load struct {
	TopicPrefix string
	Devices     int
	Count       int
	// Rate is the target in messages per second; zero publishes as fast as
	// the client and broker take them.
	Rate float64
	// TickEvery, when positive, stamps every message with the MQTT v5
	// "timestamp" user property so that a new coin window (of Interval)
	// starts every TickEvery messages: message k*TickEvery is the first of
	// window k, and handling it closes window k-1.
	TickEvery int
	Interval  time.Duration
	// BPM, when positive, is the heart rate of every message; otherwise the
	// messages cycle through 100 to 159 bpm.
	BPM int
}

// deviceID returns the strap id of device number i.
func deviceID(i int) string { return fmt.Sprintf("dev%03d", i) }

// payloadOf returns a heart-rate payload as openant-style relays send it.
func payloadOf(bpm int) []byte { return []byte(`{"heart_rate":` + strconv.Itoa(bpm) + `}`) }

// eventTimeOf returns the stamped event time of message i.
func (l Load) eventTimeOf(i int) time.Time {
	return EventBase.Add(time.Duration(i) * (l.Interval / time.Duration(l.TickEvery)))
}

// Publish sends the load through c at QoS 0. It returns the send time of
// every message, as offsets from clock, and the time the whole run took.
func (l Load) Publish(ctx context.Context, c *paho.Client, clock time.Time) ([]time.Duration,
	time.Duration, error) {
	topics := make([]string, l.Devices)
	for d := range topics {
		topics[d] = l.TopicPrefix + deviceID(d)
	}
	payloads := make([][]byte, 60)
	for i := range payloads {
		payloads[i] = payloadOf(100 + i)
		if l.BPM > 0 {
			payloads[i] = payloadOf(l.BPM)
		}
	}
	sent := make([]time.Duration, l.Count)
	began := time.Since(clock)
	for i := range l.Count {
		if l.Rate > 0 {
			due := began + time.Duration(float64(i)/l.Rate*float64(time.Second))
			// Sleeping for less than a millisecond overshoots on Linux, so
			// the publisher sends in bursts of up to a millisecond's worth.
			if ahead := due - time.Since(clock); ahead > time.Millisecond {
				time.Sleep(ahead)
			}
		}
		if i%4096 == 0 && ctx.Err() != nil {
			return sent, 0, ctx.Err()
		}
		p := &paho.Publish{Topic: topics[i%l.Devices], Payload: payloads[i%len(payloads)]}
		if l.TickEvery > 0 {
			p.Properties = &paho.PublishProperties{User: paho.UserProperties{{
				Key: bridge.TimestampProperty, Value: l.eventTimeOf(i).Format(time.RFC3339Nano),
			}}}
		}
		sent[i] = time.Since(clock)
		if _, err := c.Publish(ctx, p); err != nil {
			return sent, 0, fmt.Errorf("publish message %d of %d: %w", i, l.Count, err)
		}
	}
	return sent, time.Since(clock) - began, nil
}
