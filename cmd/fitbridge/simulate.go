package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/broker"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sim"
	"github.com/fitbridge/fitbridge/watchdog"
)

// Goals of a soak run, checked by --check (see checkHeapFlat): the live heap
// at the end stays within simulateMaxGrowth of its value after
// simulateBaselineAt, and under simulateMaxHeap.
const (
	simulateBaselineAt = time.Hour
	simulateMaxGrowth  = 0.10
	simulateMaxHeap    = 64 << 20
)

// simulateWindow is how many messages the simulator may publish ahead of
// what the engine has handled, as replayWindow is for replays.
const simulateWindow = 256

// stalledRenewEvery is the simulated time between replacements of the
// stalled chart clients, so that one stays connected even after the hub
// drops it as a slow consumer.
const stalledRenewEvery = time.Hour

func simulateCommand() *cli.Command {
	return &cli.Command{
		Name: "simulate",
		Usage: "drive simulated participants, equipment and chart clients through a broker " +
			"and the bridge on an accelerated clock, sampling the live heap",
		Description: "Without --broker an embedded broker on 127.0.0.1 is used. Readings carry " +
			"their simulated time as the MQTT v5 user property timestamp, so the bridge runs on " +
			"simulated time whatever the speed. Before each sample the simulator waits for the " +
			"bridge to handle every published message and forces two garbage collections, " +
			"the second of which frees the sync.Pool caches.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "participants", Value: 50, Usage: "simulated participants, " +
				"each with a heart-rate strap"},
			&cli.IntFlag{Name: "equipment", Value: 6, Usage: "simulated pieces of equipment, " +
				"each with a vibration sensor"},
			&cli.IntFlag{Name: "ws-clients", Value: 20, Usage: "chart feed WebSocket clients, " +
				"--stalled of them never reading"},
			&cli.IntFlag{Name: "stalled", Value: 1, Usage: "chart clients that connect and " +
				"never read; each is replaced every simulated hour"},
			&cli.DurationFlag{Name: "duration", Value: 24 * time.Hour,
				Usage: "simulated time to run"},
			&cli.DurationFlag{Name: "sample-every", Value: 30 * time.Minute,
				Usage: "simulated time between live heap samples"},
			&cli.StringFlag{Name: "speed", Value: "max", Usage: "N runs N times faster than " +
				"real time, max as fast as the bridge handles the messages"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the simulated readings"},
			&cli.StringFlag{Name: "broker", Usage: "MQTT broker `URL` to use instead of an " +
				"embedded one"},
			&cli.StringFlag{Name: "data-dir", Usage: "`DIR` for summaries and checkpoints " +
				"(default: a temporary folder, removed at the end)"},
			&cli.StringFlag{Name: "csv", Usage: "also write the samples as CSV to `FILE`"},
			&cli.BoolFlag{Name: "check", Usage: "fail unless the live heap at the end is " +
				"within 10 % of its value after the first simulated hour and under 64 MiB"},
		},
		Action: runSimulate,
	}
}

func runSimulate(c *cli.Context) error {
	log, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	speed, err := parseSpeed(c.String("speed"))
	if err != nil {
		return err
	}

	job := simulation{
		Participants: c.Int("participants"),
		Equipment:    c.Int("equipment"),
		Clients:      c.Int("ws-clients"),
		Stalled:      c.Int("stalled"),
		Duration:     c.Duration("duration"),
		SampleEvery:  c.Duration("sample-every"),
		Speed:        speed,
		Seed:         c.Uint64("seed"),
		Start:        DefaultReplayStart,
		BrokerURL:    c.String("broker"),
		DataDir:      c.String("data-dir"),
		Log:          log,
	}
	if err := job.validate(); err != nil {
		return err
	}

	report, err := newSampleReport(c.App.Writer, c.String("csv"))
	if err != nil {
		return err
	}
	job.OnSample = report.add
	res, runErr := job.run(c.Context)
	if err := report.close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}

	printSimulationSummary(c.App.Writer, res)
	if c.Bool("check") {
		return checkHeapFlat(res.Samples, simulateBaselineAt, simulateMaxGrowth, simulateMaxHeap)
	}
	return nil
}

