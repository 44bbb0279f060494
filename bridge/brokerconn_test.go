package bridge_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// writePassword writes password to a new file and returns its path.
func writePassword(t *testing.T, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustBrokerConnection(t *testing.T, b config.Broker) bridge.BrokerConnection {
	t.Helper()
	conn, err := bridge.NewBrokerConnection(b)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestBrokerConnectionDropsURLUserInfo(t *testing.T) {
	conn := mustBrokerConnection(t, config.Broker{URL: "mqtt://relay:pa%40ss@127.0.0.1:1883"})
	if got := conn.URL.String(); got != "mqtt://127.0.0.1:1883" {
		t.Errorf("URL = %s, want mqtt://127.0.0.1:1883", got)
	}
	if conn.Username != "relay" {
		t.Errorf("Username = %q, want relay", conn.Username)
	}
	if string(conn.Password) != "pa@ss" {
		t.Errorf("Password = %q, want pa@ss", conn.Password)
	}
	if conn.TLS != nil {
		t.Error("TLS settings for an mqtt:// URL")
	}
}

func TestCheckConnectPassword(t *testing.T) {
	mosq := testbroker.Start(t, testbroker.WithPassword("fitbridge", "right horse"))
	ctx := context.Background()

	good := mustBrokerConnection(t, config.Broker{URL: mosq.URL(), Username: "fitbridge",
		PasswordFile: writePassword(t, "right horse")})
	if err := good.CheckConnect(ctx, "check-good"); err != nil {
		t.Errorf("right password: %v", err)
	}

	wrong := mustBrokerConnection(t, config.Broker{URL: mosq.URL(), Username: "fitbridge",
		PasswordFile: writePassword(t, "wrong horse")})
	err := wrong.CheckConnect(ctx, "check-wrong")
	if err == nil {
		t.Fatal("wrong password: no error")
	}
	for _, want := range []string{mosq.URL(), `user "fitbridge"`, "rejected",
		"check broker.username"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "horse") {
		t.Errorf("error %q shows the password", err)
	}

	anonymous := mustBrokerConnection(t, config.Broker{URL: mosq.URL()})
	err = anonymous.CheckConnect(ctx, "check-anonymous")
	if err == nil || !strings.Contains(err.Error(), "anonymous client") {
		t.Errorf("anonymous client: error = %v, want one naming an anonymous client", err)
	}
}

func TestCheckConnectNoBroker(t *testing.T) {
	port, err := testbroker.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := "mqtt://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conn := mustBrokerConnection(t, config.Broker{URL: url, Username: "fitbridge"})
	err = conn.CheckConnect(context.Background(), "check-nobody")
	if err == nil {
		t.Fatal("no error without a broker")
	}
	for _, want := range []string{url, `user "fitbridge"`, "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestCheckConnectTLSClientCertificate connects to a mosquitto TLS listener
// that requires a client certificate, with certificates generated for the
// test, with and without the client certificate.
func TestCheckConnectTLSClientCertificate(t *testing.T) {
	broker := testbroker.StartTLS(t, "fitbridge")
	pki := broker.PKI
	url := broker.TLSURL()

	withCert := mustBrokerConnection(t, config.Broker{URL: url, CAFile: pki.CAFile,
		CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile})
	if withCert.TLS == nil {
		t.Fatal("no TLS settings for an mqtts:// URL")
	}
	if err := withCert.CheckConnect(context.Background(), "check-tls"); err != nil {
		t.Errorf("with client certificate: %v", err)
	}

	withoutCert := mustBrokerConnection(t, config.Broker{URL: url, CAFile: pki.CAFile})
	err := withoutCert.CheckConnect(context.Background(), "check-tls-no-cert")
	if err == nil {
		t.Fatal("without client certificate: no error")
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("error %q does not name the broker %s", err, url)
	}
}
