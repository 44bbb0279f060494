package broker

import (
	"context"
	"log/slog"
	"net"
	"strings"
)

// quietHandler passes mochi's log records to another handler with every level
// below warning lowered to debug. mochi logs each client connect and
// disconnect at info level, which would flood a service log.
type quietHandler struct {
	inner slog.Handler
}

func quietLevel(level slog.Level) slog.Level {
	if level < slog.LevelWarn {
		return slog.LevelDebug
	}
	return level
}

func (h quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, quietLevel(level))
}

func (h quietHandler) Handle(ctx context.Context, record slog.Record) error {
	record.Level = quietLevel(record.Level)
	if closedConnection(record) {
		// mochi warns, with an empty message, when a listener reads from a
		// connection that Close has just shut: that is a normal stop.
		record.Level = slog.LevelDebug
	}
	if !h.inner.Enabled(ctx, record.Level) {
		return nil
	}
	return h.inner.Handle(ctx, record)
}

// closedConnection reports whether record carries an error attribute from
// reading a closed network connection (net.ErrClosed's text).
func closedConnection(record slog.Record) bool {
	found := false
	record.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" && strings.Contains(a.Value.String(), net.ErrClosed.Error()) {
			found = true
			return false
		}
		return true
	})
	return found
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{inner: h.inner.WithGroup(name)}
}
