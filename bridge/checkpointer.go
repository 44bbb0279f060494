package bridge

import (
	"time"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// checkpointer writes checkpoints on a goroutine of its own. Writing one syncs two files,
// which takes tens of milliseconds on a slow disk. On the engine loop, that stall filled the
// input queue at high message rates. The loop takes the engine state and the timeline
// position, both in memory, and hands them over. Only the newest state waits, because a
// newer state makes an older one worthless.
type checkpointer struct {
	b       *Bridge
	pending chan pendingCheckpoint // capacity 1: the newest state not yet written
	done    chan struct{}
}

type pendingCheckpoint struct {
	state sessions.State
	at    time.Time
	pos   store.Position
}

func (b *Bridge) startCheckpointer() *checkpointer {
	c := &checkpointer{b: b, pending: make(chan pendingCheckpoint, 1), done: make(chan struct{})}
	go c.run()
	return c
}

// put replaces the waiting checkpoint, if any, with p. Only the engine loop calls it.
func (c *checkpointer) put(p pendingCheckpoint) {
	select {
	case <-c.pending:
	default:
	}
	c.pending <- p
}

// stop writes the waiting checkpoint, if any, and returns when the goroutine has ended.
func (c *checkpointer) stop() {
	close(c.pending)
	<-c.done
}

func (c *checkpointer) run() {
	defer close(c.done)
	for p := range c.pending {
		c.b.writeCheckpoint(p)
	}
}

// writeCheckpoint writes one checkpoint and counts it.
func (b *Bridge) writeCheckpoint(p pendingCheckpoint) {
	began := time.Now()
	err := b.store.WriteCheckpoint(p.state, p.at, p.pos)
	b.metrics.CheckpointDuration.Observe(time.Since(began).Seconds())
	if err != nil {
		b.metrics.CheckpointWrites.WithLabelValues("error").Inc()
		b.limiter.log("checkpoint failed", "err", err)
		return
	}
	b.metrics.CheckpointWrites.WithLabelValues("ok").Inc()
}
