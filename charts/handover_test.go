package charts

import (
	"testing"

	"github.com/fitbridge/fitbridge/sessions"
)

// TestHandoverMovesSeriesAndSendsSnapshot hands a guest's strap to sam, who joins with it,
// after three ticks: the guest's series become sam's, and clients get a new snapshot.
func TestHandoverMovesSeriesAndSendsSnapshot(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)
	feed.hub.SessionStarted(startSnapshot("s1", "alex", "guest-7"))
	readStart(t, conn)
	for i := range 3 {
		guest := activePoint("guest-7", i)
		if i == 1 {
			guest = dropoutPoint("guest-7", i)
		}
		feed.hub.TickClosed(makeTick("s1", i, activePoint("alex", i), guest))
		readTick(t, conn)
	}

	feed.hub.Event(sessions.Event{Type: sessions.EventDeviceAssigned, SessionID: "s1",
		Device: "7", From: "guest-7", Participant: "sam", Moved: true})
	snap := readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)
	if len(snap.Participants) != 2 || snap.Participants[0].ID != "alex" || snap.Participants[1].ID != "sam" {
		t.Fatalf("roster after the hand-over = %s, want alex and sam", describe(snap))
	}
	sam := snap.Participants[1]
	if got, want := show(sam.HeartRate[0]), "100"; got != want {
		t.Errorf("sam's first heart rate = %s, want the guest's %s", got, want)
	}
	if sam.HeartRate[1] != nil || len(sam.Dropouts) != 1 || sam.Dropouts[0].Index != 2 {
		t.Errorf("sam's gap = %s, want the guest's null at tick 1 and a marker at tick 2",
			describe(sam))
	}
	if got := show(sam.Coins[2]); got != "3" {
		t.Errorf("sam's coins at tick 2 = %s, want the guest's 3", got)
	}

	// The next tick continues sam's series; the guest is gone.
	feed.hub.TickClosed(makeTick("s1", 3, activePoint("alex", 3), activePoint("sam", 3)))
	_, points, _ := readTick(t, conn)
	if len(points.Participants) != 2 || points.Participants[1].ID != "sam" {
		t.Errorf("points after the hand-over = %s, want alex and sam", describe(points))
	}
	if _, ok := feed.hub.window.participants["guest-7"]; ok {
		t.Error("the live window still holds the guest's track")
	}
}

// TestHandoverIntoWearerOnRosterAddsCoins moves a guest's series to a participant who
// already has points: their own heart rates stay, and the coin counts add up.
func TestHandoverIntoWearerOnRosterAddsCoins(t *testing.T) {
	w := newLiveWindow(10, testIntervalMS)
	for i := range 3 {
		sam := dropoutPoint("sam", 0)
		if i == 2 {
			sam = activePoint("sam", 0) // 100 bpm, 1 coin
		}
		if err := w.appendTick(makeTick("s1", i, activePoint("guest-7", i), sam)); err != nil {
			t.Fatal(err)
		}
	}
	if !w.moveSeries("guest-7", "sam", "Sam") {
		t.Fatal("moveSeries found no track to move")
	}
	if len(w.roster) != 1 || w.roster[0] != "sam" {
		t.Errorf("roster = %v, want only sam", w.roster)
	}
	got := w.participants["sam"].points
	for i, want := range []struct {
		hr    float64
		coins int
	}{{100, 1}, {101, 2}, {100, 4}} {
		if got[i].heartRate != want.hr || got[i].coins != want.coins {
			t.Errorf("tick %d = %v bpm, %d coins; want %v and %d", i, got[i].heartRate,
				got[i].coins, want.hr, want.coins)
		}
	}
	if w.moveSeries("guest-7", "sam", "Sam") {
		t.Error("a second move of the same guest reported a track")
	}
}
