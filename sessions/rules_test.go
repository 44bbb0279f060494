package sessions_test

import (
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

// eventRecorder is a recorder that also keeps events.
type eventRecorder struct {
	recorder
	events []sessions.Event
}

func (r *eventRecorder) Event(ev sessions.Event) { r.events = append(r.events, ev) }

func (r *eventRecorder) count(t sessions.EventType) int {
	n := 0
	for _, ev := range r.events {
		if ev.Type == t {
			n++
		}
	}
	return n
}

func newEventEngine(t *testing.T, mutate func(*config.Config)) (*sessions.Engine, *eventRecorder) {
	t.Helper()
	cfg := config.Default()
	cfg.Participants = []config.Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001", "10002"}},
		{ID: "sam", Name: "Sam", Devices: []string{"20001"}},
	}
	cfg.Equipment = []config.Equipment{{ID: "bag", Name: "Bag", Topic: "zigbee2mqtt/bag"}}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &eventRecorder{}
	return sessions.New(cfg, rec, nil), rec
}

func TestCommittedZoneIgnoresSmallDrop(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	// Committed active (min 100); 101, 99, 101, 99 at 1 s stays active.
	for i, bpm := range []float64{101, 99, 101, 99, 101, 99} {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, bpm))
	}
	if z := e.Snapshot().Participants[0].CommittedZone; z != "active" {
		t.Errorf("committed zone = %q, want active", z)
	}
	if n := rec.count(sessions.EventZoneChanged); n != 1 {
		t.Errorf("zone changes = %d, want 1 (the first commit)", n)
	}
}

func TestCommittedZoneWaitsThreeSeconds(t *testing.T) {
	e, _ := newEventEngine(t, nil)
	e.Advance(t0)
	e.Start()
	e.HeartRate(hr("10001", 0, 90))
	for s := 1; s <= 4; s++ {
		e.HeartRate(hr("10001", time.Duration(s)*time.Second, 101))
		got := e.Snapshot().Participants[0].CommittedZone
		want := "cool"
		if s >= 4 {
			want = "active"
		}
		if got != want {
			t.Errorf("at %d s committed zone = %q, want %q", s, got, want)
		}
	}
}

func TestCommittedZoneCommitsAfterCooldown(t *testing.T) {
	e, _ := newEventEngine(t, nil)
	e.HeartRate(hr("10001", 0, 90))
	e.HeartRate(hr("10001", 3*time.Second, 90))
	e.HeartRate(hr("10001", 6*time.Second, 90))
	e.HeartRate(hr("10001", 6500*time.Millisecond, 101))
	if z := e.Snapshot().Participants[0].CommittedZone; z != "active" {
		t.Errorf("committed zone = %q, want active at once after 5 s in cool", z)
	}
}

func TestProgressToNextZone(t *testing.T) {
	zones := sessions.Zones(config.DefaultZones())
	cases := []struct {
		bpm  float64
		want float64
	}{
		{60, 0}, {80, 50}, {110, 50}, {119, 95}, {165, 100}, {0, -1},
	}
	for _, c := range cases {
		if got := zones.Progress(c.bpm); got != c.want {
			t.Errorf("progress at %v bpm = %v, want %v", c.bpm, got, c.want)
		}
	}
}

func TestZonesAsPercentOfMaxHeartRate(t *testing.T) {
	e, rec := newEventEngine(t, func(c *config.Config) {
		c.ZoneUnit = config.ZoneUnitPercent
		c.Zones = []config.Zone{
			{ID: "z1", Min: 50, Coins: 1}, {ID: "z2", Min: 60, Coins: 2},
			{ID: "z3", Min: 70, Coins: 3}, {ID: "z4", Min: 80, Coins: 4},
			{ID: "z5", Min: 90, Coins: 5},
		}
		c.Participants[0].MaxHeartRate = 190
	})
	// 95 -> z1, 113 -> z1, 114 -> z2, 205 is clamped to z5; 94 pays nothing.
	for i, bpm := range []float64{94, 95, 113, 114, 171, 205} {
		e.HeartRate(hr("10001", time.Duration(i)*5*time.Second, bpm))
	}
	e.End(sessions.EndRequested)
	p := summaryOf(t, &rec.recorder, "alex")
	if want := 0 + 1 + 1 + 2 + 5 + 5; p.Coins != want {
		t.Errorf("coins = %d, want %d", p.Coins, want)
	}
}

