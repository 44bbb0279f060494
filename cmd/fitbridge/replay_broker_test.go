package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// replayTimeout bounds one replay command in these tests, so that a replay
// waiting forever for its broker fails the test instead of hanging it.
const replayTimeout = 30 * time.Second

// runReplay runs the fitbridge command line with args under replayTimeout
// and returns its output.
func runReplay(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	err = newApp(&out, &errOut).RunContext(ctx, append([]string{"fitbridge"}, args...))
	if ctx.Err() != nil {
		t.Fatalf("fitbridge %s did not finish within %s", strings.Join(args, " "), replayTimeout)
	}
	return out.String(), errOut.String(), err
}

// writeFile writes content to name in a new temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeHeartRateRecording writes a recording of n readings of one strap,
// one a second, and returns its path.
func writeHeartRateRecording(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"t_ms":%d,"topic":"fitness/hr/20001","payload":{"heart_rate":%d}}`+"\n",
			i*1000, 120+i)
	}
	return writeFile(t, "recording.jsonl", b.String())
}

// countMessages subscribes to filter as user and returns the number of
// messages received so far.
func countMessages(t *testing.T, brokerURL, user, password, filter string) *atomic.Int64 {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	var count atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ConnectUsername: user, ConnectPassword: []byte(password),
		ClientConfig: paho.ClientConfig{
			ClientID: "test-counter",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(paho.PublishReceived) (bool, error) {
					count.Add(1)
					return true, nil
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = cm.Disconnect(stopCtx)
		cancel()
		<-cm.Done()
	})
	waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
	defer waitCancel()
	if err := cm.AwaitConnection(waitCtx); err != nil {
		t.Fatalf("connect counting client: %v", err)
	}
	if _, err := cm.Subscribe(waitCtx, &paho.Subscribe{
		Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}},
	}); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return &count
}

// TestReplayBrokerCredentials replays through a mosquitto that accepts one
// user and password, given as broker.username with broker.password_file
// or as the user information of --broker. Every recorded message must reach
// a subscriber, and the password must not appear in the log.
func TestReplayBrokerCredentials(t *testing.T) {
	const user, password = "fitbridge", "right horse"
	const messages = 6
	mosq := testbroker.Start(t, testbroker.WithPassword(user, password))
	recording := writeHeartRateRecording(t, messages)
	withUserInfo := strings.Replace(mosq.URL(), "mqtt://",
		"mqtt://"+url.UserPassword(user, password).String()+"@", 1)

	cases := []struct {
		name   string
		config string
		broker string
	}{
		{"password file", "broker:\n  username: " + user + "\n  password_file: " +
			writeFile(t, "password", password+"\n") + "\n", mosq.URL()},
		{"url user info", "{}\n", withUserInfo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			received := countMessages(t, mosq.URL(), user, password, "fitness/hr/#")
			configPath := writeFile(t, "fitbridge.yaml", tc.config)
			_, stderr, err := runReplay(t, "--log-level", "info", "replay",
				"--config", configPath, "--broker", tc.broker, "--http=",
				"--data-dir", t.TempDir(), recording)
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, stderr)
			}
			deadline := time.Now().Add(10 * time.Second)
			for received.Load() < messages && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := received.Load(); got != messages {
				t.Errorf("subscriber received %d messages, want %d", got, messages)
			}
			if !strings.Contains(stderr, "replay finished") {
				t.Errorf("log lacks the player's replay finished line:\n%s", stderr)
			}
			for _, secret := range []string{password, url.PathEscape(password)} {
				if strings.Contains(stderr, secret) {
					t.Errorf("log contains the password as %q", secret)
				}
			}
		})
	}
}

func TestReplayWrongPassword(t *testing.T) {
	mosq := testbroker.Start(t, testbroker.WithPassword("fitbridge", "right horse"))
	configPath := writeFile(t, "fitbridge.yaml", "broker:\n  username: fitbridge\n"+
		"  password_file: "+writeFile(t, "password", "wrong horse\n")+"\n")
	_, _, err := runReplay(t, "--log-level", "error", "replay", "--config", configPath,
		"--broker", mosq.URL(), "--http=", "--data-dir", t.TempDir(),
		writeHeartRateRecording(t, 3))
	if err == nil {
		t.Fatal("replay with a wrong password: no error")
	}
	for _, want := range []string{"replay:", mosq.URL(), `user "fitbridge"`, "rejected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "horse") {
		t.Errorf("error %q contains the password", err)
	}
}

// TestReplayOverTLSWithClientCertificate replays through a mosquitto TLS listener that
// requires a client certificate, with the CA and client files of the configuration. Every
// recorded message must reach a subscriber on the broker's plain listener.
func TestReplayOverTLSWithClientCertificate(t *testing.T) {
	mosq := testbroker.StartTLS(t, "fitbridge")
	pki := mosq.PKI
	const messages = 4
	received := countMessages(t, mosq.URL(), "", "", "fitness/hr/#")
	configPath := writeFile(t, "fitbridge.yaml", fmt.Sprintf(
		"broker:\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n",
		pki.CAFile, pki.ClientCertFile, pki.ClientKeyFile))
	_, stderr, err := runReplay(t, "--log-level", "info", "replay", "--config", configPath,
		"--broker", mosq.TLSURL(), "--http=",
		"--data-dir", t.TempDir(), writeHeartRateRecording(t, messages))
	if err != nil {
		t.Fatalf("replay over TLS: %v\n%s", err, stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for received.Load() < messages && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := received.Load(); got != messages {
		t.Errorf("subscriber received %d messages, want %d", got, messages)
	}
}
