package testbroker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StartWithConfig launches mosquitto like Start, with the text that extra
// returns appended to the configuration after the plain listener on Addr and
// the base settings. Start's allow_anonymous and password lines are left
// out, so extra must set the authentication (allow_anonymous, password_file,
// acl_file). extra may open further listeners on ports from FreePort. Start
// calls it again for each new attempt, so the ports of its last call are
// the ones in use. Stop, Start, Addr, URL and the log work as for Start.
func StartWithConfig(t testing.TB, extra func() string) *Mosquitto {
	t.Helper()
	binary, err := findMosquitto()
	if err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{t: t, binary: binary, dir: t.TempDir()}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	m.logPath = filepath.Join(m.dir, "mosquitto.log")
	t.Cleanup(m.printLogOnFailure)
	t.Cleanup(m.Stop)

	var lastErr error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		m.port = port
		conf := baseConfig(port) + strings.TrimSpace(extra()) + "\n"
		if err := os.WriteFile(m.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if lastErr = m.launch(); lastErr == nil {
			return m
		}
	}
	t.Fatalf("mosquitto did not start after %d ports: %v (log: %s)", portAttempts, lastErr, m.logPath)
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	return freePort()
}

// baseConfig returns the listener and the settings that every test broker
// shares; Mosquitto.writeConfig explains the limits.
func baseConfig(port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listener %d 127.0.0.1\n", port)
	b.WriteString("persistence false\n")
	b.WriteString("max_queued_messages 0\n")
	b.WriteString("max_queued_bytes 0\n")
	b.WriteString("max_inflight_bytes 0\n")
	b.WriteString("set_tcp_nodelay true\n")
	b.WriteString("log_dest stderr\n")
	b.WriteString("log_timestamp_format %Y-%m-%dT%H:%M:%S\n")
	if os.Geteuid() == 0 {
		b.WriteString("user root\n")
	}
	return b.String()
}

// WritePasswordFile writes a mosquitto password file at path with the
// hashed password of every user, using mosquitto_passwd.
func WritePasswordFile(path string, users map[string]string) error {
	tool := "/usr/bin/mosquitto_passwd"
	if found, err := exec.LookPath("mosquitto_passwd"); err == nil {
		tool = found
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return fmt.Errorf("create password file: %w", err)
	}
	for user, password := range users {
		out, err := exec.Command(tool, "-b", path, user, password).CombinedOutput()
		if err != nil {
			return fmt.Errorf("add %s to password file with %s: %v: %s", user, tool, err, out)
		}
	}
	return nil
}
