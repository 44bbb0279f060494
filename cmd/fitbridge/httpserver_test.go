package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// patientHTTPLimits have timeouts beyond clientPatience and small sizes. A
// test makes the one timeout it checks short, because net/http falls back
// from one timeout to another when one is zero.
var patientHTTPLimits = httpLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      10 * time.Second,
	IdleTimeout:       10 * time.Second,
	MaxHeaderBytes:    1024,
	MaxBodyBytes:      1024,
}

// shortLimit is the timeout under test.
const shortLimit = 200 * time.Millisecond

// clientPatience bounds every wait of these tests for the server. It is far
// longer than the limit under test, so a limit that does not act fails the
// test.
const clientPatience = 5 * time.Second

// startLimitedServer serves a handler that reads the whole body and sleeps
// for the duration in the "sleep" query parameter, under limits.
func startLimitedServer(t *testing.T, limits httpLimits) string {
	t.Helper()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(handler, limits, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// waitClosed reads from conn until the server closes it, and fails t when
// clientPatience passes first.
func waitClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(clientPatience)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("server kept the connection open for %v", clientPatience)
	}
}

func TestHTTPServerClosesSlowHeaders(t *testing.T) {
	limits := patientHTTPLimits
	limits.ReadHeaderTimeout = shortLimit
	addr := startLimitedServer(t, limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The request line and one header, and never the blank line that ends
	// the headers.
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: fitbridge\r\n"); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, conn)
}

func TestHTTPServerClosesSlowBody(t *testing.T) {
	limits := patientHTTPLimits
	limits.ReadTimeout = shortLimit
	addr := startLimitedServer(t, limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Complete headers announce a body that never comes.
	request := "POST / HTTP/1.1\r\nHost: fitbridge\r\nContent-Length: 100\r\n\r\nfirst bytes"
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, conn)
}

func TestHTTPServerClosesIdleConnections(t *testing.T) {
	limits := patientHTTPLimits
	limits.IdleTimeout = shortLimit
	addr := startLimitedServer(t, limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: fitbridge\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(clientPatience)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	// The connection is now idle in keep-alive.
	waitClosed(t, conn)
}

func TestHTTPServerRejectsLargeHeaders(t *testing.T) {
	addr := startLimitedServer(t, patientHTTPLimits)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	// net/http allows 4096 bytes beyond MaxHeaderBytes.
	req.Header.Set("X-Padding", strings.Repeat("a", 8<<10))
	client := &http.Client{Timeout: clientPatience}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", resp.StatusCode)
	}
}

func TestHTTPServerLimitsBody(t *testing.T) {
	addr := startLimitedServer(t, patientHTTPLimits)
	client := &http.Client{Timeout: clientPatience}
	for _, tc := range []struct {
		size int
		want int
	}{
		{size: 1024, want: http.StatusOK},
		{size: 1025, want: http.StatusRequestEntityTooLarge},
	} {
		resp, err := client.Post("http://"+addr+"/", "text/plain",
			strings.NewReader(strings.Repeat("b", tc.size)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("body of %d bytes: status = %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

func TestHTTPServerWriteTimeout(t *testing.T) {
	limits := patientHTTPLimits
	limits.WriteTimeout = shortLimit
	addr := startLimitedServer(t, limits)
	client := &http.Client{Timeout: clientPatience}
	resp, err := client.Get("http://" + addr + "/?sleep=600ms")
	if err == nil {
		body, readErr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if readErr == nil {
			t.Fatalf("response %q arrived after the write timeout", body)
		}
		err = readErr
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("client timed out instead of the server: %v", err)
	}
}

func TestDefaultHTTPLimitsSet(t *testing.T) {
	l := defaultHTTPLimits
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": l.ReadHeaderTimeout, "ReadTimeout": l.ReadTimeout,
		"WriteTimeout": l.WriteTimeout, "IdleTimeout": l.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %v, want a limit", name, d)
		}
	}
	if l.MaxHeaderBytes <= 0 || l.MaxBodyBytes <= 0 {
		t.Errorf("size limits %d and %d, want both set", l.MaxHeaderBytes, l.MaxBodyBytes)
	}
	// A default CPU profile runs 30 s and net/http's pprof handler refuses
	// one that would outlast the write timeout.
	if l.WriteTimeout <= 30*time.Second {
		t.Errorf("WriteTimeout = %v, want above the 30 s of a CPU profile", l.WriteTimeout)
	}
}
