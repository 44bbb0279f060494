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

func TestConnectSendsHelloThenSnapshot(t *testing.T) {
	feed := startFeed(t, Options{Version: "1.2.3", LiveWindowTicks: 12, QueueLen: 7}, nil)
	conn := feed.dial(t)

	hello := readAs[helloView](t, conn, TypeHello)
	if hello.V != ProtocolVersion {
		t.Errorf("hello v = %d, want %d", hello.V, ProtocolVersion)
	}
	if hello.Seq != 0 {
		t.Errorf("hello seq = %d, want 0 before any broadcast", hello.Seq)
	}
	if hello.ServerVersion != "1.2.3" {
		t.Errorf("hello server_version = %q, want 1.2.3", hello.ServerVersion)
	}
	if hello.IntervalMS != 5000 {
		t.Errorf("hello interval_ms = %d, want the default 5000", hello.IntervalMS)
	}
	if hello.Limits.QueueLen != 7 {
		t.Errorf("hello limits.queue_len = %d, want 7", hello.Limits.QueueLen)
	}
	if hello.Limits.LiveWindowTicks != 12 {
		t.Errorf("hello limits.live_window_ticks = %d, want 12", hello.Limits.LiveWindowTicks)
	}
	if hello.Limits.MaxClientMessageBytes != MaxClientMessageBytes {
		t.Errorf("hello limits.max_client_message_bytes = %d, want %d",
			hello.Limits.MaxClientMessageBytes, MaxClientMessageBytes)
	}

	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)
	if snapshot.Session != nil {
		t.Errorf("snapshot session = %+v, want null with no session", snapshot.Session)
	}
	if snapshot.Seq != hello.Seq {
		t.Errorf("snapshot seq = %d, want hello seq %d", snapshot.Seq, hello.Seq)
	}
	if snapshot.StartMS != nil {
		t.Errorf("snapshot start_ms = %d, want null with no points", *snapshot.StartMS)
	}
	if len(snapshot.Participants) != 0 || len(snapshot.Equipment) != 0 {
		t.Errorf("snapshot lists %d participants and %d equipment, want none",
			len(snapshot.Participants), len(snapshot.Equipment))
	}
	waitFor(t, "one registered client", func() bool { return feed.hub.ClientCount() == 1 })
}

func TestTicksArriveInOrderWithIncreasingSeq(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 8}, nil)
	conn := feed.dial(t)
	readAs[helloView](t, conn, TypeHello)
	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	started := readAs[sessionStartedView](t, conn, TypeSessionStarted)
	if started.Seq != snapshot.Seq+1 {
		t.Fatalf("session_started seq = %d, want %d", started.Seq, snapshot.Seq+1)
	}
	if started.Session.ID != "s1" || !started.Session.Running {
		t.Errorf("session_started session = %+v, want s1 running", started.Session)
	}

	const ticks = 20
	for i := range ticks {
		feed.hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
	}
	lastSeq := started.Seq
	for i := range ticks {
		tick := readAs[tickView](t, conn, TypeTick)
		if tick.Seq != lastSeq+1 {
			t.Fatalf("tick %d seq = %d, want %d", i, tick.Seq, lastSeq+1)
		}
		lastSeq = tick.Seq
		if tick.Index != i {
			t.Fatalf("tick %d has index %d", i, tick.Index)
		}
		if tick.StartMS != tickStartMS(i) {
			t.Errorf("tick %d start_ms = %d, want %d", i, tick.StartMS, tickStartMS(i))
		}
		if len(tick.Participants) != 1 || tick.Participants[0].HeartRate == nil {
			t.Fatalf("tick %d participants = %s, want p1 with a heart rate", i, describe(tick.Participants))
		}
		if got := *tick.Participants[0].HeartRate; got != 100+float64(i) {
			t.Errorf("tick %d heart_rate = %v, want %v", i, got, 100+float64(i))
		}
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
	hello := readAs[helloView](t, conn, TypeHello)
	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)

	if hello.Seq != 4 || snapshot.Seq != 4 {
		t.Errorf("hello seq %d, snapshot seq %d, want 4 (session_started and 3 ticks)",
			hello.Seq, snapshot.Seq)
	}
	if snapshot.Session == nil || snapshot.Session.ID != "s1" || !snapshot.Session.Running {
		t.Fatalf("snapshot session = %s, want s1 running", describe(snapshot.Session))
	}
	if snapshot.Session.StartedAt == nil || !snapshot.Session.StartedAt.Equal(testEpoch) {
		t.Errorf("snapshot session started_at = %v, want %v", show(snapshot.Session.StartedAt), testEpoch)
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
	if p2.HeartRate[1] != nil {
		t.Errorf("p2 heart_rate[1] = %v, want null for the dropout window", *p2.HeartRate[1])
	}
	if p2.Zone[1] != nil {
		t.Errorf("p2 zone[1] = %v, want null for the dropout window", *p2.Zone[1])
	}
	if p2.Coins[1] == nil || *p2.Coins[1] != 1 {
		t.Errorf("p2 coins[1] = %s, want 1: coins are known during a dropout", show(p2.Coins[1]))
	}
	if p2.Status == nil || *p2.Status != string(sessions.StatusActive) {
		t.Errorf("p2 status = %s, want active, the status of the newest tick", show(p2.Status))
	}

	if len(snapshot.Equipment) != 1 || snapshot.Equipment[0].ID != "bag" {
		t.Fatalf("snapshot equipment = %s, want bag", describe(snapshot.Equipment))
	}
	bag := snapshot.Equipment[0]
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
	readAs[helloView](t, conn, TypeHello)
	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)

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

