package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/discovery"
)

// startupTimeout bounds each start-up measurement.
const startupTimeout = 60 * time.Second

// Startup holds the start-up figures of one run.
type Startup struct {
	Participants int
	// BrokerStart is mosquitto's time from exec to accepting TCP.
	BrokerStart time.Duration
	// FitbridgeStart is fitbridge's time from exec to /readyz returning 200.
	FitbridgeStart        time.Duration
	DiscoveryParticipants int
	DiscoveryMessages     int
	// DiscoveryPublish runs from the first to the last discovery config
	// that a watcher on the broker receives from a starting fitbridge.
	DiscoveryPublish time.Duration
	// DiscoveryFromExec runs from exec to the last discovery config.
	DiscoveryFromExec time.Duration
	// DiscoveryOthers counts the other messages (states, availability) that
	// arrived between the first and the last discovery config: fitbridge
	// publishes them on the same connection, so they share that time.
	DiscoveryOthers int
	// PlainPublish is the same configs published one after another at QoS 1
	// by a plain paho client, from the first publish to the last arrival.
	PlainPublish time.Duration
}

// measureStartup runs the built binary twice on fresh brokers: with
// StartupParticipants until /readyz is OK, and with DiscoveryParticipants
// until every discovery config is on the broker.
func measureStartup(ctx context.Context, o Options) (*Startup, error) {
	st := &Startup{Participants: o.StartupParticipants,
		DiscoveryParticipants: o.DiscoveryParticipants}
	dir := filepath.Join(o.Dir, "startup")
	b, err := freshBroker(dir)
	if err != nil {
		return nil, err
	}
	st.BrokerStart = b.StartTime
	port, err := freePort()
	if err != nil {
		b.Close()
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	conf, err := writeConfigFile(dir, b.URL(), listen, "startup", o.StartupParticipants)
	if err != nil {
		b.Close()
		return nil, err
	}
	began := time.Now()
	stop, err := startBinary(o.Binary, conf)
	if err != nil {
		b.Close()
		return nil, err
	}
	err = waitReady(ctx, "http://"+listen+"/readyz")
	st.FitbridgeStart = time.Since(began)
	stop()
	b.Close()
	if err != nil {
		return nil, err
	}

	if err := measureDiscovery(ctx, o, st); err != nil {
		return nil, err
	}
	return st, nil
}

// measureDiscovery fills the discovery figures of st.
func measureDiscovery(ctx context.Context, o Options, st *Startup) error {
	dir := filepath.Join(o.Dir, "discovery")
	b, err := freshBroker(dir)
	if err != nil {
		return err
	}
	defer b.Close()
	cfg, err := ServiceConfig(ServiceOptions{BrokerURL: b.URL(), Devices: o.DiscoveryParticipants,
		TopicPrefix: "fitness/hr/", InstanceID: "discovery", DataDir: filepath.Join(dir, "data")})
	if err != nil {
		return err
	}
	msgs := discovery.NewBuilder(cfg, "bench").All(cfg)
	st.DiscoveryMessages = len(msgs)

	w, err := startConfigWatcher(ctx, b.URL(), "discovery-watch", len(msgs), time.Now())
	if err != nil {
		return err
	}
	conf, err := writeConfigFile(dir, b.URL(), "", "discovery", o.DiscoveryParticipants)
	if err != nil {
		w.close()
		return err
	}
	w.restart()
	stop, err := startBinary(o.Binary, conf)
	if err != nil {
		w.close()
		return err
	}
	first, last, err := w.wait(ctx)
	stop()
	w.close()
	if err != nil {
		return fmt.Errorf("fitbridge discovery: %w", err)
	}
	st.DiscoveryPublish, st.DiscoveryFromExec = last-first, last
	st.DiscoveryOthers = w.otherMessages()

	plain, err := freshBroker(filepath.Join(dir, "plain"))
	if err != nil {
		return err
	}
	defer plain.Close()
	pw, err := startConfigWatcher(ctx, plain.URL(), "plain-watch", len(msgs), time.Now())
	if err != nil {
		return err
	}
	defer pw.close()
	pub, err := dialMQTT(ctx, plain.URL(), "plain-pub", nil)
	if err != nil {
		return err
	}
	defer closeMQTT(pub)
	pw.restart()
	for _, m := range msgs {
		if _, err := pub.Publish(ctx, &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: 1,
			Retain: true}); err != nil {
			return fmt.Errorf("plain discovery publish %s: %w", m.Topic, err)
		}
	}
	_, last, err = pw.wait(ctx)
	if err != nil {
		return fmt.Errorf("plain discovery: %w", err)
	}
	st.PlainPublish = last
	return nil
}

