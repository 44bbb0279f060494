package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// BenchmarkFinishLongSession saves a 12-hour session of 50 participants at 5 s ticks
// (8640 ticks) whose heart rates change at every tick, the worst case for run-length
// encoding. B/op is the memory that saving it allocates.
func BenchmarkFinishLongSession(b *testing.B) {
	const ticks, people = 8640, 50
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	zones := []string{"cool", "active", "warm", "hot", "fire"}
	for i := range ticks {
		t := sessions.Tick{SessionID: "20260105T180000Z", Index: i, IntervalMS: 5000,
			Start: t0.Add(time.Duration(i) * 5 * time.Second)}
		for p := range people {
			hr := float64(90 + (i*7+p*13)%90)
			t.Participants = append(t.Participants, sessions.TickPoint{
				ID: fmt.Sprintf("p%02d", p), HeartRate: &hr, Zone: zones[(i/60+p)%5], Coins: i / 2})
		}
		t.Equipment = []sessions.EquipmentPoint{{ID: "bag", Active: i%7 < 3, Events: i % 4}}
		if err := st.AppendTick(t); err != nil {
			b.Fatal(err)
		}
	}
	sum := sessions.Summary{SessionID: "20260105T180000Z", StartedAt: t0,
		EndedAt: t0.Add(ticks * 5 * time.Second), CoinIntervalMS: 5000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Finish(sum); err != nil {
			b.Fatal(err)
		}
	}
}
