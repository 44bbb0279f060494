package store_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

var t0 = time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)

func tick(i int, hr float64, coins int) sessions.Tick {
	p := sessions.TickPoint{ID: "alex", Coins: coins, Zone: "warm"}
	if hr > 0 {
		p.HeartRate = &hr
	} else {
		p.Zone = ""
	}
	return sessions.Tick{SessionID: "20260105T180000Z", Index: i, IntervalMS: 5000,
		Start: t0.Add(time.Duration(i) * 5 * time.Second), Participants: []sessions.TickPoint{p},
		Equipment: []sessions.EquipmentPoint{{ID: "bag", Active: i%2 == 0}}}
}

func summary(ticks int) sessions.Summary {
	return sessions.Summary{SessionID: "20260105T180000Z", StartedAt: t0,
		EndedAt: t0.Add(time.Duration(ticks) * 5 * time.Second), EndReason: sessions.EndReplay,
		CoinIntervalMS: 5000, Participants: []sessions.ParticipantSummary{{ID: "alex", Coins: 7}}}
}

func TestFinishSavesRunLengthTimeline(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hrs := []float64{120, 120, 120, 0, 0, 130, 130, 130, 130, 130, 130, 130, 130}
	for i, hr := range hrs {
		if err := st.AppendTick(tick(i, hr, i)); err != nil {
			t.Fatal(err)
		}
	}
	path, err := st.Finish(summary(len(hrs)))
	if err != nil || path == "" {
		t.Fatalf("finish = %q, %v", path, err)
	}
	saved, err := st.Load("20260105T180000Z")
	if err != nil {
		t.Fatal(err)
	}
	if saved.Timeline.Ticks != len(hrs) || saved.Participants[0].Coins != 7 {
		t.Errorf("ticks = %d coins = %d", saved.Timeline.Ticks, saved.Participants[0].Coins)
	}
	if got := string(saved.Timeline.Participants["alex"].HeartRate); got != "[[120,3],[null,2],[130,8]]" {
		t.Errorf("heart rate series = %s", got)
	}
	series, err := store.DecodeRLE[float64](saved.Timeline.Participants["alex"].HeartRate)
	if err != nil || len(series) != len(hrs) || series[3] != nil || *series[5] != 130 {
		t.Errorf("decoded series wrong: %v (%v)", series, err)
	}
	st.Close()
}

func TestShortSessionNotSaved(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(dir)
	for i := range 2 {
		_ = st.AppendTick(tick(i, 120, i))
	}
	path, err := st.Finish(summary(2))
	if err != nil || path != "" {
		t.Fatalf("finish = %q, %v; want nothing saved", path, err)
	}
	list, _ := st.List()
	if len(list) != 0 {
		t.Errorf("saved sessions = %d, want 0", len(list))
	}
	st.Close()
}

func TestCheckpointCutsTimelineBack(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(dir)
	for i := range 5 {
		_ = st.AppendTick(tick(i, 120, i))
	}
	state := sessions.State{Version: sessions.StateVersion, Clock: t0}
	if err := st.WriteCheckpoint(state, t0, st.Position()); err != nil {
		t.Fatal(err)
	}
	// Ticks after the checkpoint reach the file, then the process dies.
	for i := 5; i < 8; i++ {
		_ = st.AppendTick(tick(i, 120, i))
	}
	st.Close()

	again, _ := store.Open(dir)
	cp, err := again.LoadCheckpoint()
	if err != nil || cp == nil {
		t.Fatalf("load checkpoint = %v, %v", cp, err)
	}
	for i := 5; i < 20; i++ { // the engine closes ticks 5.. again
		_ = again.AppendTick(tick(i, 120, i))
	}
	if _, err := again.Finish(summary(20)); err != nil {
		t.Fatal(err)
	}
	saved, _ := again.Load("20260105T180000Z")
	if saved.Timeline.Ticks != 20 {
		t.Errorf("ticks = %d, want 20 with none recorded twice", saved.Timeline.Ticks)
	}
	again.Close()
}

func TestCheckpointFileIsValidJSON(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(dir)
	if err := st.WriteCheckpoint(sessions.State{Version: sessions.StateVersion}, t0, st.Position()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Errorf("checkpoint is not JSON: %s", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestLoadRejectsBadID(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	if _, err := st.Load("../../etc/passwd"); err == nil {
		t.Error("a path as session id was accepted")
	}
}
