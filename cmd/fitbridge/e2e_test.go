package main

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/sessions"
)

var heartRateRecordings = []string{
	"daylightstation-20260627-garage-session.jsonl",
	"fitparse-indoor-rowing-intervals.jsonl",
	"fitparse-steady-run.jsonl",
	"fitparse-ride-with-dropout.jsonl",
	"fitparse-long-ride-3h30.jsonl",
	"tcxparser-tempo-run-smart-recording.jsonl",
}

var vibrationRecordings = []string{
	"z2m-djt11lm-payload-variants.jsonl",
	"z2m-djt11lm-punching-bag-round.jsonl",
}

// replayConfig is the configuration of the end-to-end replays: the strap of
// the DaylightStation recording belongs to a configured participant with
// that person's zones; every other strap becomes a guest.
func replayConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Participants = []config.Participant{{
		ID: "participant-1", Name: "Participant 1", Devices: []string{"10001"},
		Zones: map[string]float64{"active": 80, "warm": 105, "hot": 125},
	}}
	for _, name := range []string{"punching_bag", "vibration_2019", "vibration_2020",
		"vibration_2024a", "vibration_2024b", "vibration_2024c"} {
		cfg.Equipment = append(cfg.Equipment, config.Equipment{
			ID: name, Name: strings.ReplaceAll(name, "_", " "), Topic: "zigbee2mqtt/" + name,
		})
	}
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	return cfg
}

