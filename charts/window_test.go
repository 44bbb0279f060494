package charts

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

func TestWindowStaysBoundedOverManyTicks(t *testing.T) {
	const capacity = 8
	const ticks = 5000
	feed := startFeed(t, Options{LiveWindowTicks: capacity}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1"))

	for i := range ticks {
		// p1 stays; a new guest joins every 3 ticks and stays for 5, so ids churn.
		points := []sessions.TickPoint{activePoint("p1", i)}
		for guest := max(0, i/3-1); guest <= i/3; guest++ {
			points = append(points, activePoint(fmt.Sprintf("guest-%d", guest), i))
		}
		hub.TickClosed(makeTick("s1", i, points...))

		stats := hub.Stats()
		if stats.WindowTicks > capacity {
			t.Fatalf("after tick %d the window holds %d ticks, want at most %d",
				i, stats.WindowTicks, capacity)
		}
		// Guest g is on the roster for ticks 3g to 3g+5, so at most 5 guests have a
		// point within the last 8 ticks. With p1 that makes 6 series.
		if limit := 6; stats.ParticipantSeries > limit {
			t.Fatalf("after tick %d the window holds %d participant series, want at most %d",
				i, stats.ParticipantSeries, limit)
		}
	}

	hub.mu.Lock()
	for id, track := range hub.window.participants {
		if len(track.points) != capacity {
			t.Errorf("series of %s has %d slots, want %d", id, len(track.points), capacity)
		}
	}
	hub.mu.Unlock()

	conn := feed.dial(t)
	snapshot := readInitial(t, conn).fitness
	for _, p := range snapshot.Participants {
		if len(p.HeartRate) != capacity {
			t.Errorf("snapshot series of %s has %d points, want %d", p.ID, len(p.HeartRate), capacity)
		}
	}
}

func TestWindowStoresSkippedTicksAsMissing(t *testing.T) {
	w := newLiveWindow(6, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0)))
	mustAppend(t, w, makeTick("s1", 3, activePoint("p1", 3)))

	if w.count != 4 {
		t.Fatalf("count = %d, want 4 (ticks 0 to 3)", w.count)
	}
	series := participantSeriesOf(w, "p1")
	for i, want := range []bool{true, false, false, true} {
		if got := series.HeartRate[i] != nil; got != want {
			t.Errorf("heart_rate[%d] present = %v, want %v", i, got, want)
		}
		if got := series.Coins[i] != nil; got != want {
			t.Errorf("coins[%d] present = %v, want %v", i, got, want)
		}
	}
	if got := w.oldestStartMS(); got != tickStartMS(0) {
		t.Errorf("oldest start = %d, want %d", got, tickStartMS(0))
	}
}

func TestWindowGapLongerThanCapacityStartsOver(t *testing.T) {
	w := newLiveWindow(4, testIntervalMS)
	for i := range 4 {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
	}
	mustAppend(t, w, makeTick("s1", 20, activePoint("p1", 20)))

	if w.count != 1 {
		t.Fatalf("count = %d, want 1 after a gap longer than the window", w.count)
	}
	if got := w.oldestIndex(); got != 20 {
		t.Errorf("oldest index = %d, want 20", got)
	}
	series := participantSeriesOf(w, "p1")
	if len(series.HeartRate) != 1 || series.HeartRate[0] == nil || *series.HeartRate[0] != 120 {
		t.Errorf("heart_rate = %s, want [120]", describe(series.HeartRate))
	}
}

func TestWindowRejectsOutOfOrderTicks(t *testing.T) {
	w := newLiveWindow(4, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 5, activePoint("p1", 5)))

	for _, index := range []int{5, 4} {
		err := w.appendTick(makeTick("s1", index, activePoint("p1", index)))
		if !errors.Is(err, errTickOutOfOrder) {
			t.Errorf("append index %d after 5: error %v, want %v", index, err, errTickOutOfOrder)
		}
	}
	if err := w.appendTick(makeTick("s1", -1)); err == nil {
		t.Errorf("append index -1: no error, want an invalid index error")
	}
	if w.count != 1 || w.newestIndex != 5 {
		t.Errorf("count %d newest %d after rejected ticks, want 1 and 5", w.count, w.newestIndex)
	}
}

