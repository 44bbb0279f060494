package bridge

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestBrokerCredentialsFromPasswordFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte("s3cret with spaces \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := config.Broker{Username: "fitbridge", PasswordFile: path}
	user, password, err := brokerCredentials(b, mustURL(t, "mqtt://broker.lan"))
	if err != nil {
		t.Fatal(err)
	}
	if user != "fitbridge" {
		t.Errorf("user = %q, want fitbridge", user)
	}
	if string(password) != "s3cret with spaces " {
		t.Errorf("password = %q, want the file without its line break", password)
	}
}

func TestBrokerCredentialsFileErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing": filepath.Join(t.TempDir(), "missing"),
		"empty":   empty,
	} {
		t.Run(name, func(t *testing.T) {
			b := config.Broker{Username: "fitbridge", PasswordFile: path}
			_, _, err := brokerCredentials(b, mustURL(t, "mqtt://broker.lan"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "broker.password_file") {
				t.Errorf("error %q does not name broker.password_file", err)
			}
		})
	}
}

func TestBrokerCredentialsFromURL(t *testing.T) {
	u := mustURL(t, "mqtt://relay:pa%40ss@broker.lan:1883")
	user, password, err := brokerCredentials(config.Broker{}, u)
	if err != nil {
		t.Fatal(err)
	}
	if user != "relay" || string(password) != "pa@ss" {
		t.Errorf("credentials = %q, %q; want relay, pa@ss", user, password)
	}
	clean := withoutUserInfo(u)
	if strings.Contains(clean.String(), "pa") || clean.Host != "broker.lan:1883" {
		t.Errorf("withoutUserInfo = %s, want mqtt://broker.lan:1883", clean)
	}
	if u.User == nil {
		t.Error("withoutUserInfo changed its argument")
	}
}

func TestBrokerCredentialsFromConfig(t *testing.T) {
	b := config.Broker{Username: "fitbridge", Password: "from-env"}
	user, password, err := brokerCredentials(b, mustURL(t, "mqtt://broker.lan"))
	if err != nil {
		t.Fatal(err)
	}
	if user != "fitbridge" || string(password) != "from-env" {
		t.Errorf("credentials = %q, %q; want fitbridge, from-env", user, password)
	}
}

func TestBrokerTLSConfig(t *testing.T) {
	pki := testbroker.NewPKI(t, "fitbridge test CA", "fitbridge")
	b := config.Broker{CAFile: pki.CAFile, CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile}

	plain, err := brokerTLSConfig(b, mustURL(t, "mqtt://127.0.0.1:1883"))
	if err != nil || plain != nil {
		t.Errorf("plain URL: config %v, error %v; want neither", plain, err)
	}

	tc, err := brokerTLSConfig(b, mustURL(t, "mqtts://127.0.0.1:8883"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificates) != 1 {
		t.Errorf("%d client certificates, want 1", len(tc.Certificates))
	}
	caPEM, err := os.ReadFile(pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: tc.RootCAs,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify against the loaded roots: %v", err)
	}
	if ca.Subject.CommonName != "fitbridge test CA" {
		t.Errorf("CA common name = %q", ca.Subject.CommonName)
	}
}

func TestBrokerTLSConfigErrors(t *testing.T) {
	pki := testbroker.NewPKI(t, "fitbridge test CA", "fitbridge")
	other := testbroker.NewPKI(t, "other CA", "other")
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		b    config.Broker
		want string
	}{
		{"missing ca", config.Broker{CAFile: filepath.Join(t.TempDir(), "none.pem")},
			"broker.ca_file"},
		{"ca not pem", config.Broker{CAFile: notPEM}, "no PEM certificate"},
		{"key of another certificate", config.Broker{CertFile: pki.ClientCertFile,
			KeyFile: other.ClientKeyFile}, "broker.cert_file"},
		{"missing key", config.Broker{CertFile: pki.ClientCertFile,
			KeyFile: filepath.Join(t.TempDir(), "none.key")}, "broker.key_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := brokerTLSConfig(tc.b, mustURL(t, "mqtts://127.0.0.1:8883"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
