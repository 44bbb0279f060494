package reliability

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// exitLimit is the longest time fitbridge may take from a stop signal to
// its exit.
const exitLimit = 5 * time.Second

// TestStopSignals stops a running session with SIGTERM and with SIGINT.
// fitbridge must log each step of its shutdown in order, write a final
// checkpoint, publish offline, close chart clients with 1001 (going away)
// and exit 0 within 5 s. A restart then resumes the same session.
func TestStopSignals(t *testing.T) {
	for _, tc := range []struct {
		sig    syscall.Signal
		reason string
	}{
		{syscall.SIGTERM, "terminated signal received"},
		{syscall.SIGINT, "interrupt signal received"},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			mosq := testbroker.Start(t)
			cfg := baseConfig(mosq.URL(), t.TempDir())
			p := startProcess(t, cfg, startOptions{})
			p.waitStatus("/readyz", http.StatusOK, waitTimeout)
			ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
				filters: []string{"gym/bridge/availability"}})
			relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
			startStrap(t, relay, "10001", 130, 250*time.Millisecond)
			chart := dialChart(t, "ws://"+p.httpAddr+"/ws")
			coins, sessionID := p.waitCoins("alex", 6, waitTimeout)
			ha.waitLast("gym/bridge/availability", "online", waitTimeout)

			sentAt := time.Now()
			p.signal(tc.sig)
			code, exited := p.wait(exitLimit)
			if !exited {
				t.Fatalf("fitbridge still runs %v after %v", exitLimit, tc.sig)
			}
			if code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			t.Logf("exited %v after %v", time.Since(sentAt).Round(time.Millisecond), tc.sig)

			steps := []string{
				`msg="shutting down" reason="` + tc.reason + `"`,
				`msg="final checkpoint written" running=true`,
				`msg="mqtt disconnected"`,
				`msg="chart clients closed" close_code=1001`,
				`msg="http server stopped"`,
				`msg="fitbridge stopped"`,
			}
			last := -1
			for _, step := range steps {
				i := p.logs.index(step)
				if i < 0 {
					t.Errorf("no log line with %s", step)
					continue
				}
				if i < last {
					t.Errorf("log line with %s comes before the previous step", step)
				}
				last = i
			}

			if code, reason := chart.closed(t, waitTimeout); code != websocket.CloseGoingAway {
				t.Errorf("chart client closed with %d %q, want %d", code, reason,
					websocket.CloseGoingAway)
			}
			ha.waitLast("gym/bridge/availability", "offline", waitTimeout)

			cp := readCheckpoint(t, p.DataDir)
			if !cp.WrittenAt.After(sentAt) {
				t.Errorf("checkpoint written at %v, before the signal at %v", cp.WrittenAt, sentAt)
			}
			cpCoins, cpSession := checkpointCoins(cp, "alex")
			if cpSession != sessionID || cpCoins < coins {
				t.Errorf("checkpoint has session %q with %d coins, want %q with at least %d",
					cpSession, cpCoins, sessionID, coins)
			}

			restarted := startProcess(t, cfg, startOptions{})
			line := restarted.waitLog("restored from checkpoint", 1, waitTimeout)
			if !strings.Contains(line, "session_id="+sessionID) {
				t.Errorf("restart log %q does not name session %s", line, sessionID)
			}
			restarted.waitCoins("alex", cpCoins+4, waitTimeout)
			if _, id := restarted.coins("alex"); id != sessionID {
				t.Errorf("session after the restart = %q, want %q", id, sessionID)
			}
		})
	}
}

