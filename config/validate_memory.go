package config

import (
	"strconv"
	"time"
)

// Limits of the memory keys enforced by Validate.
const (
	// MinMemoryLimit is the smallest memory.limit_bytes accepted other than
	// 0. Below it the garbage collector would run almost continuously,
	// because fitbridge's steady live heap alone is several MiB.
	MinMemoryLimit = 32 << 20
	// MinSampleInterval and MaxSampleInterval bound memory.sample_interval.
	MinSampleInterval = 100 * time.Millisecond
	MaxSampleInterval = time.Minute
)

func (v *validator) checkMemory(m Memory) {
	if m.LimitBytes != 0 && m.LimitBytes < MinMemoryLimit {
		v.add("memory.limit_bytes", strconv.FormatInt(m.LimitBytes, 10), "out of range",
			"0 for automatic, or at least 33554432 bytes (32 MiB)")
	}
	highOK := finite(m.HighRatio) && m.HighRatio > 0 && m.HighRatio < 1
	if !highOK {
		v.add("memory.high_ratio", formatFloat(m.HighRatio), "must be above 0 and below 1",
			"a fraction of the limit, below memory.critical_ratio")
	}
	criticalOK := finite(m.CriticalRatio) && m.CriticalRatio > 0 && m.CriticalRatio <= 1
	if !criticalOK {
		v.add("memory.critical_ratio", formatFloat(m.CriticalRatio),
			"must be above 0 and at most 1", "a fraction of the limit, above memory.high_ratio")
	}
	if highOK && criticalOK && m.CriticalRatio <= m.HighRatio {
		v.add("memory.critical_ratio", formatFloat(m.CriticalRatio),
			"must be above memory.high_ratio, which is "+formatFloat(m.HighRatio),
			"a fraction of the limit, above memory.high_ratio and at most 1")
	}
	if !finite(m.HysteresisRatio) || m.HysteresisRatio < 0 {
		v.add("memory.hysteresis_ratio", formatFloat(m.HysteresisRatio), "must not be negative",
			"0 or more, below memory.high_ratio")
	} else if highOK && m.HysteresisRatio >= m.HighRatio {
		v.add("memory.hysteresis_ratio", formatFloat(m.HysteresisRatio),
			"must be below memory.high_ratio, which is "+formatFloat(m.HighRatio),
			"0 or more, below memory.high_ratio")
	}
	if m.SampleInterval < MinSampleInterval || m.SampleInterval > MaxSampleInterval {
		v.add("memory.sample_interval", formatDuration(m.SampleInterval), "out of range",
			"a duration from 100ms to 1m")
	}
}
