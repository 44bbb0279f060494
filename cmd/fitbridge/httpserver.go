package main

import (
	"log/slog"
	"net/http"
	"time"
)

// httpLimits bounds what one HTTP client can hold of the server. The
// timeouts bound sending the request headers, sending the whole request,
// writing the response, and an idle keep-alive connection. The sizes bound
// the request headers and body.
type httpLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	MaxBodyBytes      int64
}

// defaultHTTPLimits are the limits of the dashboard, API and metrics server.
// Every route is a GET, so bodies are tiny. WriteTimeout stays above the
// 30 s of a default CPU profile from /debug/pprof/profile. WebSocket
// connections set their own deadlines once upgraded.
var defaultHTTPLimits = httpLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    32 << 10,
	MaxBodyBytes:      64 << 10,
}

// newHTTPServer returns a server for h with limits applied. A request body
// beyond MaxBodyBytes fails the handler's read, and headers beyond
// MaxHeaderBytes get 431. The server's own errors go to log.
func newHTTPServer(h http.Handler, limits httpLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           http.MaxBytesHandler(h, limits.MaxBodyBytes),
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