func TestEveryMessageCarriesIntervalWithPoints(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 4}, nil)
	hub := feed.hub
	hub.SessionStarted(startSnapshot("s1", "p1"))
	hub.TickClosed(makeTick("s1", 0, activePoint("p1", 0)))

	conn := feed.dial(t)
	// The hub registers a client before it sends hello, so reading hello and snapshot
	// first makes sure the client receives the broadcasts below.
	received := [][]byte{readRaw(t, conn), readRaw(t, conn)}
	hub.TickClosed(makeTick("s1", 1, dropoutPoint("p1", 1)))
	hub.SessionEnded(sessions.Summary{
		SessionID: "s1",
		StartedAt: testEpoch,
		EndReason: sessions.EndRequested,
	})
	hub.SessionStarted(startSnapshot("s2", "p1"))
	for range 3 {
		received = append(received, readRaw(t, conn))
	}

	wantTypes := []string{TypeHello, TypeSnapshot, TypeTick, TypeSessionEnded, TypeSessionStarted}
	for i, wantType := range wantTypes {
		var msg map[string]any
		data := received[i]
		if err := json.Unmarshal(data, &msg); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if msg["type"] != wantType {
			t.Fatalf("message type = %v, want %s", msg["type"], wantType)
		}
		if msg["v"] != float64(ProtocolVersion) {
			t.Errorf("%s v = %v, want %d", wantType, msg["v"], ProtocolVersion)
		}
		if _, ok := msg["seq"].(float64); !ok {
			t.Errorf("%s seq = %v, want a number", wantType, msg["seq"])
		}
		if wantType != TypeSessionEnded {
			if interval, ok := msg["interval_ms"].(float64); !ok || interval != testIntervalMS {
				t.Errorf("%s interval_ms = %v, want %d", wantType, msg["interval_ms"], testIntervalMS)
			}
		}
		if carriesPoints(msg) {
			if _, ok := msg["interval_ms"].(float64); !ok {
				t.Errorf("%s carries points but interval_ms = %v", wantType, msg["interval_ms"])
			}
			if _, ok := msg["start_ms"].(float64); !ok {
				t.Errorf("%s carries points but start_ms = %v", wantType, msg["start_ms"])
			}
		}
		if wantType == TypeSnapshot || wantType == TypeTick {
			if !carriesPoints(msg) {
				t.Errorf("%s carries no points, so the check above did not run: %s", wantType, data)
			}
		}
	}
}

