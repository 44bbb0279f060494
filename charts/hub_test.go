package charts

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/sessions"
)

func TestConnectSendsHelloThenSnapshots(t *testing.T) {
	zones := ZoneTable{
		Zones:        []Zone{{ID: "cool", MinBPM: 0}, {ID: "warm", MinBPM: 120, Coins: 2}},
		Participants: map[string]map[string]float64{"p1": {"warm": 105}},
	}
	feed := startFeed(t, Options{Version: "1.2.3", LiveWindowTicks: 12, QueueLen: 7, Zones: zones}, nil)
	conn := feed.dial(t)

	initial := readInitial(t, conn)
	hello := initial.hello
	if hello.V != ProtocolVersion {
		t.Errorf("hello v = %d, want %d", hello.V, ProtocolVersion)
	}
	if hello.Epoch != feed.hub.Epoch() || len(hello.Epoch) != 16 {
		t.Errorf("hello epoch = %q, want the hub's 16-digit epoch %q", hello.Epoch, feed.hub.Epoch())
	}
	if hello.ServerVersion != "1.2.3" {
		t.Errorf("hello server_version = %q, want 1.2.3", hello.ServerVersion)
	}
	if hello.IntervalMS != 5000 {
		t.Errorf("hello interval_ms = %d, want the default 5000", hello.IntervalMS)
	}
	if !slices.Equal(hello.Topics, allTopics) {
		t.Errorf("hello topics = %v, want %v", hello.Topics, allTopics)
	}
	if hello.Limits.QueueLen != 7 || hello.Limits.LiveWindowTicks != 12 {
		t.Errorf("hello limits = %+v, want queue_len 7 and live_window_ticks 12", hello.Limits)
	}
	if hello.Limits.ResumeMessages != DefaultResumeMessages {
		t.Errorf("hello resume_messages = %d, want %d", hello.Limits.ResumeMessages, DefaultResumeMessages)
	}
	if hello.Limits.MaxRangePoints != DefaultMaxRangePoints {
		t.Errorf("hello max_range_points = %d, want %d", hello.Limits.MaxRangePoints, DefaultMaxRangePoints)
	}
	if hello.Limits.MaxClientMessageBytes != MaxClientMessageBytes {
		t.Errorf("hello max_client_message_bytes = %d, want %d",
			hello.Limits.MaxClientMessageBytes, MaxClientMessageBytes)
	}
	if len(hello.Zones) != 2 || hello.Zones[1].ID != "warm" || hello.Zones[1].MinBPM != 120 {
		t.Errorf("hello zones = %s, want cool and warm from 120", describe(hello.Zones))
	}
	if got := hello.ParticipantZones["p1"]["warm"]; got != 105 {
		t.Errorf("hello participant_zones p1 warm = %v, want 105", got)
	}

	if initial.session.Seq != 0 || initial.session.Session != nil {
		t.Errorf("session snapshot seq %d session %s, want 0 and null",
			initial.session.Seq, describe(initial.session.Session))
	}
	if initial.fitness.Seq != 0 || initial.fitness.StartMS != nil || initial.fitness.SessionID != nil {
		t.Errorf("fitness snapshot = %s, want seq 0 with no session and no points",
			describe(initial.fitness))
	}
	if len(initial.fitness.Participants) != 0 || len(initial.equipment.Equipment) != 0 {
		t.Errorf("snapshots list %d participants and %d equipment, want none",
			len(initial.fitness.Participants), len(initial.equipment.Equipment))
	}
	if initial.fitness.IntervalMS != 5000 || initial.equipment.IntervalMS != 5000 {
		t.Errorf("snapshot interval_ms = %d and %d, want 5000",
			initial.fitness.IntervalMS, initial.equipment.IntervalMS)
	}
	waitFor(t, "one registered client", func() bool { return feed.hub.ClientCount() == 1 })
}

