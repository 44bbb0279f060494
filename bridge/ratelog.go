package bridge

import (
	"log/slog"
	"sync"
	"time"
)

// rateLimitedLog logs each distinct message at most once per interval and
// reports how many repeats it skipped, so a flood of bad input cannot flood
// the log. Messages are constant strings, so the map stays small.
type rateLimitedLog struct {
	logger   *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	last    map[string]time.Time
	skipped map[string]int
}

func newRateLimitedLog(log *slog.Logger, interval time.Duration) *rateLimitedLog {
	return &rateLimitedLog{
		logger:   log,
		interval: interval,
		last:     make(map[string]time.Time),
		skipped:  make(map[string]int),
	}
}

// log writes msg at warning level unless it was written less than the
// interval ago.
func (r *rateLimitedLog) log(msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	if last, ok := r.last[msg]; ok && now.Sub(last) < r.interval {
		r.skipped[msg]++
		r.mu.Unlock()
		return
	}
	skipped := r.skipped[msg]
	r.last[msg] = now
	r.skipped[msg] = 0
	r.mu.Unlock()

	if skipped > 0 {
		args = append(args, "repeats_skipped", skipped)
	}
	r.logger.Warn(msg, args...)
}
