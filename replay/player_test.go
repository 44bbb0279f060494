package replay

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/autopaho/queue/memory"
	"github.com/eclipse/paho.golang/paho"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

func runPlayer(t *testing.T, brokerURL string, messages []Message, opts Options) error {
	t.Helper()
	player, err := NewPlayer(brokerURL, messages, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return player.Run(ctx)
}

func TestTimestampFormat(t *testing.T) {
	base := time.Date(2026, 6, 27, 19, 59, 41, 566_000_000, time.FixedZone("PDT", -7*3600))
	cases := []struct {
		offset time.Duration
		want   string
	}{
		{0, "2026-06-28T02:59:41.566Z"},
		{1003 * time.Millisecond, "2026-06-28T02:59:42.569Z"},
		{time.Hour, "2026-06-28T03:59:41.566Z"},
	}
	for _, tc := range cases {
		if got := Timestamp(base, tc.offset); got != tc.want {
			t.Errorf("Timestamp(base, %v) = %s, want %s", tc.offset, got, tc.want)
		}
	}
}

func TestPlayerDeliversRecordingsInOrder(t *testing.T) {
	broker := testbroker.Start(t)
	sub := newSubscriber(t, broker.URL())

	dir := recordingsDir(t)
	var files [][]Message
	for _, name := range []string{
		"daylightstation-20260627-garage-session.jsonl",
		"z2m-djt11lm-punching-bag-round.jsonl",
		"z2m-djt11lm-payload-variants.jsonl",
	} {
		messages, err := ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, messages)
	}
	messages := Merge(files...)
	base := time.Date(2026, 6, 28, 2, 59, 41, 566_000_000, time.UTC)

	var (
		progressMu   sync.Mutex
		progressDone []int
		waitCalls    []int
	)
	window := sub.window(64)
	err := runPlayer(t, broker.URL(), messages, Options{
		Base: base,
		Progress: func(done, total int) {
			progressMu.Lock()
			defer progressMu.Unlock()
			if total != len(messages) {
				t.Errorf("progress total = %d, want %d", total, len(messages))
			}
			progressDone = append(progressDone, done)
		},
		Wait: func(ctx context.Context, published int) error {
			waitCalls = append(waitCalls, published)
			return window(ctx, published)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 10*time.Second, "all messages", func() bool {
		return len(sub.messages) >= len(messages)
	})

	got := sub.snapshot()
	if len(got) != len(messages) {
		t.Fatalf("subscriber received %d messages, want %d", len(got), len(messages))
	}
	for i, msg := range messages {
		if got[i].Topic != msg.Topic {
			t.Fatalf("message %d topic = %q, want %q", i, got[i].Topic, msg.Topic)
		}
		if got[i].Payload != string(msg.Payload) {
			t.Fatalf("message %d payload = %q, want %q", i, got[i].Payload, msg.Payload)
		}
		if want := Timestamp(base, msg.Offset); got[i].Timestamp != want {
			t.Fatalf("message %d timestamp = %q, want %q", i, got[i].Timestamp, want)
		}
	}
	if got[0].Timestamp != "2026-06-28T02:59:41.566Z" {
		t.Errorf("first timestamp = %q", got[0].Timestamp)
	}
	if !slices.ContainsFunc(got, func(r received) bool {
		return r.Topic == "zigbee2mqtt/punching_bag/action" && r.Payload == "vibration"
	}) {
		t.Error("no raw vibration string on the action topic")
	}

	wantCalls := make([]int, len(messages))
	for i := range wantCalls {
		wantCalls[i] = i
	}
	if !slices.Equal(waitCalls, wantCalls) {
		t.Errorf("Wait called with %d values, want 0..%d in order", len(waitCalls), len(messages)-1)
	}
	progressMu.Lock()
	defer progressMu.Unlock()
	if len(progressDone) != len(messages) {
		t.Fatalf("progress called %d times, want %d", len(progressDone), len(messages))
	}
	for i, done := range progressDone {
		if done != i+1 {
			t.Fatalf("progress call %d reported done = %d, want %d", i, done, i+1)
		}
	}
}

func TestPlayerPacedSpeed(t *testing.T) {
	broker := testbroker.Start(t)
	sub := newSubscriber(t, broker.URL())
	// 20 messages 50 ms apart at speed 10: the paced path runs, quickly.
	messages := numbered("paced", 20, 50*time.Millisecond)
	if err := runPlayer(t, broker.URL(), messages, Options{Speed: 10}); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 10*time.Second, "all messages", func() bool { return len(sub.messages) >= 20 })
	for i, r := range sub.snapshot() {
		if r.Payload != strconv.Itoa(i) {
			t.Fatalf("message %d payload = %q", i, r.Payload)
		}
	}
}

func TestDueTimeScalesOffset(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		offset time.Duration
		speed  float64
		want   time.Duration
	}{
		{10 * time.Second, 1, 10 * time.Second},
		{10 * time.Second, 4, 2500 * time.Millisecond},
		{10 * time.Second, 0.5, 20 * time.Second},
		{0, 100, 0},
	}
	for _, tc := range cases {
		got := dueTime(start, tc.offset, tc.speed).Sub(start)
		if got != tc.want {
			t.Errorf("dueTime(%v at speed %v) = start+%v, want start+%v", tc.offset, tc.speed, got, tc.want)
		}
	}
}

