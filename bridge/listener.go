package bridge

import (
	"encoding/json"
	"time"

	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/sessions"
)

// SessionStarted implements sessions.Listener. It is also called when a
// session resumes.
func (b *Bridge) SessionStarted(s sessions.Snapshot) {
	b.log.Info("session started", "session_id", s.SessionID, "started_at", s.StartedAt)
	b.metrics.SessionActive.Set(1)
	clear(b.coins)
	for _, p := range s.Participants {
		b.coins[p.ID] = p.Coins
	}
	if b.opts.Listener != nil {
		b.opts.Listener.SessionStarted(s)
	}
}

// TickClosed implements sessions.Listener: it counts the coins awarded and
// appends the tick to the session's timeline.
func (b *Bridge) TickClosed(t sessions.Tick) {
	b.metrics.Ticks.Inc()
	// Only the tick's roster is kept, so evicted guests do not pile up.
	coins := make(map[string]int, len(t.Participants))
	for _, p := range t.Participants {
		if d := p.Coins - b.coins[p.ID]; d > 0 {
			b.metrics.CoinsAwarded.Add(float64(d))
		}
		coins[p.ID] = p.Coins
	}
	b.coins = coins
	if b.store != nil {
		if err := b.store.AppendTick(t); err != nil {
			b.limiter.log("timeline write failed", "session_id", t.SessionID, "err", err)
		}
	}
	b.checkpointDue = true
	if b.opts.Listener != nil {
		b.opts.Listener.TickClosed(t)
	}
}

// SessionEnded implements sessions.Listener: it saves the session with its
// timeline and keeps the summary for Summaries. A session that resumes and
// ends again replaces its earlier summary.
func (b *Bridge) SessionEnded(sum sessions.Summary) {
	b.log.Info("session ended", "session_id", sum.SessionID, "reason", sum.EndReason,
		"participants", len(sum.Participants), "ended_at", sum.EndedAt)
	b.metrics.SessionActive.Set(0)

	if b.store != nil {
		path, err := b.store.Finish(sum)
		switch {
		case err != nil:
			b.metrics.SummaryWrites.WithLabelValues("error").Inc()
			b.log.Error("session not saved", "session_id", sum.SessionID, "err", err)
		case path == "":
			b.log.Info("session too short to save", "session_id", sum.SessionID,
				"duration", sum.EndedAt.Sub(sum.StartedAt))
		default:
			b.metrics.SummaryWrites.WithLabelValues("ok").Inc()
			b.log.Info("session saved", "session_id", sum.SessionID, "path", path)
		}
	}

	b.mu.Lock()
	if n := len(b.summaries); n > 0 && b.summaries[n-1].SessionID == sum.SessionID {
		b.summaries[n-1] = sum
	} else {
		b.summaries = append(b.summaries, sum)
	}
	if n := len(b.summaries) - b.opts.KeepSummaries; n > 0 {
		b.summaries = append(b.summaries[:0], b.summaries[n:]...)
	}
	b.mu.Unlock()

	b.checkpointNow = true
	b.publishSessionEnded(sum)
	if b.opts.Listener != nil {
		b.opts.Listener.SessionEnded(sum)
	}
}

// Event implements sessions.EventListener: it publishes the event on
// <base>/event for automations, not retained, and marks a checkpoint as
// urgent when the roster changed.
func (b *Bridge) Event(ev sessions.Event) {
	payload, err := json.Marshal(ev)
	if err != nil {
		b.log.Error("event not encoded", "event_type", ev.Type, "err", err)
		return
	}
	b.out.putEvent(discovery.Message{Topic: b.topics.Base() + "/event", Payload: payload, QoS: 1})
	b.publishEventEntity(ev)
	if ev.Type != sessions.EventCoinMilestone && ev.Type != sessions.EventZoneChanged {
		b.checkpointNow = true
	}
	if ev.Type == sessions.EventDeviceAssigned {
		b.log.Info("device assigned", "device", ev.Device, "participant_id", ev.Participant,
			"from", ev.From, "coins_moved", ev.Moved)
		if ev.Moved && ev.SessionID != "" {
			b.handover(ev)
		}
	}
}

// handover moves the series of a strap's previous wearer to the new one in
// the timeline and in the listener's view, as the engine moved the coins.
func (b *Bridge) handover(ev sessions.Event) {
	if b.store != nil {
		if err := b.store.AppendHandover(ev.SessionID, ev.From, ev.Participant); err != nil {
			b.limiter.log("timeline write failed", "session_id", ev.SessionID, "err", err)
		}
	}
	if l, ok := b.opts.Listener.(sessions.EventListener); ok {
		l.Event(ev)
	}
}

// urgentCheckpointGap is the shortest time between two checkpoints for
// roster changes, so that a burst of new devices writes one checkpoint, not
// one per device.
const urgentCheckpointGap = time.Second

// maybeCheckpoint takes a checkpoint when the roster changed, or when ticks
// closed and the last checkpoint is Session.CheckpointInterval old. The
// checkpointer writes it, off the engine loop.
func (b *Bridge) maybeCheckpoint(now time.Time) {
	if b.store == nil || !b.opts.Checkpoints {
		return
	}
	since := now.Sub(b.lastCheckpoint)
	due := b.checkpointDue && since >= b.cfg.Session.CheckpointInterval
	urgent := b.checkpointNow && since >= urgentCheckpointGap
	if !urgent && !due {
		return
	}
	p := b.takeCheckpoint(now)
	if b.checkpoints != nil {
		b.checkpoints.put(p)
	} else {
		b.writeCheckpoint(p)
	}
	b.lastCheckpoint, b.checkpointNow, b.checkpointDue = now, false, false
}

// finalCheckpoint writes the last checkpoint at shutdown, after the checkpointer has
// written what was waiting, so that no older state can overwrite it.
func (b *Bridge) finalCheckpoint(now time.Time) {
	if b.checkpoints != nil {
		b.checkpoints.stop()
		b.checkpoints = nil
	}
	b.writeCheckpoint(b.takeCheckpoint(now))
}

// takeCheckpoint returns the engine state with the timeline position it covers. It runs on
// the engine loop, so that the two match.
func (b *Bridge) takeCheckpoint(now time.Time) pendingCheckpoint {
	return pendingCheckpoint{state: b.engine.State(), at: now, pos: b.store.Position()}
}
