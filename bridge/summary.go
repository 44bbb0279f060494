package bridge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fitbridge/fitbridge/sessions"
)

// SummaryFileName returns the file name of a session's summary:
// session-<start as YYYYMMDDTHHMMSSZ>.json.
func SummaryFileName(sum sessions.Summary) string {
	return "session-" + sum.StartedAt.UTC().Format("20060102T150405Z") + ".json"
}

// WriteSummary writes sum as indented JSON into dir and returns the path.
// It writes a temporary file, syncs it and renames it over the final name,
// so a crash leaves either the old file or the complete new one.
func WriteSummary(dir string, sum sessions.Summary) (string, error) {
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode summary %s: %w", sum.SessionID, err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, SummaryFileName(sum))
	tmp, err := os.CreateTemp(dir, ".session-*.tmp")
	if err != nil {
		return "", fmt.Errorf("create temp summary: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write summary: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("sync summary: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("close summary: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("rename summary into place: %w", err)
	}
	return path, nil
}
