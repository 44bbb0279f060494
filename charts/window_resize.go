package charts

// resize sets the number of ticks the window can hold. Shrinking keeps the newest ticks,
// and frees the dropout markers and the off-roster tracks that no kept tick needs.
// Growing keeps every stored tick. Each track gets new point slices, so the memory of a
// larger window goes back to the garbage collector.
func (w *liveWindow) resize(capacity int) {
	capacity = max(1, capacity)
	if capacity == w.capacity {
		return
	}
	keptTicks := min(w.count, capacity)
	oldest := w.newestIndex - keptTicks + 1
	for _, track := range w.participants {
		points := make([]participantPoint, capacity)
		for index := oldest; index <= w.newestIndex; index++ {
			points[index%capacity] = track.points[index%w.capacity]
		}
		track.points = points
	}
	for _, track := range w.equipment {
		points := make([]equipmentPoint, capacity)
		for index := oldest; index <= w.newestIndex; index++ {
			points[index%capacity] = track.points[index%w.capacity]
		}
		track.points = points
	}
	trimmed := keptTicks < w.count
	w.capacity = capacity
	w.count = keptTicks
	// With no tick stored, pruning would free the tracks the session start listed.
	if trimmed {
		w.pruneExpired()
	}
}
