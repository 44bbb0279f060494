package bridge_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/metrics"
)

// lockedBuffer is a log destination that the bridge's goroutines and the
// test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines that contain text.
func (b *lockedBuffer) lines(text string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []string
	for line := range strings.Lines(b.buf.String()) {
		if strings.Contains(line, text) {
			found = append(found, line)
		}
	}
	return found
}

// startLoggingBridge runs a bridge with one piece of equipment, bag on
// zigbee2mqtt/bag, that logs into the returned buffer.
func startLoggingBridge(t *testing.T, brokerURL string) (*metrics.Metrics, *lockedBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.Broker.URL = brokerURL
	cfg.Equipment = []config.Equipment{{ID: "bag", Name: "Bag", Topic: "zigbee2mqtt/bag"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	m := metrics.New()
	logs := &lockedBuffer{}
	b, err := bridge.New(bridge.Options{
		Config: cfg, Version: "test", Metrics: m,
		Logger:          slog.New(slog.NewTextHandler(logs, nil)),
		PublishInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge run: %v", err)
		}
	})

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := b.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return m, logs
}

// countedReasons returns the reasons of fitbridge_readings_invalid_total
// with a count above zero, read from the registry.
func countedReasons(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, family := range families {
		if family.GetName() != "fitbridge_readings_invalid_total" {
			continue
		}
		for _, metric := range family.GetMetric() {
			if n := metric.GetCounter().GetValue(); n > 0 {
				for _, label := range metric.GetLabel() {
					if label.GetName() == "reason" {
						counted[label.GetValue()] = n
					}
				}
			}
		}
	}
	return counted
}

// TestVibrationInvalidFieldCounted publishes zigbee2mqtt states with an
// unusable battery beside good fields through mosquitto. The good fields
// must reach Home Assistant's state topic, each such message must count once
// as invalid_field, and the log must name the field once per device and
// minute.
func TestVibrationInvalidFieldCounted(t *testing.T) {
	mosq := testbroker.Start(t)
	m, logs := startLoggingBridge(t, mosq.URL())
	c := newClient(t, mosq.URL(), "test-pub", "fitbridge/equipment/#")
	const stateTopic = "fitbridge/equipment/bag/state"
	invalidField := func() float64 {
		return testutil.ToFloat64(m.InvalidReadings.WithLabelValues("invalid_field"))
	}

	c.publish(t, "zigbee2mqtt/bag", `{"battery":"x","vibration":true,"linkquality":77}`, false)
	eventually(t, "first state published", func() bool {
		s, _ := c.get(stateTopic)
		return strings.Contains(s, `"linkquality":77`)
	})
	state, _ := c.get(stateTopic)
	if !strings.Contains(state, `"vibration":true`) {
		t.Errorf("state %s lacks the vibration flag of the message", state)
	}
	if !strings.Contains(state, `"events":1`) {
		t.Errorf("state %s lacks the vibration event of the message", state)
	}
	if !strings.Contains(state, `"battery":null`) {
		t.Errorf("state %s shows a battery level; the only one sent was invalid", state)
	}
	counted := countedReasons(t, m)
	if got := counted["invalid_field"]; got != 1 {
		t.Errorf("invalid_field count = %v after one message, want 1", got)
	}
	for reason, n := range counted {
		if reason != "invalid_field" {
			t.Errorf("reason %s counted %v times, want invalid_field alone", reason, n)
		}
	}

	c.publish(t, "zigbee2mqtt/bag", `{"battery":"y","linkquality":78}`, false)
	c.publish(t, "zigbee2mqtt/bag", `{"battery":90,"linkquality":79}`, false)
	eventually(t, "third state published", func() bool {
		s, _ := c.get(stateTopic)
		return strings.Contains(s, `"linkquality":79`)
	})
	if state, _ := c.get(stateTopic); !strings.Contains(state, `"battery":90`) {
		t.Errorf("state %s lacks the valid battery of the last message", state)
	}
	if got := invalidField(); got != 2 {
		t.Errorf("invalid_field count = %v after two broken and one good message, want 2", got)
	}

	logged := logs.lines("vibration sensor field ignored")
	if len(logged) != 1 {
		t.Fatalf("logged %d lines for two broken messages within a minute, want 1:\n%s",
			len(logged), strings.Join(logged, ""))
	}
	for _, want := range []string{"level=WARN", "field=battery", "device=bag",
		"topic=zigbee2mqtt/bag"} {
		if !strings.Contains(logged[0], want) {
			t.Errorf("log line %q lacks %s", logged[0], want)
		}
	}
}