// carriesPoints reports whether a decoded message has heart-rate points: a tick
// participant's heart_rate value (a number or null) or a non-empty snapshot series.
func carriesPoints(msg map[string]any) bool {
	people, _ := msg["participants"].([]any)
	for _, p := range people {
		entry, _ := p.(map[string]any)
		value, present := entry["heart_rate"]
		if !present {
			continue
		}
		series, isSeries := value.([]any)
		if !isSeries || len(series) > 0 {
			return true
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
	readAs[helloView](t, conn, TypeHello)
	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)
	var ids []string
	for _, p := range snapshot.Participants {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("snapshot participants = %v, want the newest roster [p1]", ids)
	}
	if got := hub.Stats().ParticipantSeries; got != 2 {
		t.Errorf("participant series during the session = %d, want 2 (p2 still has points)", got)
	}

	hub.SessionEnded(sessions.Summary{SessionID: "s1", EndReason: sessions.EndInactivity})
	if got := hub.Stats().ParticipantSeries; got != 1 {
		t.Errorf("participant series after the end = %d, want 1 (p2 freed)", got)
	}

	readAs[sessionEndedView](t, conn, TypeSessionEnded)
	late := feed.dial(t)
	readAs[helloView](t, late, TypeHello)
	ended := readAs[snapshotView](t, late, TypeSnapshot)
	if ended.Session == nil || ended.Session.Running {
		t.Errorf("snapshot after end: session = %s, want s1 not running", describe(ended.Session))
	}
	for _, p := range ended.Participants {
		if strings.HasPrefix(p.ID, "global") || p.ID != "p1" {
			t.Errorf("snapshot after end lists %q, want only p1", p.ID)
		}
	}
}

func TestSessionEndedCarriesSummary(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readAs[helloView](t, conn, TypeHello)
	readAs[snapshotView](t, conn, TypeSnapshot)

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

	readAs[sessionStartedView](t, conn, TypeSessionStarted)
	ended := readAs[sessionEndedView](t, conn, TypeSessionEnded)
	if ended.Session.ID != "s1" || ended.Session.Running {
		t.Errorf("session_ended session = %+v, want s1 not running", ended.Session)
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
	readAs[helloView](t, conn, TypeHello)
	snapshot := readAs[snapshotView](t, conn, TypeSnapshot)

	feed.hub.TickClosed(makeTick("s9", 7, activePoint("p1", 7)))
	started := readAs[sessionStartedView](t, conn, TypeSessionStarted)
	if started.Session.ID != "s9" || started.Session.StartedAt != nil {
		t.Errorf("session_started session = %s, want s9 with started_at null", describe(started.Session))
	}
	if len(started.Participants) != 1 || started.Participants[0].ID != "p1" {
		t.Errorf("session_started participants = %s, want the tick roster",
			describe(started.Participants))
	}
	tick := readAs[tickView](t, conn, TypeTick)
	if tick.Index != 7 || tick.Seq != snapshot.Seq+2 {
		t.Errorf("tick index %d seq %d, want index 7 seq %d", tick.Index, tick.Seq, snapshot.Seq+2)
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
	if got := hub.Stats().Seq; got != before {
		t.Errorf("seq after repeated and older ticks = %d, want %d (nothing broadcast)", got, before)
	}

	hub.SessionEnded(sessions.Summary{SessionID: "s1"})
	afterEnd := hub.Stats().Seq
	hub.TickClosed(makeTick("s1", 4, activePoint("p1", 4)))
	if got := hub.Stats().Seq; got != afterEnd {
		t.Errorf("seq after a tick of the ended session = %d, want %d", got, afterEnd)
	}
}

func TestNonFiniteHeartRateIsNull(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readAs[helloView](t, conn, TypeHello)
	readAs[snapshotView](t, conn, TypeSnapshot)

	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	point := activePoint("p1", 0)
	point.HeartRate = heartRate(math.NaN())
	feed.hub.TickClosed(makeTick("s1", 0, point))

	readAs[sessionStartedView](t, conn, TypeSessionStarted)
	tick := readAs[tickView](t, conn, TypeTick)
	if len(tick.Participants) != 1 {
		t.Fatalf("tick participants = %s, want p1", describe(tick.Participants))
	}
	if tick.Participants[0].HeartRate != nil {
		t.Errorf("heart_rate = %v, want null for NaN", *tick.Participants[0].HeartRate)
	}
}

func TestSlowClientIsDroppedOthersContinue(t *testing.T) {
	connected := &countingGauge{}
	sent := &countingCounter{}
	dropped := &countingCounter{}
	opts := Options{
		LiveWindowTicks: 4,
		QueueLen:        2,
		Metrics: Metrics{
			ClientsConnected: connected,
			MessagesSent:     sent,
			ClientsDropped:   dropped,
		},
	}
	// Small socket buffers make a client that stops reading block the server's writes
	// after a few ticks instead of after megabytes.
	feed := startFeed(t, opts, smallWriteBuffers)
	hub := feed.hub

	slow := feed.dialWith(t, &websocket.Dialer{NetDialContext: dialSmallReadBuffer})
	readAs[helloView](t, slow, TypeHello)
	readAs[snapshotView](t, slow, TypeSnapshot)
	normal := feed.dial(t)
	readAs[helloView](t, normal, TypeHello)
	readAs[snapshotView](t, normal, TypeSnapshot)
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
	started := readAs[sessionStartedView](t, normal, TypeSessionStarted)
	lastSeq := started.Seq

	// The slow client reads nothing from here on. Each tick waits until the normal
	// client has it, so only the slow client's queue can fill.
	const maxTicks = 3000
	index := 0
	for ; index < maxTicks && hub.Stats().ClientsDropped == 0; index++ {
		hub.TickClosed(bigTick(index))
		tick := readAs[tickView](t, normal, TypeTick)
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

	for range 3 {
		hub.TickClosed(bigTick(index))
		tick := readAs[tickView](t, normal, TypeTick)
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
		readAs[helloView](t, conn, TypeHello)
		readAs[snapshotView](t, conn, TypeSnapshot)
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
	if got := feed.hub.Stats().Seq; got != 0 {
		t.Errorf("seq after a session start on a closed hub = %d, want 0", got)
	}
}

func TestOversizedClientFrameClosesConnection(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readAs[helloView](t, conn, TypeHello)
	readAs[snapshotView](t, conn, TypeSnapshot)

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
	readAs[helloView](t, conn, TypeHello)
	readAs[snapshotView](t, conn, TypeSnapshot)
	waitFor(t, "one registered client", func() bool { return feed.hub.ClientCount() == 1 })

	message := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := conn.WriteMessage(websocket.CloseMessage, message); err != nil {
		t.Fatalf("write close frame: %v", err)
	}
	waitFor(t, "the client to be removed", func() bool { return feed.hub.ClientCount() == 0 })
}
