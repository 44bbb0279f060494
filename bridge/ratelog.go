package bridge

import (
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
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

// perDeviceInterval is how often a rejected reading is logged per device.
const perDeviceInterval = time.Minute

// deviceLog logs rejected readings at most once per device and minute. It
// remembers the last deviceLogSize devices, so a flood of made-up device ids
// costs bounded memory; such a flood still shows in the metrics.
type deviceLog struct {
	logger *slog.Logger
	last   *simplelru.LRU[string, time.Time]
}

const deviceLogSize = 1024

func newDeviceLog(log *slog.Logger) *deviceLog {
	last, err := simplelru.NewLRU[string, time.Time](deviceLogSize, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &deviceLog{logger: log, last: last}
}

// log writes msg for device unless it did so within perDeviceInterval. It
// is called from the engine loop only.
func (d *deviceLog) log(device, msg string, args ...any) {
	now := time.Now()
	if last, ok := d.last.Get(device); ok && now.Sub(last) < perDeviceInterval {
		return
	}
	d.last.Add(device, now)
	d.logger.Warn(msg, append(args, "device", device)...)
}
