package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// TestCredentialsNeverLogged connects with the password from each place
// fitbridge takes it, at debug level, through a broker restart and a
// shutdown. The password must not appear in the output.
func TestCredentialsNeverLogged(t *testing.T) {
	t.Parallel()
	const password = "pw-Zebra-Quartz-1984"
	mosq := testbroker.Start(t, testbroker.WithPassword("fitbridge", password))
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	brokerAddr := strings.TrimPrefix(mosq.URL(), "mqtt://")
	cases := []struct {
		name string
		set  func(c yamlConfig)
		env  []string
	}{
		{"environment", func(c yamlConfig) { c.set("broker.username", "fitbridge") },
			[]string{"FITBRIDGE_BROKER_PASSWORD=" + password}},
		{"password file", func(c yamlConfig) {
			c.set("broker.username", "fitbridge")
			c.set("broker.password_file", passwordFile)
		}, nil},
		{"url", func(c yamlConfig) {
			c.set("broker.url", "mqtt://fitbridge:"+password+"@"+brokerAddr)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(mosq.URL(), t.TempDir())
			tc.set(cfg)
			p := startProcess(t, cfg, startOptions{env: tc.env})
			p.waitStatus("/readyz", http.StatusOK, waitTimeout)
			p.signal(syscall.SIGTERM)
			if code, ok := p.wait(stopTimeout); !ok || code != 0 {
				t.Errorf("exit code %d (exited: %v), want 0", code, ok)
			}
			if strings.Contains(p.logs.String(), password) {
				t.Error("the output contains the password")
			}
		})
	}

	t.Run("refused and retried", func(t *testing.T) {
		cfg := baseConfig("mqtt://fitbridge:"+password+"-wrong@"+brokerAddr, t.TempDir())
		p := startProcess(t, cfg, startOptions{})
		p.waitLog("mqtt connection refused by broker", 2, waitTimeout)
		p.signal(syscall.SIGTERM)
		p.wait(stopTimeout)
		if strings.Contains(p.logs.String(), password) {
			t.Error("the output contains the password")
		}
	})

	t.Run("invalid url", func(t *testing.T) {
		cfg := baseConfig("mqtt://fitbridge:"+password+"@"+brokerAddr+"0000", t.TempDir())
		p := startProcess(t, cfg, startOptions{noWaitHTTP: true})
		if code, ok := p.wait(startTimeout); !ok || code != 1 {
			t.Errorf("exit code %d (exited: %v), want 1", code, ok)
		}
		out := p.logs.String()
		if !strings.Contains(out, "broker.url") {
			t.Errorf("output %q does not name broker.url", out)
		}
		if strings.Contains(out, password) {
			t.Error("the output contains the password")
		}
	})
}

