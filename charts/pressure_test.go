package charts

import (
	"math"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// valueGauge is a settable gauge for tests.
type valueGauge struct{ bits atomic.Uint64 }

func (g *valueGauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

func (g *valueGauge) value() float64 { return math.Float64frombits(g.bits.Load()) }

func TestPressureRejectsNewClients(t *testing.T) {
	rejected := &countingCounter{}
	feed := startFeed(t, Options{Metrics: Metrics{ClientsRejected: rejected}}, nil)
	hub := feed.hub
	earlier := feed.dial(t)
	readInitial(t, earlier)
	waitFor(t, "one registered client", func() bool { return hub.ClientCount() == 1 })

	hub.SetMemoryPressure(true)
	for attempt := range 2 {
		conn := feed.dial(t)
		closeErr := readCloseError(t, conn, 0)
		if closeErr.Code != websocket.CloseTryAgainLater {
			t.Errorf("attempt %d: close code = %d, want %d",
				attempt, closeErr.Code, websocket.CloseTryAgainLater)
		}
		if closeErr.Text != "memory pressure" {
			t.Errorf("attempt %d: close reason = %q, want %q", attempt, closeErr.Text, "memory pressure")
		}
	}
	if got := rejected.value.Load(); got != 2 {
		t.Errorf("ClientsRejected metric = %d, want 2", got)
	}
	stats := hub.Stats()
	if stats.ClientsRejected != 2 {
		t.Errorf("Stats().ClientsRejected = %d, want 2", stats.ClientsRejected)
	}
	if !stats.MemoryPressure {
		t.Errorf("Stats().MemoryPressure = false under pressure")
	}
	if stats.Clients != 1 {
		t.Errorf("clients under pressure = %d, want the 1 connected before", stats.Clients)
	}

	// The client connected before the pressure keeps its feed.
	hub.SessionStarted(startSnapshot("s1", "p1"))
	readStart(t, earlier)

	hub.SetMemoryPressure(false)
	later := feed.dial(t)
	initial := readInitial(t, later)
	if initial.session.Session == nil || initial.session.Session.ID != "s1" {
		t.Errorf("session snapshot after the pressure = %s, want s1", describe(initial.session.Session))
	}
	waitFor(t, "two registered clients", func() bool { return hub.ClientCount() == 2 })
	if got := hub.Stats().ClientsRejected; got != 2 {
		t.Errorf("Stats().ClientsRejected after the pressure = %d, want still 2", got)
	}
}

func TestPressureShortensLiveWindow(t *testing.T) {
	points := &valueGauge{}
	feed := startFeed(t, Options{LiveWindowTicks: 8, Metrics: Metrics{SeriesPoints: points}}, nil)
	hub := feed.hub
	conn := feed.dial(t)
	readInitial(t, conn)
	hub.SessionStarted(startSnapshot("s1", "p1"))
	readStart(t, conn)
	for i := range 8 {
		hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
		readTick(t, conn)
		// Two series, p1 and the bag, with a point per stored tick.
		if got, want := points.value(), float64(2*(i+1)); got != want {
			t.Errorf("SeriesPoints after tick %d = %v, want %v", i, got, want)
		}
	}

	// The connected client gets no message for the cut: the next one is the tick's.
	hub.SetMemoryPressure(true)
	if got := points.value(); got != 4 {
		t.Errorf("SeriesPoints under pressure = %v, want 4", got)
	}
	hub.TickClosed(makeTick("s1", 8, activePoint("p1", 8)))
	_, tick, _ := readTick(t, conn)
	if tick.Seq != 10 || tick.Index != 8 {
		t.Errorf("points under pressure: seq %d index %d, want 10 and 8", tick.Seq, tick.Index)
	}
	stats := hub.Stats()
	if stats.WindowTicks != 2 || stats.WindowCapacity != 2 {
		t.Errorf("window under pressure holds %d of %d ticks, want 2 of 2",
			stats.WindowTicks, stats.WindowCapacity)
	}
	var detail struct {
		Timeline Timeline `json:"timeline"`
	}
	if code := getJSON(t, feed, "/api/v1/sessions/s1", nil, &detail); code != http.StatusOK {
		t.Fatalf("GET /api/v1/sessions/s1: status %d, want 200", code)
	}
	if detail.Timeline.FirstIndex != 7 || detail.Timeline.Length != 2 {
		t.Errorf("live timeline under pressure starts at %d with %d ticks, want 2 from 7",
			detail.Timeline.FirstIndex, detail.Timeline.Length)
	}

	// Back at normal, a snapshot brings the client to the server's window.
	hub.SetMemoryPressure(false)
	fitness := readAs[fitnessSnapshotView](t, conn, TypeSnapshot+"/"+TopicFitness)
	equipment := readAs[equipmentSnapshotView](t, conn, TypeSnapshot+"/"+TopicEquipment)
	if fitness.Seq != 11 || equipment.Seq != 11 {
		t.Errorf("snapshot seqs = %d and %d, want 11 on each topic", fitness.Seq, equipment.Seq)
	}
	if fitness.FirstIndex == nil || *fitness.FirstIndex != 7 {
		t.Errorf("fitness snapshot first_index = %s, want 7", show(fitness.FirstIndex))
	}
	if fitness.StartMS == nil || *fitness.StartMS != tickStartMS(7) {
		t.Errorf("fitness snapshot start_ms = %s, want %d", show(fitness.StartMS), tickStartMS(7))
	}
	if len(fitness.Participants) != 1 || describe(fitness.Participants[0].HeartRate) != "[107,108]" {
		t.Errorf("fitness snapshot = %s, want p1 with heart rates 107 and 108", describe(fitness))
	}
	if equipment.FirstIndex == nil || *equipment.FirstIndex != 7 {
		t.Errorf("equipment snapshot first_index = %s, want 7", show(equipment.FirstIndex))
	}
	if len(equipment.Equipment) != 1 || len(equipment.Equipment[0].Active) != 2 {
		t.Errorf("equipment snapshot = %s, want the bag with 2 ticks", describe(equipment))
	}

	// The window grows with the next ticks.
	for i := 9; i < 15; i++ {
		hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
		_, tick, _ := readTick(t, conn)
		if tick.Index != i {
			t.Fatalf("points index = %d, want %d", tick.Index, i)
		}
	}
	stats = hub.Stats()
	if stats.WindowTicks != 8 || stats.WindowCapacity != 8 {
		t.Errorf("window after the pressure holds %d of %d ticks, want 8 of 8",
			stats.WindowTicks, stats.WindowCapacity)
	}
	if stats.MemoryPressure {
		t.Errorf("Stats().MemoryPressure = true after the pressure ended")
	}
	if got := points.value(); got != 16 {
		t.Errorf("SeriesPoints after the pressure = %v, want 16", got)
	}
	fresh := readInitial(t, feed.dial(t))
	if fresh.fitness.FirstIndex == nil || *fresh.fitness.FirstIndex != 7 {
		t.Errorf("new client's first_index = %s, want 7", show(fresh.fitness.FirstIndex))
	}
	if fresh.hello.Limits.LiveWindowTicks != 8 {
		t.Errorf("hello live_window_ticks = %d, want 8", fresh.hello.Limits.LiveWindowTicks)
	}
}

// TestPressureKeepsClientsConsistent checks the protocol's promise across a cut of the
// window: a connected client and one that resumes from before the cut both end up with
// what a new client gets.
func TestPressureKeepsClientsConsistent(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 8}, nil)
	hub := feed.hub
	connected := newProtoClient(t, feed)
	connected.connect()
	resuming := newProtoClient(t, feed)
	resuming.connect()
	hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	connected.readBroadcasts(3)
	resuming.readBroadcasts(3)
	broadcastTicks(feed, 0, 6)
	connected.readBroadcasts(6 * 3)
	resuming.readBroadcasts(6 * 3)

	resuming.close()
	waitFor(t, "one registered client", func() bool { return hub.ClientCount() == 1 })
	broadcastTicks(feed, 6, 8)
	hub.SetMemoryPressure(true)
	broadcastTicks(feed, 8, 9)
	hub.SetMemoryPressure(false)
	// Three ticks, then the snapshots at the end of the pressure.
	connected.readBroadcasts(3*3 + 2)

	resuming.connect()
	if resuming.started[TopicFitness] != TypeResumed {
		t.Errorf("reconnect started fitness with %s, want resumed", resuming.started[TopicFitness])
	}
	for _, client := range []*protoClient{connected, resuming} {
		if client.gap != "" {
			t.Fatalf("gap: %s", client.gap)
		}
	}
	for _, id := range []string{"p1", "p2"} {
		want := freshSeries(t, feed, id)
		if got := connected.series(id); got != want {
			t.Errorf("connected client's %s series = %s, want the snapshot's %s", id, got, want)
		}
		if got := resuming.series(id); got != want {
			t.Errorf("resumed client's %s series = %s, want the snapshot's %s", id, got, want)
		}
	}
	if resuming.firstIndex != 7 || resuming.length != 2 {
		t.Errorf("resumed client holds ticks from %d, %d of them, want 2 from 7",
			resuming.firstIndex, resuming.length)
	}
}

func TestPressureNewSessionUsesShortWindow(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 8}, nil)
	hub := feed.hub
	hub.SetMemoryPressure(true)
	hub.SessionStarted(startSnapshot("s1", "p1"))
	for i := range 5 {
		hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
	}
	if stats := hub.Stats(); stats.WindowTicks != 2 || stats.WindowCapacity != 2 {
		t.Errorf("window of a session started under pressure holds %d of %d ticks, want 2 of 2",
			stats.WindowTicks, stats.WindowCapacity)
	}
	hub.SetMemoryPressure(false)
	if got := hub.Stats().WindowCapacity; got != 8 {
		t.Errorf("window capacity after the pressure = %d, want 8", got)
	}
}
