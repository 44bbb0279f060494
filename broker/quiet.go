package broker

import (
	"context"
	"log/slog"
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
	return h.inner.Handle(ctx, record)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{inner: h.inner.WithGroup(name)}
}
