package charts

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/config"
)

// dialStatus dials the feed with header and returns the HTTP status of the handshake.
func dialStatus(t *testing.T, feed *feedServer, header http.Header) int {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(feed.wsURL, header)
	if err == nil {
		conn.Close()
		return resp.StatusCode
	}
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("dial: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestOriginCheck(t *testing.T) {
	feed := startFeed(t, Options{Access: Access{
		AllowedOrigins: []string{"https://ha.example.net:8123"},
	}}, nil)
	host := strings.TrimPrefix(feed.server.URL, "http://")
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no origin", nil, http.StatusSwitchingProtocols},
		{"same origin", http.Header{"Origin": {"http://" + host}}, http.StatusSwitchingProtocols},
		{"allow list", http.Header{"Origin": {"https://ha.example.net:8123"}}, http.StatusSwitchingProtocols},
		{"allow list case", http.Header{"Origin": {"HTTPS://HA.example.net:8123"}}, http.StatusSwitchingProtocols},
		{"foreign", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"allowed host other port", http.Header{"Origin": {"https://ha.example.net"}}, http.StatusForbidden},
		{"allowed host other scheme", http.Header{"Origin": {"http://ha.example.net:8123"}}, http.StatusForbidden},
		{"null origin", http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"ingress proxy", http.Header{
			"Origin":           {"http://homeassistant.local:8123"},
			"X-Ingress-Path":   {"/api/hassio_ingress/abc"},
			"X-Forwarded-Host": {"homeassistant.local:8123"},
		}, http.StatusSwitchingProtocols},
		{"forwarded host without ingress", http.Header{
			"Origin":           {"http://homeassistant.local:8123"},
			"X-Forwarded-Host": {"homeassistant.local:8123"},
		}, http.StatusForbidden},
		{"ingress with other host", http.Header{
			"Origin":           {"https://evil.example"},
			"X-Ingress-Path":   {"/api/hassio_ingress/abc"},
			"X-Forwarded-Host": {"homeassistant.local:8123"},
		}, http.StatusForbidden},
	}
	for _, tc := range cases {
		if got := dialStatus(t, feed, tc.header); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.status)
		}
	}
}

func TestBearerToken(t *testing.T) {
	const token = "correct-horse-battery-staple"
	feed := startFeed(t, Options{Access: Access{Token: token}}, nil)
	protocol := func(value string) http.Header {
		return http.Header{"Sec-WebSocket-Protocol": {Subprotocol + ", " + BearerSubprotocolPrefix +
			base64.RawURLEncoding.EncodeToString([]byte(value))}}
	}
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"header", http.Header{"Authorization": {"Bearer " + token}}, http.StatusSwitchingProtocols},
		{"header lower-case scheme", http.Header{"Authorization": {"bearer " + token}}, http.StatusSwitchingProtocols},
		{"wrong header", http.Header{"Authorization": {"Bearer " + token + "x"}}, http.StatusUnauthorized},
		{"prefix of token", http.Header{"Authorization": {"Bearer " + token[:5]}}, http.StatusUnauthorized},
		{"basic", http.Header{"Authorization": {"Basic " + token}}, http.StatusUnauthorized},
		{"subprotocol", protocol(token), http.StatusSwitchingProtocols},
		{"wrong subprotocol", protocol("nope"), http.StatusUnauthorized},
		{"bad base64", http.Header{"Sec-WebSocket-Protocol": {BearerSubprotocolPrefix + "%%%"}},
			http.StatusUnauthorized},
	}
	for _, tc := range cases {
		if got := dialStatus(t, feed, tc.header); got != tc.status {
			t.Errorf("feed, %s: status %d, want %d", tc.name, got, tc.status)
		}
	}

	for _, path := range []string{"/api/v1/session", "/api/v1/sessions"} {
		resp, _ := getPage(t, feed, path, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without token: status %d, WWW-Authenticate %q, want 401 with a challenge",
				path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	resp, _ := getPage(t, feed, "/api/v1/session", http.Header{"Authorization": {"Bearer " + token}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/session with token: status %d, want 200", resp.StatusCode)
	}
	// The page holds no data, so it stays public.
	if resp, _ := getPage(t, feed, "/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET / without token: status %d, want 200", resp.StatusCode)
	}
}

func TestServerSelectsSubprotocol(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	dialer := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	conn, resp, err := dialer.Dial(feed.wsURL, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != Subprotocol {
		t.Errorf("selected subprotocol %q, want %q", got, Subprotocol)
	}
}

func TestConfigValidatesHTTPAccess(t *testing.T) {
	cases := []struct {
		name    string
		origins []string
		token   string
		wantErr string
	}{
		{"defaults", nil, "", ""},
		{"good", []string{"https://ha.example.net:8123", "http://10.0.0.2"}, "0123456789abcdef", ""},
		{"path", []string{"https://ha.example.net/x"}, "", "http.allowed_origins[0]"},
		{"scheme", []string{"ws://ha.example.net"}, "", "http.allowed_origins[0]"},
		{"no host", []string{"ha.example.net"}, "", "http.allowed_origins[0]"},
		{"short token", nil, "short", "http.token"},
		{"token with space", nil, "0123456789 abcdef", "http.token"},
	}
	for _, tc := range cases {
		cfg := config.Default()
		cfg.HTTP.AllowedOrigins = tc.origins
		cfg.HTTP.Token = tc.token
		err := cfg.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: Validate: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Validate error %v, want one about %s", tc.name, err, tc.wantErr)
		case tc.token != "" && err != nil && strings.Contains(err.Error(), tc.token):
			t.Errorf("%s: error %q shows the token", tc.name, err)
		}
	}
}
