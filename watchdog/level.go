package watchdog

import "github.com/fitbridge/fitbridge/metrics"

// Level is a memory pressure level. Levels are ordered: a higher level is
// more pressure.
type Level int

// The pressure levels. Their numbers are the values of the
// fitbridge_memory_pressure_level metric.
const (
	// Normal: nothing to do.
	Normal Level = iota
	// High: shed what can be rebuilt (a shorter live window, caches) and
	// reject new chart clients.
	High
	// Critical: as High, and one heap profile is written for diagnosis.
	Critical
)

// String returns the level's name, which is also its metric label value.
func (l Level) String() string {
	switch l {
	case Normal:
		return metrics.LevelNormal
	case High:
		return metrics.LevelHigh
	case Critical:
		return metrics.LevelCritical
	}
	return "unknown"
}

// Pressure describes one change of the pressure level.
type Pressure struct {
	Level    Level
	Previous Level
	// LiveHeapBytes is the sample that caused the change.
	LiveHeapBytes uint64
	LimitBytes    int64
	// ProfilePath is the heap profile written on entering Critical, or
	// empty when none was written for this change.
	ProfilePath string
}

// Shedder is a part of fitbridge that can give memory back. The watchdog
// calls SetMemoryPressure from its own goroutine once per level change, in
// the order the shedders were given. The method must not block: it records
// the level, or hands the work to its owner's goroutine.
//
// Expected behaviour: at High or Critical, drop what can be rebuilt and
// reject new load. Back at Normal, restore the normal limits.
type Shedder interface {
	SetMemoryPressure(p Pressure)
}

// ShedderFunc adapts a function to the Shedder interface.
type ShedderFunc func(p Pressure)

// SetMemoryPressure calls f(p).
func (f ShedderFunc) SetMemoryPressure(p Pressure) { f(p) }
