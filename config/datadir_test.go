package config

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDefaultDataDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("the cases use Unix paths and $HOME")
	}
	home := t.TempDir()
	cases := []struct {
		name     string
		dataHome string
		home     string
		want     string
	}{
		{"XDG_DATA_HOME", "/srv/data", home, "/srv/data/fitbridge"},
		{"relative XDG_DATA_HOME", "relative/data", home,
			filepath.Join(home, ".local", "share", "fitbridge")},
		{"home", "", home, filepath.Join(home, ".local", "share", "fitbridge")},
		{"no home", "", "", filepath.Join(os.TempDir(), "fitbridge")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tc.dataHome)
			t.Setenv("HOME", tc.home)
			if got := DefaultDataDir(); got != tc.want {
				t.Errorf("DefaultDataDir = %q, want %q", got, tc.want)
			}
		})
	}
}
