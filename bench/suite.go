package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// Options sizes a suite run.
type Options struct {
	// Dir receives the brokers' and instances' files.
	Dir string
	// Devices is the number of straps, one participant each.
	Devices int
	// ThroughputCount is the number of messages per throughput run.
	ThroughputCount int
	// Rounds repeats each throughput pair (broker-only, then fitbridge);
	// the medians are reported.
	Rounds int
	// LatencyRates are the paced rates in messages per second. The
	// maximum sustainable rate is added to them: MaxRateShare of the lower
	// of the two median throughputs.
	LatencyRates    []float64
	MaxRateShare    float64
	LatencyDuration time.Duration
	// FramesPerSecond is how many coin windows a latency run closes per
	// second, which sets the number of latency samples.
	FramesPerSecond int
	// ScaleOut measures two instances against one.
	ScaleOut bool
	// NoCheckpoints runs the instances without checkpoints (see
	// ServiceOptions); the published figures keep them on, as in production.
	NoCheckpoints bool
	// Binary is a built fitbridge for the start-up figures; empty skips them.
	Binary string
	// StartupParticipants and DiscoveryParticipants size the start-up runs.
	StartupParticipants   int
	DiscoveryParticipants int
	// Progress, if not nil, receives one line per finished step.
	Progress io.Writer
}

// LatencyRow is the latency at one paced rate.
type LatencyRow struct {
	Rate      float64
	Broker    Latency
	Fitbridge Latency
}

// Results are the figures of one suite run.
type Results struct {
	Started         time.Time
	Options         Options
	BrokerRounds    []Rate
	FitbridgeRounds []Rate
	Broker          Rate
	Fitbridge       Rate
	Latency         []LatencyRow
	// Sustainable is the maximum sustainable rate found, 0 when none was.
	Sustainable              float64
	SingleRounds, PairRounds []Rate
	Single, Pair             Rate
	Startup                  *Startup
	BrokerStartTimes         []time.Duration
}

// Run measures every figure against a mosquitto it starts in o.Dir.
func Run(ctx context.Context, o Options) (*Results, error) {
	res := &Results{Started: time.Now(), Options: o}
	b, err := StartBroker(o.Dir)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	res.BrokerStartTimes = append(res.BrokerStartTimes, b.StartTime)
	base := Load{TopicPrefix: "fitness/hr/", Devices: o.Devices, Count: o.ThroughputCount,
		Interval: 5 * time.Second}

	for round := range o.Rounds {
		r, _, _, err := runBrokerOnly(ctx, b, base, fmt.Sprintf("broker-%d", round))
		if err != nil {
			return res, err
		}
		res.BrokerRounds = append(res.BrokerRounds, r)
		progress(o, "throughput round %d: broker-only %.0f msg/s (lost %d)", round, r.PerSecond,
			r.Lost)
		f, _, svc, err := runFitbridge(ctx, b, base, fmt.Sprintf("fitbridge-%d", round), false, o)
		if svc != nil {
			svc.Close()
		}
		if err != nil {
			return res, err
		}
		res.FitbridgeRounds = append(res.FitbridgeRounds, f)
		progress(o, "throughput round %d: fitbridge %.0f msg/s (lost %d)", round, f.PerSecond,
			f.Lost)
	}
	res.Broker, res.Fitbridge = medianRate(res.BrokerRounds), medianRate(res.FitbridgeRounds)

	rates := slices.Clone(o.LatencyRates)
	if o.MaxRateShare > 0 {
		rate, err := sustainableRate(ctx, b, base, res, o)
		if err != nil {
			return res, err
		}
		res.Sustainable = rate
		progress(o, "maximum sustainable rate: %.0f msg/s", rate)
		if rate > 0 {
			rates = append(rates, rate)
		}
	}
	for _, rate := range rates {
		l := latencyLoad(base, rate, o.LatencyDuration, o.FramesPerSecond)
		row := LatencyRow{Rate: rate}
		if row.Broker, err = brokerLatency(ctx, b, l); err != nil {
			return res, err
		}
		if row.Fitbridge, err = fitbridgeLatency(ctx, b, l, o); err != nil {
			return res, err
		}
		res.Latency = append(res.Latency, row)
		progress(o, "latency at %.0f msg/s: broker p50 %v p99 %v, fitbridge p50 %v p99 %v",
			rate, row.Broker.P50, row.Broker.P99, row.Fitbridge.P50, row.Fitbridge.P99)
	}

	if o.ScaleOut {
		single := base
		single.TopicPrefix = "room_a/hr/"
		for round := range o.Rounds {
			r, _, svc, err := runFitbridge(ctx, b, single, fmt.Sprintf("single-%d", round), false, o)
			if svc != nil {
				svc.Close()
			}
			if err != nil {
				return res, err
			}
			res.SingleRounds = append(res.SingleRounds, r)
			p, err := runPair(ctx, b, base, o)
			if err != nil {
				return res, err
			}
			res.PairRounds = append(res.PairRounds, p)
			progress(o, "scale-out round %d: single %.0f msg/s, pair %.0f msg/s", round,
				r.PerSecond, p.PerSecond)
		}
		res.Single, res.Pair = medianRate(res.SingleRounds), medianRate(res.PairRounds)
	}

	if o.Binary != "" {
		if res.Startup, err = measureStartup(ctx, o); err != nil {
			return res, err
		}
		progress(o, "start-up: mosquitto %v, fitbridge %v; discovery plain %v, fitbridge %v",
			res.Startup.BrokerStart, res.Startup.FitbridgeStart, res.Startup.PlainPublish,
			res.Startup.DiscoveryPublish)
	}
	return res, nil
}

// sustainableLatency is the p99 publish-to-frame latency under which a
// paced rate counts as sustainable: a backlog that grows during the run
// pushes the p99 far beyond it.
const sustainableLatency = 50 * time.Millisecond

// sustainableRate returns the highest of a descending ladder of shares of
// the lower median throughput at which fitbridge's chart frames keep a p99
// under sustainableLatency and no coin window goes missing. Each step runs
// for half of o.LatencyDuration.
func sustainableRate(ctx context.Context, b *Broker, base Load, res *Results,
	o Options) (float64, error) {
	limit := min(res.Fitbridge.PerSecond, res.Broker.PerSecond)
	for _, share := range []float64{o.MaxRateShare, 0.7, 0.5, 0.35, 0.25} {
		if share > o.MaxRateShare {
			continue
		}
		rate := float64(int(limit*share/100) * 100)
		if rate <= 0 {
			break
		}
		l := latencyLoad(base, rate, o.LatencyDuration/2, o.FramesPerSecond)
		lat, err := fitbridgeLatency(ctx, b, l, o)
		if err != nil {
			return 0, err
		}
		progress(o, "sustainable search at %.0f msg/s: p99 %v, %d windows missed", rate, lat.P99,
			lat.Missed)
		if lat.Samples > 0 && lat.P99 < sustainableLatency && lat.Missed == 0 {
			return rate, nil
		}
	}
	return 0, nil
}

// medianRate returns the round with the median rate.
func medianRate(rounds []Rate) Rate {
	if len(rounds) == 0 {
		return Rate{}
	}
	s := slices.Clone(rounds)
	slices.SortFunc(s, func(a, b Rate) int {
		switch {
		case a.PerSecond < b.PerSecond:
			return -1
		case a.PerSecond > b.PerSecond:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func progress(o Options, format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}