// TestHTTPAccessControl checks the bearer token of the chart feed and the
// API, the Origin check of the feed, and the header size limit, on a real
// fitbridge process.
func TestHTTPAccessControl(t *testing.T) {
	t.Parallel()
	const token = "tok-7c1e0d9b4a2f8e6d"
	mosq := testbroker.Start(t)
	p := startProcess(t, baseConfig(mosq.URL(), t.TempDir()),
		startOptions{env: []string{"FITBRIDGE_HTTP_TOKEN=" + token}})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)

	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", []string{"Authorization", "Bearer tok-0000000000000000"},
			http.StatusUnauthorized},
		{"token as basic", []string{"Authorization", "Basic " + token}, http.StatusUnauthorized},
		{"token prefix", []string{"Authorization", "Bearer " + token[:10]},
			http.StatusUnauthorized},
		{"right token", []string{"Authorization", "Bearer " + token}, http.StatusOK},
	} {
		if status, _ := p.get("/api/v1/session", tc.header...); status != tc.want {
			t.Errorf("API with %s: status %d, want %d", tc.name, status, tc.want)
		}
	}
	for _, path := range []string{"/", "/healthz", "/readyz", "/metrics"} {
		if status, _ := p.get(path); status != http.StatusOK {
			t.Errorf("GET %s without a token: status %d, want 200", path, status)
		}
	}

	feed := "ws://" + p.httpAddr + "/ws"
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no token", http.Header{}, http.StatusUnauthorized},
		{"foreign origin", http.Header{"Authorization": {"Bearer " + token},
			"Origin": {"http://evil.example"}}, http.StatusForbidden},
		{"right token", http.Header{"Authorization": {"Bearer " + token}},
			http.StatusSwitchingProtocols},
		{"right token, same origin", http.Header{"Authorization": {"Bearer " + token},
			"Origin": {"http://" + p.httpAddr}}, http.StatusSwitchingProtocols},
	} {
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		conn, resp, err := dialer.Dial(feed, tc.header)
		if conn != nil {
			conn.Close()
		}
		if resp == nil {
			t.Errorf("feed with %s: no response: %v", tc.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("feed with %s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}

	status, _ := p.get("/healthz", "X-Padding", strings.Repeat("a", 64<<10))
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB header: status %d, want 431", status)
	}
	if strings.Contains(p.logs.String(), token) {
		t.Error("the output contains the token")
	}
}

// TestBrokerACLExample runs mosquitto with the example configuration and
// ACL file from deploy/mosquitto/, with only its paths and ports replaced.
// fitbridge must work through it over TLS, and the other users must be
// kept to their topics.
func TestBrokerACLExample(t *testing.T) {
	t.Parallel()
	root, err := testbroker.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "deploy", "mosquitto", "fitbridge.conf"))
	if err != nil {
		t.Fatal(err)
	}
	pki := testbroker.NewPKI(t, "gym CA", "fitbridge")
	dir := t.TempDir()
	passwords := map[string]string{"fitbridge": "pw-fitbridge-1", "hr-relay": "pw-relay-2",
		"homeassistant": "pw-ha-3", "zigbee2mqtt": "pw-z2m-4"}
	passwordFile := filepath.Join(dir, "passwd")
	if err := testbroker.WritePasswordFile(passwordFile, passwords); err != nil {
		t.Fatal(err)
	}

	var tlsPort int
	mosq := testbroker.StartWithConfig(t, func() string {
		port, err := testbroker.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		tlsPort = port
		// The test broker's own listener on loopback replaces the example's
		// port 1883.
		replacements := []string{
			"listener 1883 127.0.0.1\n", "",
			"listener 8883\n", fmt.Sprintf("listener %d 127.0.0.1\n", port),
			"/etc/mosquitto/certs/ca.pem", pki.CAFile,
			"/etc/mosquitto/certs/server.pem", pki.ServerCertFile,
			"/etc/mosquitto/certs/server.key", pki.ServerKeyFile,
			"/etc/mosquitto/passwd", passwordFile,
			"/etc/mosquitto/fitbridge.acl",
			filepath.Join(root, "deploy", "mosquitto", "fitbridge.acl"),
		}
		for i := 0; i < len(replacements); i += 2 {
			if !strings.Contains(string(example), replacements[i]) {
				t.Fatalf("the example configuration has no %q", replacements[i])
			}
		}
		return strings.NewReplacer(replacements...).Replace(string(example))
	})
	tlsURL := fmt.Sprintf("mqtts://127.0.0.1:%d", tlsPort)

	cfg := baseConfig(tlsURL, t.TempDir())
	cfg.set("instance_id", "fitbridge")
	cfg.set("base_topic", "fitbridge")
	cfg.set("broker.client_id", "fitbridge")
	cfg.set("broker.username", "fitbridge")
	cfg.set("broker.ca_file", pki.CAFile)
	cfg.set("broker.cert_file", pki.ClientCertFile)
	cfg.set("broker.key_file", pki.ClientKeyFile)
	p := startProcess(t, cfg, startOptions{
		env: []string{"FITBRIDGE_BROKER_PASSWORD=" + passwords["fitbridge"]}})
	p.waitStatus("/readyz", http.StatusOK, waitTimeout)
	if n := len(p.logs.matching("subscribe failed")); n != 0 {
		t.Errorf("%d subscriptions failed: the ACL denies fitbridge a topic it reads", n)
	}

	ha := connectClient(t, mosq.URL(), clientOptions{id: "home-assistant",
		username: "homeassistant", password: passwords["homeassistant"],
		filters: []string{"fitbridge/#"}})
	ha.waitLast("fitbridge/bridge/availability", "online", waitTimeout)
	relay := connectClient(t, mosq.URL(), clientOptions{id: "relay", username: "hr-relay",
		password: passwords["hr-relay"]})
	startStrap(t, relay, "10001", 130, 250*time.Millisecond)
	_, sessionID := p.waitCoins("alex", 2, waitTimeout)

	// Every input reaches fitbridge through the ACL: mosquitto grants a
	// subscription that the ACL does not cover and then delivers nothing.
	z2m := connectClient(t, mosq.URL(), clientOptions{id: "zigbee2mqtt",
		username: "zigbee2mqtt", password: passwords["zigbee2mqtt"]})
	base := p.metrics()
	z2m.publish("zigbee2mqtt/bag", `{"battery":90}`, false)
	z2m.publish("zigbee2mqtt/bag/action", "vibration", false)
	ha.publish("homeassistant/status", "online", false)
	waitMetricDeltas(t, p, base, map[string]float64{
		`fitbridge_mqtt_messages_received_total{kind="vibration"}`: 2,
		`fitbridge_mqtt_messages_received_total{kind="ha_status"}`: 1,
	})

	// The relay may send heart rates only, and mosquitto rejects the rest.
	// The result of each publish does not matter, only that none of them
	// reaches fitbridge.
	base = p.metrics()
	_ = relay.tryPublish("fitbridge/session/set", []byte("end"), 1, false)
	_ = relay.tryPublish("fitbridge/device/10001/assign", []byte("guest"), 1, false)
	_ = relay.tryPublish("fitbridge/bridge/availability", []byte("offline"), 1, true)
	// Home Assistant's command arrives after the relay's, so once fitbridge
	// counted it, the relay's would have been counted too.
	ha.publish("fitbridge/session/set", "not-a-command", false)
	waitMetricDeltas(t, p, base, map[string]float64{invalidSeries("bad_command"): 1})
	commands := `fitbridge_mqtt_messages_received_total{kind="command"}`
	if got := p.metric(commands) - base[commands]; got != 1 {
		t.Errorf("fitbridge received %v commands, want only Home Assistant's", got)
	}
	if _, id := p.coins("alex"); id != sessionID {
		t.Errorf("session %q, want %q still running", id, sessionID)
	}
	if got, _ := ha.last("fitbridge/bridge/availability"); got != "online" {
		t.Errorf("availability %q, want online: the relay wrote fitbridge's topic", got)
	}

	// Clients without a user name get nowhere.
	anonymous := connectClient(t, mosq.URL(), clientOptions{id: "anonymous", noWait: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := anonymous.cm.AwaitConnection(ctx); err == nil {
		t.Error("an anonymous client connected")
	}

	// Home Assistant's session button works.
	ha.publish("fitbridge/session/set", "end", false)
	p.waitLog("session end requested", 1, waitTimeout)
}
