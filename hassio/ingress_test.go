package hassio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The tests use 127.0.0.2 as the ingress proxy address, because a test can
// only send from loopback addresses. Linux routes all of 127.0.0.0/8 to the
// loopback interface, so a client socket can bind 127.0.0.2.
var (
	testProxy = netip.MustParseAddr("127.0.0.2")
	// outsider is any other client, such as another add-on.
	outsider = netip.MustParseAddr("127.0.0.1")
)

// clientFrom returns an HTTP client whose connections come from addr.
func clientFrom(addr netip.Addr) *http.Client {
	dialer := &net.Dialer{
		LocalAddr: &net.TCPAddr{IP: addr.AsSlice()},
		Timeout:   5 * time.Second,
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext},
		// Redirects are checked, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// ingressServer serves handler behind the ingress rules with testProxy as the
// proxy, on a real HTTP server on loopback, and returns its URL and log.
func ingressServer(t *testing.T, handler http.Handler) (string, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	in := &Ingress{
		Proxy:     testProxy,
		OpenPaths: []string{"/healthz", "/metrics"},
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	}
	srv := httptest.NewServer(in.Handler(handler))
	t.Cleanup(srv.Close)
	return srv.URL, &logs
}

func get(t *testing.T, client *http.Client, url string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Cleanup(client.CloseIdleConnections)
	return resp
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
}

func TestIngressAcceptsProxy(t *testing.T) {
	url, _ := ingressServer(t, okHandler())
	resp := get(t, clientFrom(testProxy), url+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status from the proxy = %d, want 200", resp.StatusCode)
	}
}

func TestIngressRejectsOtherClients(t *testing.T) {
	url, logs := ingressServer(t, okHandler())
	client := clientFrom(outsider)
	for _, path := range []string{"/", "/ws", "/app.js", "/healthz/x"} {
		resp := get(t, client, url+path, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s from %s: status %d, want 403", path, outsider, resp.StatusCode)
		}
	}
	// Four rejections within a minute give one log line.
	if n := strings.Count(logs.String(), "ingress request rejected"); n != 1 {
		t.Errorf("logged %d rejections, want 1 (rate-limited):\n%s", n, logs.String())
	}
}

func TestIngressOpenPathsForEveryone(t *testing.T) {
	url, _ := ingressServer(t, okHandler())
	for _, path := range []string{"/healthz", "/metrics"} {
		resp := get(t, clientFrom(outsider), url+path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s from %s: status %d, want 200", path, outsider, resp.StatusCode)
		}
	}
}

func TestIngressDefaultProxyAddress(t *testing.T) {
	in := &Ingress{}
	handler := in.Handler(okHandler())
	for _, tc := range []struct {
		remote string
		want   int
	}{
		{"172.30.32.2:40000", http.StatusOK},
		{"[::ffff:172.30.32.2]:40000", http.StatusOK},
		{"172.30.32.1:40000", http.StatusForbidden},
		{"172.30.33.2:40000", http.StatusForbidden},
		{"127.0.0.1:40000", http.StatusForbidden},
		{"not an address", http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("client %s: status %d, want %d", tc.remote, rec.Code, tc.want)
		}
	}
}

func TestIngressPrefixesAbsoluteRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new?x=1", http.StatusFound)
	})
	mux.HandleFunc("GET /relative", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "./other")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /other-host", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "//example.invalid/x")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /dir/", func(w http.ResponseWriter, r *http.Request) {})
	url, _ := ingressServer(t, mux)
	client := clientFrom(testProxy)
	const prefix = "/api/hassio_ingress/Tok3n_-x"

	cases := []struct {
		path, header, want string
	}{
		{"/old", prefix, prefix + "/new?x=1"},
		{"/old", prefix + "/", prefix + "/new?x=1"},
		{"/old", "", "/new?x=1"},
		{"/relative", prefix, "./other"},
		{"/other-host", prefix, "//example.invalid/x"},
		// ServeMux itself redirects to the pattern with a trailing slash.
		{"/dir", prefix, prefix + "/dir/"},
	}
	for _, tc := range cases {
		header := http.Header{}
		if tc.header != "" {
			header.Set(IngressPathHeader, tc.header)
		}
		resp := get(t, client, url+tc.path, header)
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("GET %s with %s %q: Location %q, want %q",
				tc.path, IngressPathHeader, tc.header, got, tc.want)
		}
	}
}

func TestIngressRejectsInvalidPathHeader(t *testing.T) {
	url, _ := ingressServer(t, okHandler())
	client := clientFrom(testProxy)
	for _, value := range []string{
		"relative/path", "/a//b", "/a b", "/a\"b", "//evil.example", "/a?b", "/a%0d%0ab",
	} {
		header := http.Header{}
		header.Set(IngressPathHeader, value)
		resp := get(t, client, url+"/", header)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %q: status %d, want 400", IngressPathHeader, value, resp.StatusCode)
		}
	}
}

func TestIngressPassesWebSocketUpgrade(t *testing.T) {
	upgrader := websocket.Upgrader{}
	done := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.TextMessage, []byte("hello"))
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	url, _ := ingressServer(t, handler)
	t.Cleanup(func() { close(done) })

	dialer := websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: testProxy.AsSlice()}}).DialContext,
		HandshakeTimeout: 5 * time.Second,
	}
	header := http.Header{}
	header.Set(IngressPathHeader, "/api/hassio_ingress/abc")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := dialer.DialContext(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", header)
	if err != nil {
		t.Fatalf("WebSocket through the ingress handler: %v", err)
	}
	defer conn.Close()
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(msg) != "hello" {
		t.Errorf("message = %q, want hello", msg)
	}
}
