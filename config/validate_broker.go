package config

import (
	"net/url"
	"slices"
	"strings"
)

// tlsSchemes are the broker URL schemes that autopaho in paho.golang v0.23.0
// dials over TLS.
var tlsSchemes = []string{"mqtts", "ssl", "tls", "wss"}

// IsTLSScheme reports whether a broker URL with this scheme uses TLS.
func IsTLSScheme(scheme string) bool {
	return slices.Contains(tlsSchemes, strings.ToLower(scheme))
}

// checkBrokerAuth checks the credential and TLS keys of the broker. It reads
// no files: the bridge reads them when it connects and names the key of any
// file it cannot use.
func (v *validator) checkBrokerAuth(b Broker) {
	if b.Password != "" && b.PasswordFile != "" {
		v.add("broker.password_file", quote(b.PasswordFile),
			"broker.password is set too", "one of broker.password and broker.password_file")
	}
	u, err := url.Parse(b.URL)
	if err != nil {
		// checkBroker reports the URL itself.
		return
	}
	if u.User != nil && (b.Username != "" || b.Password != "" || b.PasswordFile != "") {
		v.add("broker.url", quote(RedactURL(b.URL)),
			"has a user name, and broker.username, password or password_file is set too",
			"credentials in one place: preferably broker.username with broker.password_file")
	}

	tlsKeys := []struct{ key, value string }{
		{"broker.ca_file", b.CAFile},
		{"broker.cert_file", b.CertFile},
		{"broker.key_file", b.KeyFile},
	}
	if !IsTLSScheme(u.Scheme) {
		for _, k := range tlsKeys {
			if k.value != "" {
				v.add(k.key, quote(k.value), "set, but broker.url "+quote(RedactURL(b.URL))+
					" does not use TLS", "empty, or a broker.url with scheme "+
					strings.Join(tlsSchemes, ", "))
			}
		}
		return
	}
	if (b.CertFile == "") != (b.KeyFile == "") {
		v.add("broker.key_file", quote(b.KeyFile),
			"broker.cert_file and broker.key_file must be set together",
			"both a client certificate and its key, or neither")
	}
}

// RedactURL returns raw with any password replaced by "xxxxx", as
// url.URL.Redacted does, so that the URL can be logged. Text that does not
// parse as a URL loses everything before its last "@" after the scheme.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	scheme, rest, found := strings.Cut(raw, "://")
	if !found {
		return raw
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return scheme + "://xxxxx@" + rest[at+1:]
	}
	return raw
}
