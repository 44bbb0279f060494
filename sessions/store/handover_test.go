package store_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// point returns a participant's values for one tick; hr 0 means a dropout.
func point(id string, hr float64, coins int) sessions.TickPoint {
	p := sessions.TickPoint{ID: id, Coins: coins}
	if hr > 0 {
		p.HeartRate, p.Zone = &hr, "warm"
	}
	return p
}

// handoverTimeline writes four ticks in which sam and a guest wear straps, the guest's
// strap then goes to sam (who keeps wearing their own and so has two), and two more ticks.
func handoverTimeline(t *testing.T, st *store.Store) {
	t.Helper()
	write := func(i int, points ...sessions.TickPoint) {
		t.Helper()
		tk := tick(i, 0, 0)
		tk.Participants = points
		if err := st.AppendTick(tk); err != nil {
			t.Fatal(err)
		}
	}
	write(0, point("guest-7", 120, 2))
	write(1, point("guest-7", 125, 4), point("sam", 0, 0))
	write(2, point("guest-7", 0, 4), point("sam", 140, 3))
	write(3, point("guest-7", 130, 6), point("sam", 141, 6))
	if err := st.AppendHandover("20260105T180000Z", "guest-7", "sam"); err != nil {
		t.Fatal(err)
	}
	write(4, point("sam", 142, 15))
	write(5, point("sam", 143, 18))
}

func TestHandoverMovesSeriesToNewWearer(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	handoverTimeline(t, st)
	// The summary spans a minute, the shortest session that is saved.
	if _, err := st.Finish(summary(12)); err != nil {
		t.Fatal(err)
	}
	saved, err := st.Load("20260105T180000Z")
	if err != nil {
		t.Fatal(err)
	}
	if saved.Timeline.Ticks != 6 {
		t.Errorf("ticks = %d, want 6: a hand-over is no tick", saved.Timeline.Ticks)
	}
	if _, ok := saved.Timeline.Participants["guest-7"]; ok {
		t.Error("the previous wearer still has a series after the hand-over")
	}
	sam := saved.Timeline.Participants["sam"]
	// Sam's own heart rate wins where there is one; the guest's fills the rest.
	if got, want := string(sam.HeartRate), "[120,125,140,141,142,143]"; got != want {
		t.Errorf("sam's heart rate = %s, want %s", got, want)
	}
	// Coins add up: the new wearer took over the previous wearer's total.
	if got, want := string(sam.Coins), "[2,4,7,12,15,18]"; got != want {
		t.Errorf("sam's coins = %s, want %s", got, want)
	}
}

func TestRecentTicksAppliesHandover(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	handoverTimeline(t, st)
	ticks, err := st.RecentTicks("20260105T180000Z", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ticks) != 3 || ticks[0].Index != 3 || ticks[2].Index != 5 {
		t.Fatalf("recent ticks = %+v, want indexes 3 to 5", ticks)
	}
	first := ticks[0].Participants
	if len(first) != 1 || first[0].ID != "sam" || first[0].Coins != 12 || *first[0].HeartRate != 141 {
		t.Errorf("tick 3 after the hand-over = %+v, want sam alone with 12 coins at 141 bpm", first)
	}
	all, err := st.RecentTicks("20260105T180000Z", 100)
	if err != nil || len(all) != 6 {
		t.Fatalf("all ticks = %d, %v; want 6", len(all), err)
	}
	if p := all[0].Participants; len(p) != 1 || p[0].ID != "sam" || p[0].Coins != 2 {
		t.Errorf("tick 0 = %+v, want the guest's point renamed to sam", p)
	}
	none, err := st.RecentTicks("20260105T190000Z", 3)
	if err != nil || len(none) != 0 {
		t.Errorf("ticks of a session without a timeline = %v, %v; want none", none, err)
	}
}

// TestSavedFileIsWhatEncodingJSONWrites checks that the saved file, written series by
// series, has the bytes that encoding/json gives the loaded record: the same key order,
// escaping and number format.
func TestSavedFileIsWhatEncodingJSONWrites(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	handoverTimeline(t, st)
	odd := tick(6, 150.5, 20)
	odd.Participants[0].ID = `guest-<&>"7"`
	if err := st.AppendTick(odd); err != nil {
		t.Fatal(err)
	}
	path, err := st.Finish(summary(12))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved store.Saved
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatalf("saved file is not valid JSON: %v", err)
	}
	want, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(string(data), "\n"); got != string(want) {
		t.Errorf("saved file differs from encoding/json:\n got %s\nwant %s", got, want)
	}
}