func TestTicksAdvanceEachTopicSeq(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 8}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	started, fitnessStart := readStart(t, conn)
	if started.Seq != 1 || fitnessStart.Seq != 1 {
		t.Fatalf("session start seqs = %d and %d, want 1 on each topic", started.Seq, fitnessStart.Seq)
	}
	if started.Session == nil || started.Session.ID != "s1" || !started.Session.Running {
		t.Fatalf("session_started session = %s, want s1 running", describe(started.Session))
	}
	// Nobody has a sample yet, so the roster is empty until the first tick.
	if len(fitnessStart.Participants) != 0 || fitnessStart.StartMS != nil {
		t.Errorf("fitness snapshot at the start = %s, want no participants and no points",
			describe(fitnessStart))
	}

	const ticks = 20
	for i := range ticks {
		feed.hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
	}
	for i := range ticks {
		state, fitness, equipment := readTick(t, conn)
		want := uint64(i + 2)
		if state.Seq != want || fitness.Seq != want || equipment.Seq != want {
			t.Fatalf("tick %d seqs = %d/%d/%d, want %d on each topic",
				i, state.Seq, fitness.Seq, equipment.Seq, want)
		}
		if fitness.Index != i || equipment.Index != i {
			t.Fatalf("tick %d has index %d and %d", i, fitness.Index, equipment.Index)
		}
		if fitness.StartMS != tickStartMS(i) || fitness.IntervalMS != testIntervalMS {
			t.Errorf("tick %d start_ms %d interval_ms %d, want %d and %d",
				i, fitness.StartMS, fitness.IntervalMS, tickStartMS(i), testIntervalMS)
		}
		if equipment.StartMS != tickStartMS(i) || equipment.IntervalMS != testIntervalMS {
			t.Errorf("equipment tick %d start_ms %d interval_ms %d", i, equipment.StartMS, equipment.IntervalMS)
		}
		if len(fitness.Participants) != 1 || fitness.Participants[0].HeartRate == nil {
			t.Fatalf("tick %d participants = %s, want p1 with a heart rate", i, describe(fitness.Participants))
		}
		if got := *fitness.Participants[0].HeartRate; got != 100+float64(i) {
			t.Errorf("tick %d heart_rate = %v, want %v", i, got, 100+float64(i))
		}
		if len(equipment.Equipment) != 1 || equipment.Equipment[0].Name == nil ||
			*equipment.Equipment[0].Name != "Punching bag" {
			t.Errorf("tick %d equipment = %s, want the bag with its name", i, describe(equipment.Equipment))
		}
	}
}

func TestSessionStateCarriesRosterAndTotals(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	readStart(t, conn)
	feed.hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	feed.hub.TickClosed(makeTick("s1", 1, activePoint("p1", 1), dropoutPoint("p2", 1)))
	readTick(t, conn)
	state, _, _ := readTick(t, conn)

	s := state.Session
	if s == nil || s.TickIndex == nil || *s.TickIndex != 1 {
		t.Fatalf("session_state = %s, want tick_index 1", describe(s))
	}
	if s.ElapsedMS != 2*testIntervalMS {
		t.Errorf("elapsed_ms = %d, want %d (the end of tick 1)", s.ElapsedMS, 2*testIntervalMS)
	}
	// activePoint pays index+1 coins in total, dropoutPoint index.
	if s.TotalCoins != 2+1 {
		t.Errorf("total_coins = %d, want 3", s.TotalCoins)
	}
	if len(s.Participants) != 2 || s.Participants[1].ID != "p2" || s.Participants[1].HeartRate != nil {
		t.Errorf("participants = %s, want p1 and p2 with no heart rate", describe(s.Participants))
	}
	if len(s.Equipment) != 1 || s.Equipment[0].Name == nil || *s.Equipment[0].Name != "Punching bag" {
		t.Errorf("equipment = %s, want the bag with its name", describe(s.Equipment))
	}

	feed.hub.SessionEnded(sessions.Summary{
		SessionID: "s1", StartedAt: testEpoch, EndedAt: testEpoch.Add(time.Minute),
		EndReason: sessions.EndRequested,
	})
	ended := readAs[sessionMessageView](t, conn, TypeSessionEnded+"/"+TopicSession)
	if ended.Session == nil || ended.Session.Running || ended.Session.EndReason == nil ||
		*ended.Session.EndReason != string(sessions.EndRequested) {
		t.Errorf("session_ended session = %s, want ended by request", describe(ended.Session))
	}
	if ended.Session.ElapsedMS != time.Minute.Milliseconds() {
		t.Errorf("session_ended elapsed_ms = %d, want 60000", ended.Session.ElapsedMS)
	}
}

