// Package testbroker runs a real mosquitto broker for tests, on a free
// loopback port with a throwaway configuration, and finds the shared test data.
package testbroker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for broker start-up and shutdown. They bound the wait, so a broken
// broker fails the test instead of hanging it.
const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
	// logTailBytes is how much of the end of the broker log a failed test prints.
	logTailBytes = 64 << 10
	// portAttempts is how often Start picks a new free port when mosquitto
	// exits at start-up, for example because another process took the port.
	portAttempts = 3
)

// Mosquitto is one mosquitto process started by Start. Its methods may be
// called from the test goroutine and from cleanup functions.
type Mosquitto struct {
	t       testing.TB
	binary  string
	dir     string
	conf    string
	logPath string
	port    int
	user    string
	pass    string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited and been waited for
	logFile *os.File
	starts  int
}

// Option changes how Start configures the broker.
type Option func(*Mosquitto)

// WithPassword makes the broker reject anonymous clients and accept only
// this username and password.
func WithPassword(username, password string) Option {
	return func(m *Mosquitto) {
		m.user = username
		m.pass = password
	}
}

// Start launches mosquitto on a free 127.0.0.1 port and returns once it
// accepts TCP connections. A cleanup registered on t stops it and waits for
// the process to exit. When t has failed, the cleanup also prints the broker
// log. Start fails t when mosquitto is not installed or does not start.
func Start(t testing.TB, options ...Option) *Mosquitto {
	t.Helper()
	binary, err := findMosquitto()
	if err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{t: t, binary: binary, dir: t.TempDir()}
	for _, apply := range options {
		apply(m)
	}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	m.logPath = filepath.Join(m.dir, "mosquitto.log")

	// Registered first so that it runs last, after the broker has stopped
	// and written its final lines.
	t.Cleanup(m.printLogOnFailure)
	t.Cleanup(m.Stop)

	if m.user != "" {
		if err := m.writePasswordFile(); err != nil {
			t.Fatal(err)
		}
	}

	var lastErr error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		m.port = port
		if err := m.writeConfig(); err != nil {
			t.Fatal(err)
		}
		if lastErr = m.launch(); lastErr == nil {
			return m
		}
	}
	t.Fatalf("mosquitto did not start after %d ports: %v (log: %s)", portAttempts, lastErr, m.logPath)
	return nil
}

// URL returns the broker address in the form mqtt://127.0.0.1:port.
func (m *Mosquitto) URL() string {
	return "mqtt://" + m.Addr()
}

// Addr returns the broker's host:port.
func (m *Mosquitto) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port))
}

// LogPath returns the file that receives the broker's log.
func (m *Mosquitto) LogPath() string {
	return m.logPath
}

// Stop terminates the broker with SIGTERM and waits for it to exit, killing
// it if it does not exit within the stop timeout. Stopping a stopped broker
// does nothing.
func (m *Mosquitto) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(stopTimeout):
		m.t.Errorf("mosquitto pid %d did not exit %v after SIGTERM, killing it",
			m.cmd.Process.Pid, stopTimeout)
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	m.cmd = nil
	_ = m.logFile.Close()
	m.logFile = nil
}

// Start starts the broker again on the same port and configuration after
// Stop, for tests of clients that must survive a broker restart. Clients see
// a new broker: persistence is off, so sessions and retained messages are gone.
// Start fails the test if the broker is running or does not come up.
func (m *Mosquitto) Start() {
	m.t.Helper()
	m.mu.Lock()
	running := m.cmd != nil
	m.mu.Unlock()
	if running {
		m.t.Fatal("mosquitto is already running, so call Stop before Start")
	}
	if err := m.launch(); err != nil {
		m.t.Fatalf("restart mosquitto on port %d: %v (log: %s)", m.port, err, m.logPath)
	}
}

// launch starts the process and waits until it accepts TCP connections.
func (m *Mosquitto) launch() error {
	m.mu.Lock()
	defer m.mu.Unlock()

	logFile, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open broker log: %w", err)
	}
	m.starts++
	fmt.Fprintf(logFile, "--- fitbridge testbroker: start %d on port %d ---\n", m.starts, m.port)

	cmd := exec.Command(m.binary, "-c", m.conf)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("run %s: %w", m.binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	if err := waitAccepting(m.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		_ = logFile.Close()
		return err
	}
	m.cmd = cmd
	m.exited = exited
	m.logFile = logFile
	return nil
}

