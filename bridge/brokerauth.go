package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/fitbridge/fitbridge/config"
)

// brokerTLSConfig returns the TLS settings for a broker URL with a TLS
// scheme: the certificate authorities of broker.ca_file (the system's when it
// is empty) and the client certificate of broker.cert_file and key_file. It
// returns nil for a plain URL. Errors name the key whose file is unusable.
func brokerTLSConfig(b config.Broker, u *url.URL) (*tls.Config, error) {
	if !config.IsTLSScheme(u.Scheme) {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.CAFile != "" {
		pem, err := os.ReadFile(b.CAFile)
		if err != nil {
			return nil, fmt.Errorf("broker.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("broker.ca_file %s: no PEM certificate found", b.CAFile)
		}
		tc.RootCAs = pool
	}
	if b.CertFile != "" || b.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(b.CertFile, b.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("broker.cert_file %s and broker.key_file %s: %w",
				b.CertFile, b.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// brokerCredentials returns the user name and password to connect with:
// broker.username with broker.password or the content of
// broker.password_file, or else the user information of the URL.
func brokerCredentials(b config.Broker, u *url.URL) (string, []byte, error) {
	if b.PasswordFile != "" {
		data, err := os.ReadFile(b.PasswordFile)
		if err != nil {
			return "", nil, fmt.Errorf("broker.password_file: %w", err)
		}
		password := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if password == "" {
			return "", nil, errors.New("broker.password_file " + b.PasswordFile + " is empty")
		}
		return b.Username, []byte(password), nil
	}
	if b.Username == "" && b.Password == "" && u.User != nil {
		password, _ := u.User.Password()
		return u.User.Username(), []byte(password), nil
	}
	return b.Username, []byte(b.Password), nil
}

// withoutUserInfo returns a copy of u without user name and password.
// autopaho puts the URL it dials into its connect errors, which are logged.
func withoutUserInfo(u *url.URL) *url.URL {
	clean := *u
	clean.User = nil
	return &clean
}