func TestSnapshotAfterTicksHasSeriesAndNulls(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 10}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	hub.TickClosed(makeTick("s1", 1, activePoint("p1", 1), dropoutPoint("p2", 1)))
	// p3 joins at tick 2; the engine's roster order is p3, p1, p2.
	hub.TickClosed(makeTick("s1", 2, activePoint("p3", 2), activePoint("p1", 2), activePoint("p2", 2)))

	conn := feed.dial(t)
	initial := readInitial(t, conn)
	snapshot := initial.fitness

	if snapshot.Seq != 4 || initial.session.Seq != 4 || initial.equipment.Seq != 4 {
		t.Errorf("snapshot seqs %d/%d/%d, want 4 (the start and 3 ticks)",
			initial.session.Seq, snapshot.Seq, initial.equipment.Seq)
	}
	if snapshot.SessionID == nil || *snapshot.SessionID != "s1" {
		t.Fatalf("fitness snapshot session_id = %s, want s1", show(snapshot.SessionID))
	}
	if s := initial.session.Session; s == nil || s.StartedAt == nil || !s.StartedAt.Equal(testEpoch) {
		t.Errorf("session snapshot = %s, want started at %v", describe(s), testEpoch)
	}
	if snapshot.IntervalMS != testIntervalMS {
		t.Errorf("snapshot interval_ms = %d, want %d", snapshot.IntervalMS, testIntervalMS)
	}
	if snapshot.StartMS == nil || *snapshot.StartMS != tickStartMS(0) {
		t.Errorf("snapshot start_ms = %s, want %d", show(snapshot.StartMS), tickStartMS(0))
	}
	if snapshot.FirstIndex == nil || *snapshot.FirstIndex != 0 {
		t.Errorf("snapshot first_index = %s, want 0", show(snapshot.FirstIndex))
	}

	var ids []string
	for _, p := range snapshot.Participants {
		ids = append(ids, p.ID)
		if len(p.HeartRate) != 3 || len(p.Zone) != 3 || len(p.Coins) != 3 {
			t.Fatalf("%s series lengths = %d/%d/%d, want 3",
				p.ID, len(p.HeartRate), len(p.Zone), len(p.Coins))
		}
	}
	if want := []string{"p3", "p1", "p2"}; !slices.Equal(ids, want) {
		t.Fatalf("snapshot participants = %v, want the roster %v", ids, want)
	}

	p3, p1, p2 := snapshot.Participants[0], snapshot.Participants[1], snapshot.Participants[2]
	for i := range 2 {
		if p3.HeartRate[i] != nil || p3.Zone[i] != nil || p3.Coins[i] != nil {
			t.Errorf("p3 before joining, tick %d: heart_rate %s zone %s coins %s, want all null",
				i, show(p3.HeartRate[i]), show(p3.Zone[i]), show(p3.Coins[i]))
		}
	}
	if p3.HeartRate[2] == nil || *p3.HeartRate[2] != 102 {
		t.Errorf("p3 heart_rate[2] = %s, want 102", show(p3.HeartRate[2]))
	}
	for i := range 3 {
		if p1.HeartRate[i] == nil || *p1.HeartRate[i] != 100+float64(i) {
			t.Errorf("p1 heart_rate[%d] = %s, want %d", i, show(p1.HeartRate[i]), 100+i)
		}
	}
	if p2.HeartRate[1] != nil || p2.Zone[1] != nil {
		t.Errorf("p2 tick 1 heart_rate %s zone %s, want null for the dropout",
			show(p2.HeartRate[1]), show(p2.Zone[1]))
	}
	if p2.Coins[1] == nil || *p2.Coins[1] != 1 {
		t.Errorf("p2 coins[1] = %s, want 1: coins are known during a dropout", show(p2.Coins[1]))
	}
	if len(p2.Dropouts) != 1 || p2.Dropouts[0].Index != 2 || p2.Dropouts[0].Ticks != 1 {
		t.Errorf("p2 dropouts = %s, want one marker at tick 2 after 1 tick", describe(p2.Dropouts))
	}
	if p2.Status == nil || *p2.Status != string(sessions.StatusActive) {
		t.Errorf("p2 status = %s, want active, the status of the newest tick", show(p2.Status))
	}

	equipment := initial.equipment
	if len(equipment.Equipment) != 1 || equipment.Equipment[0].ID != "bag" {
		t.Fatalf("snapshot equipment = %s, want bag", describe(equipment.Equipment))
	}
	bag := equipment.Equipment[0]
	if bag.Name == nil || *bag.Name != "Punching bag" {
		t.Errorf("bag name = %s, want the name from the session start", show(bag.Name))
	}
	for i := range 3 {
		if bag.Active[i] == nil || *bag.Active[i] != (i%2 == 0) {
			t.Errorf("bag active[%d] = %s, want %v", i, show(bag.Active[i]), i%2 == 0)
		}
	}
}

