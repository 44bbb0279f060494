package sessions_test

import (
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

var t0 = time.Date(2026, 6, 27, 19, 59, 41, 0, time.UTC)

// recorder is a Listener that keeps everything the engine reports.
type recorder struct {
	started []sessions.Snapshot
	ticks   []sessions.Tick
	ended   []sessions.Summary
}

func (r *recorder) SessionStarted(s sessions.Snapshot) { r.started = append(r.started, s) }
func (r *recorder) TickClosed(t sessions.Tick)         { r.ticks = append(r.ticks, t) }
func (r *recorder) SessionEnded(s sessions.Summary)    { r.ended = append(r.ended, s) }

func newEngine(t *testing.T, mutate func(*config.Config)) (*sessions.Engine, *recorder) {
	t.Helper()
	cfg := config.Default()
	cfg.Participants = []config.Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001", "10002"}},
		{ID: "sam", Name: "Sam", Devices: []string{"20001"}, Zones: map[string]float64{"active": 80}},
	}
	cfg.Equipment = []config.Equipment{{ID: "bag", Name: "Bag", Topic: "zigbee2mqtt/bag"}}
	if mutate != nil {
		mutate(&cfg)
	}
	rec := &recorder{}
	return sessions.New(cfg, rec, nil), rec
}

func hr(device string, at time.Duration, bpm float64) sessions.HeartRateReading {
	return sessions.HeartRateReading{DeviceID: device, Time: t0.Add(at), BPM: bpm, Battery: -1}
}

func summaryOf(t *testing.T, rec *recorder, id string) sessions.ParticipantSummary {
	t.Helper()
	if len(rec.ended) == 0 {
		t.Fatalf("no session ended")
	}
	for _, p := range rec.ended[len(rec.ended)-1].Participants {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("participant %q not in summary", id)
	return sessions.ParticipantSummary{}
}

func TestSessionStartsAfterThreeSamples(t *testing.T) {
	e, rec := newEngine(t, nil)
	e.HeartRate(hr("10001", 1*time.Second, 110))
	e.HeartRate(hr("10001", 2*time.Second, 111))
	if e.Running() {
		t.Fatalf("session started after 2 samples")
	}
	e.HeartRate(hr("10001", 3*time.Second, 112))
	if !e.Running() {
		t.Fatalf("session not started after 3 samples")
	}
	if got := rec.started[0].StartedAt; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("start = %v, want time of first sample %v", got, t0.Add(time.Second))
	}
	if got := rec.started[0].SessionID; got != "20260627T195942Z" {
		t.Errorf("session id = %q", got)
	}
}

func TestStaleSamplesDoNotStartSession(t *testing.T) {
	e, _ := newEngine(t, nil)
	e.HeartRate(hr("10001", 0, 110))
	e.HeartRate(hr("10001", 10*time.Minute, 110))
	e.HeartRate(hr("10001", 20*time.Minute, 110))
	if e.Running() {
		t.Fatalf("samples 10 minutes apart started a session")
	}
}

func TestCoinsPayHighestSampleOfWindow(t *testing.T) {
	e, rec := newEngine(t, nil)
	// Window 0 [0,5s): 110 then 141 -> hot, 3 coins.
	e.HeartRate(hr("10001", 0, 110))
	e.HeartRate(hr("10001", 1*time.Second, 141))
	e.HeartRate(hr("10001", 2*time.Second, 99))
	// Window 1 [5s,10s): no sample -> nothing.
	// Window 2 [10s,15s): 125 at exactly 10 s belongs here -> warm, 2 coins.
	e.HeartRate(hr("10001", 10*time.Second, 125))
	// Window 3: 99 is cool -> 0 coins.
	e.HeartRate(hr("10001", 15*time.Second, 99))
	e.End(sessions.EndRequested)

	p := summaryOf(t, rec, "alex")
	if p.Coins != 5 {
		t.Errorf("coins = %d, want 5", p.Coins)
	}
	if p.Samples != 5 {
		t.Errorf("samples = %d, want 5", p.Samples)
	}
	if p.HeartRateMax != 141 || p.HeartRateMin != 99 {
		t.Errorf("max/min = %v/%v, want 141/99", p.HeartRateMax, p.HeartRateMin)
	}
	want := map[string]int{"cool": 5, "active": 0, "warm": 5, "hot": 5, "fire": 0}
	for zone, sec := range want {
		if p.SecondsInZone[zone] != sec {
			t.Errorf("seconds in %s = %d, want %d", zone, p.SecondsInZone[zone], sec)
		}
	}
	if n := len(rec.ticks); n != 4 {
		t.Fatalf("ticks = %d, want 4", n)
	}
	if rec.ticks[1].Participants[0].HeartRate != nil {
		t.Errorf("window without samples has heart rate %v", *rec.ticks[1].Participants[0].HeartRate)
	}
	if c := rec.ticks[2].Participants[0].Coins; c != 5 {
		t.Errorf("cumulative coins after window 2 = %d, want 5", c)
	}
}