func TestPlayerQoSZero(t *testing.T) {
	broker := testbroker.Start(t)
	sub := newSubscriber(t, broker.URL())
	messages := numbered("qos0", 50, time.Millisecond)
	opts := Options{QoS: new(byte(0)), Wait: sub.window(8)}
	if err := runPlayer(t, broker.URL(), messages, opts); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 10*time.Second, "all messages", func() bool { return len(sub.messages) >= 50 })
}

func TestPlayerWaitErrorStops(t *testing.T) {
	broker := testbroker.Start(t)
	sub := newSubscriber(t, broker.URL())
	stop := errors.New("consumer is full")
	messages := numbered("stop", 10, time.Millisecond)
	err := runPlayer(t, broker.URL(), messages, Options{
		Wait: func(ctx context.Context, published int) error {
			if published == 3 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Run error = %v, want the Wait error", err)
	}
	sub.waitFor(t, 10*time.Second, "3 messages", func() bool { return len(sub.messages) >= 3 })
	// Run stopped before publishing message 3, so nothing more can arrive.
	if n := sub.count(); n != 3 {
		t.Errorf("subscriber received %d messages, want 3", n)
	}
}

func TestPlayerCancelDuringPause(t *testing.T) {
	broker := testbroker.Start(t)
	messages := []Message{
		{Offset: 0, Topic: "cancel", Payload: []byte("0")},
		{Offset: time.Hour, Topic: "cancel", Payload: []byte("1")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first message is acknowledged, while the player
	// sleeps toward the second one an hour later.
	player, err := NewPlayer(broker.URL(), messages, Options{
		Speed: 1,
		Progress: func(done, _ int) {
			if done == 1 {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = player.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
}

func TestPlayerSurvivesBrokerRestart(t *testing.T) {
	broker := testbroker.Start(t)
	sub := newSubscriber(t, broker.URL())
	const total, restartAt = 200, 100
	messages := numbered("restart", total, time.Millisecond)

	err := runPlayer(t, broker.URL(), messages, Options{
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Wait: func(ctx context.Context, published int) error {
			if published != restartAt {
				return nil
			}
			// Everything so far must have arrived before the old broker goes.
			if err := sub.waitUntil(ctx, func() bool { return len(sub.messages) >= restartAt }); err != nil {
				return err
			}
			broker.Stop()
			broker.Start()
			return sub.waitUntil(ctx, func() bool { return sub.subscribed >= 2 })
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 10*time.Second, "all messages", func() bool { return len(sub.messages) >= total })

	// QoS 1 is at least once: a message interrupted by the restart may come
	// twice, next to itself. Anything else is a loss or a reordering.
	var indexes []int
	for _, r := range sub.snapshot() {
		n, err := strconv.Atoi(r.Payload)
		if err != nil {
			t.Fatalf("payload %q: %v", r.Payload, err)
		}
		if len(indexes) > 0 && indexes[len(indexes)-1] == n {
			continue
		}
		indexes = append(indexes, n)
	}
	if len(indexes) != total {
		t.Fatalf("received %d distinct messages, want %d", len(indexes), total)
	}
	for i, n := range indexes {
		if n != i {
			t.Fatalf("message %d has payload %d", i, n)
		}
	}
}

func TestPlayerUnreachableBrokerTimesOut(t *testing.T) {
	broker := testbroker.Start(t)
	brokerURL := broker.URL()
	broker.Stop()

	player, err := NewPlayer(brokerURL, numbered("none", 1, 0), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = player.Run(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run error = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), brokerURL) {
		t.Errorf("error %q does not name the broker", err)
	}
}

func TestNewPlayerRejectsInvalidOptions(t *testing.T) {
	sorted := numbered("t", 2, time.Second)
	unsorted := []Message{sorted[1], sorted[0]}
	cases := []struct {
		name     string
		url      string
		messages []Message
		opts     Options
		wantErr  string
	}{
		{"negative speed", "mqtt://127.0.0.1:1883", sorted, Options{Speed: -1}, "invalid speed"},
		{"QoS 3", "mqtt://127.0.0.1:1883", sorted, Options{QoS: new(byte(3))}, "invalid QoS"},
		{"no scheme", "127.0.0.1:1883", sorted, Options{}, "invalid broker URL"},
		{"bad URL", "mqtt://[::1", sorted, Options{}, "invalid broker URL"},
		{"unsorted", "mqtt://127.0.0.1:1883", unsorted, Options{}, "earlier than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlayer(tc.url, tc.messages, tc.opts)
			if err == nil {
				t.Fatal("NewPlayer succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// Publish throughput against mosquitto on loopback, for choosing between
// serial publishes (what Player does) and autopaho's queue. Run with
// go test -run '^$' -bench Publish ./replay/
func BenchmarkPublishSerial(b *testing.B) {
	broker := testbroker.Start(b)
	messages := numbered("bench", 5000, 0)
	b.ResetTimer()
	for range b.N {
		player, err := NewPlayer(broker.URL(), messages, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := player.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(messages))/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkPublishViaQueue(b *testing.B) {
	broker := testbroker.Start(b)
	messages := numbered("bench", 5000, 0)
	u, err := url.Parse(broker.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		queue := memory.New()
		cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
			ServerUrls:   []*url.URL{u},
			Queue:        queue,
			ClientConfig: paho.ClientConfig{ClientID: "bench-queue"},
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := cm.AwaitConnection(ctx); err != nil {
			b.Fatal(err)
		}
		for _, msg := range messages {
			pub := &paho.Publish{Topic: msg.Topic, QoS: 1, Payload: msg.Payload}
			if err := cm.PublishViaQueue(ctx, &autopaho.QueuePublish{Publish: pub}); err != nil {
				b.Fatal(err)
			}
		}
		// The queue gives no per-message status. Once it is empty every
		// message has been written, and a final blocking publish is
		// acknowledged only after all earlier ones (MQTT acks in order).
		<-queue.WaitForEmpty()
		if _, err := cm.Publish(ctx, &paho.Publish{Topic: "bench/end", QoS: 1}); err != nil {
			b.Fatal(err)
		}
		_ = cm.Disconnect(ctx)
		cancel()
	}
	b.ReportMetric(float64(b.N*len(messages))/b.Elapsed().Seconds(), "msgs/s")
}