func recordingPaths(t *testing.T, names []string) []string {
	t.Helper()
	dir := filepath.Join(testbroker.SharedDir(t), "data", "recordings")
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(dir, n))
	}
	return paths
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestReplayEndToEnd replays every recording at once through mosquitto at
// full speed and checks what Home Assistant, a chart client and the data
// folder see against coins computed here from the session rules.
func TestReplayEndToEnd(t *testing.T) {
	mosq := testbroker.Start(t)
	cfg := replayConfig(t)
	cfg.Broker.URL = mosq.URL()
	paths := recordingPaths(t, append(append([]string{}, heartRateRecordings...),
		vibrationRecordings...))

	ws := &wsCollector{}
	job := replayJob{
		Config: cfg, Files: paths, Speed: 0, Start: DefaultReplayStart, UseBroker: true,
		Log: testLogger(t),
		Listening: func(addr string) {
			ws.dial(t, "ws://"+addr+"/ws")
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := job.run(ctx)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	ws.wait(t)

	// Coins and sessions against the reference computed from the rules.
	want := referenceSessions(t, cfg, paths[:len(heartRateRecordings)])
	if len(res.Summaries) != len(want) {
		t.Fatalf("sessions = %d, want %d", len(res.Summaries), len(want))
	}
	for i, ref := range want {
		got := res.Summaries[i]
		if !got.StartedAt.Equal(ref.start) {
			t.Errorf("session %d start = %v, want %v", i, got.StartedAt, ref.start)
		}
		coins := map[string]int{}
		for _, p := range got.Participants {
			coins[p.ID] = p.Coins
		}
		for id, c := range ref.coins {
			if coins[id] != c {
				t.Errorf("session %d participant %s coins = %d, want %d", i, id, coins[id], c)
			}
		}
		if len(coins) != len(ref.coins) {
			t.Errorf("session %d roster = %v, want %v", i, coins, ref.coins)
		}
	}
	if c := res.Summaries[0].Participants[0]; c.ID != "participant-1" || c.Coins != 971 {
		t.Errorf("DaylightStation wearer = %s with %d coins, want participant-1 with 971", c.ID, c.Coins)
	}

	// One summary file per session, equal to the summary in memory.
	for _, sum := range res.Summaries {
		data, err := os.ReadFile(filepath.Join(cfg.DataDir, "session-"+sum.SessionID+".json"))
		if err != nil {
			t.Fatalf("summary file: %v", err)
		}
		var onDisk sessions.Summary
		if err := json.Unmarshal(data, &onDisk); err != nil {
			t.Fatalf("summary file %s: %v", sum.SessionID, err)
		}
		if onDisk.Participants[0].Coins != sum.Participants[0].Coins || onDisk.EndReason != sum.EndReason {
			t.Errorf("summary file %s differs from the replay's summary", sum.SessionID)
		}
	}

	checkRetained(t, mosq.URL(), cfg, res.Summaries)
	ws.check(t, res.Summaries)
}

// refSession is a session as computed by the test's own model of the rules.
type refSession struct {
	start time.Time
	coins map[string]int
}

type refSample struct {
	at     time.Time
	device string
	bpm    float64
}

// referenceSessions applies the documented session rules directly to the
// heart-rate recordings: a session starts at the first of 3 valid samples
// within end_after, ends after end_after without a valid sample, and pays
// each 5 s window the coins of its highest sample's zone.
func referenceSessions(t *testing.T, cfg config.Config, paths []string) []refSession {
	t.Helper()
	var samples []refSample
	for fileIndex, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var line struct {
				TMS     int64  `json:"t_ms"`
				Topic   string `json:"topic"`
				Payload struct {
					HeartRate float64 `json:"heart_rate"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			samples = append(samples, refSample{
				at:     DefaultReplayStart.Add(time.Duration(line.TMS) * time.Millisecond),
				device: strings.TrimPrefix(line.Topic, "fitness/hr/"),
				bpm:    line.Payload.HeartRate,
			})
		}
		f.Close()
		_ = fileIndex
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].at.Before(samples[j].at) })

	interval := cfg.Session.CoinInterval
	endAfter := cfg.Session.EndAfter
	var out []refSession
	var cur []refSample // samples of the session being collected
	var pending []refSample
	flush := func() {
		if len(cur) == 0 {
			return
		}
		start := cur[0].at
		type key struct {
			participant string
			window      int64
		}
		peak := map[key]float64{}
		for _, s := range cur {
			k := key{participantOf(cfg, s.device), int64(s.at.Sub(start) / interval)}
			peak[k] = max(peak[k], s.bpm)
		}
		coins := map[string]int{}
		for k, bpm := range peak {
			coins[k.participant] += coinsFor(cfg, k.participant, bpm)
		}
		out = append(out, refSession{start: start, coins: coins})
		cur = nil
	}
	for _, s := range samples {
		if s.bpm < cfg.HeartRate.Min || s.bpm > cfg.HeartRate.Max {
			continue
		}
		if len(cur) > 0 && s.at.Sub(cur[len(cur)-1].at) >= endAfter {
			// The session ended for inactivity with the window of its last
			// sample; a sample within resume_within of that resumes it.
			start, last := cur[0].at, cur[len(cur)-1].at
			activityEnd := start.Add((last.Sub(start)/interval + 1) * interval)
			if s.at.Sub(activityEnd) > cfg.Session.ResumeWithin {
				flush()
			}
		}
		if len(cur) > 0 {
			cur = append(cur, s)
			continue
		}
		pending = append(pending, s)
		for len(pending) > 0 && pending[0].at.Before(s.at.Add(-endAfter)) {
			pending = pending[1:]
		}
		if len(pending) >= cfg.Session.StartSamples {
			cur, pending = pending, nil
		}
	}
	flush()
	return out
}

func participantOf(cfg config.Config, device string) string {
	for _, p := range cfg.Participants {
		for _, d := range p.Devices {
			if d == device {
				return p.ID
			}
		}
	}
	return "guest-" + device
}

func coinsFor(cfg config.Config, participant string, bpm float64) int {
	coins := 0
	best := -1.0
	for _, z := range cfg.Zones {
		lower := z.Min
		for _, p := range cfg.Participants {
			if v, ok := p.Zones[z.ID]; ok && p.ID == participant {
				lower = v
			}
		}
		if bpm >= lower && lower >= best {
			best, coins = lower, z.Coins
		}
	}
	return coins
}

// checkRetained reads every retained message under the discovery prefix and
// the base topic and checks the devices and states Home Assistant would see.
func checkRetained(t *testing.T, brokerURL string, cfg config.Config, sums []sessions.Summary) {
	t.Helper()
	retained := collectRetained(t, brokerURL, []string{
		cfg.DiscoveryPrefix + "/#", cfg.BaseTopic + "/#",
	})

	devices := map[string]bool{}
	for topic, payload := range retained {
		if !strings.HasPrefix(topic, cfg.DiscoveryPrefix+"/") || len(payload) == 0 {
			continue
		}
		var c struct {
			Device struct {
				Identifiers []string `json:"identifiers"`
			} `json:"device"`
			UniqueID string `json:"unique_id"`
		}
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Errorf("discovery %s: %v", topic, err)
			continue
		}
		if c.UniqueID == "" || len(c.Device.Identifiers) == 0 {
			t.Errorf("discovery %s lacks unique_id or device identifiers", topic)
		}
		for _, id := range c.Device.Identifiers {
			devices[id] = true
		}
	}
	// The bridge, 6 participants (1 configured, 5 guests), 6 straps, 6 pieces of equipment.
	if len(devices) != 19 {
		t.Errorf("discovered devices = %d, want 19: %v", len(devices), keys(devices))
	}

	// The replay stopped the bridge, which publishes offline before it disconnects.
	if got := string(retained[cfg.BaseTopic+"/bridge/availability"]); got != "offline" {
		t.Errorf("bridge availability after shutdown = %q, want offline", got)
	}

	// Each participant's retained coins are those of their last session.
	last := map[string]int{}
	for _, s := range sums {
		for _, p := range s.Participants {
			last[p.ID] = p.Coins
		}
	}
	for id, coins := range last {
		topic := cfg.BaseTopic + "/participant/" + id + "/state"
		var state struct {
			Coins int `json:"coins"`
		}
		if err := json.Unmarshal(retained[topic], &state); err != nil {
			t.Errorf("state %s = %q: %v", topic, retained[topic], err)
			continue
		}
		if state.Coins != coins {
			t.Errorf("%s coins = %d, want %d", topic, state.Coins, coins)
		}
	}

	var bag struct {
		Events int `json:"events"`
	}
	if err := json.Unmarshal(retained[cfg.BaseTopic+"/equipment/punching_bag/state"], &bag); err != nil {
		t.Errorf("punching bag state: %v", err)
	} else if bag.Events != 3 {
		t.Errorf("punching bag events = %d, want 3", bag.Events)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// collectRetained subscribes to filters and returns every message received
// until none arrives for half a second.
func collectRetained(t *testing.T, brokerURL string, filters []string) map[string][]byte {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string][]byte{}
	lastAt := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: "e2e-retained-reader",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					mu.Lock()
					got[pr.Packet.Topic] = pr.Packet.Payload
					lastAt = time.Now()
					mu.Unlock()
					return true, nil
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cm.AwaitConnection(ctx); err != nil {
		t.Fatal(err)
	}
	var subs []paho.SubscribeOptions
	for _, f := range filters {
		subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
	}
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
		t.Fatal(err)
	}
	for {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		quiet := time.Since(lastAt) > 500*time.Millisecond
		mu.Unlock()
		if quiet || ctx.Err() != nil {
			break
		}
	}
	_ = cm.Disconnect(ctx)
	<-cm.Done()
	mu.Lock()
	defer mu.Unlock()
	return got
}

// wsCollector is a chart feed client that keeps every message it reads.
type wsCollector struct {
	conn *websocket.Conn
	done chan struct{}
	mu   sync.Mutex
	msgs []map[string]any
}

func (w *wsCollector) dial(t *testing.T, u string) {
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Errorf("dial chart feed: %v", err)
		return
	}
	w.conn = conn
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				continue
			}
			w.mu.Lock()
			w.msgs = append(w.msgs, m)
			w.mu.Unlock()
		}
	}()
}

// wait waits until the server closed the feed at shutdown.
func (w *wsCollector) wait(t *testing.T) {
	if w.conn == nil {
		t.Fatal("chart feed was never connected")
	}
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Error("chart feed not closed after the replay ended")
	}
	w.conn.Close()
}

func (w *wsCollector) check(t *testing.T, sums []sessions.Summary) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.msgs) < 2 || w.msgs[0]["type"] != "hello" || w.msgs[1]["type"] != "snapshot" {
		t.Fatalf("chart feed did not start with hello and snapshot: %d messages", len(w.msgs))
	}
	ticks := 0
	lastCoins := map[string]float64{}
	for _, m := range w.msgs {
		if m["type"] != "points" || m["topic"] != "fitness" {
			continue
		}
		ticks++
		if _, ok := m["interval_ms"].(float64); !ok {
			t.Fatalf("tick without interval_ms: %v", m)
		}
		parts, _ := m["participants"].([]any)
		for _, p := range parts {
			pm, _ := p.(map[string]any)
			id, _ := pm["id"].(string)
			c, _ := pm["coins"].(float64)
			lastCoins[id] = c
		}
	}
	if ticks == 0 {
		t.Fatal("no ticks on the chart feed")
	}
	for id, coins := range lastCoins {
		want := -1
		for _, s := range sums {
			for _, p := range s.Participants {
				if p.ID == id {
					want = p.Coins
				}
			}
		}
		if float64(want) != coins {
			t.Errorf("chart coins of %s at the last tick = %v, want %d", id, coins, want)
		}
	}
}
