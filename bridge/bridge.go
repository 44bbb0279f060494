// Package bridge connects fitbridge to an MQTT broker: it reads heart-rate
// and vibration messages, drives the session engine with them, and publishes
// Home Assistant discovery, availability and state.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/metrics"
	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// Defaults for Options fields left at zero.
const (
	DefaultQueueLen        = 4096
	DefaultPublishInterval = time.Second
	DefaultKeepSummaries   = 32
)

const (
	availabilityOnline  = "online"
	availabilityOffline = "offline"
	// reasonTooLarge is the invalid-reading reason for payloads over the
	// size limit, which are dropped before parsing.
	reasonTooLarge = "too_large"
	// reasonRetained is the invalid-reading reason for retained heart-rate
	// messages, which are old readings and never live ones.
	reasonRetained = "retained"
	// shutdownTimeout bounds the final publishes and the disconnect.
	// It stays below the process's 5 s exit bound, which covers the HTTP
	// server and chart clients too.
	shutdownTimeout = 3 * time.Second
	// publisherStopGrace is how long shutdown waits for a publish in progress.
	publisherStopGrace = 500 * time.Millisecond
)

// Options configures a Bridge.
type Options struct {
	Config  config.Config
	Version string
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Listener, if not nil, also hears every session event (the chart feed).
	Listener sessions.Listener
	// Store keeps timelines, saved sessions and checkpoints; nil keeps
	// nothing on disk.
	Store *store.Store
	// Checkpoints makes the bridge checkpoint the running session into
	// Store and resume from the checkpoint at start. Replays leave it off.
	Checkpoints bool
	// EventClock makes time move only with the event times of readings,
	// never with the wall clock. Replays set it so their result does not
	// depend on the replay speed.
	EventClock bool
	// QueueLen bounds the input queue between the MQTT client and the
	// engine; zero means DefaultQueueLen.
	QueueLen int
	// PublishInterval is how often changed states are published; zero
	// means DefaultPublishInterval.
	PublishInterval time.Duration
	// KeepSummaries bounds the summaries kept for Summaries; zero means
	// DefaultKeepSummaries.
	KeepSummaries int
}

// Bridge runs the MQTT side of fitbridge and owns the session engine.
type Bridge struct {
	cfg     config.Config
	opts    Options
	log     *slog.Logger
	limiter *rateLimitedLog
	// deviceLog logs rejected readings at most once per device and minute.
	deviceLog *deviceLog
	metrics   *metrics.Metrics
	topics    discovery.Topics
	builder   *discovery.Builder

	input chan inbound
	// known carries the readings of configured straps ahead of input in a
	// live run; nil on an event clock, where the order decides the result.
	known             chan inbound
	configuredDevices map[string]bool // immutable after New
	commands          chan func()
	reconnected       chan struct{}
	out               *outbox
	wg                sync.WaitGroup

	// processed counts input messages handled by the engine loop or
	// dropped before it; dropped counts the latter alone.
	processed atomic.Uint64
	dropped   atomic.Uint64
	connected atomic.Bool
	lastLoop  atomic.Int64 // Unix ns of the engine loop's last pass

	mu        sync.Mutex
	summaries []sessions.Summary

	// Owned by the engine loop goroutine.
	engine    *sessions.Engine
	sensors   map[string]*sensorInput // by equipment id
	published map[string]string       // topic -> last payload published
	guests    map[string]bool         // guest ids with discovery published
	guestSeen map[string]time.Time    // when each guest not yet announced was first seen
	evicted   []string                // guest ids evicted since the last publish
	coins     map[string]int          // coins per participant at the last tick
	haOnline  bool                    // Home Assistant sent its birth message
	disc      *discoveryState         // Home Assistant discovery on the broker

	store          *store.Store
	checkpointNow  bool // the roster changed: checkpoint at once
	checkpointDue  bool // ticks closed since the last checkpoint
	lastCheckpoint time.Time
	// checkpoints writes checkpoints off the loop while Run runs.
	checkpoints *checkpointer
	// queuedBytes is the payload bytes waiting in the input queues.
	queuedBytes        atomic.Int64
	started            time.Time
	hrPrefix, hrSuffix string // the heart-rate filter around its + wildcard
	lastCounters       floatCounters
}

