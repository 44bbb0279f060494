package bridge_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// logBuffer is an io.Writer for a slog handler that tests read while the bridge writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logTo returns an options hook that sends the bridge's log at level and above to logs.
func logTo(logs *logBuffer, level slog.Level) func(*bridge.Options) {
	return func(o *bridge.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	}
}

func TestOfflinePublishLoggedOnSuccess(t *testing.T) {
	mosq := testbroker.Start(t)
	logs := &logBuffer{}
	r := startBridgeWith(t, mosq.URL(), t.TempDir(), nil, logTo(logs, slog.LevelInfo))
	r.stop()

	text := logs.String()
	if !strings.Contains(text, `msg="offline availability published"`) {
		t.Errorf("log has no offline availability success line:\n%s", text)
	}
	if strings.Contains(text, "offline availability publish failed") {
		t.Errorf("log reports a failed offline publish with the broker up:\n%s", text)
	}
}

func TestOfflinePublishFailureIsWarning(t *testing.T) {
	mosq := testbroker.Start(t)
	logs := &logBuffer{}
	r := startBridgeWith(t, mosq.URL(), t.TempDir(), nil, logTo(logs, slog.LevelInfo))
	// A QoS 1 publish cut off by the broker stopping waits out its timeout, so the test
	// waits for the discovery sync's 32 configs and the online availability first.
	c := newClient(t, mosq.URL(), "test-sub", "fitbridge/bridge/availability", "homeassistant/#")
	eventually(t, "the configs and online", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.last) >= 33 && c.last["fitbridge/bridge/availability"] == "online"
	})
	mosq.Stop()
	eventually(t, "the bridge to see the broker gone", func() bool { return !r.b.Connected() })
	r.stop()

	text := logs.String()
	if strings.Contains(text, `msg="offline availability published"`) {
		t.Errorf("log claims the offline availability was published with the broker down:\n%s", text)
	}
	// A bridge that has seen the connection drop skips the final publishes and logs a
	// warning. One that tries and fails logs the failed publish.
	skipped := strings.Contains(text, `level=WARN msg="broker not connected at shutdown`)
	failed := strings.Contains(text, `level=WARN msg="offline availability publish failed"`)
	if !skipped && !failed {
		t.Errorf("log has no warning that the offline availability was not published:\n%s", text)
	}
}

func TestSlugWarningTruncatesLongID(t *testing.T) {
	mosq := testbroker.Start(t)
	logs := &logBuffer{}
	longID := strings.Repeat("a", 9_990) + "-strap"
	wearsLongID := func(c *config.Config) {
		c.Participants[0].Devices = append(c.Participants[0].Devices, longID)
	}
	// The discovery sync at connect warns about every configured device id it slugs.
	r := startBridgeWith(t, mosq.URL(), t.TempDir(), wearsLongID, logTo(logs, slog.LevelWarn))
	eventually(t, "the slug warning", func() bool {
		return strings.Contains(logs.String(), "discovery id slugged")
	})
	r.stop()

	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "discovery id slugged") {
			line = l
		}
	}
	if len(line) > 300 {
		t.Errorf("slug warning is %d bytes long, want the id cut short", len(line))
	}
	if !strings.Contains(line, "id="+strings.Repeat("a", 64)+"...") {
		t.Errorf("slug warning %q, want the id cut to 64 bytes and marked with ...", line)
	}
}
