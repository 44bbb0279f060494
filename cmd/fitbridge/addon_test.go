package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/hassio"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// The add-on tests use 127.0.0.2 as the ingress proxy address (172.30.32.2 in
// Home Assistant): a test can send only from loopback, and Linux routes all
// of 127.0.0.0/8 there. Every other client connects from 127.0.0.1.
var (
	addonTestProxy = netip.MustParseAddr("127.0.0.2")
	addonOutsider  = netip.MustParseAddr("127.0.0.1")
)

const (
	addonTestToken  = "test-supervisor-token"
	addonTestSlug   = "local_fitbridge"
	addonIngressURL = "/api/hassio_ingress/Xy12-ab_C"
	// addonWait bounds every wait of these tests for the service.
	addonWait = 15 * time.Second
)

// fakeSupervisor responds like the Supervisor's API on loopback: mqtt holds
// the /services/mqtt responses (status and body) and info that of
// /addons/self/info. It counts the requests per path.
type fakeSupervisor struct {
	srv   *httptest.Server
	mu    sync.Mutex
	mqtt  []supervisorResponse // sent in turn; the last one repeats
	info  supervisorResponse
	calls map[string]int
}

type supervisorResponse struct {
	status int
	body   string
}

func startFakeSupervisor(t *testing.T, info supervisorResponse, mqtt ...supervisorResponse) *fakeSupervisor {
	t.Helper()
	f := &fakeSupervisor{mqtt: mqtt, info: info, calls: make(map[string]int)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSupervisor) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.URL.Path]++
	n := f.calls[r.URL.Path]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+addonTestToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"result":"error","message":"Invalid token"}`)
		return
	}
	var a supervisorResponse
	switch r.URL.Path {
	case "/services/mqtt":
		a = f.mqtt[min(n, len(f.mqtt))-1]
	case "/addons/self/info":
		a = f.info
	default:
		a = supervisorResponse{http.StatusNotFound, `{"result":"error","message":"Not found"}`}
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeSupervisor) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *fakeSupervisor) client() *hassio.Client {
	return &hassio.Client{BaseURL: f.srv.URL, Token: addonTestToken}
}

func mqttResponse(t *testing.T, brokerAddr, user, pass string) supervisorResponse {
	t.Helper()
	host, port, err := net.SplitHostPort(brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	return supervisorResponse{http.StatusOK, `{"result":"ok","data":{"addon":"core_mosquitto",` +
		`"host":"` + host + `","port":"` + port + `","ssl":false,"username":"` + user +
		`","password":"` + pass + `","protocol":"3.1.1"}}`}
}

var infoResponse = supervisorResponse{http.StatusOK,
	`{"result":"ok","data":{"slug":"` + addonTestSlug + `","version":"0.1.0"}}`}

// lockedBuffer collects the add-on's log from the service goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeOptions(t *testing.T, json string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "options.json")
	if err := os.WriteFile(path, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func addonTestSettings(t *testing.T, optionsPath string, sup *fakeSupervisor) addonSettings {
	t.Helper()
	return addonSettings{
		OptionsPath:  optionsPath,
		DataDir:      filepath.Join(t.TempDir(), "sessions"),
		Listen:       "127.0.0.1:0",
		Supervisor:   sup.client(),
		IngressProxy: addonTestProxy,
		LookupDelays: []time.Duration{time.Millisecond, time.Millisecond},
	}
}

// startAddon runs runAddon until the test ends and returns the HTTP base URL.
func startAddon(t *testing.T, s addonSettings, logs io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runAddon(ctx, s, logs, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("runAddon ended with %v", err)
			}
		case <-time.After(addonWait):
			t.Errorf("runAddon did not stop within %v", addonWait)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("runAddon ended before listening: %v", err)
	case <-time.After(addonWait):
		t.Fatalf("runAddon did not listen within %v", addonWait)
	}
	return ""
}

// httpClientFrom returns a client whose connections come from addr and
// which returns redirects instead of following them.
func httpClientFrom(t *testing.T, addr netip.Addr) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr.AsSlice()}, Timeout: 5 * time.Second}
	transport := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// fetch sends GET url, with X-Ingress-Path when ingressPath is not empty,
