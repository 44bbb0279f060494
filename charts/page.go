package charts

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var webFiles embed.FS

// pageSecurityPolicy lets the page load only its own script and open WebSocket
// connections; the inline style block is the one exception. The ws: and wss: sources are
// listed because browsers that implement only CSP Level 2 do not match WebSocket URLs
// with 'self'.
const pageSecurityPolicy = "default-src 'none'; script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'"

// PageHandler returns the handler for the dashboard page: index.html at "/" and its script
// beside it. The page opens the feed at "ws" relative to its own URL, so mount ServeWS at
// "<prefix>ws" when this handler serves "<prefix>" (for example "/" and "/ws").
func (h *Hub) PageHandler() http.Handler {
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		// fs.Sub fails only for an invalid path name, and "web" is valid.
		panic(err)
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
		// The files change only with the binary; revalidation keeps an upgrade visible.
		header.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