// TestKillResumesFromCheckpoint kills fitbridge with SIGKILL mid-session.
// The broker must publish the last will (offline), and a restart must
// resume the same session from the checkpoint with its coins.
func TestKillResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	cfg := baseConfig(mosq.URL(), t.TempDir())
	p := startProcess(t, cfg, startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		filters: []string{"gym/bridge/availability"}})
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay"})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	ha.waitLast("gym/bridge/availability", "online", waitTimeout)
	_, sessionID := p.waitCoins("alex", 8, waitTimeout)
	waitCheckpointCoins(t, p.DataDir, "alex", 8)

	live, _ := p.coins("alex")
	p.signal(syscall.SIGKILL)
	if _, exited := p.wait(stopTimeout); !exited {
		t.Fatal("fitbridge survived SIGKILL")
	}
	cp := readCheckpoint(t, p.DataDir)
	cpCoins, cpSession := checkpointCoins(cp, "alex")
	if cpSession != sessionID {
		t.Fatalf("checkpoint of session %q, want %q", cpSession, sessionID)
	}
	t.Logf("coins: %d live before the kill, %d in the last checkpoint", live, cpCoins)
	ha.waitLast("gym/bridge/availability", "offline", waitTimeout)

	restarted := startProcess(t, cfg, startOptions{})
	line := restarted.waitLog("restored from checkpoint", 1, waitTimeout)
	if !strings.Contains(line, "session_id="+sessionID) {
		t.Errorf("restart log %q does not name session %s", line, sessionID)
	}
	ha.waitLast("gym/bridge/availability", "online", waitTimeout)
	resumed, id := restarted.waitCoins("alex", cpCoins, waitTimeout)
	if id != sessionID {
		t.Errorf("session after the restart = %q, want %q", id, sessionID)
	}
	if resumed < cpCoins {
		t.Errorf("%d coins after the restart, fewer than the %d checkpointed", resumed, cpCoins)
	}
	restarted.waitCoins("alex", live+6, waitTimeout)

	restarted.signal(syscall.SIGTERM)
	if code, ok := restarted.wait(stopTimeout); !ok || code != 0 {
		t.Fatalf("restarted fitbridge: exit code %d (exited: %v), want 0", code, ok)
	}
	ticks := readTimeline(t, restarted.DataDir, sessionID)
	// The windows between the last checkpoint and the restart are closed
	// again after the restart; they pay only for the samples they saw.
	checkCoinsFollowSamples(t, ticks, "alex", warmCoins)
}

// readCheckpoint reads checkpoint.json from dataDir.
func readCheckpoint(t *testing.T, dataDir string) store.Checkpoint {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "checkpoint.json"))
	if err != nil {
		t.Fatalf("read checkpoint: %v", err)
	}
	var cp store.Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		t.Fatalf("decode checkpoint: %v", err)
	}
	return cp
}

// checkpointCoins returns participant's coins and the session id in a
// checkpoint, or -1 and "" without a running session.
func checkpointCoins(cp store.Checkpoint, participant string) (int, string) {
	s := cp.State.Session
	if s == nil {
		return -1, ""
	}
	for _, r := range s.Roster {
		if r.ID == participant {
			return r.Coins, s.ID
		}
	}
	return -1, s.ID
}

// waitCheckpointCoins waits until the checkpoint on disk gives participant
// at least n coins.
func waitCheckpointCoins(t *testing.T, dataDir, participant string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		data, err := os.ReadFile(filepath.Join(dataDir, "checkpoint.json"))
		if err == nil {
			var cp store.Checkpoint
			if json.Unmarshal(data, &cp) == nil {
				if coins, _ := checkpointCoins(cp, participant); coins >= n {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint with %d coins for %s within %v", n, participant, waitTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// chartClient reads a chart feed connection until it closes.
type chartClient struct {
	conn *websocket.Conn
	done chan struct{}
	err  error
}

func dialChart(t *testing.T, url string) *chartClient {
	t.Helper()
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := dialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	c := &chartClient{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				c.err = err
				return
			}
		}
	}()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			conn.Close()
			<-c.done
		})
	})
	return c
}

// closed waits for the connection to end and returns the close code and
// reason the server sent, or -1 when it ended without a close frame.
func (c *chartClient) closed(t *testing.T, limit time.Duration) (int, string) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		t.Fatalf("chart connection still open after %v", limit)
	}
	var closeErr *websocket.CloseError
	if errors.As(c.err, &closeErr) {
		return closeErr.Code, closeErr.Text
	}
	return -1, c.err.Error()
}

// TestStopWithBrokerDown stops fitbridge while the broker is down: it must not wait for a
// connection to publish its last states, and exit 0 within the limit.
func TestStopWithBrokerDown(t *testing.T) {
	t.Parallel()
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()), startOptions{})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	mosq.Stop()
	p.waitLog("mqtt connection lost", 1, waitTimeout)

	p.signal(syscall.SIGTERM)
	code, exited := p.wait(exitLimit)
	if !exited {
		t.Fatalf("fitbridge still runs %v after SIGTERM with the broker down", exitLimit)
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	p.waitLog("broker not connected at shutdown", 1, waitTimeout)
}
