package reliability

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// Series of the metrics the load tests read.
const (
	receivedHeartRates = `fitbridge_mqtt_messages_received_total{kind="heart_rate"}`
	inputDropped       = "fitbridge_input_dropped_total"
	guestsEvicted      = "fitbridge_guests_evicted_total"
	heapAlloc          = "go_gc_heap_live_bytes"
)

// liveHeap collects garbage in the process (the heap profile endpoint does
// so with gc=1) and returns the heap left, in bytes.
func liveHeap(t *testing.T, p *process) float64 {
	t.Helper()
	if status, _ := p.get("/debug/pprof/heap?gc=1"); status != http.StatusOK {
		t.Fatalf("GET /debug/pprof/heap = %d; start fitbridge with --pprof", status)
	}
	return p.metric(heapAlloc)
}

// floodDevices publishes one valid reading for each of n made-up devices
// named prefix-00000 and up, at QoS 0 as fast as the client writes.
func floodDevices(t *testing.T, c *mqttClient, prefix string, n int) {
	t.Helper()
	payload := []byte(`{"heart_rate":100}`)
	for i := range n {
		topic := fmt.Sprintf("fitness/hr/%s-%05d", prefix, i)
		if err := c.tryPublish(topic, payload, 0, false); err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
	}
}

// waitInputHandled waits up to limit until the process has taken at least n
// more heart rates than in base, counting the ones its input queue dropped.
func waitInputHandled(t *testing.T, p *process, base map[string]float64, n int,
	limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		m := p.metrics()
		handled := m[receivedHeartRates] - base[receivedHeartRates] +
			m[inputDropped] - base[inputDropped]
		if handled >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d heart rates handled after %v", handled, n, limit)
		}
		time.Sleep(pollInterval)
	}
}

// waitCalm waits up to limit until c receives fewer than maxRate messages a
// second: the publisher it watches has sent its backlog and is back to its
// steady refreshes.
func waitCalm(t *testing.T, c *mqttClient, maxRate int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	count := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.total
	}
	last := count()
	for {
		time.Sleep(time.Second)
		now := count()
		if now-last < maxRate {
			return
		}
		last = now
		if time.Now().After(deadline) {
			t.Fatalf("still receiving %d messages a second after %v", now-last, limit)
		}
	}
}

// TestDeviceFloodBounded floods fitbridge with readings from thousands of
// made-up straps while alex trains. The guests beyond session.max_guests
// must be evicted and counted, the live heap must not grow with the number
// of straps, alex's session must go on untouched, and fitbridge must still
// stop within its limit.
func TestDeviceFloodBounded(t *testing.T) {
	t.Parallel()
	const (
		perRound  = 1000
		rounds    = 3
		maxGuests = 64
		// maxGrowth bounds the growth of the live heap from the second
		// round to the last, measured once fitbridge has published what
		// the round made it publish. The first round is left out because
		// buffers such as the chart window grow to their size during it.
		// A heap that grows by 2 KiB or more per strap exceeds the bound.
		maxGrowth = 2 << 20
	)
	mosq := testbroker.Start(t)
	cfg := baseConfig(mosq.URL(), t.TempDir())
	cfg.set("session.max_guests", maxGuests)
	p := startProcess(t, cfg, startOptions{args: []string{"--pprof"}})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	_, sessionID := p.waitCoins("alex", 4, waitTimeout)
	flooder := connectClient(t, mosq.URL(), clientOptions{id: "flooder"})
	watcher := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/#", "homeassistant/#"}})

	t.Logf("live heap before the flood: %.1f MiB", liveHeap(t, p)/(1<<20))
	var heaps []float64
	for round := range rounds {
		base := p.metrics()
		started := time.Now()
		floodDevices(t, flooder, fmt.Sprintf("fake%d", round), perRound)
		waitInputHandled(t, p, base, perRound, 60*time.Second)
		waitCalm(t, watcher, 100, 60*time.Second)
		m := p.metrics()
		heaps = append(heaps, liveHeap(t, p))
		t.Logf("round %d: %d straps handled in %v, %v dropped, %v evicted, live heap %.1f MiB",
			round, perRound, time.Since(started).Round(time.Millisecond),
			m[inputDropped]-base[inputDropped], m[guestsEvicted]-base[guestsEvicted],
			heaps[round]/(1<<20))
	}
	if growth := heaps[rounds-1] - heaps[1]; growth > maxGrowth {
		t.Errorf("live heap grew by %.1f MiB from round 2 to round %d, want at most %d MiB",
			growth/(1<<20), rounds, maxGrowth>>20)
	}

	m := p.metrics()
	if got, want := m[guestsEvicted]+m[inputDropped], float64(rounds*perRound-maxGuests); got < want {
		t.Errorf("%v guests evicted and %v dropped, want at least %v together",
			m[guestsEvicted], m[inputDropped], want)
	}
	if s := p.session(); len(s.Session.Participants) > maxGuests+1 {
		t.Errorf("roster has %d participants, want at most %d guests and alex",
			len(s.Session.Participants), maxGuests)
	}
	p.signal(syscall.SIGTERM)
	if code, exited := p.wait(exitLimit); !exited || code != 0 {
		later, _ := p.wait(stopTimeout)
		t.Errorf("exit code %d (exited: %v) %v after SIGTERM, want 0; exit code %d later",
			code, exited, exitLimit, later)
	}
	ticks := readTimeline(t, p.DataDir, sessionID)
	checkCoinsFollowSamples(t, ticks, "alex", warmCoins)
	if gap := longestGap(ticks, "alex"); gap > maxStarvedWindows {
		t.Errorf("alex has %d windows in a row without heart rate, want at most %d", gap,
			maxStarvedWindows)
	}
}

