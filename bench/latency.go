package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Latency summarises one set of publish-to-receive delays.
type Latency struct {
	Samples          int
	P50, P99, Max    time.Duration
	Received, Missed int
}

// summarise returns the median, the 99th percentile (nearest rank) and the
// maximum of delays.
func summarise(delays []time.Duration) Latency {
	if len(delays) == 0 {
		return Latency{}
	}
	s := slices.Clone(delays)
	slices.Sort(s)
	return Latency{
		Samples: len(s),
		P50:     s[len(s)/2],
		P99:     s[(len(s)*99+99)/100-1],
		Max:     s[len(s)-1],
	}
}

// latencyLoad returns a paced, stamped load of rate messages per second for
// d, which starts a new coin window framesPerSecond times a second.
func latencyLoad(base Load, rate float64, d time.Duration, framesPerSecond int) Load {
	l := base
	l.Rate = rate
	l.Count = max(int(rate*d.Seconds()), 1)
	l.TickEvery = max(int(rate)/framesPerSecond, 1)
	return l
}

// brokerLatency returns the delay from publish to the counting subscriber
// of the messages that open a coin window, the same ones whose chart frames
// the fitbridge run times. It relies on the broker keeping the order of one
// publisher's QoS 0 messages, and reports nothing when a message was lost.
func brokerLatency(ctx context.Context, b *Broker, l Load) (Latency, error) {
	r, sent, arrivals, err := runBrokerOnly(ctx, b, l, "latency-broker")
	if err != nil {
		return Latency{}, err
	}
	if r.Lost != 0 {
		return Latency{Missed: r.Lost}, fmt.Errorf("broker-only latency run lost %d of %d "+
			"messages, so arrivals cannot be matched to sends", r.Lost, l.Count)
	}
	var delays []time.Duration
	for i := 0; i < len(sent); i += l.TickEvery {
		delays = append(delays, arrivals[i]-sent[i])
	}
	return summarise(delays), nil
}

// fitbridgeLatency returns the delay from publishing the message that
// closes a coin window to the chart client receiving that window's points
// message. The engine runs on the stamped event times and closes window k
// with the first message at or after the window's end plus
// session.max_lateness.
func fitbridgeLatency(ctx context.Context, b *Broker, l Load, o Options) (Latency, error) {
	_, sent, svc, err := runFitbridge(ctx, b, l, "latency-fitbridge", true, o)
	if svc != nil {
		defer svc.Close()
	}
	if err != nil {
		return Latency{}, err
	}

	// The frame of the last closed window may still be on its way.
	time.Sleep(100 * time.Millisecond)

	baseMS := EventBase.UnixMilli()
	intervalMS := l.Interval.Milliseconds()
	step := l.Interval / time.Duration(l.TickEvery)
	lateness := svc.Config.Session.MaxLateness
	closerOf := func(window int64) int {
		closeAt := time.Duration(window+1)*l.Interval + lateness
		return int((closeAt + step - 1) / step)
	}
	windows := 0 // windows that a published message closes
	for closerOf(int64(windows)) < len(sent) {
		windows++
	}

	var delays []time.Duration
	seen := make(map[int64]bool)
	for _, f := range svc.framesSoFar() {
		window := (f.startMS - baseMS) / intervalMS
		closer := closerOf(window)
		if window < 0 || closer >= len(sent) || seen[window] {
			continue
		}
		seen[window] = true
		delays = append(delays, f.arrival-sent[closer])
	}
	lat := summarise(delays)
	lat.Received = len(seen)
	lat.Missed = windows - len(seen)
	return lat, nil
}
