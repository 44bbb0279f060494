package reliability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Bounds of the waits for the child process. A race-enabled build starts
// and runs several times slower than a plain one.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	waitTimeout  = 20 * time.Second
	pollInterval = 25 * time.Millisecond
)

// yamlConfig is a fitbridge configuration file as nested maps.
type yamlConfig map[string]any

// set sets the value at a dotted key path such as session.coin_interval.
func (c yamlConfig) set(path string, value any) {
	keys := strings.Split(path, ".")
	m := map[string]any(c)
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

// baseConfig returns the configuration of most tests: participant alex with
// strap 10001, the punching bag sensor zigbee2mqtt/bag, topics under gym/,
// 1 s coin windows and checkpoints, and an HTTP server on a free port.
func baseConfig(brokerURL, dataDir string) yamlConfig {
	c := yamlConfig{}
	c.set("broker.url", brokerURL)
	c.set("broker.client_id", "fitbridge-gym")
	c.set("instance_id", "gym")
	c.set("base_topic", "gym")
	c.set("http.listen", "127.0.0.1:0")
	c.set("data_dir", dataDir)
	c.set("participants", []map[string]any{
		{"id": "alex", "name": "Alex", "devices": []string{"10001"}},
	})
	c.set("equipment", []map[string]any{
		{"id": "bag", "name": "Bag", "topic": "zigbee2mqtt/bag"},
	})
	c.set("session.coin_interval", "1s")
	c.set("session.checkpoint_interval", "1s")
	return c
}

// process is one fitbridge child process.
type process struct {
	t        *testing.T
	cmd      *exec.Cmd
	logs     *logLines
	httpAddr string
	exited   chan struct{}
	waitErr  error
	// DataDir is the configured data folder.
	DataDir string
}

// startOptions change how startProcess runs fitbridge.
type startOptions struct {
	// env is added to a minimal environment.
	env []string
	// args come after "run --config FILE".
	args []string
	// noWaitHTTP returns before the HTTP server listens, for a process that
	// is expected to fail at start.
	noWaitHTTP bool
}

// startProcess writes cfg to a file and runs "fitbridge run" with it. It
// returns once the HTTP server listens. A cleanup kills the process if it
// still runs, fails t if the race detector reported anything, and prints
// the log when t failed.
func startProcess(t *testing.T, cfg yamlConfig, opts startOptions) *process {
	t.Helper()
	data, err := yaml.Marshal(map[string]any(cfg))
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(t.TempDir(), "fitbridge.yaml")
	if err := os.WriteFile(confPath, data, 0o600); err != nil {
		t.Fatal(err)
	}

	args := append([]string{"--log-level", "debug", "run", "--config", confPath}, opts.args...)
	cmd := exec.Command(binary(t), args...)
	// A minimal environment keeps FITBRIDGE_* variables of the machine out.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"GORACE=halt_on_error=0"}, opts.env...)
	p := &process{t: t, cmd: cmd, logs: &logLines{}, exited: make(chan struct{})}
	if dir, ok := cfg["data_dir"].(string); ok {
		p.DataDir = dir
	}
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start fitbridge: %v", err)
	}

	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.cleanup)

	if !opts.noWaitHTTP {
		line := p.waitLog("http listening", 1, startTimeout)
		m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no address in %q", line)
		}
		p.httpAddr = m[1]
	}
	return p
}

func (p *process) cleanup() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if strings.Contains(p.logs.String(), "WARNING: DATA RACE") {
		p.t.Error("the race detector reported a data race in fitbridge")
	}
	if p.t.Failed() {
		p.t.Logf("fitbridge pid %d output:\n%s", p.cmd.Process.Pid, p.logs.tail(64<<10))
	}
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (p *process) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("send %v to fitbridge: %v", sig, err)
	}
}

// wait waits up to limit for the process to exit and returns its exit code,
// or -1 and false when it still runs.
func (p *process) wait(limit time.Duration) (int, bool) {
	select {
	case <-p.exited:
	case <-time.After(limit):
		return -1, false
	}
	var exitErr *exec.ExitError
	if errors.As(p.waitErr, &exitErr) {
		return exitErr.ExitCode(), true
	}
	if p.waitErr != nil {
		return -1, true
	}
	return 0, true
}

