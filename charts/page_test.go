package charts

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPageServesIndexAndScript(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	cases := []struct {
		path        string
		contentType string
		contains    string
	}{
		{"/", "text/html", `<script src="app.js"></script>`},
		{"/app.js", "javascript", "new URL('ws', window.location.href)"},
	}
	for _, tc := range cases {
		resp, err := feed.server.Client().Get(feed.server.URL + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read %s: %v", tc.path, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tc.path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); !strings.Contains(got, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, got, tc.contentType)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != pageSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", tc.path, got, pageSecurityPolicy)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body does not contain %q", tc.path, tc.contains)
		}
	}
}

func TestPageLoadsNothingFromOutside(t *testing.T) {
	for _, name := range []string{"web/index.html", "web/app.js"} {
		data, err := webFiles.ReadFile(name)
		if err != nil {
			t.Fatalf("read embedded %s: %v", name, err)
		}
		for _, scheme := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(string(data), scheme) {
				t.Errorf("%s contains %q; the page must load only its own files", name, scheme)
			}
		}
	}
}

func TestPageRejectsOtherMethods(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	resp, err := feed.server.Client().Post(feed.server.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatalf("POST /: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want %d", resp.StatusCode, http.StatusMethodNotAllowed)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("POST /: Allow %q, want %q", got, "GET, HEAD")
	}
}

func TestPageUnknownPathIsNotFound(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	resp, err := feed.server.Client().Get(feed.server.URL + "/missing.js")
	if err != nil {
		t.Fatalf("GET /missing.js: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /missing.js: status %d, want 404", resp.StatusCode)
	}
}
