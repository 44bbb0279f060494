package charts

import "errors"

// pressureWindowDivisor sets the live window under memory pressure: the configured
// Options.LiveWindowTicks divided by it, and at least one tick.
const pressureWindowDivisor = 4

// errMemoryPressure is returned by register while memory pressure is high.
var errMemoryPressure = errors.New("chart client rejected under memory pressure")

// SetMemoryPressure switches load shedding on (high is true) or off. It does not block on
// any client, so the heap watchdog may call it from its own goroutine.
//
// While pressure is high the hub sheds what it can rebuild. The live window keeps only the
// newest quarter of Options.LiveWindowTicks, and the encoded snapshots are dropped. New
// WebSocket connections are closed with 1013 (try again later) and the reason "memory
// pressure". The hub has no range-query cache to drop: range queries are computed from the
// window or the store on each request. Connected clients keep their feed, and may hold
// more ticks than the shorter window.
//
// When pressure falls, the window grows back to Options.LiveWindowTicks as new ticks
// arrive, new clients are accepted again, and the hub broadcasts a snapshot of the fitness
// and equipment topics. That snapshot brings every connected client back to the server's
// window, and a client that resumes from before it replays it. A call that does not
// change the state does nothing.
func (h *Hub) SetMemoryPressure(high bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if high == h.pressure {
		return
	}
	h.pressure = high
	if high {
		h.shedLocked()
		return
	}

	h.windowTicks = h.opts.LiveWindowTicks
	h.window.resize(h.windowTicks)
	if h.session != nil && !h.closed {
		id := optionalString(h.session.ID)
		h.broadcastLocked(TopicFitness,
			buildFitnessSnapshot(h.window, id, h.topics[TopicFitness].seq+1))
		h.broadcastLocked(TopicEquipment,
			buildEquipmentSnapshot(h.window, id, h.topics[TopicEquipment].seq+1))
	}
	h.recordWindowLocked()
	h.log.Info("chart feed memory pressure ended", "live_window_ticks", h.windowTicks,
		"clients_rejected", h.rejectedUnderPressure)
}

// shedLocked shortens the live window and drops the encoded snapshots. h.mu must be held.
func (h *Hub) shedLocked() {
	h.rejectedUnderPressure = 0
	h.windowTicks = max(1, h.opts.LiveWindowTicks/pressureWindowDivisor)
	ticksBefore := h.window.count
	h.window.resize(h.windowTicks)
	for _, log := range h.topics {
		// A nil snapshot is never returned from the cache, so the next client that
		// connects gets a fresh encoding.
		log.cacheSnapshot(nil)
	}
	h.recordWindowLocked()
	h.log.Warn("chart feed shedding load under memory pressure",
		"live_window_ticks", h.windowTicks, "ticks_dropped", ticksBefore-h.window.count,
		"clients", len(h.clients))
}

// countRejectionLocked counts a connection rejected under memory pressure. It logs only the
// first rejection after pressure rose, because dashboards retry every few seconds. The log
// line at the end of the pressure gives the count. h.mu must be held.
func (h *Hub) countRejectionLocked(c *client) {
	h.clientsRejected.Add(1)
	h.rejectedUnderPressure++
	if h.opts.Metrics.ClientsRejected != nil {
		h.opts.Metrics.ClientsRejected.Inc()
	}
	if h.rejectedUnderPressure == 1 {
		h.log.Warn("chart client rejected", "remote", c.remote,
			"reason", closeReasonMemoryPressure)
	}
}

// noteQueueDepthLocked raises the queue high-water mark to depth. h.mu must be held.
func (h *Hub) noteQueueDepthLocked(depth int) {
	if depth <= h.queueHighWater {
		return
	}
	h.queueHighWater = depth
	if h.opts.Metrics.QueueHighWater != nil {
		h.opts.Metrics.QueueHighWater.Set(float64(depth))
	}
}

// recordWindowLocked sets the SeriesPoints metric from the live window. h.mu must be held.
func (h *Hub) recordWindowLocked() {
	if h.opts.Metrics.SeriesPoints == nil {
		return
	}
	series := len(h.window.participants) + len(h.window.equipment)
	h.opts.Metrics.SeriesPoints.Set(float64(h.window.count * series))
}
