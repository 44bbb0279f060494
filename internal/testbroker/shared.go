package testbroker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the folder "shared" next to the module root, which
// contains recordings and reference data that are not part of the repository. The
// module root is the nearest folder at or above the working directory that
// contains go.mod. SharedDir fails t when either cannot be found.
func SharedDir(t testing.TB) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		t.Fatalf("shared data folder %s not found: it must sit beside the module root %s",
			dir, root)
	}
	return dir
}

// ModuleRoot returns the nearest folder at or above the working directory
// that contains go.mod. Tests run in their package folder, so this is the
// root of the module under test.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod in the working directory or above")
		}
		dir = parent
	}
}