func TestSnapshotAfterWindowWrapsKeepsNewestTicks(t *testing.T) {
	const window = 5
	const ticks = 23
	feed := startFeed(t, Options{LiveWindowTicks: window}, nil)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	for i := range ticks {
		feed.hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
	}

	conn := feed.dial(t)
	snapshot := readInitial(t, conn).fitness

	first := ticks - window
	if snapshot.FirstIndex == nil || *snapshot.FirstIndex != first {
		t.Errorf("first_index = %s, want %d", show(snapshot.FirstIndex), first)
	}
	if snapshot.StartMS == nil || *snapshot.StartMS != tickStartMS(first) {
		t.Errorf("start_ms = %s, want %d", show(snapshot.StartMS), tickStartMS(first))
	}
	if len(snapshot.Participants) != 1 {
		t.Fatalf("participants = %s, want p1 only", describe(snapshot.Participants))
	}
	series := snapshot.Participants[0].HeartRate
	if len(series) != window {
		t.Fatalf("heart_rate has %d points, want %d", len(series), window)
	}
	for i, bpm := range series {
		if want := 100 + float64(first+i); bpm == nil || *bpm != want {
			t.Errorf("heart_rate[%d] = %s, want %v", i, show(bpm), want)
		}
	}
}

// TestEveryPointMessageStatesIntervalAndStart decodes every message a client receives
// and checks that each one with points states interval_ms and the time of its first point.
func TestEveryPointMessageStatesIntervalAndStart(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 4}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1"))
	hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0)))

	conn := feed.dial(t)
	var received [][]byte
	for range 4 {
		received = append(received, readRaw(t, conn))
	}
	hub.TickClosed(makeTick("s1", 1, dropoutPoint("p1", 1)))
	hub.SessionEnded(sessions.Summary{SessionID: "s1", StartedAt: testEpoch, EndReason: sessions.EndRequested})
	hub.SessionStarted(startSnapshot("s2", "p1"))
	for range 3 + 1 + 3 {
		received = append(received, readRaw(t, conn))
	}

	withPoints := 0
	for _, data := range received {
		var msg map[string]any
		if err := json.Unmarshal(data, &msg); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if msg["v"] != float64(ProtocolVersion) {
			t.Errorf("%s v = %v, want %d", msg["type"], msg["v"], ProtocolVersion)
		}
		if msg["type"] != TypeHello {
			if _, ok := msg["seq"].(float64); !ok {
				t.Errorf("%s seq = %v, want a number", msg["type"], msg["seq"])
			}
		}
		if !carriesPoints(msg) {
			continue
		}
		withPoints++
		if interval, ok := msg["interval_ms"].(float64); !ok || interval != testIntervalMS {
			t.Errorf("%s/%s carries points but interval_ms = %v", msg["type"], msg["topic"], msg["interval_ms"])
		}
		if _, ok := msg["start_ms"].(float64); !ok {
			t.Errorf("%s/%s carries points but start_ms = %v", msg["type"], msg["topic"], msg["start_ms"])
		}
	}
	// The fitness and equipment snapshots of tick 0 and the points of tick 1; the
	// snapshots of session s2 have empty series.
	if withPoints != 4 {
		t.Errorf("%d messages carried points, want 4, so some checks above did not run", withPoints)
	}
}

// carriesPoints reports whether a decoded message has points: a participant's or a piece
// of equipment's value or a non-empty series.
func carriesPoints(msg map[string]any) bool {
	for _, list := range []string{"participants", "equipment"} {
		if msg["topic"] == TopicSession {
			continue
		}
		items, _ := msg[list].([]any)
		for _, item := range items {
			entry, _ := item.(map[string]any)
			for _, key := range []string{"heart_rate", "active"} {
				value, present := entry[key]
				if !present {
					continue
				}
				series, isSeries := value.([]any)
				if !isSeries || len(series) > 0 {
					return true
				}
			}
		}
	}
	return false
}

