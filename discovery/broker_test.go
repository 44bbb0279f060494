package discovery

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// brokerTimeout bounds every wait on the test broker.
const brokerTimeout = 5 * time.Second

// startMosquitto runs a mosquitto broker on a free 127.0.0.1 port for the
// length of the test and returns its address. Without mosquitto the test is
// skipped, except under CI (CI set), where it fails.
func startMosquitto(t *testing.T) string {
	t.Helper()
	binary, err := exec.LookPath("mosquitto")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mosquitto is not installed: %v", err)
		}
		t.Skipf("mosquitto is not installed, so the broker test cannot run: %v", err)
	}

	const attempts = 3
	for attempt := 1; attempt <= attempts; attempt++ {
		port := freeLoopbackPort(t)
		conf := filepath.Join(t.TempDir(), "mosquitto.conf")
		settings := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port)
		if err := os.WriteFile(conf, []byte(settings), 0o600); err != nil {
			t.Fatalf("writing %s failed: %v", conf, err)
		}

		var output bytes.Buffer
		cmd := exec.Command(binary, "-c", conf)
		cmd.Stdout = &output
		cmd.Stderr = &output
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting mosquitto failed: %v", err)
		}
		stop := func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}

		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if waitForListener(addr) {
			t.Cleanup(stop)
			return addr
		}
		stop()
		t.Logf("mosquitto attempt %d on %s did not listen: %s", attempt, addr, output.String())
	}
	t.Fatalf("mosquitto did not start after %d attempts", attempts)
	return ""
}

// freeLoopbackPort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free loopback port failed: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitForListener dials addr until it accepts or brokerTimeout passes.
func waitForListener(addr string) bool {
	deadline := time.Now().Add(brokerTimeout)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// connectClient opens an MQTT 5 session to addr. onPublish, if not nil,
// receives every incoming message.
func connectClient(t *testing.T, addr, clientID string, onPublish func(*paho.Publish)) *paho.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, brokerTimeout)
	if err != nil {
		t.Fatalf("dialing the broker at %s failed: %v", addr, err)
	}
	clientConfig := paho.ClientConfig{Conn: conn}
	if onPublish != nil {
		clientConfig.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(r paho.PublishReceived) (bool, error) {
				onPublish(r.Packet)
				return true, nil
			},
		}
	}
	client := paho.NewClient(clientConfig)

	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	defer cancel()
	connack, err := client.Connect(ctx, &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30})
	if err != nil {
		t.Fatalf("connecting %s failed: %v", clientID, err)
	}
	if connack.ReasonCode != 0 {
		t.Fatalf("connecting %s was refused with reason code %d", clientID, connack.ReasonCode)
	}
	t.Cleanup(func() {
		_ = client.Disconnect(&paho.Disconnect{ReasonCode: 0})
		select {
		case <-client.Done():
		case <-time.After(brokerTimeout):
			t.Errorf("client %s did not shut down", clientID)
		}
	})
	return client
}

func publishAll(t *testing.T, client *paho.Client, msgs []Message) {
	t.Helper()
	for _, m := range msgs {
		ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
		_, err := client.Publish(ctx, &paho.Publish{
			Topic: m.Topic, Payload: m.Payload, Retain: m.Retain, QoS: m.QoS,
		})
		cancel()
		if err != nil {
			t.Fatalf("publishing %s failed: %v", m.Topic, err)
		}
	}
}

// retainedConfigs subscribes to topics.DiscoverySubscription with a new
// client and returns a copy of the retained messages it gets, by topic. The
// broker sends retained messages before anything published after the
// subscription, so a marker published after the SUBACK ends the collection.
func retainedConfigs(t *testing.T, addr string, topics Topics, clientID string) map[string][]byte {
	t.Helper()
	marker := topics.DiscoveryConfig(componentSensor, "test_end_marker")
	markerSeen := make(chan struct{})
	var (
		mu       sync.Mutex
		got      = make(map[string][]byte)
		finished bool
	)

	client := connectClient(t, addr, clientID, func(p *paho.Publish) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case finished:
		case p.Topic == marker:
			finished = true
			close(markerSeen)
		default:
			got[p.Topic] = p.Payload
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	defer cancel()
	_, err := client.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: topics.DiscoverySubscription(), QoS: 1},
	}})
	if err != nil {
		t.Fatalf("subscribing to %s failed: %v", topics.DiscoverySubscription(), err)
	}
	publishAll(t, client, []Message{{Topic: marker, Payload: []byte("{}"), QoS: 1}})

	select {
	case <-markerSeen:
	case <-time.After(brokerTimeout):
		t.Fatalf("the end marker did not arrive within %v", brokerTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(got)
}

func TestConfigsRoundTripThroughBroker(t *testing.T) {
	addr := startMosquitto(t)
	cfg := oddConfig("gym/fit bridge")
	b := NewBuilder(cfg, testVersion)
	topics := b.Topics()
	configs := append(b.All(cfg), b.Participant(guestID, guestName)...)

	publisher := connectClient(t, addr, "discovery-test-publisher", nil)
	publishAll(t, publisher, configs)
	foreign := Message{
		Topic:   topics.DiscoveryPrefix() + "/sensor/other_bridge/participant_x_coins/config",
		Payload: []byte(`{"unique_id":"other"}`), Retain: true, QoS: 1,
	}
	publishAll(t, publisher, []Message{foreign})

	got := retainedConfigs(t, addr, topics, "discovery-test-reader-1")
	if len(got) != len(configs) {
		t.Errorf("the subscription returned %d retained configs, want %d", len(got), len(configs))
	}
	for _, m := range configs {
		if payload, ok := got[m.Topic]; !ok {
			t.Errorf("retained config %s is missing", m.Topic)
		} else if !bytes.Equal(payload, m.Payload) {
			t.Errorf("retained config %s changed on the broker:\n got %s\nwant %s", m.Topic, payload, m.Payload)
		}
	}
	if _, ok := got[foreign.Topic]; ok {
		t.Errorf("the subscription %s matched another instance's topic %s",
			topics.DiscoverySubscription(), foreign.Topic)
	}

	guest := b.Participant(guestID, guestName)
	var removals []Message
	for _, m := range guest {
		removals = append(removals, Removal(m.Topic))
	}
	publishAll(t, publisher, removals)

	got = retainedConfigs(t, addr, topics, "discovery-test-reader-2")
	if want := len(configs) - len(guest); len(got) != want {
		t.Errorf("after removal the subscription returned %d retained configs, want %d", len(got), want)
	}
	for _, m := range guest {
		if _, ok := got[m.Topic]; ok {
			t.Errorf("removed config %s is still retained", m.Topic)
		}
	}
}