// waitLog waits until at least n log lines contain substr and returns the
// n-th. It fails the test after limit or when the process exits first.
func (p *process) waitLog(substr string, n int, limit time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if found := p.logs.matching(substr); len(found) >= n {
			return found[n-1]
		}
		if !p.running() {
			if found := p.logs.matching(substr); len(found) >= n {
				return found[n-1]
			}
			p.t.Fatalf("fitbridge exited (%v) before logging %q %d times", p.waitErr, substr, n)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("fitbridge did not log %q %d times within %v", substr, n, limit)
		}
		time.Sleep(pollInterval)
	}
}

// url returns the address of path on the process's HTTP server.
func (p *process) url(path string) string {
	return "http://" + p.httpAddr + path
}

// httpClient bounds every request of the tests.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// get requests path and returns the status code and body.
func (p *process) get(path string, header ...string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.url(path), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// waitStatus polls path until it returns status, for up to limit.
func (p *process) waitStatus(path string, status int, limit time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, body := p.get(path)
		if got == status {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("GET %s = %d %q after %v, want %d", path, got, body, limit, status)
		}
		time.Sleep(pollInterval)
	}
}

// metrics scrapes /metrics and returns every sample by its series text,
// such as fitbridge_readings_invalid_total{reason="too_large"}.
func (p *process) metrics() map[string]float64 {
	p.t.Helper()
	status, body := p.get("/metrics")
	if status != http.StatusOK {
		p.t.Fatalf("GET /metrics = %d", status)
	}
	samples := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			p.t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:cut]] = v
	}
	return samples
}

// metric returns one series of metrics, 0 when it is absent.
func (p *process) metric(series string) float64 {
	p.t.Helper()
	return p.metrics()[series]
}

// liveSession is the part of GET /api/v1/session that the tests read.
type liveSession struct {
	Session *struct {
		ID           string `json:"id"`
		Running      bool   `json:"running"`
		Participants []struct {
			ID     string  `json:"id"`
			Status *string `json:"status"`
			Coins  int     `json:"coins"`
		} `json:"participants"`
	} `json:"session"`
}

// session returns the current session from the chart API.
func (p *process) session(header ...string) liveSession {
	p.t.Helper()
	status, body := p.get("/api/v1/session", header...)
	if status != http.StatusOK {
		p.t.Fatalf("GET /api/v1/session = %d %q", status, body)
	}
	var s liveSession
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		p.t.Fatalf("decode /api/v1/session %q: %v", body, err)
	}
	return s
}

// coins returns participant's coins in the running session and the session
// id, or -1 and "" while no session runs or the participant is not on it.
func (p *process) coins(participant string) (int, string) {
	p.t.Helper()
	s := p.session()
	if s.Session == nil || !s.Session.Running {
		return -1, ""
	}
	for _, pt := range s.Session.Participants {
		if pt.ID == participant {
			return pt.Coins, s.Session.ID
		}
	}
	return -1, s.Session.ID
}

// waitCoins waits until participant has at least n coins in a running
// session and returns the coins and the session id.
func (p *process) waitCoins(participant string, n int, limit time.Duration) (int, string) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		coins, id := p.coins(participant)
		if coins >= n {
			return coins, id
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s has %d coins after %v, want at least %d", participant, coins, limit, n)
		}
		time.Sleep(pollInterval)
	}
}

// logLines collects the output of a process and finds lines in it.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	lines   []string
}

func (l *logLines) Write(data []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(data)
	l.partial = append(l.partial, data...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(data), nil
}

// String returns everything written so far.
func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// matching returns the complete lines that contain substr, in order.
func (l *logLines) matching(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			found = append(found, line)
		}
	}
	return found
}

// index returns the position of the first line containing substr, or -1.
func (l *logLines) index(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range l.lines {
		if strings.Contains(line, substr) {
			return i
		}
	}
	return -1
}

// tail returns at most n bytes from the end of the output.
func (l *logLines) tail(n int) string {
	s := l.String()
	if len(s) > n {
		return fmt.Sprintf("[... %d bytes before]\n%s", len(s)-n, s[len(s)-n:])
	}
	return s
}