// and returns the response with its body read.
func fetch(t *testing.T, client *http.Client, url, ingressPath string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ingressPath != "" {
		req.Header.Set(hassio.IngressPathHeader, ingressPath)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, string(body)
}

// waitReady polls /readyz until the bridge is connected to the broker.
func waitReady(t *testing.T, client *http.Client, base string) {
	t.Helper()
	deadline := time.Now().Add(addonWait)
	for {
		resp, body := fetch(t, client, base+"/readyz", "")
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after %v: %s", resp.StatusCode, addonWait, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const addonTestOptions = `{
  "log_level": "debug",
  "participants": [{"id": "alex", "name": "Alex", "devices": "10001", "zones": "active=80"}],
  "equipment": [{"id": "bag", "name": "Bag", "topic": "zigbee2mqtt/bag_sensor"}],
  "zones": []
}`

// TestAddonServesThroughIngress starts the add-on with the broker from the
// Supervisor stand-in and checks the ingress rules on the real HTTP server.
func TestAddonServesThroughIngress(t *testing.T) {
	broker := testbroker.Start(t, testbroker.WithPassword("addons", "addon-secret"))
	sup := startFakeSupervisor(t, infoResponse,
		mqttResponse(t, broker.Addr(), "addons", "addon-secret"))
	var logs lockedBuffer
	s := addonTestSettings(t, writeOptions(t, addonTestOptions), sup)
	base := startAddon(t, s, &logs)
	outsider := httpClientFrom(t, addonOutsider)
	proxy := httpClientFrom(t, addonTestProxy)

	// Readiness means connected with the login the Supervisor handed out.
	waitReady(t, outsider, base)
	if n := sup.count("/services/mqtt"); n != 1 {
		t.Errorf("/services/mqtt requested %d times, want 1", n)
	}

	if resp, _ := fetch(t, outsider, base+"/", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("dashboard from %s: status %d, want 403", addonOutsider, resp.StatusCode)
	}
	if resp, _ := fetch(t, outsider, base+"/metrics", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics from %s: status %d, want 200", addonOutsider, resp.StatusCode)
	}
	// The page's relative URLs resolve under the ingress path through its <base>.
	resp, body := fetch(t, proxy, base+"/", addonIngressURL)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("dashboard from the proxy: status %d, want 200", resp.StatusCode)
	}
	if want := `<base href="` + addonIngressURL + `/">`; !strings.Contains(body, want) {
		t.Errorf("dashboard from the proxy lacks %s:\n%.300s", want, body)
	}
	if resp, _ := fetch(t, proxy, base+"/app.js", addonIngressURL); resp.StatusCode != http.StatusOK {
		t.Errorf("app.js from the proxy: status %d, want 200", resp.StatusCode)
	}
	// The server's own redirect to a cleaned path stays under the ingress URL.
	resp, _ = fetch(t, proxy, base+"/x/../app.js", addonIngressURL)
	if got, want := resp.Header.Get("Location"), addonIngressURL+"/app.js"; got != want {
		t.Errorf("redirect of /x/../app.js: status %d, Location %q, want %q",
			resp.StatusCode, got, want)
	}

	checkFeedThroughIngress(t, base)

	log := logs.String()
	for _, want := range []string{
		"mqtt broker from supervisor",
		"configuration_url=homeassistant://hassio/addon/" + addonTestSlug,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "addon-secret") {
		t.Errorf("log contains the broker password:\n%s", log)
	}
	if info, err := os.Stat(s.DataDir); err != nil || !info.IsDir() {
		t.Errorf("data folder %s was not created: %v", s.DataDir, err)
	}
}

// checkFeedThroughIngress opens the chart feed the way the dashboard does,
// at "ws" beside the page, once from the proxy and once from another client.
func checkFeedThroughIngress(t *testing.T, base string) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	header := http.Header{}
	header.Set(hassio.IngressPathHeader, addonIngressURL)
	ctx, cancel := context.WithTimeout(context.Background(), addonWait)
	defer cancel()

	fromProxy := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: addonTestProxy.AsSlice()}}).DialContext}
	conn, resp, err := fromProxy.DialContext(ctx, url, header)
	if err != nil {
		t.Fatalf("chart feed from the proxy: %v", err)
	}
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(addonWait))
	if _, msg, err := conn.ReadMessage(); err != nil || len(msg) == 0 {
		t.Errorf("chart feed from the proxy: first message %q, %v", msg, err)
	}
	conn.Close()

	fromOutsider := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err = fromOutsider.DialContext(ctx, url, nil)
	if err == nil {
		conn.Close()
		t.Fatalf("chart feed from %s was accepted", addonOutsider)
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("chart feed from %s: %v, want status 403", addonOutsider, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// TestAddonBrokerFromOptions checks that broker_url and its login replace
// the Supervisor's service, and that a failed add-on info request only
// costs the device link.
func TestAddonBrokerFromOptions(t *testing.T) {
	broker := testbroker.Start(t, testbroker.WithPassword("gym", "gym-secret"))
	sup := startFakeSupervisor(t,
		supervisorResponse{http.StatusForbidden, `{"result":"error","message":"Forbidden"}`},
		supervisorResponse{http.StatusBadRequest, `{"result":"error","message":"unused"}`})
	options := `{"log_level":"info","participants":[],"equipment":[],"zones":[],
		"broker_url":"` + broker.URL() + `","broker_username":"gym","broker_password":"gym-secret"}`
	var logs lockedBuffer
	base := startAddon(t, addonTestSettings(t, writeOptions(t, options), sup), &logs)

	waitReady(t, httpClientFrom(t, addonOutsider), base)
	if n := sup.count("/services/mqtt"); n != 0 {
		t.Errorf("/services/mqtt requested %d times with broker_url set, want 0", n)
	}
	if !strings.Contains(logs.String(), "add-on info unavailable") {
		t.Errorf("log lacks the add-on info warning:\n%s", logs.String())
	}
}

func TestAddonStopsOnInvalidOptions(t *testing.T) {
	sup := startFakeSupervisor(t, infoResponse,
		supervisorResponse{http.StatusOK, `{"result":"ok","data":{"host":"h","port":"1883"}}`})
	cases := []struct {
		name, options string
		want          []string
	}{
		{"value", `{"idle_after":"20"}`, []string{"idle_after", "a duration needs a unit"}},
		{"cross check", `{"idle_after":"10m","leave_after":"5m"}`,
			[]string{"leave_after", "must be longer than"}},
		{"unknown option", `{"mqtt_host":"x"}`, []string{"mqtt_host", "unknown option"}},
		{"not JSON", `{`, []string{"parse add-on options"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			s := addonTestSettings(t, writeOptions(t, tc.options), sup)
			err := runAddon(context.Background(), s, &logs, nil)
			if err == nil {
				t.Fatal("runAddon accepted invalid options")
			}
			for _, want := range append(tc.want, "invalid add-on options", "Configuration tab") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	// Options are checked before the broker lookup, so their errors show
	// even when no broker is available.
	if n := sup.count("/services/mqtt"); n != 0 {
		t.Errorf("/services/mqtt requested %d times for invalid options, want 0", n)
	}

	err := runAddon(context.Background(),
		addonTestSettings(t, filepath.Join(t.TempDir(), "missing.json"), sup), io.Discard, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing options file: error %v, want os.ErrNotExist", err)
	}
}

func TestAddonStopsWithoutBroker(t *testing.T) {
	const options = `{"log_level":"info","participants":[],"equipment":[],"zones":[]}`
	t.Run("no service", func(t *testing.T) {
		sup := startFakeSupervisor(t, infoResponse,
			supervisorResponse{http.StatusBadRequest, `{"result":"error","message":"Service not enabled"}`})
		err := runAddon(context.Background(), addonTestSettings(t, writeOptions(t, options), sup),
			io.Discard, nil)
		checkNoBrokerError(t, err, "Service not enabled")
		if n := sup.count("/services/mqtt"); n != 1 {
			t.Errorf("a 4xx answer was requested %d times, want 1 (no retry)", n)
		}
	})
	t.Run("no token", func(t *testing.T) {
		sup := startFakeSupervisor(t, infoResponse, infoResponse)
		s := addonTestSettings(t, writeOptions(t, options), sup)
		s.Supervisor.Token = ""
		err := runAddon(context.Background(), s, io.Discard, nil)
		checkNoBrokerError(t, err, hassio.TokenEnv)
		if n := sup.count("/services/mqtt"); n != 0 {
			t.Errorf("requested /services/mqtt %d times without a token", n)
		}
	})
	t.Run("server errors", func(t *testing.T) {
		sup := startFakeSupervisor(t, infoResponse,
			supervisorResponse{http.StatusServiceUnavailable, `{"result":"error","message":"busy"}`})
		s := addonTestSettings(t, writeOptions(t, options), sup)
		err := runAddon(context.Background(), s, io.Discard, nil)
		checkNoBrokerError(t, err, "busy")
		if n, want := sup.count("/services/mqtt"), len(s.LookupDelays)+1; n != want {
			t.Errorf("5xx answers: %d requests, want %d", n, want)
		}
	})
}

func checkNoBrokerError(t *testing.T, err error, cause string) {
	t.Helper()
	if err == nil {
		t.Fatal("runAddon started without a broker")
	}
	for _, want := range []string{"no MQTT broker", "Mosquitto broker add-on", "broker_url", cause} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLookupMQTTServiceRetriesServerErrors(t *testing.T) {
	busy := supervisorResponse{http.StatusBadGateway, `{"result":"error","message":"starting"}`}
	sup := startFakeSupervisor(t, infoResponse, busy, busy,
		supervisorResponse{http.StatusOK, `{"result":"ok","data":{"host":"core-mosquitto","port":"1883"}}`})
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc, err := lookupMQTTService(context.Background(), sup.client(),
		[]time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}, log)
	if err != nil {
		t.Fatalf("lookupMQTTService: %v", err)
	}
	if svc.BrokerURL() != "mqtt://core-mosquitto:1883" {
		t.Errorf("broker = %s, want mqtt://core-mosquitto:1883", svc.BrokerURL())
	}
	if n := sup.count("/services/mqtt"); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if n := strings.Count(logs.String(), "mqtt service lookup failed; retrying"); n != 2 {
		t.Errorf("logged %d retries, want 2:\n%s", n, logs.String())
	}
}

func TestLookupMQTTServiceStopsWithContext(t *testing.T) {
	sup := startFakeSupervisor(t, infoResponse,
		supervisorResponse{http.StatusServiceUnavailable, `{"result":"error","message":"busy"}`})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := lookupMQTTService(ctx, sup.client(), []time.Duration{time.Hour},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("lookupMQTTService succeeded with a cancelled context")
	}
}

func TestAddonCommandDefaults(t *testing.T) {
	want := map[string]string{
		"options":       config.AddonOptionsPath,
		"data-dir":      "/data/sessions",
		"http":          ":8099",
		"supervisor":    "http://supervisor",
		"ingress-proxy": "172.30.32.2",
	}
	for _, f := range addonCommand().Flags {
		name := f.Names()[0]
		getter, ok := f.(interface{ GetValue() string })
		if !ok {
			t.Fatalf("flag --%s has no default value", name)
		}
		if got := getter.GetValue(); got != want[name] {
			t.Errorf("--%s default = %q, want %q", name, got, want[name])
		}
		delete(want, name)
	}
	for name := range want {
		t.Errorf("flag --%s is missing", name)
	}
}

func TestAddonCommandRejectsBadProxyAddress(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := newApp(&stdout, &stderr).Run([]string{"fitbridge", "addon", "--ingress-proxy", "proxy"})
	if err == nil || !strings.Contains(err.Error(), "invalid --ingress-proxy") {
		t.Errorf("error = %v, want one about --ingress-proxy", err)
	}
}