// TestRetainedBurstAtStart starts fitbridge on a broker that holds
// thousands of retained heart rates and other integrations' discovery
// configs. Start-up must neither stall nor drop anything: every retained
// heart rate is counted as stale and none starts a session, the retained
// state of the punching bag is applied, and fitbridge becomes ready.
func TestRetainedBurstAtStart(t *testing.T) {
	t.Parallel()
	const (
		retainedRates   = 5000
		foreignConfigs  = 2000
		retainedBattery = 77
	)
	mosq := testbroker.Start(t)
	seeder := connectClient(t, mosq.URL(), clientOptions{id: "seeder"})
	for i := range retainedRates {
		topic := fmt.Sprintf("fitness/hr/old-%05d", i)
		if err := seeder.tryPublish(topic, []byte(`{"heart_rate":120}`), 1, true); err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
	}
	for i := range foreignConfigs {
		topic := fmt.Sprintf("homeassistant/sensor/other_%04d/temperature/config", i)
		payload := fmt.Sprintf(`{"name":"Temperature %d","state_topic":"other/%d"}`, i, i)
		if err := seeder.tryPublish(topic, []byte(payload), 1, true); err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
	}
	seeder.publish("zigbee2mqtt/bag",
		fmt.Sprintf(`{"battery":%d,"linkquality":99,"vibration":true}`, retainedBattery), true)
	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/equipment/bag/state"}})

	started := time.Now()
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	deadline := time.Now().Add(waitTimeout)
	for {
		m := p.metrics()
		stale := m[invalidSeries("retained")]
		if stale+m[inputDropped] >= retainedRates {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d retained heart rates handled after %v", stale, retainedRates,
				waitTimeout)
		}
		time.Sleep(pollInterval)
	}
	t.Logf("ready and through the retained burst %v after the start",
		time.Since(started).Round(time.Millisecond))

	m := p.metrics()
	if got := m[inputDropped]; got != 0 {
		t.Errorf("%v messages dropped from the input queue, want none", got)
	}
	if got := m[invalidSeries("retained")]; got != retainedRates {
		t.Errorf("%v retained heart rates counted as stale, want %d", got, retainedRates)
	}
	if got := m[`fitbridge_mqtt_messages_received_total{kind="other"}`]; got != 0 {
		t.Errorf("%v messages on topics fitbridge does not read, want 0: it subscribes too wide",
			got)
	}
	if coins, id := p.coins("alex"); coins >= 0 || id != "" {
		t.Errorf("session %q running: a retained heart rate was taken as live", id)
	}
	waitState(t, ha, "gym/equipment/bag/state", fmt.Sprintf(`"battery":%d`, retainedBattery))
	if state, _ := ha.last("gym/equipment/bag/state"); strings.Contains(state, `"events":1`) {
		t.Errorf("equipment state %s counts the retained vibration as a hit", state)
	}
}

// TestBurstHandledOrCounted sends a burst of heart rates far above any
// strap's rate. Every message must be either handled or dropped and
// counted, the input queue must stay within its bound, and alex's session
// must go on.
func TestBurstHandledOrCounted(t *testing.T) {
	t.Parallel()
	const burst = 30_000
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	_, sessionID := p.waitCoins("alex", 4, waitTimeout)

	burster := connectClient(t, mosq.URL(), clientOptions{id: "burster"})
	base := p.metrics()
	started := time.Now()
	payload := []byte(`{"heart_rate":101}`)
	for i := range burst {
		if err := burster.tryPublish("fitness/hr/burst", payload, 0, false); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	sent := time.Since(started)
	waitInputHandled(t, p, base, burst, waitTimeout)
	m := p.metrics()
	t.Logf("%d messages sent in %v, handled in %v: %v dropped from the input queue",
		burst, sent.Round(time.Millisecond), time.Since(started).Round(time.Millisecond),
		m[inputDropped]-base[inputDropped])
	if depth := m["fitbridge_input_queue_depth"]; depth > 4096 {
		t.Errorf("input queue depth %v, above its bound of 4096", depth)
	}
	if _, id := p.waitCoins("alex", 0, waitTimeout); id != sessionID {
		t.Errorf("session %q after the burst, want %q", id, sessionID)
	}
	p.signal(syscall.SIGTERM)
	if code, ok := p.wait(stopTimeout); !ok || code != 0 {
		t.Fatalf("exit code %d (exited: %v), want 0", code, ok)
	}
	ticks := readTimeline(t, p.DataDir, sessionID)
	checkCoinsFollowSamples(t, ticks, "alex", warmCoins)
}
