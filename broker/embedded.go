// Package broker runs an embedded MQTT v5 broker (mochi-mqtt) for
// single-box installs and demos, so fitbridge works without a separate broker.
package broker

import (
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// DefaultAddr is the listen address used when Start gets an empty one. It is
// loopback only: the embedded broker allows every client without a password.
const DefaultAddr = "127.0.0.1:1883"

// Per-client limits of mochi-mqtt v2.7.9, raised so that a fast replay to a
// slow subscriber is not dropped. mochi drops a message for a subscriber
// (and counts it in MessagesDropped or InflightDropped) when either is full:
//   - writesPending is the capacity of each client's outbound packet channel
//     (mochi default 8192). The channel is allocated at connect time at
//     8 bytes a slot, so 65536 slots cost 512 KiB for each connected client.
//   - maxInflight is how many unacknowledged QoS 1/2 messages a subscriber may
//     have (mochi default 8192). 65535 is the whole packet identifier space.
//
// Past these limits only flow control helps: see replay.Options.Wait.
const (
	writesPending = 1 << 16
	maxInflight   = 65535
)

// Embedded is a running embedded broker.
type Embedded struct {
	server *mqtt.Server
	addr   string
	logger *slog.Logger
	closed atomic.Bool
}

// Start listens on addr (DefaultAddr when empty, and port 0 picks a free
// port), allows every client and topic, and serves in the background until
// Close. The broker logs through logger with its informational messages
// lowered to debug level. A nil logger discards the log.
func Start(addr string, logger *slog.Logger) (*Embedded, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	capabilities := mqtt.NewDefaultServerCapabilities()
	capabilities.MaximumClientWritesPending = writesPending
	capabilities.MaximumInflight = maxInflight

	server := mqtt.New(&mqtt.Options{
		Capabilities: capabilities,
		Logger:       slog.New(quietHandler{inner: logger.Handler()}).With("component", "broker"),
		// mochi republishes its $SYS topics every interval. fitbridge does not
		// read them, so a slow interval saves wake-ups.
		SysTopicResendInterval: 10,
	})
	if err := server.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("embedded broker: add allow-all hook: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	// AddListener binds the port, so a busy or invalid address fails here.
	if err := server.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("embedded broker: listen on %s: %w", addr, err)
	}
	if err := server.Serve(); err != nil {
		_ = server.Close()
		return nil, fmt.Errorf("embedded broker: serve on %s: %w", addr, err)
	}
	e := &Embedded{server: server, addr: tcp.Address(), logger: logger}
	logger.Info("broker started", "addr", e.addr)
	return e, nil
}

// Addr returns the host:port the broker listens on, with the real port when
// Start was given port 0.
func (e *Embedded) Addr() string {
	return e.addr
}

// URL returns the broker address as mqtt://host:port. A wildcard listen
// address (0.0.0.0 or ::) is returned as loopback, because a wildcard is not
// an address a client can connect to.
func (e *Embedded) URL() string {
	host, port, err := net.SplitHostPort(e.addr)
	if err != nil {
		return "mqtt://" + e.addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return "mqtt://" + net.JoinHostPort(host, port)
}

// MessagesDropped returns how many messages the broker has dropped for
// subscribers because a per-client limit was full, since Start.
func (e *Embedded) MessagesDropped() int64 {
	info := e.server.Info
	return atomic.LoadInt64(&info.MessagesDropped) + atomic.LoadInt64(&info.InflightDropped)
}

// Close disconnects all clients, stops listening and waits for the client
// connections to end. Closing twice does nothing.
func (e *Embedded) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := e.server.Close()
	e.logger.Info("broker stopped", "addr", e.addr, "messages_dropped", e.MessagesDropped())
	return err
}