func TestLateReadingCountsWithinMaxLateness(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 110))
	}
	e.HeartRate(hr("10001", 6*time.Second, 110)) // window 1
	// A reading for window 0 arrives 1.5 s after it ended: still counts.
	late := hr("10002", 4900*time.Millisecond, 150)
	e.Advance(t0.Add(6500 * time.Millisecond))
	e.HeartRate(late)
	// One for window 0 arriving 3 s after it ended is too late.
	e.Advance(t0.Add(8 * time.Second))
	e.HeartRate(hr("10002", 4950*time.Millisecond, 170))
	e.End(sessions.EndRequested)

	if got := e.Counters().LateSamples; got != 1 {
		t.Errorf("late samples = %d, want 1", got)
	}
	if got := summaryOf(t, &rec.recorder, "alex").Coins; got != 3+1 {
		t.Errorf("coins = %d, want 4 (hot window 0, active window 1)", got)
	}
}

func TestDuplicateReadingCountedOnce(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		r := hr("10001", time.Duration(i)*time.Second, 120)
		e.HeartRate(r)
		e.HeartRate(r) // a QoS 1 redelivery
	}
	e.End(sessions.EndRequested)
	if got := e.Counters().Duplicates; got != 3 {
		t.Errorf("duplicates = %d, want 3", got)
	}
	if got := summaryOf(t, &rec.recorder, "alex").Samples; got != 3 {
		t.Errorf("samples = %d, want 3", got)
	}
}

func TestResumeWithinWindowKeepsSession(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 130))
	}
	// 2 min 30 s later the session has ended for inactivity; 8 min later
	// the rider is back and the same session resumes.
	e.Advance(t0.Add(2*time.Minute + 30*time.Second))
	if e.Running() {
		t.Fatal("session still running after end_after")
	}
	e.HeartRate(hr("10001", 8*time.Minute, 130))
	if !e.Running() {
		t.Fatal("session did not resume")
	}
	if n := rec.count(sessions.EventSessionResumed); n != 1 {
		t.Errorf("resume events = %d, want 1", n)
	}
	e.End(sessions.EndRequested)
	last := rec.ended[len(rec.ended)-1]
	if last.SessionID != rec.ended[0].SessionID {
		t.Errorf("resumed session id %s, want %s", last.SessionID, rec.ended[0].SessionID)
	}
	// Three samples share window 0 (2 coins), the fourth pays 2 more.
	if p := last.Participants[0]; p.Samples != 4 || p.Coins != 4 {
		t.Errorf("resumed totals = %d samples, %d coins; want 4 and 4", p.Samples, p.Coins)
	}
}

func TestNewSessionAfterResumeWindow(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 130))
	}
	for i := range 3 {
		e.HeartRate(hr("10001", 20*time.Minute+time.Duration(i)*time.Second, 130))
	}
	if n := len(rec.started); n != 2 {
		t.Errorf("sessions started = %d, want 2", n)
	}
}

func TestRestartCooldownAfterManualEnd(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 130))
	}
	e.End(sessions.EndRequested)
	for i := range 5 {
		e.HeartRate(hr("10001", 10*time.Second+time.Duration(i)*time.Second, 130))
	}
	if e.Running() {
		t.Fatal("readings started a session inside the restart cooldown")
	}
	e.Start()
	if !e.Running() || len(rec.started) != 2 {
		t.Fatal("manual start inside the cooldown did not start a session")
	}
	e.End(sessions.EndRequested)
	for i := range 3 {
		e.HeartRate(hr("10001", 11*time.Minute+time.Duration(i)*time.Second, 130))
	}
	if !e.Running() {
		t.Error("readings after the cooldown did not start a session")
	}
}

func TestManualResumeAfterRequestedEnd(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 130))
	}
	e.End(sessions.EndRequested)
	if !e.Resume() {
		t.Fatal("resume found no session")
	}
	e.HeartRate(hr("10001", 30*time.Second, 130))
	e.End(sessions.EndRequested)
	if got := rec.ended[len(rec.ended)-1].Participants[0].Samples; got != 4 {
		t.Errorf("samples after resume = %d, want 4", got)
	}
}

