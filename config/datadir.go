package config

import (
	"os"
	"path/filepath"
)

// DefaultDataDir returns the folder for saved sessions when data_dir is
// empty: $XDG_DATA_HOME/fitbridge, else ~/.local/share/fitbridge, else a
// fitbridge folder in the OS temporary folder. A relative XDG_DATA_HOME is
// ignored, as the XDG Base Directory specification requires. The folder is
// not created.
func DefaultDataDir() string {
	if dataHome := os.Getenv("XDG_DATA_HOME"); dataHome != "" && filepath.IsAbs(dataHome) {
		return filepath.Join(dataHome, "fitbridge")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "fitbridge")
	}
	return filepath.Join(os.TempDir(), "fitbridge")
}
