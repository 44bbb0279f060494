package main

import (
	"context"
	"log/slog"
	"time"
)

// shutdownLimit bounds the time from a stop signal to the exit of
// fitbridge run.
const shutdownLimit = 5 * time.Second

// exitIfShutdownHangs calls exit(1) when the shutdown that starts with the
// end of ctx has not finished within limit, so that a broker that stopped
// responding or a stuck client cannot keep the process from exiting. The
// returned function marks the shutdown finished; call it before returning.
func exitIfShutdownHangs(ctx context.Context, log *slog.Logger, limit time.Duration,
	exit func(code int)) (finished func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		timer := time.NewTimer(limit)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			log.Error("shutdown did not finish in time; exiting", "limit", limit,
				"reason", context.Cause(ctx))
			exit(1)
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
