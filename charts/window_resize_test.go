package charts

import "testing"

// heartRates returns the stored heart rates of id from the oldest tick to the newest, -1
// for a missing one.
func heartRates(w *liveWindow, id string) []float64 {
	track := w.participants[id]
	out := make([]float64, 0, w.count)
	for index := w.oldestIndex(); index <= w.newestIndex; index++ {
		point := track.points[index%w.capacity]
		if !point.hasHeartRate {
			out = append(out, -1)
			continue
		}
		out = append(out, point.heartRate)
	}
	return out
}

func TestWindowShrinkKeepsNewestTicks(t *testing.T) {
	w := newLiveWindow(6, testIntervalMS)
	// Ticks 0 to 8 wrap the ring, so the kept ticks come from both ends of it.
	for i := range 9 {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
	}
	w.resize(2)

	if w.capacity != 2 || w.count != 2 || w.oldestIndex() != 7 {
		t.Fatalf("after the shrink: capacity %d count %d oldest %d, want 2, 2 and 7",
			w.capacity, w.count, w.oldestIndex())
	}
	if got := describe(heartRates(w, "p1")); got != "[107,108]" {
		t.Errorf("p1 heart rates = %s, want [107,108]", got)
	}
	if got := len(w.participants["p1"].points); got != 2 {
		t.Errorf("p1 has %d slots, want 2", got)
	}
	if got := len(w.equipment["bag"].points); got != 2 {
		t.Errorf("bag has %d slots, want 2", got)
	}
	if w.oldestStartMS() != tickStartMS(7) {
		t.Errorf("oldest start = %d, want %d", w.oldestStartMS(), tickStartMS(7))
	}

	mustAppend(t, w, makeTick("s1", 9, activePoint("p1", 9)))
	if got := describe(heartRates(w, "p1")); got != "[108,109]" {
		t.Errorf("p1 heart rates after one more tick = %s, want [108,109]", got)
	}
}

func TestWindowShrinkFreesWhatLeftIt(t *testing.T) {
	w := newLiveWindow(8, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	mustAppend(t, w, makeTick("s1", 1, dropoutPoint("p1", 1)))
	mustAppend(t, w, makeTick("s1", 2, activePoint("p1", 2)))
	for i := 3; i < 6; i++ {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
	}
	if len(w.participants["p1"].dropouts) != 1 {
		t.Fatalf("p1 dropouts before the shrink = %s, want one at tick 2",
			describe(w.participants["p1"].dropouts))
	}

	// Ticks 0 to 2 leave the window: p2, off the roster since tick 1, and the marker of
	// tick 2 go with them.
	w.resize(3)
	if _, ok := w.participants["p2"]; ok {
		t.Errorf("p2 still stored after its last point left the window")
	}
	if markers := w.participants["p1"].dropouts; len(markers) != 0 {
		t.Errorf("p1 dropouts after the shrink = %s, want none", describe(markers))
	}
}

func TestWindowGrowKeepsEveryTick(t *testing.T) {
	w := newLiveWindow(3, testIntervalMS)
	for i := range 5 {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
	}
	w.resize(6)
	if w.capacity != 6 || w.count != 3 {
		t.Fatalf("after the growth: capacity %d count %d, want 6 and 3", w.capacity, w.count)
	}
	if got := describe(heartRates(w, "p1")); got != "[102,103,104]" {
		t.Errorf("p1 heart rates = %s, want [102,103,104]", got)
	}
	for i := 5; i < 9; i++ {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
	}
	if got := describe(heartRates(w, "p1")); got != "[103,104,105,106,107,108]" {
		t.Errorf("p1 heart rates after 4 more ticks = %s, want 103 to 108", got)
	}
}

func TestWindowResizeEmptyKeepsRoster(t *testing.T) {
	w := newLiveWindow(8, testIntervalMS)
	start := startSnapshot("s1", "p1")
	w.setRoster(start.Participants, start.Equipment)
	w.resize(2)
	if _, ok := w.participants["p1"]; !ok {
		t.Errorf("p1 freed by a resize before the first tick")
	}
	if _, ok := w.equipment["bag"]; !ok {
		t.Errorf("bag freed by a resize before the first tick")
	}
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0)))
	if got := describe(heartRates(w, "p1")); got != "[100]" {
		t.Errorf("p1 heart rates = %s, want [100]", got)
	}
}
