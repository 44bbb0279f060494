package store_test

import (
	"sync"
	"testing"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// TestCheckpointCoversPositionNotLaterTicks takes the timeline position, appends more
// ticks, then writes the checkpoint: a restart keeps only the ticks up to the position,
// because the engine state of the checkpoint was taken there.
func TestCheckpointCoversPositionNotLaterTicks(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := st.AppendTick(tick(i, 120, i)); err != nil {
			t.Fatal(err)
		}
	}
	pos := st.Position()
	for i := 5; i < 8; i++ {
		if err := st.AppendTick(tick(i, 120, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.WriteCheckpoint(sessions.State{Version: sessions.StateVersion}, t0, pos); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	again, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.LoadCheckpoint(); err != nil {
		t.Fatal(err)
	}
	ticks, err := again.RecentTicks("20260105T180000Z", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ticks) != 5 || ticks[4].Index != 4 {
		t.Errorf("after the restart the timeline has %d ticks, want the 5 before the position", len(ticks))
	}
}

// TestCheckpointWhileAppending writes checkpoints on one goroutine while another appends
// ticks, as the bridge does. Run with -race, it checks that the two share the store safely.
func TestCheckpointWhileAppending(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	positions := make(chan store.Position)
	var wg sync.WaitGroup
	wg.Go(func() {
		for pos := range positions {
			if err := st.WriteCheckpoint(sessions.State{Version: sessions.StateVersion}, t0, pos); err != nil {
				t.Error(err)
			}
		}
	})
	for i := range 200 {
		if err := st.AppendTick(tick(i, 120, i)); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			positions <- st.Position()
		}
	}
	close(positions)
	wg.Wait()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
