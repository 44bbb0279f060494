package testbroker

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TLSBroker is a mosquitto with a plain listener and a TLS listener that requires a client
// certificate, both on 127.0.0.1, and the certificates generated for it.
type TLSBroker struct {
	*Mosquitto
	PKI     PKI
	tlsPort int
}

// StartTLS starts a TLSBroker with a new PKI whose client certificate is named clientName.
// Anonymous clients are allowed on both listeners.
func StartTLS(t testing.TB, clientName string) *TLSBroker {
	t.Helper()
	b := &TLSBroker{PKI: NewPKI(t, "fitbridge test CA", clientName)}
	b.Mosquitto = StartWithConfig(t, func() string {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		b.tlsPort = port
		return strings.Join([]string{
			"allow_anonymous true",
			fmt.Sprintf("listener %d 127.0.0.1", port),
			"cafile " + b.PKI.CAFile,
			"certfile " + b.PKI.ServerCertFile,
			"keyfile " + b.PKI.ServerKeyFile,
			"require_certificate true",
		}, "\n")
	})
	return b
}

// TLSURL returns the TLS listener's address as an mqtts URL.
func (b *TLSBroker) TLSURL() string {
	return "mqtts://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(b.tlsPort))
}