func TestParticipantListIsEngineRoster(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 6}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0), activePoint("p2", 0)))
	// p2 leaves the roster.
	hub.TickClosed(makeTick("s1", 1, activePoint("p1", 1)))

	conn := feed.dial(t)
	initial := readInitial(t, conn)
	var ids []string
	for _, p := range initial.fitness.Participants {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("fitness snapshot participants = %v, want the newest roster [p1]", ids)
	}
	ids = nil
	for _, p := range initial.session.Session.Participants {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("session snapshot participants = %v, want the newest roster [p1]", ids)
	}
	if got := hub.Stats().ParticipantSeries; got != 2 {
		t.Errorf("participant series during the session = %d, want 2 (p2 still has points)", got)
	}

	hub.SessionEnded(sessions.Summary{SessionID: "s1", EndReason: sessions.EndInactivity})
	if got := hub.Stats().ParticipantSeries; got != 1 {
		t.Errorf("participant series after the end = %d, want 1 (p2 freed)", got)
	}
	readAs[sessionMessageView](t, conn, TypeSessionEnded+"/"+TopicSession)

	late := readInitial(t, feed.dial(t))
	if s := late.session.Session; s == nil || s.Running {
		t.Errorf("session snapshot after the end = %s, want s1 not running", describe(s))
	}
	for _, p := range late.fitness.Participants {
		if p.ID != "p1" {
			t.Errorf("fitness snapshot after the end lists %q, want only p1", p.ID)
		}
	}
}

func TestSessionEndedCarriesSummary(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	summary := sessions.Summary{
		SessionID:      "s1",
		StartedAt:      testEpoch,
		EndedAt:        testEpoch.Add(10 * time.Minute),
		EndReason:      sessions.EndInactivity,
		CoinIntervalMS: testIntervalMS,
		Participants: []sessions.ParticipantSummary{
			{ID: "p1", Name: "Name p1", Coins: 42, SecondsInZone: map[string]int{"warm": 300}},
		},
	}
	feed.hub.SessionEnded(summary)

	readStart(t, conn)
	ended := readAs[sessionMessageView](t, conn, TypeSessionEnded+"/"+TopicSession)
	if ended.Session == nil || ended.Session.ID != "s1" || ended.Session.Running {
		t.Errorf("session_ended session = %s, want s1 not running", describe(ended.Session))
	}
	if ended.Summary.EndReason != sessions.EndInactivity {
		t.Errorf("summary end_reason = %q, want %q", ended.Summary.EndReason, sessions.EndInactivity)
	}
	if len(ended.Summary.Participants) != 1 || ended.Summary.Participants[0].Coins != 42 {
		t.Errorf("summary participants = %s, want p1 with 42 coins", describe(ended.Summary.Participants))
	}
}

func TestTickOfUnknownSessionStartsIt(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.TickClosed(makeTick("s9", 7, activePoint("p1", 7)))
	started, fitness := readStart(t, conn)
	if started.Session == nil || started.Session.ID != "s9" || started.Session.StartedAt != nil {
		t.Errorf("session_started session = %s, want s9 with started_at null", describe(started.Session))
	}
	if len(fitness.Participants) != 1 || fitness.Participants[0].ID != "p1" {
		t.Errorf("fitness snapshot participants = %s, want the tick roster", describe(fitness.Participants))
	}
	_, points, _ := readTick(t, conn)
	if points.Index != 7 || points.Seq != 2 {
		t.Errorf("points index %d seq %d, want index 7 seq 2", points.Index, points.Seq)
	}
}

func TestInvalidTicksAreDropped(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1"))
	hub.TickClosed(makeTick("s1", 3, activePoint("p1", 3)))
	before := hub.Stats().Seq

	hub.TickClosed(makeTick("s1", 3, activePoint("p1", 3)))
	hub.TickClosed(makeTick("s1", 2, activePoint("p1", 2)))
	if got := hub.Stats().Seq; !equalSeqs(got, before) {
		t.Errorf("seqs after repeated and older ticks = %v, want %v (nothing broadcast)", got, before)
	}

	hub.SessionEnded(sessions.Summary{SessionID: "s1"})
	afterEnd := hub.Stats().Seq
	hub.TickClosed(makeTick("s1", 4, activePoint("p1", 4)))
	if got := hub.Stats().Seq; !equalSeqs(got, afterEnd) {
		t.Errorf("seqs after a tick of the ended session = %v, want %v", got, afterEnd)
	}
}

func equalSeqs(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNonFiniteHeartRateIsNull(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	point := activePoint("p1", 0)
	point.HeartRate = heartRate(math.NaN())
	feed.hub.TickClosed(makeTick("s1", 0, point))

	readStart(t, conn)
	_, points, _ := readTick(t, conn)
	if len(points.Participants) != 1 {
		t.Fatalf("points participants = %s, want p1", describe(points.Participants))
	}
	if points.Participants[0].HeartRate != nil || points.Participants[0].Zone != nil {
		t.Errorf("heart_rate %s zone %s, want null for NaN",
			show(points.Participants[0].HeartRate), show(points.Participants[0].Zone))
	}
}

func TestTopicsQuerySelectsTopics(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dialQuery(t, websocket.DefaultDialer, "topics=fitness")
	hello := readAs[helloView](t, conn, TypeHello)
	if !slices.Equal(hello.Topics, []string{TopicFitness}) {
		t.Errorf("hello topics = %v, want [fitness]", hello.Topics)
	}
	readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	feed.hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0)))
	readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)
	points := readAs[fitnessPointsView](t, conn, TypePoints+"/"+TopicFitness)
	if points.Seq != 2 {
		t.Errorf("points seq = %d, want 2", points.Seq)
	}
}

