package bridge

import (
	"net/http"
)

// HTTPHandler returns the bridge's HTTP routes: the metrics, a liveness
// probe at /healthz and a readiness probe at /readyz (connected to the
// broker and the engine loop running). Other routes go to next, which may
// be nil.
func (b *Bridge) HTTPHandler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", b.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !b.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: waiting for the MQTT broker or the engine loop\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if next != nil {
		mux.Handle("/", next)
	}
	return mux
}
