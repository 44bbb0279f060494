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

// invalidSeries returns the series of fitbridge_readings_invalid_total for
// reason.
func invalidSeries(reason string) string {
	return `fitbridge_readings_invalid_total{reason="` + reason + `"}`
}

// waitMetricDeltas polls the metrics until every series has grown by at
// least its delta over base, and fails t with the shortfall otherwise.
func waitMetricDeltas(t *testing.T, p *process, base map[string]float64,
	want map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		now := p.metrics()
		var missing []string
		for series, delta := range want {
			if got := now[series] - base[series]; got < delta {
				missing = append(missing, fmt.Sprintf("%s grew by %v, want %v", series, got, delta))
			}
		}
		if len(missing) == 0 {
			return now
		}
		if time.Now().After(deadline) {
			for series, v := range now {
				if d := v - base[series]; d != 0 && strings.HasPrefix(series, "fitbridge_") {
					missing = append(missing, fmt.Sprintf("(%s grew by %v)", series, d))
				}
			}
			t.Fatalf("after %v:\n%s", waitTimeout, strings.Join(missing, "\n"))
		}
		time.Sleep(pollInterval)
	}
}

// TestHostileHeartRatesThroughBroker publishes broken and hostile heart-rate
// payloads through mosquitto, for a strap of their own, while alex trains.
// Each must be rejected and counted under its reason, and alex's session
// must go on as if nothing happened.
func TestHostileHeartRatesThroughBroker(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	_, sessionID := p.waitCoins("alex", 4, waitTimeout)

	const limit = 64 << 10 // heart_rate.max_payload_bytes by default
	deep := strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)
	cases := []struct {
		payload string
		reason  string
	}{
		{strings.Repeat("x", limit+1), "too_large"},
		{`{"heart_rate":120,"pad":"` + strings.Repeat("x", limit) + `"}`, "too_large"},
		{"", "empty"},
		{"   \n", "empty"},
		{"{\"heart_rate\":\"\xff\xfe\"}", "not_json"},
		{"\xc3\x28", "not_json"},
		{deep, "too_deep"},
		{strings.Repeat("[", 60_000), "too_deep"},
		{`{"heart_rate":1e400}`, "out_of_range"},
		{`{"heart_rate":123456789012345678901234567890}`, "out_of_range"},
		{`{"heart_rate":-120}`, "out_of_range"},
		{`{"heart_rate":NaN}`, "not_finite"},
		{`{"heart_rate":Infinity}`, "not_finite"},
		{`{"heart_rate":-Infinity}`, "not_finite"},
		{`{"heart_rate":"NaN"}`, "not_finite"},
		{`{"heart_rate":120,"heart_rate":130}`, "duplicate_key"},
		{`{"hr":120,"heart_rate":120}`, "duplicate_key"},
		{`{"heart_rate":12`, "not_json"},
		{`{"heart_rate":120,`, "not_json"},
		{`{"heart_rate":"abc"}`, "wrong_type"},
		{`{"heart_rate":true}`, "wrong_type"},
		{`{"heart_rate":{}}`, "wrong_type"},
		{`{"heart_rate":[120]}`, "wrong_type"},
		{`{"heart_rate":null}`, "missing"},
		{`{"bpm":120}`, "missing"},
		{`{"heart_rate":0}`, "zero"},
		{`{"heart_rate":255}`, "sentinel"},
	}
	base := p.metrics()
	want := map[string]float64{}
	hostile := connectClient(t, mosq.URL(), clientOptions{id: "hostile"})
	for _, tc := range cases {
		hostile.publish("fitness/hr/66666", tc.payload, false)
		want[invalidSeries(tc.reason)]++
	}
	waitMetricDeltas(t, p, base, want)

	// A payload of exactly the size limit is read.
	atLimit := `{"heart_rate":130,"pad":"`
	atLimit += strings.Repeat("x", limit-len(atLimit)-2) + `"}`
	before := p.metric(`fitbridge_mqtt_messages_received_total{kind="heart_rate"}`)
	hostile.publish("fitness/hr/10001", atLimit, false)
	waitMetricDeltas(t, p, map[string]float64{
		`fitbridge_mqtt_messages_received_total{kind="heart_rate"}`: before,
	}, map[string]float64{`fitbridge_mqtt_messages_received_total{kind="heart_rate"}`: 1})

	coins, id := p.waitCoins("alex", 10, waitTimeout)
	if id != sessionID {
		t.Errorf("session %q after the hostile input, want %q", id, sessionID)
	}
	if s := p.session(); len(s.Session.Participants) != 1 {
		t.Errorf("roster has %d participants, want alex alone: an invalid reading joined",
			len(s.Session.Participants))
	}
	p.signal(syscall.SIGTERM)
	if code, ok := p.wait(stopTimeout); !ok || code != 0 {
		t.Fatalf("exit code %d (exited: %v), want 0", code, ok)
	}
	ticks := readTimeline(t, p.DataDir, sessionID)
	checkCoinsFollowSamples(t, ticks, "alex", warmCoins)
	if gap := longestGap(ticks, "alex"); gap > maxStarvedWindows {
		t.Errorf("alex has %d windows in a row without heart rate, want at most %d", gap,
			maxStarvedWindows)
	}
	t.Logf("alex had %d coins after the hostile input", coins)
}