func TestInvalidQueryIsRejected(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	for _, query := range []string{
		"topics=weather",
		"topics=,",
		"last_seq=fitness:3",
		"epoch=x&last_seq=fitness",
		"epoch=x&last_seq=fitness:-1",
		"topics=session&epoch=x&last_seq=fitness:3",
	} {
		_, resp, err := websocket.DefaultDialer.Dial(feed.wsURL+"?"+query, nil)
		if !errors.Is(err, websocket.ErrBadHandshake) {
			t.Errorf("dial ?%s: error %v, want %v", query, err, websocket.ErrBadHandshake)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("dial ?%s: status %d, want 400", query, resp.StatusCode)
		}
	}
}

func TestIntervalChangeSendsNewSnapshot(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	feed.hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0)))
	readStart(t, conn)
	readTick(t, conn)

	tick := makeTick("s1", 1, activePoint("p1", 1))
	tick.IntervalMS = 1000
	feed.hub.TickClosed(tick)
	fitness := readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)
	if fitness.IntervalMS != 1000 || fitness.StartMS != nil {
		t.Errorf("snapshot after the interval change = %s, want interval 1000 and no points",
			describe(fitness))
	}
	readAs[equipmentSnapshotView](t, conn, TypeSnapshot+"/"+TopicEquipment)
	state, points, _ := readTick(t, conn)
	if points.IntervalMS != 1000 || state.Session.IntervalMS != 1000 {
		t.Errorf("points interval_ms %d, session interval_ms %d, want 1000",
			points.IntervalMS, state.Session.IntervalMS)
	}
}

