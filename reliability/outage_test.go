package reliability

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

const (
	// outage is how long the broker stays down mid-session.
	outage = 30 * time.Second
	// reconnectTimeout covers the longest reconnect delay of fitbridge
	// (60 s, the cap of its backoff) with room to spare.
	reconnectTimeout = 75 * time.Second
	// warmCoins is what a window with a 130 bpm sample pays in the
	// default zones (warm, from 120 bpm).
	warmCoins = 2
)

// TestBrokerOutageKeepsSession stops the broker mid-session for 30 s. The
// session must go on: fitbridge reconnects, resubscribes and republishes,
// the windows of the outage have no heart rate and pay nothing, and every
// coin before and after is kept.
func TestBrokerOutageKeepsSession(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/#", "homeassistant/#"}})
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)

	_, sessionID := p.waitCoins("alex", 10, waitTimeout)

	mosq.Stop()
	stoppedAt := time.Now()
	p.waitLog("mqtt connection lost", 1, waitTimeout)
	p.waitStatus("/readyz", http.StatusServiceUnavailable, waitTimeout)
	if status, _ := p.get("/"); status != http.StatusOK {
		t.Errorf("dashboard during the outage: status %d, want 200", status)
	}
	time.Sleep(outage - time.Since(stoppedAt))
	frozen, id := p.coins("alex")
	if id != sessionID {
		t.Fatalf("session %q running during the outage, want %q", id, sessionID)
	}

	ha.reset()
	mosq.Start()
	p.waitLog("mqtt connected", 2, reconnectTimeout)
	p.waitLog("mqtt subscribed", 2, waitTimeout)
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)

	// The restarted broker kept nothing, so what the client sees now was
	// published again after the reconnect.
	ha.waitLast("gym/bridge/availability", "online", waitTimeout)
	waitReceived(t, ha, "gym/participant/alex/state", waitTimeout)
	waitReceivedPrefix(t, ha, "homeassistant/", waitTimeout)

	after, id := p.waitCoins("alex", frozen+10, waitTimeout)
	if id != sessionID {
		t.Errorf("session after the outage = %q, want the same session %q", id, sessionID)
	}
	t.Logf("coins: %d when the outage ended, %d after the reconnect", frozen, after)
	// States that changed during the outage (alex turned idle) waited for the connection
	// instead of failing.
	if got := p.metric("fitbridge_mqtt_publish_failures_total"); got != 0 {
		t.Errorf("fitbridge_mqtt_publish_failures_total = %v, want 0", got)
	}

	p.signal(syscall.SIGTERM)
	if code, ok := p.wait(stopTimeout); !ok || code != 0 {
		t.Fatalf("exit code %d (exited: %v), want 0", code, ok)
	}

	ticks := readTimeline(t, p.DataDir, sessionID)
	checkCoinsFollowSamples(t, ticks, "alex", warmCoins)
	gap := longestGap(ticks, "alex")
	// The gap starts with the last sample before the stop and ends with the
	// first after both the strap and fitbridge reconnected.
	if min := int(outage/time.Second) - 2; gap < min {
		t.Errorf("longest run of windows without heart rate = %d, want at least %d", gap, min)
	}
	t.Logf("%d windows, longest gap %d windows", len(ticks), gap)
}

// TestBrokerDownAtStart starts fitbridge while the broker is down. It must
// serve the dashboard, report not ready, say that it waits for the broker,
// and connect once the broker is up.
func TestBrokerDownAtStart(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	mosq.Stop()
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})

	line := p.waitLog("mqtt connect failed; retrying", 1, waitTimeout)
	if !strings.Contains(line, "broker="+mosq.URL()) {
		t.Errorf("log line %q does not name the broker %s", line, mosq.URL())
	}
	if status, body := p.get("/"); status != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("dashboard: status %d, body %.60q; want 200 and a page", status, body)
	}
	if status, _ := p.get("/healthz"); status != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", status)
	}
	status, body := p.get("/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "MQTT broker") {
		t.Errorf("/readyz = %d %q, want 503 naming the broker", status, body)
	}
	if got := p.metric("fitbridge_mqtt_connected"); got != 0 {
		t.Errorf("fitbridge_mqtt_connected = %v, want 0", got)
	}

	mosq.Start()
	p.waitStatus("/readyz", http.StatusOK, reconnectTimeout)
	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/bridge/availability"}})
	ha.waitLast("gym/bridge/availability", "online", waitTimeout)
	if got := p.metric("fitbridge_mqtt_connected"); got != 1 {
		t.Errorf("fitbridge_mqtt_connected = %v, want 1", got)
	}
}

// TestWrongCredentialsRetried gives fitbridge a wrong password. Each refusal
// must be logged naming the broker and the user, never the password, and be
// retried after a delay, while /readyz fails.
func TestWrongCredentialsRetried(t *testing.T) {
	t.Parallel()
	const wrong = "wrong-password-4711"
	mosq := testbroker.Start(t, testbroker.WithPassword("fitbridge", "right-password-0815"))
	cfg := baseConfig(mosq.URL(), t.TempDir())
	cfg.set("broker.username", "fitbridge")
	p := startProcess(t, cfg, startOptions{env: []string{"FITBRIDGE_BROKER_PASSWORD=" + wrong}})

	first := p.waitLog("mqtt connection refused by broker", 1, waitTimeout)
	second := p.waitLog("mqtt connection refused by broker", 2, waitTimeout)
	// mosquitto 2.0.11 refuses a wrong password with reason code 0x87.
	for _, want := range []string{"level=ERROR", "broker=" + mosq.URL(), "user=fitbridge",
		"reason=135", `reason_text="not authorized: check broker.username`} {
		if !strings.Contains(first, want) {
			t.Errorf("log line %q does not contain %q", first, want)
		}
	}
	// The reconnect delay is at least 1 s; log times have millisecond
	// precision.
	if gap := logTime(t, second).Sub(logTime(t, first)); gap < 900*time.Millisecond {
		t.Errorf("second attempt %v after the first, want a backoff of at least 1 s", gap)
	}
	if status, _ := p.get("/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d, want 503", status)
	}
	p.signal(syscall.SIGTERM)
	if code, ok := p.wait(stopTimeout); !ok || code != 0 {
		t.Errorf("exit code %d (exited: %v), want 0", code, ok)
	}
	if strings.Contains(p.logs.String(), wrong) {
		t.Error("the log contains the password")
	}
}

// logTime returns the time attribute of a log line.
func logTime(t *testing.T, line string) time.Time {
	t.Helper()
	field, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
	at, err := time.Parse(time.RFC3339Nano, field)
	if err != nil {
		t.Fatalf("log line %q has no time: %v", line, err)
	}
	return at
}

// waitReceived waits until c has received a message on topic.
func waitReceived(t *testing.T, c *mqttClient, topic string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for len(c.received(topic)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing received on %s within %v", topic, limit)
		}
		time.Sleep(pollInterval)
	}
}

// waitReceivedPrefix waits until c has received a message on a topic that
// starts with prefix.
func waitReceivedPrefix(t *testing.T, c *mqttClient, prefix string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c.mu.Lock()
		found := false
		for topic := range c.history {
			if strings.HasPrefix(topic, prefix) {
				found = true
				break
			}
		}
		c.mu.Unlock()
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing received under %s within %v", prefix, limit)
		}
		time.Sleep(pollInterval)
	}
}
