package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"write the dashboard screenshot of TestDashboardReplayAndRestart to docs/dashboard.png")

// replayDashboardConfig gives the DaylightStation strap to a configured participant with
// that person's zones; the ride's strap joins as a guest. The live window holds the whole
// 78 min ride.
func replayDashboardConfig(brokerURL string) config.Config {
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	cfg.Participants = []config.Participant{{
		ID: "participant-1", Name: "Participant 1", Devices: []string{"10001"},
		Zones: map[string]float64{"active": 80, "warm": 105, "hot": 125},
	}}
	cfg.Equipment = []config.Equipment{{ID: "punching_bag", Name: "Punching bag",
		Topic: "zigbee2mqtt/punching_bag"}}
	cfg.Session.LiveWindow = 2 * time.Hour
	cfg.HTTP.Listen = "127.0.0.1:0"
	return cfg
}

// TestDashboardReplayAndRestart replays two recorded workouts through mosquitto into a
// running bridge, with the dashboard open behind an ingress proxy. It checks the series,
// the leaderboard and the dropout gap. Then it restarts the bridge and checks that the page
// follows the new bridge with no console error.
func TestDashboardReplayAndRestart(t *testing.T) {
	mosq := testbroker.Start(t)
	cfg := replayDashboardConfig(mosq.URL())
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	log := testLogger(t)
	svc := startService(t, cfg, cfg.HTTP.Listen, 0, log)
	proxy := startIngressProxy(t, svc.url())
	b := startBrowser(t)
	b.do(chromedp.EmulateViewport(1600, 900))
	b.do(chromedp.Navigate(proxy.url()))
	b.waitState("the first connection", func(s dashboardState) bool { return s.Connection == "live" })

	replayFiles(t, mosq.URL(), svc, replayStart,
		"daylightstation-20260627-garage-session.jsonl",
		"fitparse-ride-with-dropout.jsonl",
		"z2m-djt11lm-punching-bag-round.jsonl")

	snapshot, err := svc.bridge.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("engine snapshot: %v", err)
	}
	if !snapshot.Running {
		t.Fatalf("no session is running after the replay")
	}
	wantCoins := map[string]int{}
	for _, p := range snapshot.Participants {
		wantCoins[p.ID] = p.Coins
	}
	ticks := svc.hub.Stats().WindowTicks
	s := b.waitState("both series and the final coins", func(s dashboardState) bool {
		if len(s.Charts) != 2 || s.FitnessLength != ticks || s.Charts[0].Points != ticks {
			return false
		}
		for _, row := range s.Leaderboard {
			if row.Coins != wantCoins[row.ID] {
				return false
			}
		}
		return len(s.Leaderboard) == len(wantCoins)
	})
	checkLeaderboard(t, s, wantCoins, nil)
	if s.Session == nil || s.Session.ID != snapshot.SessionID {
		t.Errorf("page session = %+v, want %s", s.Session, snapshot.SessionID)
	}
	ride := chartOf(t, s, "guest-hrm-ride")
	// The ride has no heart rate from 1831 s to 1861 s: 5 or 6 windows of 5 s.
	if ride.Dropouts < 1 || ride.Nulls < 5 {
		t.Errorf("ride chart has %d nulls and %d dropout markers, want the 30 s dropout", ride.Nulls, ride.Dropouts)
	}
	if len(s.Equipment) != 1 {
		t.Errorf("equipment rows = %v, want the punching bag", s.Equipment)
	}
	data := b.screenshot("dashboard-replay.png")
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "docs", "dashboard.png"), data, 0o644); err != nil {
			t.Fatalf("write docs/dashboard.png: %v", err)
		}
	}
	checkLayouts(t, b, "dashboard-replay")

	// Restart the bridge on the same address. The page receives the end of the session
	// and the close, reconnects to the new instance and starts from its snapshots.
	oldEpoch := s.Epoch
	var ended dashboardState
	b.outage(func() {
		svc.stop(t)
		ended = b.waitState("the end of the session", func(s dashboardState) bool {
			return s.Session != nil && !s.Session.Running
		})
		svc = startService(t, cfg, svc.addr, 0, log)
	}, func() {
		b.waitState("the new bridge", func(s dashboardState) bool {
			return s.Epoch != oldEpoch && s.Connection == "live"
		})
	})
	replayFiles(t, mosq.URL(), svc, replayStart.Add(3*time.Hour), "fitparse-indoor-rowing-intervals.jsonl")
	snapshot, err = svc.bridge.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("engine snapshot after the restart: %v", err)
	}
	rowingCoins := map[string]int{}
	for _, p := range snapshot.Participants {
		if p.Status != "" {
			rowingCoins[p.ID] = p.Coins
		}
	}
	after := b.waitState("the rowing session", func(s dashboardState) bool {
		return s.Session != nil && s.Session.ID == snapshot.SessionID && len(s.Charts) == 1 &&
			len(s.Leaderboard) == 1 && s.Leaderboard[0].Coins == rowingCoins[s.Leaderboard[0].ID]
	})
	if after.Counters.Connects < ended.Counters.Connects+1 {
		t.Errorf("connects went from %d to %d, want a reconnect", ended.Counters.Connects, after.Counters.Connects)
	}
	if after.Charts[0].ID != "guest-hrm-rowing" {
		t.Errorf("chart after the restart = %s, want guest-hrm-rowing", after.Charts[0].ID)
	}
	b.checkNoProblems()
	b.checkRequestsStayOn(proxy.server.URL + ingressPrefix + "/")
}
