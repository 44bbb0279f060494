package addon

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// buildTimeout bounds one run of build.sh. A cold build of both targets
// takes about a minute on a 2-core machine.
const buildTimeout = 5 * time.Minute

// dockerfileLines returns the Dockerfile's instructions with continuation
// lines joined and comments dropped.
func dockerfileLines(t *testing.T) []string {
	t.Helper()
	var lines []string
	var current strings.Builder
	for _, line := range strings.Split(readText(t, "Dockerfile"), "\n") {
		trimmed := strings.TrimSpace(line)
		if current.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			current.WriteString(cont + " ")
			continue
		}
		current.WriteString(trimmed)
		lines = append(lines, current.String())
		current.Reset()
	}
	return lines
}

// findLines returns the submatches of every instruction matching pattern.
func findLines(lines []string, pattern string) [][]string {
	re := regexp.MustCompile(pattern)
	var found [][]string
	for _, line := range lines {
		if m := re.FindStringSubmatch(line); m != nil {
			found = append(found, m)
		}
	}
	return found
}

func TestDockerfilePinsGoVersionOfModule(t *testing.T) {
	lines := dockerfileLines(t)
	goImage := findLines(lines, `^ARG GO_IMAGE=golang:(\d+\.\d+\.\d+)-alpine[\d.]*$`)
	if len(goImage) != 1 {
		t.Fatalf("want one ARG GO_IMAGE=golang:<x.y.z>-alpine, found %d", len(goImage))
	}
	modGo := regexp.MustCompile(`(?m)^go (\d+\.\d+(\.\d+)?)$`).FindStringSubmatch(readText(t, "../go.mod"))
	if modGo == nil {
		t.Fatal("go.mod has no go line")
	}
	image, module := goVersion(goImage[0][1]), goVersion(modGo[1])
	if image[0] != module[0] || image[1] != module[1] {
		t.Errorf("Dockerfile builds with Go %s, go.mod asks for Go %s", goImage[0][1], modGo[1])
	}
	if image[2] < module[2] {
		t.Errorf("Dockerfile Go %s is older than go.mod's %s", goImage[0][1], modGo[1])
	}
}

// goVersion splits "1.26.8" or "1.26" into major, minor and patch numbers.
func goVersion(v string) [3]int {
	var parts [3]int
	for i, field := range strings.SplitN(v, ".", 3) {
		parts[i], _ = strconv.Atoi(field)
	}
	return parts
}

func TestDockerfileStages(t *testing.T) {
	lines := dockerfileLines(t)
	version, _ := addonConfig(t)["version"].(string)
	checks := []struct {
		pattern, why string
		count        int
	}{
		{`^ARG BUILD_FROM=alpine:\d+\.\d+(\.\d+)?$`, "a pinned small base image", 1},
		{`^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$`, "a pinned Node.js image", 1},
		{`^FROM --platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS web$`, "an npm stage", 1},
		{`^RUN bash scripts/build-web.sh$`, "the npm step that the tests run", 1},
		{`^COPY --from=web /src/charts/web/static/vendor charts/web/static/vendor$`,
			"the npm output embedded in the binary", 1},
		{`^FROM --platform=\$BUILDPLATFORM \$\{GO_IMAGE\} AS build$`, "a Go build stage", 1},
		{`^RUN GOARCH="\$TARGETARCH" sh addon/build.sh /out/fitbridge "\$BUILD_VERSION"$`,
			"the build step that the tests run", 1},
		{`^FROM \$\{BUILD_FROM\}$`, "the runtime stage", 1},
		{`^COPY --from=build /out/fitbridge /usr/bin/fitbridge$`, "the binary copied over", 1},
		{`^ARG BUILD_VERSION=` + regexp.QuoteMeta(version) + `$`,
			"the config.yaml version as the default in both stages", 2},
		{`^HEALTHCHECK .*CMD wget -q --spider http://127\.0\.0\.1:8099/healthz \|\| exit 1$`,
			"a health check on the ingress port's open /healthz", 1},
		{`^LABEL .*io\.hass\.version="\$\{BUILD_VERSION\}"`, "the io.hass labels", 1},
		{`^ENTRYPOINT \["/usr/bin/fitbridge"\]$`, "the binary as entry point", 1},
		{`^CMD \["addon"\]$`, "the addon command", 1},
	}
	for _, c := range checks {
		if n := len(findLines(lines, c.pattern)); n != c.count {
			t.Errorf("Dockerfile: want %d line(s) matching %s (%s), found %d",
				c.count, c.pattern, c.why, n)
		}
	}
	if n := len(findLines(lines, `^FROM `)); n != 3 {
		t.Errorf("Dockerfile has %d stages, want 3 (web, build, runtime)", n)
	}
	if strings.Contains(readText(t, "config.yaml"), "watchdog") {
		t.Errorf("config.yaml mentions watchdog; the image's HEALTHCHECK replaces it")
	}
}