func TestAssignEarlyHandoverMovesCoins(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 6 {
		e.HeartRate(hr("20001", time.Duration(i)*5*time.Second, 130)) // sam, warm
	}
	moved, err := e.Assign("20001", "alex")
	if err != nil || !moved {
		t.Fatalf("assign = %v, %v; want moved", moved, err)
	}
	e.HeartRate(hr("20001", 31*time.Second, 130))
	e.End(sessions.EndRequested)
	sum := rec.ended[0]
	if len(sum.Participants) != 1 || sum.Participants[0].ID != "alex" {
		t.Fatalf("roster = %+v, want alex alone", sum.Participants)
	}
	if got := sum.Participants[0].Coins; got != 7*2 {
		t.Errorf("alex coins = %d, want 14 (sam's 12 plus 2)", got)
	}
}

func TestAssignLateHandoverKeepsCoins(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 70 {
		e.HeartRate(hr("20001", time.Duration(i)*5*time.Second, 130))
	}
	moved, err := e.Assign("20001", "guest")
	if err != nil || moved {
		t.Fatalf("assign = %v, %v; want kept", moved, err)
	}
	e.HeartRate(hr("20001", 351*time.Second, 130))
	e.End(sessions.EndRequested)
	coins := map[string]int{}
	for _, p := range rec.ended[0].Participants {
		coins[p.ID] = p.Coins
	}
	if coins["sam"] != 70*2 || coins["guest-20001"] != 2 {
		t.Errorf("coins = %v, want sam 140 and guest-20001 2", coins)
	}
}

func TestAssignRejectsUnknownTarget(t *testing.T) {
	e, _ := newEventEngine(t, nil)
	if _, err := e.Assign("10001", "nobody"); err == nil {
		t.Error("assign to an unknown participant succeeded")
	}
	if _, err := e.Assign("never-seen", "alex"); err == nil {
		t.Error("assign of an unknown device succeeded")
	}
}

func TestEventsForStatusAndMilestones(t *testing.T) {
	e, rec := newEventEngine(t, func(c *config.Config) { c.Session.CoinMilestone = 10 })
	for i := range 12 {
		e.HeartRate(hr("10001", time.Duration(i)*5*time.Second, 150)) // hot, 3 coins
	}
	e.Advance(t0.Add(55*time.Second + 20*time.Second))
	e.Advance(t0.Add(55*time.Second + 6*time.Minute))
	for _, want := range []struct {
		typ sessions.EventType
		n   int
	}{
		{sessions.EventSessionStarted, 1},
		{sessions.EventParticipantJoined, 1},
		{sessions.EventCoinMilestone, 3}, // 36 coins: 10, 20, 30
		{sessions.EventParticipantIdle, 1},
		{sessions.EventSessionEnded, 1},
	} {
		if got := rec.count(want.typ); got != want.n {
			t.Errorf("%s events = %d, want %d", want.typ, got, want.n)
		}
	}
}

func TestCoinsInZoneSumToTotal(t *testing.T) {
	e, rec := newEventEngine(t, nil)
	for i := range 100 {
		e.HeartRate(hr("10001", time.Duration(i)*3*time.Second, float64(80+i)))
	}
	e.End(sessions.EndRequested)
	p := summaryOf(t, &rec.recorder, "alex")
	total := 0
	for _, c := range p.CoinsInZone {
		total += c
	}
	if total != p.Coins {
		t.Errorf("coins in zones sum to %d, want %d", total, p.Coins)
	}
}

func TestEquipmentHoldPerPiece(t *testing.T) {
	e, _ := newEventEngine(t, func(c *config.Config) {
		c.Equipment = append(c.Equipment, config.Equipment{ID: "step", Name: "Step",
			Topic: "zigbee2mqtt/step", Hold: 10 * time.Second})
	})
	for _, id := range []string{"bag", "step"} {
		e.Vibration(sessions.VibrationReading{EquipmentID: id, Time: t0, Event: true})
	}
	e.Advance(t0.Add(30 * time.Second))
	active := map[string]bool{}
	for _, eq := range e.Snapshot().Equipment {
		active[eq.ID] = eq.Active
	}
	if !active["bag"] || active["step"] {
		t.Errorf("active after 30 s = %v, want bag (90 s default) but not step (10 s hold)", active)
	}
}
