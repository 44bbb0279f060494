package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// ingressProxy imitates Home Assistant's ingress: it serves the dashboard under
// /api/hassio_ingress/<token>/, strips that prefix, and names it in X-Ingress-Path, with the
// browser's host in X-Forwarded-Host. Like the real proxy it connects to the backend with
// the backend's own Host, so the feed's origin check must use the forwarded host. cut
// closes every connection to the backend, which drops the page's WebSocket the way a
// network failure does.
type ingressProxy struct {
	server *httptest.Server
	prefix string

	mu      sync.Mutex
	backend string
	conns   map[net.Conn]struct{}
}

const ingressPrefix = "/api/hassio_ingress/Tk3n_e2e"

func startIngressProxy(t *testing.T, backendURL string) *ingressProxy {
	t.Helper()
	p := &ingressProxy{prefix: ingressPrefix, backend: backendURL, conns: map[net.Conn]struct{}{}}
	dialer := &net.Dialer{}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, address)
			if err != nil {
				return nil, err
			}
			p.mu.Lock()
			p.conns[conn] = struct{}{}
			p.mu.Unlock()
			return conn, nil
		},
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			target, _ := url.Parse(p.backend)
			p.mu.Unlock()
			r.SetURL(target)
			r.Out.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(r.In.URL.Path, p.prefix), "/")
			r.Out.URL.RawPath = ""
			r.SetXForwarded()
			r.Out.Header.Set("X-Ingress-Path", p.prefix)
		},
		Transport: transport,
	}
	mux := http.NewServeMux()
	mux.Handle(p.prefix+"/", proxy)
	p.server = httptest.NewServer(mux)
	t.Cleanup(func() {
		p.server.Close()
		p.cut()
		transport.CloseIdleConnections()
	})
	return p
}

// url returns the dashboard's address through the proxy.
func (p *ingressProxy) url() string {
	return p.server.URL + p.prefix + "/"
}

// setBackend points the proxy at another backend, such as a restarted bridge.
func (p *ingressProxy) setBackend(backendURL string) {
	p.mu.Lock()
	p.backend = backendURL
	p.mu.Unlock()
}

// cut closes every connection to the backend.
func (p *ingressProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for conn := range p.conns {
		conn.Close()
		delete(p.conns, conn)
	}
}
