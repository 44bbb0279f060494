package hassio

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// IngressProxy is the address from which the Supervisor's ingress proxy
// connects to an add-on. Home Assistant checks the user's login before it
// proxies a request, so an ingress server serves no other client.
var IngressProxy = netip.MustParseAddr("172.30.32.2")

// IngressPathHeader is the request header in which the ingress proxy sends
// the URL path under which the browser requests the add-on, such as
// /api/hassio_ingress/<token>. The proxy strips that path from the request.
const IngressPathHeader = "X-Ingress-Path"

// rejectLogInterval is the least time between two logs of rejected clients.
const rejectLogInterval = time.Minute

// validIngressPath matches the X-Ingress-Path values accepted: an absolute
// path of URL-safe characters. Anything else could inject text into the
// Location headers built from it.
var validIngressPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+/?$`)

// Ingress restricts an HTTP handler to the ingress proxy and makes its
// redirects work under the ingress path.
type Ingress struct {
	// Proxy is the only client address served on paths outside OpenPaths.
	// The zero value means IngressProxy.
	Proxy netip.Addr
	// OpenPaths are exact request paths served to any client, such as health
	// probes and metrics that carry no personal data.
	OpenPaths []string
	// Logger receives a warning about rejected clients at most once per
	// rejectLogInterval. Nil means slog.Default().
	Logger *slog.Logger

	mu           sync.Mutex
	lastRejectAt time.Time
	rejected     int
}

// Handler returns next behind the ingress rules:
//
//   - A request for a path outside OpenPaths from any address other than
//     Proxy gets 403 Forbidden.
//   - A request with an X-Ingress-Path header that is not a plain absolute
//     path gets 400 Bad Request.
//   - A response with a Location header that is an absolute path (a redirect
//     such as "/app.js") gets the X-Ingress-Path value put in front, so the
//     browser stays under the ingress URL. Relative locations are unchanged.
//
// The wrapped ResponseWriter supports Flush and Hijack, so WebSocket
// upgrades pass through.
func (in *Ingress) Handler(next http.Handler) http.Handler {
	proxy := in.Proxy
	if !proxy.IsValid() {
		proxy = IngressProxy
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(in.OpenPaths, r.URL.Path) && !fromAddr(r, proxy) {
			in.logRejected(r)
			http.Error(w, "forbidden: this port serves the dashboard only to the "+
				"Home Assistant ingress proxy; open it from the Home Assistant sidebar",
				http.StatusForbidden)
			return
		}
		prefix := r.Header.Get(IngressPathHeader)
		if prefix == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !validIngressPath.MatchString(prefix) {
			http.Error(w, "bad request: invalid "+IngressPathHeader+" header",
				http.StatusBadRequest)
			return
		}
		next.ServeHTTP(&ingressWriter{ResponseWriter: w, prefix: strings.TrimSuffix(prefix, "/")}, r)
	})
}

// fromAddr reports whether the request's client is addr. An IPv4 client on
// a dual-stack socket shows as ::ffff:a.b.c.d, so both forms are compared
// unmapped.
func fromAddr(r *http.Request, addr netip.Addr) bool {
	client, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return client.Addr().Unmap() == addr.Unmap()
}

func (in *Ingress) logRejected(r *http.Request) {
	in.mu.Lock()
	in.rejected++
	now := time.Now()
	if !in.lastRejectAt.IsZero() && now.Sub(in.lastRejectAt) < rejectLogInterval {
		in.mu.Unlock()
		return
	}
	count := in.rejected
	in.rejected = 0
	in.lastRejectAt = now
	in.mu.Unlock()

	log := in.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn("ingress request rejected", "remote_addr", r.RemoteAddr, "path", r.URL.Path,
		"rejected_since_last_log", count)
}

// ingressWriter puts the ingress path in front of absolute-path Location
// headers when the status line is written.
type ingressWriter struct {
	http.ResponseWriter
	prefix      string
	wroteHeader bool
}

func (w *ingressWriter) WriteHeader(code int) {
	// Informational responses (1xx) may precede the final one.
	if !w.wroteHeader && code >= 200 {
		w.wroteHeader = true
		header := w.Header()
		if loc := header.Get("Location"); strings.HasPrefix(loc, "/") &&
			!strings.HasPrefix(loc, "//") {
			header.Set("Location", w.prefix+loc)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *ingressWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client, for streamed responses.
func (w *ingressWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection to a WebSocket upgrader. gorilla/websocket
// v1.5.3 asserts http.Hijacker on the writer instead of using
// http.ResponseController, so the method must exist here.
func (w *ingressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *ingressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