// freshBroker starts a broker in its own folder under dir.
func freshBroker(dir string) (*Broker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	return StartBroker(dir)
}

// writeConfigFile writes a fitbridge.yaml with n participants and returns
// its path. An empty listen disables the HTTP server.
func writeConfigFile(dir, brokerURL, listen, instance string, n int) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "broker: {url: %q}\ninstance_id: %s\ndata_dir: %q\nhttp: {listen: %q}\n",
		brokerURL, instance, filepath.Join(dir, "data"), listen)
	b.WriteString("participants:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: p%03d, name: Participant %03d, devices: [%q]}\n", i, i, deviceID(i))
	}
	path := filepath.Join(dir, "fitbridge.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// startBinary runs "fitbridge run" with conf and returns a function that
// stops it with SIGTERM and waits.
func startBinary(binary, conf string) (func(), error) {
	cmd := exec.Command(binary, "--log-level", "warn", "run", "--config", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}, nil
}

// waitReady polls url every millisecond until it returns 200.
func waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		} else if _, ok := err.(net.Error); !ok && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", url, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// configWatcher counts the non-empty discovery configs a broker delivers.
type configWatcher struct {
	client *paho.Client
	clock  time.Time
	want   int

	mu          sync.Mutex
	topics      map[string]bool
	first, last time.Duration
	// others counts the messages that are not discovery configs and arrived
	// after the first config and before the last.
	others int
	done   chan struct{}
}

func startConfigWatcher(ctx context.Context, brokerURL, clientID string, want int,
	clock time.Time) (*configWatcher, error) {
	w := &configWatcher{clock: clock, want: want, topics: make(map[string]bool),
		done: make(chan struct{})}
	c, err := dialMQTT(ctx, brokerURL, clientID, w.receive)
	if err != nil {
		return nil, err
	}
	w.client = c
	if err := subscribe(ctx, c, "#", 1); err != nil {
		closeMQTT(c)
		return nil, err
	}
	return w, nil
}

func (w *configWatcher) receive(p *paho.Publish) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.HasPrefix(p.Topic, "homeassistant/") || !strings.HasSuffix(p.Topic, "/config") ||
		len(p.Payload) == 0 {
		if len(w.topics) > 0 && len(w.topics) < w.want {
			w.others++
		}
		return
	}
	at := time.Since(w.clock)
	if len(w.topics) == 0 {
		w.first = at
	}
	if w.topics[p.Topic] {
		return
	}
	w.topics[p.Topic] = true
	w.last = at
	if len(w.topics) == w.want {
		close(w.done)
	}
}

// wait returns the arrival of the first and the last config once all want
// configs arrived.
func (w *configWatcher) wait(ctx context.Context) (first, last time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	select {
	case <-w.done:
	case <-ctx.Done():
		w.mu.Lock()
		defer w.mu.Unlock()
		return 0, 0, fmt.Errorf("%d of %d discovery configs arrived: %w", len(w.topics), w.want,
			ctx.Err())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first, w.last, nil
}

// otherMessages returns how many messages other than discovery configs
// arrived between the first and the last config.
func (w *configWatcher) otherMessages() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.others
}

// restart makes now the zero of the arrival offsets.
func (w *configWatcher) restart() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clock = time.Now()
}

func (w *configWatcher) close() { closeMQTT(w.client) }
