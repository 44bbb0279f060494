package watchdog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// ProfileMinInterval is the shortest time between two heap profiles, so a
// level that flaps around the critical threshold cannot fill the disk.
const ProfileMinInterval = time.Hour

// profileWriter writes heap profiles, at most one per ProfileMinInterval.
type profileWriter struct {
	dir  string
	now  func() time.Time
	last time.Time // when the last profile was written; zero before one
}

// write writes a heap profile to dir and returns its path. It returns ""
// without error when dir is empty or the last profile is too recent.
func (pw *profileWriter) write() (string, error) {
	if pw.dir == "" {
		return "", nil
	}
	now := pw.now()
	if !pw.last.IsZero() && now.Sub(pw.last) < ProfileMinInterval {
		return "", nil
	}
	pw.last = now
	if err := os.MkdirAll(pw.dir, 0o755); err != nil {
		return "", fmt.Errorf("create profile directory: %w", err)
	}
	name := filepath.Join(pw.dir, "heap-"+now.UTC().Format("20060102T150405Z")+".pb.gz")
	tmp, err := os.CreateTemp(pw.dir, ".heap-*.tmp")
	if err != nil {
		return "", fmt.Errorf("create heap profile: %w", err)
	}
	// debug=0 writes the gzip-compressed protobuf that go tool pprof reads.
	err = pprof.Lookup("heap").WriteTo(tmp, 0)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write heap profile %s: %w", name, err)
	}
	return name, nil
}
