package charts

import (
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func getPage(t *testing.T, feed *feedServer, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, feed.server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := feed.server.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp, string(body)
}

func TestPageServesIndexAndFiles(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	cases := []struct {
		path        string
		contentType string
		contains    string
	}{
		{"/", "text/html", `<script type="module" src="app.js"></script>`},
		{"/app.js", "javascript", "new Feed(document.baseURI"},
		{"/feed.js", "javascript", "new URL('ws', this.baseURL)"},
		{"/charts.js", "javascript", "spanGaps: false"},
		{"/style.css", "text/css", "@media (min-width: 1600px)"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
		{"/vendor/uPlot.iife.min.js", "javascript", "uPlot"},
		{"/vendor/uPlot.min.css", "text/css", ".uplot"},
	}
	for _, tc := range cases {
		resp, body := getPage(t, feed, tc.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tc.path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); !strings.Contains(got, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, got, tc.contentType)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != pageSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", tc.path, got, pageSecurityPolicy)
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: body does not contain %q", tc.path, tc.contains)
		}
	}
}

func TestPageHonoursIngressPath(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	const prefix = "/api/hassio_ingress/Ab-12_x"
	_, body := getPage(t, feed, "/", http.Header{"X-Ingress-Path": {prefix}})
	if want := `<head>` + "\n" + `<base href="` + prefix + `/">`; !strings.Contains(body, want) {
		t.Errorf("page behind ingress does not contain %q:\n%s", want, body[:min(len(body), 300)])
	}
	for _, bad := range []string{`/x"><script>`, "relative/path", "//evil.example/x", "/a/../b"} {
		_, body := getPage(t, feed, "/", http.Header{"X-Ingress-Path": {bad}})
		if strings.Contains(body, "<base") {
			t.Errorf("X-Ingress-Path %q produced a <base> element", bad)
		}
	}
	_, plain := getPage(t, feed, "/", nil)
	if strings.Contains(plain, "<base") {
		t.Errorf("page without X-Ingress-Path has a <base> element")
	}
}

// TestPageURLsAreRelative checks the hand-written files: every URL they load is relative
// to the page, so the page works under any path prefix and loads nothing from elsewhere.
func TestPageURLsAreRelative(t *testing.T) {
	attribute := regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	index, err := webFiles.ReadFile("web/static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	matches := attribute.FindAllStringSubmatch(string(index), -1)
	if len(matches) < 4 {
		t.Fatalf("index.html has %d src or href attributes, want the 5 of the page's files", len(matches))
	}
	for _, m := range matches {
		url := m[1]
		if strings.HasPrefix(url, "/") || strings.Contains(url, ":") {
			t.Errorf("index.html loads %q, want a relative URL", url)
		}
		if _, err := fs.Stat(webFiles, "web/static/"+url); err != nil {
			t.Errorf("index.html loads %q, which is not embedded: %v", url, err)
		}
	}
	for _, name := range []string{"app.js", "feed.js", "charts.js", "style.css"} {
		data, err := webFiles.ReadFile("web/static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, marker := range []string{"http://", "https://", "//cdn", "fetch('/", "url(/"} {
			if strings.Contains(string(data), marker) {
				t.Errorf("%s contains %q; the page must load only its own files", name, marker)
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
	resp, _ := getPage(t, feed, "/missing.js", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /missing.js: status %d, want 404", resp.StatusCode)
	}
}
