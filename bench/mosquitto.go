package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// brokerReadyTimeout bounds the wait for a new mosquitto to accept TCP.
const brokerReadyTimeout = 10 * time.Second

// Broker is a mosquitto process started by StartBroker.
type Broker struct {
	cmd    *exec.Cmd
	exited chan struct{}
	port   int
	// StartTime is the time from exec to the first accepted TCP connection.
	StartTime time.Duration
}

// StartBroker runs mosquitto on a free 127.0.0.1 port with persistence off
// and no queue limits, writing its configuration and log into dir. It
// returns once the broker accepts TCP connections.
func StartBroker(dir string) (*Broker, error) {
	binary, err := findMosquitto()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\n", port) +
		"persistence false\n" +
		"allow_anonymous true\n" +
		// No per-client cap on queued messages, so a slow subscriber costs
		// broker memory instead of lost messages.
		"max_queued_messages 0\n" +
		"max_queued_bytes 0\n" +
		"set_tcp_nodelay true\n" +
		"log_dest stderr\n"
	if os.Geteuid() == 0 {
		// mosquitto otherwise switches to its own user, which cannot read dir.
		text += "user root\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("write broker config: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "mosquitto.log"))
	if err != nil {
		return nil, fmt.Errorf("create broker log: %w", err)
	}
	defer logFile.Close()

	began := time.Now()
	cmd := exec.Command(binary, "-c", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", binary, err)
	}
	b := &Broker{cmd: cmd, exited: make(chan struct{}), port: port}
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	if err := waitTCP(b.Addr(), b.exited, brokerReadyTimeout); err != nil {
		b.Close()
		return nil, fmt.Errorf("mosquitto on port %d: %w (log: %s)", port, err, logFile.Name())
	}
	b.StartTime = time.Since(began)
	return b, nil
}

// Addr returns the broker's host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// URL returns the broker address as mqtt://127.0.0.1:port.
func (b *Broker) URL() string { return "mqtt://" + b.Addr() }

// Close stops the broker with SIGTERM, or SIGKILL after 5 s, and waits for it.
func (b *Broker) Close() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

// waitTCP polls addr until a connection succeeds, exited is closed or
// timeout passes.
func waitTCP(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-exited:
			return errors.New("process exited during start-up")
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no TCP connection on %s within %v: %w", addr, timeout, err)
		}
	}
}

// findMosquitto returns the broker binary; Debian installs it in /usr/sbin,
// which a non-root PATH often lacks.
func findMosquitto() (string, error) {
	if path, err := exec.LookPath("mosquitto"); err == nil {
		return path, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", errors.New("mosquitto not found on PATH or in /usr/sbin; " +
		"install it with: apt-get install mosquitto")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