// simulation drives simulated devices and chart clients through a broker
// into an in-process service running on simulated (event) time.
type simulation struct {
	Participants, Equipment int
	// Clients is the number of chart clients; Stalled of them never read.
	Clients, Stalled int
	// Duration and SampleEvery are simulated time.
	Duration, SampleEvery time.Duration
	// Speed is the factor over real time; 0 runs as fast as possible.
	Speed float64
	Seed  uint64
	// Start is the simulated time of the first reading.
	Start time.Time
	// BrokerURL, if not empty, replaces the embedded broker.
	BrokerURL string
	// DataDir, if empty, is a temporary folder removed at the end.
	DataDir string
	Log     *slog.Logger
	// OnSample, if not nil, receives each sample as it is taken.
	OnSample func(heapSample)
}

// heapSample is the process's memory at one simulated time.
type heapSample struct {
	SimTime time.Duration
	Wall    time.Duration
	// LiveHeapBytes is /gc/heap/live:bytes right after two forced GCs.
	LiveHeapBytes uint64
	// MappedBytes is the memory the Go runtime's soft limit applies to.
	MappedBytes uint64
	Goroutines  int
	// Published counts the simulated MQTT messages sent so far.
	Published uint64
	// ChartClients is the number of chart clients the hub has.
	ChartClients int
	// ChartMessages counts the messages the reading clients received.
	ChartMessages uint64
}

type simulationResult struct {
	Samples   []heapSample
	Published uint64
	// Dropped counts messages the bridge dropped before its engine.
	Dropped uint64
	// ClientReconnects counts reconnects of the reading chart clients,
	// StalledRenewals the replacements of stalled ones.
	ClientReconnects uint64
	StalledRenewals  uint64
	Wall             time.Duration
}

func (j simulation) validate() error {
	switch {
	case j.Participants < 1:
		return fmt.Errorf("invalid --participants %d: want 1 or more", j.Participants)
	case j.Equipment < 0:
		return fmt.Errorf("invalid --equipment %d: want 0 or more", j.Equipment)
	case j.Clients < 0 || j.Stalled < 0 || j.Stalled > j.Clients:
		return fmt.Errorf("invalid --ws-clients %d with --stalled %d: want 0 <= stalled <= "+
			"clients", j.Clients, j.Stalled)
	case j.Duration <= 0:
		return fmt.Errorf("invalid --duration %v: want a positive duration", j.Duration)
	case j.SampleEvery < time.Second:
		return fmt.Errorf("invalid --sample-every %v: want at least 1s", j.SampleEvery)
	}
	return nil
}

// config returns the service configuration of the simulated gym.
func (j simulation) config(brokerURL, dataDir string) (config.Config, error) {
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	crowd := sim.CrowdConfig(j.Participants, j.Equipment)
	cfg.HeartRate.Topic = crowd.HeartRateTopic
	for _, p := range crowd.Participants {
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: p.ID, Name: p.Name, Devices: []string{p.DeviceID},
		})
	}
	for _, e := range crowd.Equipment {
		cfg.Equipment = append(cfg.Equipment, config.Equipment{ID: e.ID, Name: e.Name, Topic: e.Topic})
	}
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = dataDir
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("simulated configuration: %w", err)
	}
	return cfg, nil
}