func TestParticipantZoneOverride(t *testing.T) {
	e, rec := newEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("20001", time.Duration(i)*5*time.Second, 85))
	}
	e.End(sessions.EndRequested)
	// 85 bpm is active for sam (override 80) and pays 1 coin per window.
	if got := summaryOf(t, rec, "sam").Coins; got != 3 {
		t.Errorf("coins = %d, want 3", got)
	}
}

func TestStatusIdleLeftAndInactivityEnd(t *testing.T) {
	e, rec := newEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 120))
	}
	last := 2 * time.Second

	e.Advance(t0.Add(last + 14*time.Second))
	if s := e.Snapshot().Participants[0].Status; s != sessions.StatusActive {
		t.Errorf("status 14 s after last sample = %q, want active", s)
	}
	e.Advance(t0.Add(last + 15*time.Second))
	if s := e.Snapshot().Participants[0].Status; s != sessions.StatusIdle {
		t.Errorf("status 15 s after last sample = %q, want idle", s)
	}
	if !e.Running() {
		t.Fatalf("session ended before end_after")
	}
	e.Advance(t0.Add(last + 2*time.Minute))
	if e.Running() {
		t.Fatalf("session still running 2 min after the last sample")
	}
	sum := rec.ended[0]
	if sum.EndReason != sessions.EndInactivity {
		t.Errorf("end reason = %q", sum.EndReason)
	}
	if want := t0.Add(5 * time.Second); !sum.EndedAt.Equal(want) {
		t.Errorf("ended at %v, want end of last active window %v", sum.EndedAt, want)
	}
}

func TestLongGapEndsSessionBeforeNextSample(t *testing.T) {
	e, rec := newEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 120))
	}
	// A 17-minute pause, then three more samples: two sessions.
	for i := range 3 {
		e.HeartRate(hr("10001", 17*time.Minute+time.Duration(i)*time.Second, 130))
	}
	e.End(sessions.EndReplay)
	if len(rec.ended) != 2 {
		t.Fatalf("sessions ended = %d, want 2", len(rec.ended))
	}
	if got := rec.ended[0].Participants[0].Samples; got != 3 {
		t.Errorf("first session samples = %d, want 3", got)
	}
	if got := rec.ended[1].StartedAt; !got.Equal(t0.Add(17 * time.Minute)) {
		t.Errorf("second session start = %v", got)
	}
}

func TestMultiStrapUsesLowestRecentReading(t *testing.T) {
	e, rec := newEngine(t, nil)
	e.HeartRate(hr("10001", 0, 150))
	e.HeartRate(hr("10002", 1*time.Second, 125))
	e.HeartRate(hr("10001", 2*time.Second, 152))
	e.End(sessions.EndRequested)
	p := summaryOf(t, rec, "alex")
	// Every sample of window 0 is at most 125 once strap 10002 reads 125:
	// 150 (alone), then min(150,125)=125, then min(152,125)=125.
	if p.HeartRateMax != 150 {
		t.Errorf("max = %v, want 150", p.HeartRateMax)
	}
	if p.Coins != 3 {
		t.Errorf("coins = %d, want 3 (window max 150 is hot)", p.Coins)
	}
	if p.HeartRateMin != 125 {
		t.Errorf("min = %v, want 125", p.HeartRateMin)
	}
}

