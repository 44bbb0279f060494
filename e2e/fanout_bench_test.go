package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/replay"
)

// Load of the fan-out benchmarks: 500 dashboards, 10 participants at 4 readings per
// second, 1 s ticks. Every tick broadcasts three messages (session, fitness, equipment)
// to every client.
const (
	fanoutClients      = 500
	fanoutParticipants = 10
	readingsPerSecond  = 4
	fanoutTick         = time.Second
)

// BenchmarkChartFeedFanout measures the delivery latency from the MQTT publish of the
// reading that closes a tick to each client's receipt of that tick's fitness frame, with
// 500 clients on loopback. One iteration is one tick of real time, so run it with a fixed
// count, such as -benchtime 60x. docs/benchmarks.md has the method and results.
func BenchmarkChartFeedFanout(b *testing.B) {
	runFanout(b, false)
}

// BenchmarkChartFeedStalledClient is BenchmarkChartFeedFanout with one more client that
// never reads. It also reports whether the server dropped that client, and after how long.
// Its heap growth minus that of BenchmarkChartFeedFanout is what the stalled client costs.
func BenchmarkChartFeedStalledClient(b *testing.B) {
	runFanout(b, true)
}

func runFanout(b *testing.B, stalled bool) {
	mosq := testbroker.Start(b)
	cfg := config.Default()
	cfg.Broker.URL = mosq.URL()
	cfg.Session.CoinInterval = fanoutTick
	for i := range fanoutParticipants {
		id := fmt.Sprintf("bench-%02d", i)
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: id, Name: fmt.Sprintf("Bench %02d", i), Devices: []string{id}})
	}
	cfg.HTTP.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := startService(b, cfg, cfg.HTTP.Listen, 0, log)
	heapBridge := liveHeap()

	// A tick closes max_lateness after its end, at the first reading at or after that
	// time, so tick k's closing reading is the one at offset (k+1+lateTicks) s.
	if cfg.Session.MaxLateness%fanoutTick != 0 {
		b.Fatalf("max_lateness %v is not a whole number of ticks", cfg.Session.MaxLateness)
	}
	lateTicks := int(cfg.Session.MaxLateness / fanoutTick)
	ticks := b.N + 3 + lateTicks
	boundaries := make([]atomic.Int64, ticks+1)
	clients := dialFanoutClients(b, "ws://"+svc.addr+"/ws", fanoutClients, boundaries, lateTicks)
	heapClients := liveHeap()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishErr := make(chan error, 1)
	go func() { publishErr <- publishReadings(ctx, mosq.URL(), ticks, boundaries) }()

	// The first tick closes one tick after the first reading; wait for it before timing.
	waitForTicks(b, clients, 1)
	var stall *websocket.Conn
	heapBefore := liveHeap()
	stallStart := time.Now()
	if stalled {
		stall = dialStalled(b, "ws://"+svc.addr+"/ws")
	}
	b.ResetTimer()
	peak := heapBefore
	var stalledFor time.Duration
	for i := range b.N {
		waitForTicks(b, clients, i+2)
		if stalled && stalledFor == 0 && svc.hub.ClientCount() == fanoutClients {
			stalledFor = time.Since(stallStart)
		}
		if i%5 == 4 {
			peak = max(peak, liveHeap())
		}
	}
	b.StopTimer()
	cancel()
	if err := <-publishErr; err != nil && ctx.Err() == nil {
		b.Fatalf("publish: %v", err)
	}

	latencies := collectLatencies(clients)
	if len(latencies) == 0 {
		b.Fatalf("no latency sample")
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(latencies, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
	b.ReportMetric(float64(len(latencies)), "samples")
	b.ReportMetric(float64(heapBridge)/(1<<20), "heap-bridge-MiB")
	b.ReportMetric(float64(heapClients)/(1<<20), "heap-with-clients-MiB")
	// The growth includes the resume rings filling up; the stalled client's cost is the
	// difference between the two benchmarks.
	b.ReportMetric(float64(peak-min(peak, heapBefore))/(1<<10), "heap-growth-KiB")
	if stalled {
		b.ReportMetric(float64(svc.hub.Stats().ClientsDropped), "dropped")
		if stalledFor > 0 {
			b.ReportMetric(stalledFor.Seconds(), "stalled-kept-s")
		}
		stall.Close()
	}
	b.ReportMetric(0, "ns/op")
	for _, c := range clients {
		c.conn.Close()
	}
	for _, c := range clients {
		<-c.done
	}
}

// fanoutClient is one dashboard connection that records, per fitness points frame, the
// time from the publish of the tick's closing reading to the frame's receipt.
type fanoutClient struct {
	conn *websocket.Conn
	done chan struct{}
	// lastIndex is the newest tick index received.
	lastIndex atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
}

func dialFanoutClients(
	b *testing.B, target string, n int, boundaries []atomic.Int64, lateTicks int,
) []*fanoutClient {
	b.Helper()
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	clients := make([]*fanoutClient, n)
	for i := range clients {
		conn, resp, err := dialer.Dial(target, nil)
		if err != nil {
			b.Fatalf("dial client %d: %v", i, err)
		}
		resp.Body.Close()
		c := &fanoutClient{conn: conn, done: make(chan struct{})}
		c.lastIndex.Store(-1)
		clients[i] = c
		go c.read(boundaries, lateTicks)
	}
	return clients
}

func (c *fanoutClient) read(boundaries []atomic.Int64, lateTicks int) {
	defer close(c.done)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		received := time.Now()
		var head struct {
			Type  string `json:"type"`
			Topic string `json:"topic"`
			Index int    `json:"index"`
		}
		if json.Unmarshal(data, &head) != nil || head.Type != "points" || head.Topic != "fitness" {
			continue
		}
		// Tick k closes with the first reading at or after its end plus the lateness.
		if closing := head.Index + 1 + lateTicks; closing < len(boundaries) {
			if published := boundaries[closing].Load(); published != 0 {
				c.mu.Lock()
				c.latencies = append(c.latencies, received.Sub(time.Unix(0, published)))
				c.mu.Unlock()
			}
		}
		c.lastIndex.Store(int64(head.Index))
	}
}