// TestBuildScript runs the Dockerfile's build step outside Docker for both
// add-on architectures and checks the binaries.
func TestBuildScript(t *testing.T) {
	version, _ := addonConfig(t)["version"].(string)
	targets := []struct {
		goarch  string
		machine elf.Machine
	}{
		{"amd64", elf.EM_X86_64},
		{"arm64", elf.EM_AARCH64},
	}
	dir := t.TempDir()
	for _, target := range targets {
		t.Run(target.goarch, func(t *testing.T) {
			out := filepath.Join(dir, "fitbridge-"+target.goarch)
			ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "build.sh", out)
			cmd.Env = append(os.Environ(), "GOARCH="+target.goarch)
			if output, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build.sh for %s failed: %v\n%s", target.goarch, err, output)
			}
			checkStaticELF(t, out, target.machine)
			if runtime.GOOS == "linux" && runtime.GOARCH == target.goarch {
				checkBinaryRuns(t, out, version)
			}
		})
	}
}

func checkStaticELF(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s is built for %v, want %v", path, f.Machine, machine)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Errorf("%s needs a dynamic loader; want a static binary", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s links %v; want a static binary", path, libs)
	}
}

func checkBinaryRuns(t *testing.T, path, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", path, err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "fitbridge "+version; got != want {
		t.Errorf("%s version printed %q, want %q", path, got, want)
	}
	out, err = exec.CommandContext(ctx, path, "addon", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s addon --help: %v\n%s", path, err, out)
	}
	if !strings.Contains(string(out), "--ingress-proxy") {
		t.Errorf("%s addon --help lacks --ingress-proxy:\n%s", path, out)
	}
}

// TestWebBuildStep runs the Dockerfile's npm step outside Docker: it installs
// the dashboard's packages from the lock file with npm ci and fails when the
// files the binary embeds differ from the committed ones.
func TestWebBuildStep(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm not found (Debian packages nodejs and npm): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "scripts/build-web.sh", "--check")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-web.sh --check failed: %v\n%s", err, out)
	}
}

func TestBuildScriptUsage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "build.sh").CombinedOutput()
	var exitErr *exec.ExitError
	if err == nil || !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Fatalf("build.sh without arguments: err %v, want exit status 2", err)
	}
	if !strings.Contains(string(out), "usage: addon/build.sh OUTPUT [VERSION]") {
		t.Errorf("build.sh without arguments printed %q, want the usage", out)
	}
}

// TestAppArmorProfile checks the profile's names against the slug and the
// binary path, and has apparmor_parser compile it without loading it.
func TestAppArmorProfile(t *testing.T) {
	slug, _ := addonConfig(t)["slug"].(string)
	profile := readText(t, "apparmor.txt")
	if !regexp.MustCompile(`(?m)^profile ` + regexp.QuoteMeta(slug) + ` flags=`).MatchString(profile) {
		t.Errorf("apparmor.txt: the profile must be named after the slug %s", slug)
	}
	if !strings.Contains(profile, "peer=*_"+slug+",") {
		t.Errorf("apparmor.txt: signals must be accepted from *_%s", slug)
	}
	if !strings.Contains(profile, "/usr/bin/fitbridge cx -> ") {
		t.Errorf("apparmor.txt: the binary the Dockerfile installs needs its own profile")
	}

	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Fatalf("apparmor_parser not found (Debian package apparmor; scripts/test.sh installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -Q skips loading into the kernel and -K the cache, so no AppArmor
	// kernel support is needed.
	out, err := exec.CommandContext(ctx, parser, "-Q", "-K", "apparmor.txt").CombinedOutput()
	if err != nil {
		t.Errorf("apparmor_parser rejects apparmor.txt: %v\n%s", err, out)
	}
}
