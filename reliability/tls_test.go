package reliability

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// tlsBroker is mosquitto with a plain listener and a TLS listener that
// requires a client certificate from pki.
// tlsBroker is a mosquitto with a TLS listener that requires a client certificate.
type tlsBroker struct {
	*testbroker.TLSBroker
	pki testbroker.PKI
}

// startTLSBroker starts mosquitto with a TLS listener whose certificates
// are generated for the test.
func startTLSBroker(t *testing.T) *tlsBroker {
	t.Helper()
	tb := testbroker.StartTLS(t, "fitbridge")
	return &tlsBroker{TLSBroker: tb, pki: tb.PKI}
}

// url returns the TLS listener's address as an mqtts URL.
func (b *tlsBroker) url() string { return b.TLSURL() }

// clientTLS returns the TLS settings of a test client with the client
// certificate.
func (b *tlsBroker) clientTLS(t *testing.T) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(b.pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate in " + b.pki.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(b.pki.ClientCertFile, b.pki.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS12}
}

// TestTLSWithClientCertificate connects fitbridge over TLS to a mosquitto
// listener that requires a client certificate, with a CA and certificates
// generated for the test. Without the certificate, or with another CA, the
// connection must fail with a log line that names the cause, and /readyz
// must fail.
func TestTLSWithClientCertificate(t *testing.T) {
	t.Parallel()
	b := startTLSBroker(t)
	other := testbroker.NewPKI(t, "another CA", "fitbridge")

	t.Run("client certificate", func(t *testing.T) {
		cfg := baseConfig(b.url(), t.TempDir())
		cfg.set("broker.ca_file", b.pki.CAFile)
		cfg.set("broker.cert_file", b.pki.ClientCertFile)
		cfg.set("broker.key_file", b.pki.ClientKeyFile)
		p := startProcess(t, cfg, startOptions{})
		p.waitStatus("/readyz", http.StatusOK, waitTimeout)
		ha := connectClient(t, b.url(), clientOptions{id: "home-assistant",
			tls: b.clientTLS(t), filters: []string{"gym/bridge/availability"}})
		ha.waitLast("gym/bridge/availability", "online", waitTimeout)
		relay := connectClient(t, b.url(), clientOptions{id: "relay", tls: b.clientTLS(t)})
		startStrap(t, relay, "10001", 130, 250*time.Millisecond)
		p.waitCoins("alex", 2, waitTimeout)
	})

	cases := []struct {
		name string
		set  func(c yamlConfig)
		// logged are parts of the connect error that fitbridge must log;
		// one of them is enough.
		logged []string
	}{
		// With TLS 1.3 the client finishes its handshake before the broker
		// checks the certificate, so the client sees either the broker's
		// alert or the connection reset that follows it.
		{"no client certificate", func(c yamlConfig) { c.set("broker.ca_file", b.pki.CAFile) },
			[]string{"tls: certificate required", "connection reset by peer"}},
		{"unknown authority", func(c yamlConfig) {
			c.set("broker.ca_file", other.CAFile)
			c.set("broker.cert_file", other.ClientCertFile)
			c.set("broker.key_file", other.ClientKeyFile)
		}, []string{"certificate signed by unknown authority"}},
		{"system roots", func(c yamlConfig) {
			c.set("broker.cert_file", b.pki.ClientCertFile)
			c.set("broker.key_file", b.pki.ClientKeyFile)
		}, []string{"certificate signed by unknown authority"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(b.url(), t.TempDir())
			tc.set(cfg)
			p := startProcess(t, cfg, startOptions{})
			line := p.waitLog("mqtt connect failed; retrying", 1, waitTimeout)
			found := false
			for _, part := range tc.logged {
				found = found || strings.Contains(line, part)
			}
			if !found || !strings.Contains(line, "broker="+b.url()) {
				t.Errorf("log line %q does not name the broker and one of %q", line, tc.logged)
			}
			p.waitLog("mqtt connect failed; retrying", 2, waitTimeout)
			if status, _ := p.get("/readyz"); status != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d, want 503", status)
			}
		})
	}
}

// TestTLSConfigErrors starts fitbridge with TLS settings it cannot use. It
// must exit 1 with an error that names the key.
func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	pki := testbroker.NewPKI(t, "fitbridge test CA", "fitbridge")
	missing := t.TempDir() + "/missing.pem"
	cases := []struct {
		name string
		url  string
		set  map[string]string
		want string
	}{
		{"ca file with a plain url", "mqtt://127.0.0.1:1883",
			map[string]string{"broker.ca_file": pki.CAFile}, "broker.ca_file"},
		{"missing ca file", "mqtts://127.0.0.1:8883",
			map[string]string{"broker.ca_file": missing}, "broker.ca_file"},
		{"certificate without key", "mqtts://127.0.0.1:8883",
			map[string]string{"broker.cert_file": pki.ClientCertFile}, "broker.key_file"},
		{"key of another certificate", "mqtts://127.0.0.1:8883",
			map[string]string{"broker.cert_file": pki.ClientCertFile,
				"broker.key_file": pki.ServerKeyFile}, "broker.cert_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(tc.url, t.TempDir())
			for k, v := range tc.set {
				cfg.set(k, v)
			}
			p := startProcess(t, cfg, startOptions{noWaitHTTP: true})
			code, exited := p.wait(startTimeout)
			if !exited || code != 1 {
				t.Fatalf("exit code %d (exited: %v), want 1", code, exited)
			}
			if out := p.logs.String(); !strings.Contains(out, tc.want) {
				t.Errorf("output %q does not name %s", out, tc.want)
			}
		})
	}
}
