package charts

import (
	"bytes"
	"embed"
	"html"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
)

// webFiles holds the dashboard. static/vendor/ is produced by scripts/build-web.sh from
// charts/web/package-lock.json; everything else in static/ is written by hand.
//
//go:embed web/static
var webFiles embed.FS

// pageSecurityPolicy lets the page load only its own files and open WebSocket connections
// to its own server. A <base> element may only point at the page's own origin. The ws: and
// wss: sources are listed because browsers that implement only CSP Level 2 do not match
// WebSocket URLs with 'self'.
const pageSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self' ws: wss:; img-src 'self'; base-uri 'self'; form-action 'none'"

// ingressPathPattern is the form of an X-Ingress-Path value accepted as the page's base
// path, such as /api/hassio_ingress/<token>. validIngressPath also rejects "." and ".."
// segments; anything else is ignored.
var ingressPathPattern = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

func validIngressPath(p string) bool {
	if !ingressPathPattern.MatchString(p) {
		return false
	}
	for segment := range strings.SplitSeq(p[1:], "/") {
		if segment == "." || segment == ".." {
			return false
		}
	}
	return true
}

// PageHandler returns the handler of the dashboard: index.html at "/" and the files beside
// it. Every URL in the page is relative, so mount ServeWS at "<prefix>ws" and APIHandler
// at "<prefix>api/v1/" when this handler serves "<prefix>". Behind Home Assistant ingress,
// which strips its path prefix and names it in X-Ingress-Path, the page gets a <base>
// element with that prefix, so that its relative URLs go through the proxy even when the
// page's own URL lacks the trailing slash.
func (h *Hub) PageHandler() http.Handler {
	root, err := fs.Sub(webFiles, "web/static")
	if err != nil {
		// fs.Sub fails only for an invalid path name, and "web/static" is valid.
		panic(err)
	}
	index, err := fs.ReadFile(root, "index.html")
	if err != nil {
		panic("charts: embedded index.html missing: " + err.Error())
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		header := w.Header()
		header.Set("Content-Security-Policy", pageSecurityPolicy)
		header.Set("X-Content-Type-Options", "nosniff")
		header.Set("Referrer-Policy", "no-referrer")
		// The files change only with the binary; revalidation keeps an upgrade visible.
		header.Set("Cache-Control", "no-cache")
		if r.URL.Path != "/" {
			files.ServeHTTP(w, r)
			return
		}
		page := index
		if prefix := r.Header.Get("X-Ingress-Path"); prefix != "" {
			if validIngressPath(prefix) {
				page = withBase(index, prefix+"/")
			} else {
				h.log.Warn("chart page ingress path ignored", "remote", r.RemoteAddr,
					"reason", "not a plain absolute path")
			}
		}
		header.Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(page)
	})
}

// withBase inserts <base href="href"> as the first element of the page's head.
func withBase(page []byte, href string) []byte {
	const head = "<head>"
	i := bytes.Index(page, []byte(head))
	if i < 0 {
		return page
	}
	var out bytes.Buffer
	out.Grow(len(page) + len(href) + 32)
	out.Write(page[:i+len(head)])
	out.WriteString("\n<base href=\"" + html.EscapeString(href) + "\">")
	out.Write(page[i+len(head):])
	return out.Bytes()
}

// Handler returns one handler for everything the hub serves: the dashboard at "/", the
// feed at "/ws" and the API under "/api/v1/". cmd/fitbridge mounts the three parts itself.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", h.ServeWS)
	mux.Handle("/api/v1/", h.APIHandler())
	mux.Handle("/", h.PageHandler())
	return mux
}
