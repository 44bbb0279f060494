package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// waitBudget bounds the wait for a run's last message: the publish time
// plus this much.
const waitBudget = 60 * time.Second

// Rate is a measured delivery rate.
type Rate struct {
	// PerSecond counts the messages received per second between the
	// first publish and the last receipt. Timing from the first receipt
	// instead would favour a slow receiver: mosquitto then writes its
	// backlog in large batches, which it does not for a receiver that keeps
	// up with every message.
	PerSecond float64
	// Lost is the number of published messages that never arrived.
	Lost int
	// Checkpoints and CheckpointSeconds are the checkpoints a fitbridge
	// instance wrote during the run and the time its checkpoint writer spent on them.
	Checkpoints       uint64
	CheckpointSeconds float64
}

// rateOf returns the rate of n messages published from first on and
// received by last.
func rateOf(n int, first, last time.Duration) float64 {
	if n < 1 || last <= first {
		return 0
	}
	return float64(n) / (last - first).Seconds()
}

// runBrokerOnly publishes l to a counting subscriber and returns the rate
// at which the subscriber received it and the arrival of every message.
func runBrokerOnly(ctx context.Context, b *Broker, l Load, name string) (Rate, []time.Duration,
	[]time.Duration, error) {
	clock := time.Now()
	sink, err := startCounter(ctx, b.URL(), name+"-sub", l.TopicPrefix+"+", l.Count, clock)
	if err != nil {
		return Rate{}, nil, nil, err
	}
	defer sink.close()
	pub, err := dialMQTT(ctx, b.URL(), name+"-pub", nil)
	if err != nil {
		return Rate{}, nil, nil, err
	}
	defer closeMQTT(pub)
	sent, took, err := l.Publish(ctx, pub, clock)
	if err != nil {
		return Rate{}, nil, nil, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, took+waitBudget)
	defer cancel()
	arrivals := sink.wait(waitCtx)
	if len(arrivals) == 0 {
		return Rate{Lost: l.Count}, sent, nil, fmt.Errorf("%s: no message arrived", name)
	}
	r := Rate{PerSecond: rateOf(len(arrivals), sent[0], arrivals[len(arrivals)-1]),
		Lost: l.Count - len(arrivals)}
	return r, sent, arrivals, nil
}

// runFitbridge publishes l to a fitbridge instance and returns the rate at
// which its engine loop handled the messages, with the service still
// running so that the caller can read its chart frames. The caller closes it.
func runFitbridge(ctx context.Context, b *Broker, l Load, name string, eventClock bool,
	o Options) (Rate, []time.Duration, *Service, error) {
	clock := time.Now()
	svc, err := StartService(ctx, ServiceOptions{BrokerURL: b.URL(), Devices: l.Devices,
		TopicPrefix: l.TopicPrefix, EventClock: eventClock, DataDir: filepath.Join(o.Dir, name),
		NoCheckpoints: o.NoCheckpoints,
		// Each run has its own discovery and state topics, so that one run
		// finds nothing retained by another.
		InstanceID: strings.ReplaceAll(name, "-", "_")}, clock)
	if err != nil {
		return Rate{}, nil, nil, err
	}
	pub, err := dialMQTT(ctx, b.URL(), name+"-pub", nil)
	if err != nil {
		svc.Close()
		return Rate{}, nil, nil, err
	}
	defer closeMQTT(pub)
	before := svc.Bridge.Processed()
	cpBefore, cpSecondsBefore := svc.checkpointTotals()
	sent, took, err := l.Publish(ctx, pub, clock)
	if err != nil {
		svc.Close()
		return Rate{}, nil, nil, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, took+waitBudget)
	defer cancel()
	last, err := svc.waitProcessed(waitCtx, before+uint64(l.Count))
	handled := int(svc.Bridge.Processed() - before - svc.Bridge.Dropped())
	r := Rate{PerSecond: rateOf(handled, sent[0], last), Lost: l.Count - handled}
	cp, cpSeconds := svc.checkpointTotals()
	r.Checkpoints, r.CheckpointSeconds = cp-cpBefore, cpSeconds-cpSecondsBefore
	if err != nil {
		return r, sent, svc, fmt.Errorf("%s: %w", name, err)
	}
	return r, sent, svc, nil
}

// runPair publishes l split over two instances, one room each, from two
// publishers at once, and returns the combined rate.
func runPair(ctx context.Context, b *Broker, l Load, o Options) (Rate, error) {
	clock := time.Now()
	half := l
	half.Count = l.Count / 2
	type result struct {
		first, last time.Duration
		handled     int
		err         error
	}
	results := make(chan result, 2)
	services := make([]*Service, 2)
	for i, room := range []string{"room_a", "room_b"} {
		svc, err := StartService(ctx, ServiceOptions{BrokerURL: b.URL(), Devices: l.Devices,
			TopicPrefix: room + "/hr/", InstanceID: room, NoCheckpoints: o.NoCheckpoints,
			DataDir: filepath.Join(o.Dir, "pair-"+room)}, clock)
		if err != nil {
			for _, s := range services[:i] {
				s.Close()
			}
			return Rate{}, err
		}
		services[i] = svc
	}
	defer func() {
		for _, s := range services {
			s.Close()
		}
	}()
	for i, svc := range services {
		go func() {
			room := half
			room.TopicPrefix = svc.Config.HeartRate.Topic[:len(svc.Config.HeartRate.Topic)-1]
			pub, err := dialMQTT(ctx, b.URL(), fmt.Sprintf("pair-pub-%d", i), nil)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer closeMQTT(pub)
			before := svc.Bridge.Processed()
			sent, took, err := room.Publish(ctx, pub, clock)
			if err != nil {
				results <- result{err: err}
				return
			}
			waitCtx, cancel := context.WithTimeout(ctx, took+waitBudget)
			defer cancel()
			last, err := svc.waitProcessed(waitCtx, before+uint64(room.Count))
			results <- result{first: sent[0], last: last, err: err,
				handled: int(svc.Bridge.Processed() - before - svc.Bridge.Dropped())}
		}()
	}
	var first, last time.Duration
	handled := 0
	for i := range 2 {
		r := <-results
		if r.err != nil {
			return Rate{}, fmt.Errorf("pair instance: %w", r.err)
		}
		if i == 0 || r.first < first {
			first = r.first
		}
		last = max(last, r.last)
		handled += r.handled
	}
	return Rate{PerSecond: rateOf(handled, first, last), Lost: 2*half.Count - handled}, nil
}
