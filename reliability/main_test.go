package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// buildDir holds the fitbridge binary that the tests run; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fitbridge-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create build folder:", err)
		os.Exit(2)
	}
	buildDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "remove build folder:", err)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds ./cmd/fitbridge once per test run, with the race detector
// when the tests run with it, and returns the path of the binary.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		root, err := testbroker.ModuleRoot()
		if err != nil {
			build.err = err
			return
		}
		path := filepath.Join(buildDir, "fitbridge")
		args := []string{"build", "-o", path}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/fitbridge")
		// go test puts the go command of its own toolchain first on PATH.
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go %v: %v\n%s", args, err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatalf("build fitbridge: %v", build.err)
	}
	return build.path
}
