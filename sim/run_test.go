package sim

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/fitbridge/fitbridge/broker"
)

// seen records which kinds of simulated message a subscriber received.
type seen struct {
	mu        sync.Mutex
	devices   map[string]bool
	vibration bool
	action    bool
	clear     bool
	problems  []string
	done      chan struct{}
	closed    bool
}

func (s *seen) record(topic string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.HasPrefix(topic, HeartRateTopicPrefix):
		var reading struct {
			HeartRate *int `json:"heart_rate"`
			Battery   *int `json:"battery"`
		}
		err := json.Unmarshal(payload, &reading)
		if err != nil || reading.HeartRate == nil || reading.Battery == nil {
			s.problems = append(s.problems, "bad heart-rate payload "+string(payload))
			return
		}
		s.devices[strings.TrimPrefix(topic, HeartRateTopicPrefix)] = true
	case topic == BagTopic:
		var state struct {
			Vibration *bool `json:"vibration"`
		}
		if err := json.Unmarshal(payload, &state); err != nil || state.Vibration == nil {
			s.problems = append(s.problems, "bad bag payload "+string(payload))
			return
		}
		if *state.Vibration {
			s.vibration = true
		} else if s.vibration {
			s.clear = true
		}
	case topic == BagActionTopic:
		if string(payload) != "vibration" {
			s.problems = append(s.problems, "bad action payload "+string(payload))
			return
		}
		s.action = true
	}
	if !s.closed && len(s.devices) == len(DeviceIDs()) && s.vibration && s.action && s.clear {
		s.closed = true
		close(s.done)
	}
}

func subscribeAll(t *testing.T, brokerURL string, s *seen) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{
			ClientID: "sim-test-subscriber",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					s.record(pr.Packet.Topic, pr.Packet.Payload)
					return true, nil
				},
			},
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = cm.Disconnect(stopCtx)
		cancel()
		<-cm.Done()
	})
	subCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if err := cm.AwaitConnection(subCtx); err != nil {
		t.Fatal(err)
	}
	_, err = cm.Subscribe(subCtx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: HeartRateTopicFilter, QoS: 0},
		{Topic: "zigbee2mqtt/#", QoS: 0},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunPublishesWorkout(t *testing.T) {
	embedded, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer embedded.Close()

	s := &seen{devices: map[string]bool{}, done: make(chan struct{})}
	subscribeAll(t, embedded.URL(), s)

	// At 200 times real time, the first round's vibration:false (about 8.5
	// simulated minutes in) comes after about 2.6 s.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- Run(ctx, embedded.URL(), Options{Seed: 1, Speed: 200}) }()

	select {
	case <-s.done:
	case <-ctx.Done():
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, problem := range s.problems {
		t.Error(problem)
	}
	for _, device := range DeviceIDs() {
		if !s.devices[device] {
			t.Errorf("no heart rate from %s", device)
		}
	}
	if !s.vibration {
		t.Error("no vibration:true state from the bag")
	}
	if !s.action {
		t.Error("no vibration action from the bag")
	}
	if !s.clear {
		t.Error("no vibration:false state from the bag")
	}
}

func TestRunRejectsInvalidOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := Run(ctx, "not a url", Options{})
	if err == nil || !strings.Contains(err.Error(), "invalid broker URL") {
		t.Errorf("bad URL: error = %v", err)
	}
	err = Run(ctx, "mqtt://127.0.0.1:1", Options{Speed: -2})
	if err == nil || !strings.Contains(err.Error(), "invalid speed") {
		t.Errorf("negative speed: error = %v", err)
	}
}

func TestRunWithoutBrokerFails(t *testing.T) {
	embedded, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	brokerURL := embedded.URL()
	if err := embedded.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = Run(ctx, brokerURL, Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run error = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), brokerURL) {
		t.Errorf("error %q does not name the broker", err)
	}
}
