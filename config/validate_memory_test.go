package config

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidateMemoryRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Memory)
		// path is the key the single expected error names; empty means valid.
		path string
	}{
		{"defaults", func(*Memory) {}, ""},
		{"explicit limit", func(m *Memory) { m.LimitBytes = 256 << 20 }, ""},
		{"smallest limit", func(m *Memory) { m.LimitBytes = MinMemoryLimit }, ""},
		{"limit too small", func(m *Memory) { m.LimitBytes = MinMemoryLimit - 1 }, "memory.limit_bytes"},
		{"negative limit", func(m *Memory) { m.LimitBytes = -1 }, "memory.limit_bytes"},
		{"high zero", func(m *Memory) { m.HighRatio = 0 }, "memory.high_ratio"},
		{"high NaN", func(m *Memory) { m.HighRatio = math.NaN() }, "memory.high_ratio"},
		{"critical above 1", func(m *Memory) { m.CriticalRatio = 1.1 }, "memory.critical_ratio"},
		{"critical at 1", func(m *Memory) { m.CriticalRatio = 1 }, ""},
		{"critical equals high", func(m *Memory) { m.CriticalRatio = m.HighRatio },
			"memory.critical_ratio"},
		{"hysteresis negative", func(m *Memory) { m.HysteresisRatio = -0.01 },
			"memory.hysteresis_ratio"},
		{"hysteresis zero", func(m *Memory) { m.HysteresisRatio = 0 }, ""},
		{"hysteresis reaches high", func(m *Memory) { m.HysteresisRatio = m.HighRatio },
			"memory.hysteresis_ratio"},
		{"interval too short", func(m *Memory) { m.SampleInterval = 99 * time.Millisecond },
			"memory.sample_interval"},
		{"interval too long", func(m *Memory) { m.SampleInterval = time.Minute + time.Second },
			"memory.sample_interval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			tc.mutate(&cfg.Memory)
			err := cfg.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a FieldError for %s", err, tc.path)
			}
			if fe.Path != tc.path {
				t.Errorf("error path = %q, want %q (error: %v)", fe.Path, tc.path, err)
			}
		})
	}
}

func TestMemoryFromEnvironment(t *testing.T) {
	cfg := Default()
	err := cfg.ApplyEnv([]string{
		"FITBRIDGE_MEMORY_LIMIT_BYTES=268435456",
		"FITBRIDGE_MEMORY_SAMPLE_INTERVAL=500ms",
	})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if cfg.Memory.LimitBytes != 256<<20 {
		t.Errorf("limit_bytes = %d, want %d", cfg.Memory.LimitBytes, 256<<20)
	}
	if cfg.Memory.SampleInterval != 500*time.Millisecond {
		t.Errorf("sample_interval = %v, want 500ms", cfg.Memory.SampleInterval)
	}
}