// TestHostileSensorPayloadsThroughBroker publishes broken zigbee2mqtt
// payloads for the punching bag. A payload that cannot be decoded must be
// rejected and counted. A usable payload with a broken field must be applied
// without that field, so the field keeps its last good value.
func TestHostileSensorPayloadsThroughBroker(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/equipment/bag/state"}})
	hostile := connectClient(t, mosq.URL(), clientOptions{id: "hostile"})
	const topic = "zigbee2mqtt/bag"
	hostile.publish(topic, `{"battery":91,"linkquality":120}`, false)
	waitState(t, ha, "gym/equipment/bag/state", `"battery":91`)
	ha.reset()

	rejected := []struct {
		payload string
		reason  string
	}{
		{"{\"action\":\"vibr\xff\"}", "not_json"},
		{`{"action":"vibration","vibration":tru`, "not_json"},
		{strings.Repeat(`{"device":`, 1000) + "1" + strings.Repeat("}", 1000), "too_deep"},
		{`[1,2,3]`, "wrong_type"},
	}
	base := p.metrics()
	want := map[string]float64{}
	for _, tc := range rejected {
		hostile.publish(topic, tc.payload, false)
		want[invalidSeries(tc.reason)]++
	}
	waitMetricDeltas(t, p, base, want)

	brokenFields := []string{
		`{"battery":"lots"}`,
		`{"battery":1e400}`,
		`{"battery":-5}`,
		`{"battery":NaN}`,
		`{"battery":Infinity}`,
		`{"battery":91,"battery":10}`,
		`{"battery":{"value":10}}`,
		`{"strength":NaN,"battery":[10]}`,
	}
	for _, payload := range brokenFields {
		hostile.publish(topic, payload, false)
	}
	hostile.publish(topic, `{"battery":88}`, false)
	waitState(t, ha, "gym/equipment/bag/state", `"battery":88`)
	for _, state := range ha.received("gym/equipment/bag/state") {
		if !strings.Contains(state, `"battery":91`) && !strings.Contains(state, `"battery":88`) {
			t.Errorf("equipment state %s shows a battery from a broken field", state)
		}
	}
}

// waitState waits until the last message on topic contains want.
func waitState(t *testing.T, c *mqttClient, topic, want string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		state, _ := c.last(topic)
		if strings.Contains(state, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last message on %s = %q after %v, want it to contain %s", topic, state,
				waitTimeout, want)
		}
		time.Sleep(pollInterval)
	}
}

// TestCommandTopicsValidated publishes session commands and device
// assignments that are not allowed. Each must be rejected, counted and
// logged without acting on it.
func TestCommandTopicsValidated(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	_, sessionID := p.waitCoins("alex", 2, waitTimeout)

	hostile := connectClient(t, mosq.URL(), clientOptions{id: "hostile"})
	commands := []string{"drop", "end now", "ending", "stop", "{\"command\":\"end\"}",
		"\xff\xfe", "", strings.Repeat("e", 10<<10)}
	assignments := map[string]string{
		"gym/device/10001/assign": "nobody",
		"gym/device/20002/assign": "../alex",
	}
	base := p.metrics()
	for _, c := range commands {
		hostile.publish("gym/session/set", c, false)
	}
	for topic, payload := range assignments {
		hostile.publish(topic, payload, false)
	}
	waitMetricDeltas(t, p, base, map[string]float64{
		invalidSeries("bad_command"): float64(len(commands) + len(assignments)),
	})
	if len(p.logs.matching("invalid session command")) == 0 {
		t.Error("no log line about an invalid session command")
	}
	if len(p.logs.matching("device assignment rejected")) == 0 {
		t.Error("no log line about a rejected assignment")
	}
	if n := len(p.logs.matching("session end requested")); n != 0 {
		t.Errorf("%d session ends requested, want none", n)
	}
	coins, id := p.waitCoins("alex", 4, waitTimeout)
	if id != sessionID {
		t.Errorf("session %q after the commands, want %q still running", id, sessionID)
	}

	// The allowed command still works.
	hostile.publish("gym/session/set", "end", false)
	p.waitLog("session end requested", 1, waitTimeout)
	deadline := time.Now().Add(waitTimeout)
	for {
		if c, _ := p.coins("alex"); c < 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("session still runs after the end command")
		}
		time.Sleep(pollInterval)
	}
	t.Logf("alex had %d coins before the end command", coins)
}
