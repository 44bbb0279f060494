package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/broker"
	"github.com/fitbridge/fitbridge/config"
)

// serviceStatus starts a service with pprof on or off and returns the
// status and body of a GET of path.
func serviceStatus(t *testing.T, pprof bool, path string) (int, string) {
	t.Helper()
	emb, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	cfg := config.Default()
	cfg.Broker.URL = emb.URL()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	svc, err := newService(cfg, testLogger(t), bridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc.pprof = pprof

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- svc.run(ctx, func(a string) { addr <- a }) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("service: %v", err)
		}
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-runErr:
		t.Fatalf("service stopped: %v", err)
	}
	if err := svc.bridge.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestPprofServedWithFlag(t *testing.T) {
	code, body := serviceStatus(t, true, "/debug/pprof/heap?debug=1")
	if code != http.StatusOK {
		t.Errorf("status %d, want 200", code)
	}
	if !strings.Contains(body, "heap profile") {
		t.Errorf("body is not a heap profile:\n%.200s", body)
	}
}

func TestPprofAbsentWithoutFlag(t *testing.T) {
	code, body := serviceStatus(t, false, "/debug/pprof/heap?debug=1")
	if code == http.StatusOK && strings.Contains(body, "heap profile") {
		t.Errorf("heap profile served without --pprof")
	}
}
