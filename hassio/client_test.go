package hassio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testToken = "test-supervisor-token"

// supervisor starts an HTTP server on loopback that responds like the
// Supervisor: it checks the bearer token and serves body with status for
// path. Other paths get the Supervisor's 404 body.
func supervisor(t *testing.T, path string, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"result":"error","message":"Invalid token"}`)
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != path {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"result":"error","message":"Not found"}`)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(srv *httptest.Server) *Client {
	return &Client{BaseURL: srv.URL, Token: testToken, HTTPClient: srv.Client()}
}

func TestMQTTServicePortAsString(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusOK, `{"result":"ok","data":{
		"addon":"core_mosquitto","host":"core-mosquitto","port":"1883","ssl":false,
		"username":"addons","password":"p4ss","protocol":"3.1.1"}}`)
	svc, err := testClient(srv).MQTTService(context.Background())
	if err != nil {
		t.Fatalf("MQTTService: %v", err)
	}
	want := MQTTService{Addon: "core_mosquitto", Host: "core-mosquitto", Port: 1883,
		Username: "addons", Password: "p4ss", Protocol: "3.1.1"}
	if svc != want {
		t.Errorf("MQTTService = %+v, want %+v", svc, want)
	}
	if got := svc.BrokerURL(); got != "mqtt://core-mosquitto:1883" {
		t.Errorf("BrokerURL = %q, want mqtt://core-mosquitto:1883", got)
	}
}

func TestMQTTServicePortAsNumberWithSSL(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusOK, `{"result":"ok","data":{
		"host":"fd00::10","port":8883,"ssl":true,"username":"","password":""}}`)
	svc, err := testClient(srv).MQTTService(context.Background())
	if err != nil {
		t.Fatalf("MQTTService: %v", err)
	}
	if svc.Port != 8883 {
		t.Errorf("Port = %d, want 8883", svc.Port)
	}
	if got := svc.BrokerURL(); got != "mqtts://[fd00::10]:8883" {
		t.Errorf("BrokerURL = %q, want mqtts://[fd00::10]:8883", got)
	}
}

func TestMQTTServiceNoToken(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusOK, `{"result":"ok","data":{}}`)
	client := testClient(srv)
	client.Token = ""
	_, err := client.MQTTService(context.Background())
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("error = %v, want ErrNoToken", err)
	}
	if !strings.Contains(err.Error(), TokenEnv) {
		t.Errorf("error %q does not name %s", err, TokenEnv)
	}
}

func TestMQTTServiceWrongToken(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusOK, `{"result":"ok","data":{}}`)
	client := testClient(srv)
	client.Token = "wrong"
	_, err := client.MQTTService(context.Background())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *StatusError", err)
	}
	if se.StatusCode != http.StatusUnauthorized {
		t.Errorf("StatusCode = %d, want 401", se.StatusCode)
	}
}

func TestMQTTServiceClientError(t *testing.T) {
	// The Supervisor's response when no add-on provides the MQTT service.
	srv := supervisor(t, "/services/mqtt", http.StatusBadRequest,
		`{"result":"error","message":"Service not enabled"}`)
	_, err := testClient(srv).MQTTService(context.Background())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *StatusError", err)
	}
	if se.StatusCode != http.StatusBadRequest {
		t.Errorf("StatusCode = %d, want 400", se.StatusCode)
	}
	if se.Message != "Service not enabled" {
		t.Errorf("Message = %q, want the Supervisor's message", se.Message)
	}
	if se.Temporary() {
		t.Errorf("a 400 status is reported as temporary")
	}
	if !strings.Contains(err.Error(), "/services/mqtt") {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestMQTTServiceServerError(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusBadGateway, "<html>bad gateway</html>")
	_, err := testClient(srv).MQTTService(context.Background())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *StatusError", err)
	}
	if se.StatusCode != http.StatusBadGateway {
		t.Errorf("StatusCode = %d, want 502", se.StatusCode)
	}
	if !se.Temporary() {
		t.Errorf("a 502 status is not reported as temporary")
	}
	if se.Message != "<html>bad gateway</html>" {
		t.Errorf("Message = %q, want the start of the body", se.Message)
	}
}

func TestMQTTServiceTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := testClient(srv).MQTTService(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestMQTTServiceHTTPClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	client := testClient(srv)
	client.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	_, err := client.MQTTService(context.Background())
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Fatalf("error = %v, want a timeout error", err)
	}
}

func TestMQTTServiceInvalidResponses(t *testing.T) {
	cases := []struct {
		name, body, wantText string
	}{
		{"not JSON", `not json`, "invalid JSON"},
		{"result error with 200", `{"result":"error","message":"odd"}`, `result "error": odd`},
		{"no host", `{"result":"ok","data":{"port":"1883"}}`, "no host"},
		{"port text", `{"result":"ok","data":{"host":"h","port":"mqtt"}}`, "invalid port"},
		{"port zero", `{"result":"ok","data":{"host":"h","port":"0"}}`, "invalid port"},
		{"port too large", `{"result":"ok","data":{"host":"h","port":70000}}`, "invalid port"},
		{"port missing", `{"result":"ok","data":{"host":"h"}}`, "no port"},
		{"data not an object", `{"result":"ok","data":[1]}`, "invalid data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := supervisor(t, "/services/mqtt", http.StatusOK, tc.body)
			_, err := testClient(srv).MQTTService(context.Background())
			if err == nil {
				t.Fatalf("MQTTService accepted %s", tc.body)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
		})
	}
}

func TestMQTTServiceResponseTooLarge(t *testing.T) {
	srv := supervisor(t, "/services/mqtt", http.StatusOK,
		`{"result":"ok","data":{"host":"`+strings.Repeat("h", maxResponseBytes)+`"}}`)
	_, err := testClient(srv).MQTTService(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v, want a size error", err)
	}
}

func TestSelfInfo(t *testing.T) {
	srv := supervisor(t, "/addons/self/info", http.StatusOK, `{"result":"ok","data":{
		"name":"fitbridge","slug":"0a1b2c3d_fitbridge","version":"0.1.0",
		"hostname":"0a1b2c3d-fitbridge","ingress_url":"/api/hassio_ingress/abc/"}}`)
	info, err := testClient(srv).SelfInfo(context.Background())
	if err != nil {
		t.Fatalf("SelfInfo: %v", err)
	}
	want := AddonInfo{Slug: "0a1b2c3d_fitbridge", Version: "0.1.0",
		Hostname: "0a1b2c3d-fitbridge", IngressURL: "/api/hassio_ingress/abc/"}
	if info != want {
		t.Errorf("SelfInfo = %+v, want %+v", info, want)
	}
	if got := AddonPageURL(info.Slug); got != "homeassistant://hassio/addon/0a1b2c3d_fitbridge" {
		t.Errorf("AddonPageURL = %q", got)
	}
}

func TestSelfInfoRejectsBadSlug(t *testing.T) {
	for _, slug := range []string{"", "a/b", "x y", "UPPER"} {
		srv := supervisor(t, "/addons/self/info", http.StatusOK,
			`{"result":"ok","data":{"slug":"`+slug+`"}}`)
		if _, err := testClient(srv).SelfInfo(context.Background()); err == nil {
			t.Errorf("SelfInfo accepted slug %q", slug)
		}
	}
}

func TestNewClientFromEnv(t *testing.T) {
	t.Setenv(TokenEnv, "from-env")
	c := NewClientFromEnv()
	if c.Token != "from-env" {
		t.Errorf("Token = %q, want from-env", c.Token)
	}
	if c.BaseURL != "" {
		t.Errorf("BaseURL = %q, want empty (DefaultURL)", c.BaseURL)
	}
}