// waitAccepting polls addr until a TCP connect succeeds, the process exits,
// or readyTimeout passes.
func waitAccepting(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("mosquitto exited during start-up")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mosquitto did not accept connections on %s within %v: %w",
				addr, readyTimeout, err)
		}
	}
}

// writeConfig writes the broker configuration for the current port.
//
// The limits are chosen so that a fast replay to one subscriber loses nothing
// (mosquitto 2.0.11, see mosquitto.conf(5)):
//   - max_queued_messages 0 removes the per-client cap on QoS 1/2 messages
//     queued beyond the in-flight window. With the default of 1000, mosquitto
//     drops the rest and logs "Outgoing messages are being dropped":
//     TestStalledSubscriberKeepsAll then receives 1020 of 5000 messages
//     (20 in flight plus 1000 queued). QoS 0 messages to a connected
//     subscriber were not dropped in that test even with the default.
//   - max_queued_bytes and max_inflight_bytes are 0 (no limit), as by
//     default; they are written out so the whole policy is in one place.
//   - max_inflight_messages stays at its default of 20 unacknowledged QoS 1/2
//     messages per client. A publisher waits for a free slot and a
//     subscriber's further messages are queued, so it drops nothing itself.
//
// set_tcp_nodelay avoids Nagle delays in the publish and acknowledgement
// exchanges.
func (m *Mosquitto) writeConfig() error {
	var b strings.Builder
	fmt.Fprintf(&b, "listener %d 127.0.0.1\n", m.port)
	b.WriteString("persistence false\n")
	b.WriteString("max_queued_messages 0\n")
	b.WriteString("max_queued_bytes 0\n")
	b.WriteString("max_inflight_bytes 0\n")
	b.WriteString("set_tcp_nodelay true\n")
	b.WriteString("log_dest stderr\n")
	b.WriteString("log_timestamp_format %Y-%m-%dT%H:%M:%S\n")
	// When run as root, mosquitto otherwise switches to the "mosquitto" user,
	// which cannot read files in the test's temporary folder.
	if os.Geteuid() == 0 {
		b.WriteString("user root\n")
	}
	if m.user != "" {
		b.WriteString("allow_anonymous false\n")
		fmt.Fprintf(&b, "password_file %s\n", filepath.Join(m.dir, "passwords"))
	} else {
		b.WriteString("allow_anonymous true\n")
	}
	return os.WriteFile(m.conf, []byte(b.String()), 0o644)
}

// writePasswordFile creates the hashed password file with mosquitto_passwd,
// which ships in the same Debian package as the broker.
func (m *Mosquitto) writePasswordFile() error {
	tool := "/usr/bin/mosquitto_passwd"
	if path, err := exec.LookPath("mosquitto_passwd"); err == nil {
		tool = path
	}
	path := filepath.Join(m.dir, "passwords")
	out, err := exec.Command(tool, "-b", "-c", path, m.user, m.pass).CombinedOutput()
	if err != nil {
		return fmt.Errorf("create password file with %s: %v: %s", tool, err, out)
	}
	return nil
}

// printLogOnFailure shows the end of the broker log when the test failed.
func (m *Mosquitto) printLogOnFailure() {
	if !m.t.Failed() {
		return
	}
	data, err := os.ReadFile(m.logPath)
	if err != nil {
		m.t.Logf("mosquitto log %s: %v", m.logPath, err)
		return
	}
	if len(data) > logTailBytes {
		data = data[len(data)-logTailBytes:]
	}
	m.t.Logf("mosquitto log %s (last %d bytes):\n%s", m.logPath, len(data), data)
}

// findMosquitto returns the broker binary, which Debian installs in /usr/sbin,
// a folder that is often missing from a non-root PATH.
func findMosquitto() (string, error) {
	if path, err := exec.LookPath("mosquitto"); err == nil {
		return path, nil
	}
	for _, path := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if info, err := os.Stat(path); err == nil && !info.IsDir() {
			return path, nil
		}
	}
	return "", errors.New("mosquitto not found on PATH or in /usr/sbin. " +
		"Install it with: apt-get install mosquitto")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before mosquitto binds it, so Start retries on failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