func TestWindowPrunesTracksWithoutPoints(t *testing.T) {
	w := newLiveWindow(3, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	for i := 1; i <= 2; i++ {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
		if _, ok := w.participants["p2"]; !ok {
			t.Fatalf("p2 freed after tick %d while its tick 0 point is in the window", i)
		}
	}
	mustAppend(t, w, makeTick("s1", 3, activePoint("p1", 3)))
	if _, ok := w.participants["p2"]; ok {
		t.Errorf("p2 still stored after its last point left the window")
	}
}

func TestWindowFreesOffRosterAtEnd(t *testing.T) {
	w := newLiveWindow(10, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	mustAppend(t, w, makeTick("s1", 1, activePoint("p1", 1)))
	w.freeOffRoster()

	if _, ok := w.participants["p2"]; ok {
		t.Errorf("p2 still stored after the session end although it left the roster")
	}
	if _, ok := w.participants["p1"]; !ok {
		t.Errorf("p1 freed at the session end although it is on the roster")
	}
}

func mustAppend(t *testing.T, w *liveWindow, tick sessions.Tick) {
	t.Helper()
	if err := w.appendTick(tick); err != nil {
		t.Fatalf("append tick %d: %v", tick.Index, err)
	}
}

func TestWindowDropoutMarkerStaysPut(t *testing.T) {
	w := newLiveWindow(6, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0)))
	mustAppend(t, w, makeTick("s1", 1, dropoutPoint("p1", 1)))
	mustAppend(t, w, makeTick("s1", 2, dropoutPoint("p1", 2)))
	mustAppend(t, w, makeTick("s1", 3, activePoint("p1", 3)))
	want := dropout{Index: 3, AtMS: tickStartMS(3), SinceMS: tickStartMS(1), Ticks: 2}

	// The marker keeps its tick and times while the window slides past tick 0.
	for i := 4; i <= 8; i++ {
		mustAppend(t, w, makeTick("s1", i, activePoint("p1", i)))
		markers := w.participants["p1"].dropouts
		if len(markers) != 1 || markers[0] != want {
			t.Fatalf("after tick %d dropouts = %s, want [%s]", i, describe(markers), describe(want))
		}
	}
	// Once tick 3 leaves the window, so does its marker.
	mustAppend(t, w, makeTick("s1", 9, activePoint("p1", 9)))
	if markers := w.participants["p1"].dropouts; len(markers) != 0 {
		t.Errorf("after tick 9 dropouts = %s, want none", describe(markers))
	}
}

func TestWindowDropoutLongerThanWindowIsMarked(t *testing.T) {
	w := newLiveWindow(3, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, activePoint("p1", 0)))
	for i := 1; i <= 6; i++ {
		mustAppend(t, w, makeTick("s1", i, dropoutPoint("p1", i)))
	}
	mustAppend(t, w, makeTick("s1", 7, activePoint("p1", 7)))
	markers := w.participants["p1"].dropouts
	want := dropout{Index: 7, AtMS: tickStartMS(7), SinceMS: tickStartMS(1), Ticks: 6}
	if len(markers) != 1 || markers[0] != want {
		t.Errorf("dropouts = %s, want [%s]", describe(markers), describe(want))
	}
}

func TestWindowFirstSampleIsNoDropout(t *testing.T) {
	w := newLiveWindow(6, testIntervalMS)
	mustAppend(t, w, makeTick("s1", 0, dropoutPoint("p1", 0)))
	mustAppend(t, w, makeTick("s1", 1, dropoutPoint("p1", 1)))
	mustAppend(t, w, makeTick("s1", 2, activePoint("p1", 2)))
	if markers := w.participants["p1"].dropouts; len(markers) != 0 {
		t.Errorf("dropouts = %s, want none before the first heart rate", describe(markers))
	}
}

func TestWindowCapsOffRosterTracks(t *testing.T) {
	w := newLiveWindow(720, 5000)
	start := time.Unix(1_700_000_000, 0)
	for i := range 50 {
		tick := sessions.Tick{Index: i, Start: start.Add(time.Duration(i) * 5 * time.Second),
			IntervalMS: 5000}
		// A new roster of 10 guests every tick, as in a flood of made-up devices.
		for j := range 10 {
			tick.Participants = append(tick.Participants,
				sessions.TickPoint{ID: fmt.Sprintf("guest-%d-%d", i, j)})
		}
		if err := w.appendTick(tick); err != nil {
			t.Fatal(err)
		}
		if n := len(w.participants); n > 10+maxOffRosterTracks {
			t.Fatalf("tick %d: %d tracks, want at most %d", i, n, 10+maxOffRosterTracks)
		}
	}
}