func TestSlowClientIsDroppedOthersContinue(t *testing.T) {
	connected := &countingGauge{}
	sent := &countingCounter{}
	dropped := &countingCounter{}
	highWater := &valueGauge{}
	opts := Options{
		LiveWindowTicks: 4,
		QueueLen:        2,
		Metrics: Metrics{
			ClientsConnected: connected,
			MessagesSent:     sent,
			ClientsDropped:   dropped,
			QueueHighWater:   highWater,
		},
	}
	// Small socket buffers make a client that stops reading block the server's writes
	// after a few ticks instead of after megabytes.
	feed := startFeed(t, opts, smallWriteBuffers)
	hub := feed.hub

	slow := feed.dialQuery(t, &websocket.Dialer{NetDialContext: dialSmallReadBuffer}, "topics=fitness")
	readAs[helloView](t, slow, TypeHello)
	readAs[fitnessSnapshotView](t, slow, TypeSnapshot+"/"+TopicFitness)
	normal := feed.dialQuery(t, websocket.DefaultDialer, "topics=fitness")
	readAs[helloView](t, normal, TypeHello)
	readAs[fitnessSnapshotView](t, normal, TypeSnapshot+"/"+TopicFitness)
	waitFor(t, "two registered clients", func() bool { return hub.ClientCount() == 2 })

	// About 200 bytes per participant, so each tick is about 12 KB.
	people := make([]string, 60)
	for i := range people {
		people[i] = fmt.Sprintf("participant-%02d-%s", i, strings.Repeat("x", 60))
	}
	bigTick := func(index int) sessions.Tick {
		points := make([]sessions.TickPoint, len(people))
		for i, id := range people {
			points[i] = activePoint(id, index)
		}
		return makeTick("s1", index, points...)
	}

	hub.SessionStarted(startSnapshot("s1"))
	started := readAs[fitnessSnapshotView](t, normal, TypeSnapshot+"/"+TopicFitness)
	lastSeq := started.Seq

	// The slow client reads nothing from here on. Each tick waits until the normal
	// client has it, so only the slow client's queue can fill.
	const maxTicks = 3000
	index := 0
	for ; index < maxTicks && hub.Stats().ClientsDropped == 0; index++ {
		hub.TickClosed(bigTick(index))
		tick := readAs[fitnessPointsView](t, normal, TypePoints+"/"+TopicFitness)
		if tick.Seq != lastSeq+1 || tick.Index != index {
			t.Fatalf("normal client got seq %d index %d, want seq %d index %d",
				tick.Seq, tick.Index, lastSeq+1, index)
		}
		lastSeq = tick.Seq
	}
	if got := hub.Stats().ClientsDropped; got != 1 {
		t.Fatalf("clients dropped after %d ticks = %d, want 1", index, got)
	}
	t.Logf("slow client dropped after %d ticks", index)
	if got := dropped.value.Load(); got != 1 {
		t.Errorf("ClientsDropped metric = %d, want 1", got)
	}
	if got := hub.ClientCount(); got != 1 {
		t.Errorf("client count = %d, want 1 after the drop", got)
	}
	if got := connected.value.Load(); got != 1 {
		t.Errorf("ClientsConnected metric = %d, want 1", got)
	}
	// The drop happened at a full queue, and no queue holds more.
	if got := hub.Stats().QueueHighWater; got != 2 {
		t.Errorf("queue high-water mark = %d, want the queue length 2", got)
	}
	if got := highWater.value(); got != 2 {
		t.Errorf("QueueHighWater metric = %v, want 2", got)
	}

	for range 3 {
		hub.TickClosed(bigTick(index))
		tick := readAs[fitnessPointsView](t, normal, TypePoints+"/"+TopicFitness)
		if tick.Seq != lastSeq+1 || tick.Index != index {
			t.Fatalf("after the drop, normal client got seq %d index %d, want seq %d index %d",
				tick.Seq, tick.Index, lastSeq+1, index)
		}
		lastSeq = tick.Seq
		index++
	}
	if sent.value.Load() == 0 {
		t.Errorf("MessagesSent metric = 0, want every written message counted")
	}

	// Once the slow client reads again, the blocked write completes and the close
	// frame follows the messages that were already on their way.
	closeErr := readCloseError(t, slow, maxTicks+4)
	if closeErr.Code != websocket.CloseTryAgainLater {
		t.Errorf("slow client close code = %d, want %d", closeErr.Code, websocket.CloseTryAgainLater)
	}
	if closeErr.Text != "slow consumer" {
		t.Errorf("slow client close reason = %q, want %q", closeErr.Text, "slow consumer")
	}
}

func TestCloseSendsGoingAway(t *testing.T) {
	connected := &countingGauge{}
	feed := startFeed(t, Options{Metrics: Metrics{ClientsConnected: connected}}, nil)
	conns := []*websocket.Conn{feed.dial(t), feed.dial(t)}
	for _, conn := range conns {
		readInitial(t, conn)
	}
	waitFor(t, "two registered clients", func() bool { return feed.hub.ClientCount() == 2 })

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		feed.hub.Close()
	}()
	for i, conn := range conns {
		closeErr := readCloseError(t, conn, 0)
		if closeErr.Code != websocket.CloseGoingAway {
			t.Errorf("client %d close code = %d, want %d", i, closeErr.Code, websocket.CloseGoingAway)
		}
	}
	<-closed

	if got := feed.hub.ClientCount(); got != 0 {
		t.Errorf("client count after Close = %d, want 0", got)
	}
	if got := connected.value.Load(); got != 0 {
		t.Errorf("ClientsConnected metric after Close = %d, want 0", got)
	}
	_, resp, err := websocket.DefaultDialer.Dial(feed.wsURL, nil)
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("dial after Close: error %v, want %v", err, websocket.ErrBadHandshake)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: status %d, want %d", resp.StatusCode, http.StatusServiceUnavailable)
	}
	// Listener calls after Close must not panic or broadcast.
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	if got := feed.hub.Stats().Seq[TopicSession]; got != 0 {
		t.Errorf("session seq after a session start on a closed hub = %d, want 0", got)
	}
}