// New returns a bridge for opts. The configuration must be validated.
func New(opts Options) (*Bridge, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.PublishInterval <= 0 {
		opts.PublishInterval = DefaultPublishInterval
	}
	if opts.KeepSummaries <= 0 {
		opts.KeepSummaries = DefaultKeepSummaries
	}
	cfg := opts.Config
	b := &Bridge{
		cfg:               cfg,
		opts:              opts,
		log:               opts.Logger,
		limiter:           newRateLimitedLog(opts.Logger, 10*time.Second),
		deviceLog:         newDeviceLog(opts.Logger),
		metrics:           opts.Metrics,
		topics:            discovery.TopicsFor(cfg),
		builder:           discovery.NewBuilder(cfg, opts.Version),
		input:             make(chan inbound, opts.QueueLen),
		configuredDevices: make(map[string]bool),
		commands:          make(chan func()),
		reconnected:       make(chan struct{}, 1),
		out:               newOutbox(),
		sensors:           make(map[string]*sensorInput),
		published:         make(map[string]string),
		guests:            make(map[string]bool),
		guestSeen:         make(map[string]time.Time),
		coins:             make(map[string]int),
		disc:              newDiscoveryState(),
		started:           time.Now(),
		store:             opts.Store,
	}
	b.engine = sessions.New(cfg, b, func(id string) { b.evicted = append(b.evicted, id) })
	for _, eq := range cfg.Equipment {
		b.sensors[eq.ID] = newSensorInput(eq)
	}
	for _, p := range cfg.Participants {
		for _, d := range p.Devices {
			b.configuredDevices[d] = true
		}
	}
	if !opts.EventClock {
		b.known = make(chan inbound, opts.QueueLen)
	}
	if err := b.routes(); err != nil {
		return nil, err
	}
	if err := b.restore(); err != nil {
		return nil, err
	}
	return b, nil
}

// restore continues from the checkpoint in the store, if there is one.
func (b *Bridge) restore() error {
	if b.store == nil || !b.opts.Checkpoints {
		return nil
	}
	cp, err := b.store.LoadCheckpoint()
	if err != nil || cp == nil {
		return err
	}
	if err := b.engine.Restore(cp.State); err != nil {
		return fmt.Errorf("restore from checkpoint: %w", err)
	}
	snap := b.engine.Snapshot()
	b.log.Info("restored from checkpoint", "written_at", cp.WrittenAt, "session_id", snap.SessionID,
		"running", snap.Running, "participants", len(snap.Participants))
	c := b.engine.Counters()
	b.lastCounters = floatCounters{LateSamples: float64(c.LateSamples),
		Duplicates: float64(c.Duplicates), GuestsEvicted: float64(c.GuestsEvicted),
		UnknownEquipment: float64(c.UnknownEquipment)}
	if snap.Running {
		b.metrics.SessionActive.Set(1)
		b.refillListener(snap)
	}
	return nil
}

// refillListener hands the listener (the chart feed) the restored session and
// its newest ticks from the timeline, so that charts show the session's
// recent past after a restart instead of starting empty.
func (b *Bridge) refillListener(snap sessions.Snapshot) {
	if b.opts.Listener == nil {
		return
	}
	b.opts.Listener.SessionStarted(snap)
	ticks, err := b.store.RecentTicks(snap.SessionID, b.cfg.Session.LiveWindowTicks())
	if err != nil {
		b.log.Warn("timeline not read after restore; charts start empty",
			"session_id", snap.SessionID, "err", err)
		return
	}
	known := make(map[string]sessions.ParticipantState, len(snap.Participants))
	for _, p := range snap.Participants {
		known[p.ID] = p
	}
	interval := b.cfg.Session.CoinInterval
	for _, t := range ticks {
		t.Start = snap.StartedAt.Add(time.Duration(t.Index) * interval)
		t.IntervalMS = interval.Milliseconds()
		for i := range t.Participants {
			// The timeline keeps no names or statuses; a guest evicted since has
			// neither, and shows under its id as having left.
			p := &t.Participants[i]
			p.Name, p.Status = p.ID, sessions.StatusLeft
			if k, ok := known[p.ID]; ok && k.Status != "" {
				p.Name, p.Status = k.Name, k.Status
			}
		}
		b.opts.Listener.TickClosed(t)
	}
}

