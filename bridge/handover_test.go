package bridge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// fitnessSeries is the part of a fitness snapshot these tests read.
type fitnessSeries struct {
	Type         string `json:"type"`
	Topic        string `json:"topic"`
	Participants []struct {
		ID        string     `json:"id"`
		HeartRate []*float64 `json:"heart_rate"`
		Coins     []*int     `json:"coins"`
	} `json:"participants"`
}

// startChartFeed serves a chart hub on loopback.
func startChartFeed(t *testing.T) (*charts.Hub, string) {
	t.Helper()
	hub := charts.NewHub(charts.Options{Version: "test", Interval: 5 * time.Second,
		LiveWindowTicks: 720, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	server := httptest.NewServer(hub.Handler())
	t.Cleanup(server.Close)
	t.Cleanup(hub.Close)
	return hub, "ws" + strings.TrimPrefix(server.URL, "http") + "/ws?topics=fitness"
}

// readFitnessSnapshot connects to the chart feed and returns its first fitness snapshot.
func readFitnessSnapshot(t *testing.T, url string) fitnessSeries {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial chart feed: %v", err)
	}
	resp.Body.Close()
	defer conn.Close()
	for range 5 {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read chart feed: %v", err)
		}
		var msg fitnessSeries
		if err := json.Unmarshal(data, &msg); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if msg.Type == "snapshot" && msg.Topic == "fitness" {
			return msg
		}
	}
	t.Fatal("no fitness snapshot in the first 5 messages")
	return fitnessSeries{}
}

// TestEarlyHandoverMovesSeries hands a guest's strap to alex a minute after its first
// reading. The saved timeline and the chart feed both show the guest's minute as alex's.
func TestEarlyHandoverMovesSeries(t *testing.T) {
	mosq := testbroker.Start(t)
	hub, feedURL := startChartFeed(t)
	r := startBridgeWith(t, mosq.URL(), t.TempDir(), nil, func(o *bridge.Options) {
		o.EventClock = true
		o.Listener = hub
	})
	c := newClient(t, mosq.URL(), "test-pub")
	start := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
	sent := uint64(0)
	send := func(from, to int) {
		for s := from; s < to; s += 2 {
			c.publish(t, "fitness/hr/7", `{"heart_rate":130}`, false,
				paho.UserProperty{Key: "timestamp", Value: start.Add(time.Duration(s) * time.Second).Format(time.RFC3339)})
			sent++
		}
		eventually(t, "readings processed", func() bool { return r.b.Processed() >= sent })
	}
	send(0, 60)
	c.publish(t, "fitbridge/device/7/assign", "alex", false)
	sent++
	eventually(t, "the assignment", func() bool { return r.b.Processed() >= sent })
	send(60, 90)
	c.publish(t, "fitbridge/session/set", "end", false)
	eventually(t, "session ended", func() bool { return len(r.b.Summaries()) == 1 })

	sum := r.b.Summaries()[0]
	if len(sum.Participants) != 1 || sum.Participants[0].ID != "alex" {
		t.Fatalf("summary participants = %+v, want alex alone", sum.Participants)
	}
	coins := sum.Participants[0].Coins

	st, err := store.Open(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := st.Load(sum.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := saved.Timeline.Participants["guest-7"]; ok {
		t.Error("the saved timeline kept the guest's series")
	}
	series, err := store.DecodeRLE[int](saved.Timeline.Participants["alex"].Coins)
	if err != nil || len(series) == 0 || series[0] == nil || *series[len(series)-1] != coins {
		t.Errorf("alex's saved coins = %s (%v), want a series from the first tick up to %d",
			saved.Timeline.Participants["alex"].Coins, err, coins)
	}

	snap := readFitnessSnapshot(t, feedURL)
	if len(snap.Participants) != 1 || snap.Participants[0].ID != "alex" {
		t.Fatalf("chart roster = %+v, want alex alone", snap.Participants)
	}
	alex := snap.Participants[0]
	if alex.HeartRate[0] == nil || *alex.HeartRate[0] != 130 {
		t.Errorf("alex's first charted heart rate = %v, want the guest's 130", alex.HeartRate[0])
	}
	if last := alex.Coins[len(alex.Coins)-1]; last == nil || *last != coins {
		t.Errorf("alex's last charted coins = %v, want %d", last, coins)
	}
}

// TestRestartRefillsChartFeed restarts the bridge in the middle of a session: the chart
// feed of the new process starts with the ticks of the timeline, not empty.
func TestRestartRefillsChartFeed(t *testing.T) {
	mosq := testbroker.Start(t)
	dir := t.TempDir()
	fast := func(cfg *config.Config) { cfg.Session.CheckpointInterval = time.Second }
	first := startBridgeWith(t, mosq.URL(), dir, fast, func(o *bridge.Options) { o.EventClock = true })
	c := newClient(t, mosq.URL(), "test-pub")
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	for s := 0; s < 40; s += 2 {
		c.publish(t, "fitness/hr/10001", `{"heart_rate":150}`, false,
			paho.UserProperty{Key: "timestamp", Value: start.Add(time.Duration(s) * time.Second).Format(time.RFC3339)})
	}
	eventually(t, "readings processed", func() bool { return first.b.Processed() >= 20 })
	before, err := first.b.Snapshot(context.Background())
	if err != nil || !before.Running {
		t.Fatalf("snapshot = %+v, %v; want a running session", before, err)
	}
	first.stop()

	hub, feedURL := startChartFeed(t)
	startBridgeWith(t, mosq.URL(), dir, fast, func(o *bridge.Options) {
		o.EventClock = true
		o.Listener = hub
	})
	snap := readFitnessSnapshot(t, feedURL)
	if len(snap.Participants) != 1 || snap.Participants[0].ID != "alex" {
		t.Fatalf("chart roster after restart = %+v, want alex", snap.Participants)
	}
	// A reading at second 38 closes the windows that end by second 36 (38 less the 2 s
	// lateness allowance): seven 5 s windows.
	if got := len(snap.Participants[0].HeartRate); got != 7 {
		t.Errorf("chart after restart holds %d ticks, want the 7 closed before the stop", got)
	}
}