// waitForTicks waits until every client has received tick index n-1.
func waitForTicks(b *testing.B, clients []*fanoutClient, n int) {
	b.Helper()
	deadline := time.Now().Add(10*fanoutTick + 30*time.Second)
	for _, c := range clients {
		for c.lastIndex.Load() < int64(n-1) {
			if time.Now().After(deadline) {
				b.Fatalf("timed out waiting for tick %d; a client is at %d", n-1, c.lastIndex.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func collectLatencies(clients []*fanoutClient) []time.Duration {
	var out []time.Duration
	for _, c := range clients {
		c.mu.Lock()
		out = append(out, c.latencies...)
		c.mu.Unlock()
	}
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// dialStalled connects a client with a 4 KiB receive buffer that never reads.
func dialStalled(b *testing.B, target string) *websocket.Conn {
	b.Helper()
	dialer := websocket.Dialer{NetDialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}}
	conn, resp, err := dialer.Dial(target, nil)
	if err != nil {
		b.Fatalf("dial the stalled client: %v", err)
	}
	resp.Body.Close()
	return conn
}

// publishReadings publishes every participant's heart rate at 4 Hz in real time, spread
// evenly across each second, for ticks seconds, with the event time in the timestamp user
// property. Just before it publishes the reading at offset k seconds, it stores the time
// in boundaries[k].
func publishReadings(ctx context.Context, brokerURL string, ticks int, boundaries []atomic.Int64) error {
	u, err := url.Parse(brokerURL)
	if err != nil {
		return err
	}
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{ClientID: "fanout-bench-publisher"},
	})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = cm.Disconnect(stopCtx)
	}()
	if err := cm.AwaitConnection(ctx); err != nil {
		return err
	}
	perSecond := fanoutParticipants * readingsPerSecond
	step := time.Second / time.Duration(perSecond)
	start := time.Now().Truncate(time.Millisecond)
	for n := 0; n < ticks*perSecond; n++ {
		offset := time.Duration(n) * step
		if wait := time.Until(start.Add(offset)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		participant := n % fanoutParticipants
		if offset%fanoutTick == 0 && offset > 0 {
			boundaries[int(offset/fanoutTick)].Store(time.Now().UnixNano())
		}
		payload := fmt.Sprintf(`{"heart_rate": %d}`, 110+(n/perSecond+participant*3)%60)
		_, err := cm.Publish(ctx, &paho.Publish{
			Topic: fmt.Sprintf("fitness/hr/bench-%02d", participant), QoS: 1,
			Payload: []byte(payload),
			Properties: &paho.PublishProperties{User: paho.UserProperties{{
				Key: replay.TimestampProperty, Value: replay.Timestamp(start, offset)}}},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// liveHeap returns the heap in use after a full garbage collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