func TestCloseCutsClientThatStoppedReading(t *testing.T) {
	// A write timeout of an hour would keep Close waiting for that long if it waited for
	// the blocked write.
	opts := Options{QueueLen: 1000, WriteTimeout: time.Hour, CloseTimeout: 100 * time.Millisecond}
	feed := startFeed(t, opts, smallWriteBuffers)
	hub := feed.hub
	stuck := feed.dialQuery(t, &websocket.Dialer{NetDialContext: dialSmallReadBuffer}, "topics=fitness")
	readAs[helloView](t, stuck, TypeHello)
	readAs[fitnessSnapshotView](t, stuck, TypeSnapshot+"/"+TopicFitness)
	waitFor(t, "one registered client", func() bool { return hub.ClientCount() == 1 })

	// About 12 KB per tick, so 200 ticks are far more than the socket buffers hold.
	people := make([]string, 60)
	for i := range people {
		people[i] = fmt.Sprintf("participant-%02d-%s", i, strings.Repeat("x", 60))
	}
	hub.SessionStarted(startSnapshot("s1"))
	for index := range 200 {
		points := make([]sessions.TickPoint, len(people))
		for i, id := range people {
			points[i] = activePoint(id, index)
		}
		hub.TickClosed(makeTick("s1", index, points...))
	}
	// The writer is blocked once the count of written messages stops moving.
	sent := hub.Stats().MessagesSent
	for settled := 0; settled < 5; {
		time.Sleep(20 * time.Millisecond)
		now := hub.Stats().MessagesSent
		if now == sent {
			settled++
		} else {
			settled, sent = 0, now
		}
	}
	if sent >= 200 {
		t.Fatalf("the client took all %d messages; the test needs a blocked writer", sent)
	}

	closed := make(chan struct{})
	began := time.Now()
	go func() {
		defer close(closed)
		hub.Close()
	}()
	select {
	case <-closed:
		t.Logf("Close returned after %v", time.Since(began))
	case <-time.After(readTimeout):
		t.Error("Close still waits for a client that stopped reading")
		// Closing the client's end fails the server's write, so Close can return.
		stuck.Close()
		<-closed
	}
	if got := hub.ClientCount(); got != 0 {
		t.Errorf("client count after Close = %d, want 0", got)
	}
}

func TestOversizedClientFrameClosesConnection(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	frame := strings.Repeat("x", MaxClientMessageBytes+1)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("write oversized frame: %v", err)
	}
	closeErr := readCloseError(t, conn, 0)
	if closeErr.Code != websocket.CloseMessageTooBig {
		t.Errorf("close code = %d, want %d", closeErr.Code, websocket.CloseMessageTooBig)
	}
	waitFor(t, "the client to be removed", func() bool { return feed.hub.ClientCount() == 0 })
}

func TestClientCloseUnregisters(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)
	waitFor(t, "one registered client", func() bool { return feed.hub.ClientCount() == 1 })

	message := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := conn.WriteMessage(websocket.CloseMessage, message); err != nil {
		t.Fatalf("write close frame: %v", err)
	}
	waitFor(t, "the client to be removed", func() bool { return feed.hub.ClientCount() == 0 })
}

func TestSessionStartListsOnlyTheRoster(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	// The engine's snapshot lists every known participant; p2 is not on the roster, so
	// it has no status, and its coins are those of an earlier session.
	start := startSnapshot("s1", "p1", "p2")
	start.Participants[0].Status = sessions.StatusActive
	start.Participants[1].Coins = 99
	feed.hub.SessionStarted(start)
	started, fitness := readStart(t, conn)
	if len(started.Session.Participants) != 1 || started.Session.Participants[0].ID != "p1" {
		t.Errorf("session_started participants = %s, want the roster [p1]",
			describe(started.Session.Participants))
	}
	if started.Session.TotalCoins != 0 {
		t.Errorf("session_started total_coins = %d, want 0", started.Session.TotalCoins)
	}
	if len(fitness.Participants) != 1 || fitness.Participants[0].ID != "p1" {
		t.Errorf("fitness snapshot participants = %s, want the roster [p1]", describe(fitness.Participants))
	}
}

func TestResumedSessionKeepsWindow(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	broadcastTicks(feed, 0, 3)
	feed.hub.SessionEnded(sessions.Summary{SessionID: "s1", EndReason: sessions.EndInactivity})
	conn := feed.dial(t)
	readInitial(t, conn)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	started := readAs[sessionMessageView](t, conn, TypeSessionStarted+"/"+TopicSession)
	if started.Session == nil || !started.Session.Running || started.Session.EndReason != nil {
		t.Errorf("session_started after the resume = %s, want s1 running again", describe(started.Session))
	}
	broadcastTicks(feed, 3, 4)
	_, points, _ := readTick(t, conn)
	if points.Index != 3 {
		t.Errorf("points index = %d, want 3 without a fitness snapshot before it", points.Index)
	}
	if got := feed.hub.Stats().WindowTicks; got != 4 {
		t.Errorf("window holds %d ticks, want the 4 of the resumed session", got)
	}
}