// Run connects to the broker and runs until ctx ends. Then it ends the
// running session, publishes offline availability and disconnects.
func (b *Bridge) Run(ctx context.Context) error {
	connCtx, cancelConn := context.WithCancel(context.Background())
	defer cancelConn()
	cm, err := b.connect(connCtx)
	if err != nil {
		return err
	}

	stopPub := make(chan struct{})
	pubDone := make(chan struct{})
	pubCtx, cancelPub := context.WithCancel(connCtx)
	defer cancelPub()
	go func() {
		defer close(pubDone)
		b.runPublisher(pubCtx, stopPub, cm)
	}()

	if b.store != nil && b.opts.Checkpoints {
		b.checkpoints = b.startCheckpointer()
	}
	b.loop(ctx)

	// Shut down in order: stop reading, checkpoint the session (or end it
	// when nothing is kept on disk), flush the outbox, say offline,
	// disconnect.
	b.log.Info("shutting down", "reason", context.Cause(ctx))
	if b.store != nil && b.opts.Checkpoints {
		b.finalCheckpoint(time.Now())
		b.log.Info("final checkpoint written", "running", b.engine.Running())
	} else {
		b.engine.End(sessions.EndShutdown)
	}
	if b.store != nil {
		if err := b.store.Close(); err != nil {
			b.log.Error("closing the timeline failed", "err", err)
		}
	}
	b.publishStates(true)
	close(stopPub)
	// A publish waits up to publishTimeout for a broker that is down. At shutdown the
	// publisher gets publisherStopGrace to finish, then its publish is abandoned.
	select {
	case <-pubDone:
	case <-time.After(publisherStopGrace):
		cancelPub()
		<-pubDone
	}
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancelFlush()
	if b.connected.Load() {
		for {
			m, ok := b.out.take()
			if !ok {
				break
			}
			b.publish(flushCtx, cm, m)
		}
		b.publishOffline(flushCtx, cm)
	} else {
		// A publish would wait for a connection until flushCtx ends, and that time
		// counts against the exit limit. The retained availability is offline already:
		// the broker published the will when the connection was lost.
		b.log.Warn("broker not connected at shutdown; final states not published")
	}
	if err := cm.Disconnect(flushCtx); err != nil && !errors.Is(err, context.Canceled) {
		b.log.Warn("mqtt disconnect failed", "err", err)
	}
	cancelConn()
	b.wg.Wait()
	<-cm.Done()
	b.log.Info("mqtt disconnected")
	return nil
}

// publishOffline publishes the retained offline availability and logs whether the broker
// acknowledged it. It calls cm.Publish itself because publish does not return its error.
func (b *Bridge) publishOffline(ctx context.Context, cm *autopaho.ConnectionManager) {
	topic := b.topics.BridgeAvailability()
	pubCtx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	_, err := cm.Publish(pubCtx, &paho.Publish{
		Topic: topic, Payload: []byte(availabilityOffline), QoS: 1, Retain: true,
	})
	if err != nil {
		b.metrics.PublishFailures.Inc()
		b.log.Warn("offline availability publish failed", "topic", topic, "err", err)
		return
	}
	b.log.Info("offline availability published", "topic", topic)
}

// Connected reports whether the bridge is connected and subscribed.
func (b *Bridge) Connected() bool { return b.connected.Load() }

// Ready reports whether the bridge is connected and its engine loop has
// run within the last few publish intervals.
func (b *Bridge) Ready() bool {
	last := time.Unix(0, b.lastLoop.Load())
	return b.Connected() && time.Since(last) < 5*b.opts.PublishInterval
}

// WaitConnected waits until the bridge is connected and subscribed.
func (b *Bridge) WaitConnected(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !b.Connected() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for broker connection: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// Processed returns how many input messages the engine loop has handled,
// dropped ones included.
func (b *Bridge) Processed() uint64 { return b.processed.Load() }

// Dropped returns how many input messages were dropped before the engine
// loop, because they were too large or the input queue was full.
func (b *Bridge) Dropped() uint64 { return b.dropped.Load() }

// Summaries returns the summaries of the most recent sessions that ended,
// oldest first.
func (b *Bridge) Summaries() []sessions.Summary {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sessions.Summary(nil), b.summaries...)
}

// Snapshot returns the engine's current state.
func (b *Bridge) Snapshot(ctx context.Context) (sessions.Snapshot, error) {
	var snap sessions.Snapshot
	err := b.do(ctx, func() { snap = b.engine.Snapshot() })
	return snap, err
}

// EndSession ends the running session for reason and publishes the result.
func (b *Bridge) EndSession(ctx context.Context, reason sessions.EndReason) error {
	return b.do(ctx, func() {
		b.engine.End(reason)
		b.publishStates(false)
	})
}

// do runs f on the engine loop goroutine and waits for it.
func (b *Bridge) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case b.commands <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