// run starts the broker, the service and the chart clients, publishes the
// simulated readings and samples the heap, then stops everything.
func (j simulation) run(ctx context.Context) (simulationResult, error) {
	var res simulationResult
	began := time.Now()
	dataDir := j.DataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "fitbridge-simulate-")
		if err != nil {
			return res, fmt.Errorf("create data folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	brokerURL := j.BrokerURL
	if brokerURL == "" {
		emb, err := broker.Start("127.0.0.1:0", j.Log.With("component", "broker"))
		if err != nil {
			return res, fmt.Errorf("start embedded broker: %w", err)
		}
		defer emb.Close()
		brokerURL = emb.URL()
	}
	cfg, err := j.config(brokerURL, dataDir)
	if err != nil {
		return res, err
	}
	svc, err := newService(cfg, j.Log, bridge.Options{EventClock: true, Checkpoints: true})
	if err != nil {
		return res, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- svc.run(runCtx, func(a string) { addr <- a }) }()
	stop := func() error {
		cancel()
		return <-runErr
	}
	var httpAddr string
	select {
	case httpAddr = <-addr:
	case err := <-runErr:
		return res, fmt.Errorf("service stopped before serving HTTP: %w", err)
	}
	if err := svc.bridge.WaitConnected(ctx); err != nil {
		stop()
		return res, err
	}

	clients := startChartClients(runCtx, "ws://"+httpAddr+"/ws", j.Clients-j.Stalled, j.Log)
	stalled := newStalledClients("ws://"+httpAddr+"/ws", j.Stalled, j.Log)
	pub, err := connectPublisher(runCtx, brokerURL, cfg.Broker.ClientID+"-simulate", j.Log)
	if err != nil {
		stalled.close()
		stopErr := stop()
		clients.stop()
		return res, errors.Join(err, stopErr)
	}

	driveErr := j.drive(runCtx, svc, pub, clients, stalled, began, &res)
	pub.close()
	stalled.close()
	res.StalledRenewals = stalled.renewals
	res.Dropped = svc.bridge.Dropped()
	cancel()
	res.ClientReconnects = clients.stop()
	if err := <-runErr; err != nil && driveErr == nil {
		driveErr = err
	}
	res.Wall = time.Since(began)
	if driveErr != nil {
		return res, driveErr
	}
	if res.Dropped > 0 {
		return res, fmt.Errorf("simulate: the bridge dropped %d messages before its engine, "+
			"so the load was lower than requested", res.Dropped)
	}
	return res, nil
}

// drive publishes the simulated seconds in order, keeping at most
// simulateWindow messages ahead of the engine, and samples the heap at 0
// and every SampleEvery.
func (j simulation) drive(ctx context.Context, svc *service, pub *stampedPublisher,
	clients *chartClients, stalled *stalledClients, began time.Time,
	res *simulationResult) error {
	crowd := sim.NewCrowd(j.Seed, j.Start, j.Participants, j.Equipment)
	sampler := watchdog.NewRuntimeSampler()
	accepts := map[string]bool{} // by topic: whether the bridge subscribes to it
	var accepted, published uint64
	wallStart := time.Now()
	sample := func(at time.Duration) error {
		// Paced runs sample on the wall clock too, also when no message is
		// due, such as in the changeover between workouts.
		if j.Speed > 0 && !sleepUntilWall(ctx, wallStart, at, j.Speed) {
			return ctx.Err()
		}
		if err := waitProcessed(ctx, svc, accepted); err != nil {
			return err
		}
		// The first collection moves sync.Pool caches to their victim
		// lists, where they still count as live; the second frees them.
		runtime.GC()
		runtime.GC()
		s := sampler.Sample()
		hs := heapSample{
			SimTime: at, Wall: time.Since(began), LiveHeapBytes: s.LiveHeapBytes,
			MappedBytes: s.MappedBytes, Goroutines: runtime.NumGoroutine(),
			Published: published, ChartClients: svc.hub.ClientCount(),
			ChartMessages: clients.received(),
		}
		res.Samples = append(res.Samples, hs)
		if j.OnSample != nil {
			j.OnSample(hs)
		}
		return nil
	}

	if err := stalled.renew(ctx); err != nil {
		return err
	}
	if err := sample(0); err != nil {
		return err
	}
	nextSample, nextRenew := j.SampleEvery, stalledRenewEvery
	for second := time.Duration(0); second < j.Duration; second += time.Second {
		for second >= nextSample {
			if err := sample(nextSample); err != nil {
				return err
			}
			nextSample += j.SampleEvery
		}
		if second >= nextRenew {
			if err := stalled.renew(ctx); err != nil {
				return err
			}
			nextRenew += stalledRenewEvery
		}
		for _, m := range crowd.Step() {
			if m.Offset >= j.Duration {
				break
			}
			if j.Speed > 0 && !sleepUntilWall(ctx, wallStart, m.Offset, j.Speed) {
				return ctx.Err()
			}
			// Once the engine is a full window behind, wait until it is
			// only half a window behind, so that one wait covers many
			// messages however coarse the polling in waitProcessed is.
			if accepted >= svc.bridge.Processed()+simulateWindow {
				if err := waitProcessed(ctx, svc, accepted-simulateWindow/2); err != nil {
					return err
				}
			}
			if err := pub.publish(ctx, m, j.Start); err != nil {
				return err
			}
			published++
			res.Published = published
			ok, known := accepts[m.Topic]
			if !known {
				ok = svc.bridge.Accepts(m.Topic)
				accepts[m.Topic] = ok
			}
			if ok {
				accepted++
			}
		}
	}
	for ; nextSample <= j.Duration; nextSample += j.SampleEvery {
		if err := sample(nextSample); err != nil {
			return err
		}
	}
	return nil
}

// sleepUntilWall waits until the message at offset is due at speed, and
// reports whether ctx is still live.
func sleepUntilWall(ctx context.Context, start time.Time, offset time.Duration, speed float64) bool {
	delay := time.Until(start.Add(time.Duration(float64(offset) / speed)))
	if delay <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// heapWindow is how many consecutive samples checkHeapFlat takes the median
// of, at the baseline and at the end, so that one sample caught with a
// message burst in flight does not decide the result.
const heapWindow = 3

// errTooFewSamples reports a run too short for checkHeapFlat.
var errTooFewSamples = errors.New("too few heap samples")

// checkHeapFlat returns an error unless the live heap at the end is within
// maxGrowth (a fraction) of the live heap after baselineAt, and at most
// maxBytes. Each of the two is the median of heapWindow samples: the last
// ones, and the first ones from baselineAt on.
func checkHeapFlat(samples []heapSample, baselineAt time.Duration, maxGrowth float64,
	maxBytes uint64) error {
	first := slices.IndexFunc(samples, func(s heapSample) bool { return s.SimTime >= baselineAt })
	if first < 0 || len(samples)-first < 2*heapWindow {
		return fmt.Errorf("%w: need %d samples from %s on, got %d samples in all",
			errTooFewSamples, 2*heapWindow, formatSimTime(baselineAt), len(samples))
	}
	base := medianLiveHeap(samples[first : first+heapWindow])
	end := medianLiveHeap(samples[len(samples)-heapWindow:])
	from, to := samples[first].SimTime, samples[len(samples)-1].SimTime
	var errs []error
	if float64(end) > float64(base)*(1+maxGrowth) {
		errs = append(errs, fmt.Errorf("live heap grew from %s after %s to %s at %s, more than %s %%",
			mib(base), formatSimTime(from), mib(end), formatSimTime(to),
			strconv.FormatFloat(maxGrowth*100, 'f', -1, 64)))
	}
	if end > maxBytes {
		errs = append(errs, fmt.Errorf("live heap %s at %s is over %s", mib(end),
			formatSimTime(to), mib(maxBytes)))
	}
	return errors.Join(errs...)
}

// medianLiveHeap returns the median live heap of samples, which must not be
// empty; of an even count it returns the upper middle value.
func medianLiveHeap(samples []heapSample) uint64 {
	values := make([]uint64, len(samples))
	for i, s := range samples {
		values[i] = s.LiveHeapBytes
	}
	slices.Sort(values)
	return values[len(values)/2]
}

// mib formats a byte count in MiB with two decimals.
func mib(n uint64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB"
}