func TestInvalidReadingsChangeNothing(t *testing.T) {
	e, rec := newEngine(t, nil)
	for i := range 3 {
		e.HeartRate(hr("10001", time.Duration(i)*time.Second, 130))
	}
	bad := hr("10001", 3*time.Second, 0)
	bad.Invalid = "zero"
	e.HeartRate(bad)
	flood := hr("made-up", 3*time.Second, 0)
	flood.Invalid = "out_of_range"
	e.HeartRate(flood)
	e.End(sessions.EndRequested)

	p := summaryOf(t, rec, "alex")
	if p.InvalidSamples != 1 || p.Samples != 3 || p.HeartRateMin != 130 {
		t.Errorf("invalid=%d samples=%d min=%v, want 1, 3, 130",
			p.InvalidSamples, p.Samples, p.HeartRateMin)
	}
	if n := len(rec.ended[0].Participants); n != 1 {
		t.Errorf("roster size = %d, want 1 (invalid readings make no guest)", n)
	}
}

func TestGuestsAreBounded(t *testing.T) {
	e, rec := newEngine(t, func(c *config.Config) { c.Session.MaxGuests = 4 })
	for i := range 50 {
		e.HeartRate(hr(string(rune('a'+i%26))+string(rune('a'+i/26)), time.Duration(i)*time.Second, 120))
	}
	snap := e.Snapshot()
	guests := 0
	for _, p := range snap.Participants {
		if p.Guest {
			guests++
		}
	}
	if guests != 4 {
		t.Errorf("guests known = %d, want 4", guests)
	}
	if got := e.Counters().GuestsEvicted; got != 46 {
		t.Errorf("guests evicted = %d, want 46", got)
	}
	e.End(sessions.EndRequested)
	if n := len(rec.ended[0].Participants); n != 4 {
		t.Errorf("roster at end = %d, want 4", n)
	}
}

func TestEquipmentActivity(t *testing.T) {
	e, _ := newEngine(t, nil)
	vib := true
	e.Vibration(sessions.VibrationReading{EquipmentID: "bag", Time: t0, Event: true, Vibrating: &vib})
	e.Advance(t0.Add(89 * time.Second))
	if eq := e.Snapshot().Equipment[0]; !eq.Active || eq.Events != 1 {
		t.Errorf("equipment = %+v, want active with 1 event", eq)
	}
	off := false
	e.Vibration(sessions.VibrationReading{EquipmentID: "bag", Time: t0.Add(89 * time.Second), Vibrating: &off})
	if eq := e.Snapshot().Equipment[0]; eq.Active {
		t.Errorf("equipment still active after vibration=false")
	}
	e.Vibration(sessions.VibrationReading{EquipmentID: "nope", Time: t0.Add(90 * time.Second), Event: true})
	if got := e.Counters().UnknownEquipment; got != 1 {
		t.Errorf("unknown equipment count = %d", got)
	}
}

func TestResultIndependentOfAdvanceCalls(t *testing.T) {
	// The same readings with and without extra Advance calls between them
	// must give the same summary: time only moves forward.
	run := func(extra bool) sessions.Summary {
		e, rec := newEngine(t, nil)
		for i := range 200 {
			at := time.Duration(i) * 1700 * time.Millisecond
			if extra {
				e.Advance(t0.Add(at - 300*time.Millisecond))
			}
			e.HeartRate(hr("10001", at, float64(90+i%80)))
		}
		e.End(sessions.EndReplay)
		return rec.ended[0]
	}
	a, b := run(false), run(true)
	if a.Participants[0].Coins != b.Participants[0].Coins || !a.EndedAt.Equal(b.EndedAt) {
		t.Errorf("summaries differ: %+v vs %+v", a, b)
	}
}
