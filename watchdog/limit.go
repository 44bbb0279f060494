package watchdog

import (
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// DefaultLimit is the soft memory limit when neither the configuration,
// GOMEMLIMIT nor a container limit gives one. fitbridge's steady live heap
// is a few tens of MiB, so this leaves a wide margin while still bounding a
// leak well before a small host runs out.
const DefaultLimit = 512 << 20

// CgroupFraction is the share of a container's memory limit used as the
// soft limit. The rest covers what the Go runtime does not count: the
// binary, thread stacks outside Go and the kernel's page cache charged to
// the container.
const CgroupFraction = 0.9

// Sources of a Limit.
const (
	SourceConfig     = "config"     // memory.limit_bytes
	SourceGOMEMLIMIT = "GOMEMLIMIT" // the environment variable, as the runtime parsed it
	SourceCgroup     = "cgroup"     // CgroupFraction of the container's limit
	SourceDefault    = "default"    // DefaultLimit
)

// cgroupRoot is the mount point of the cgroup file systems on Linux.
const cgroupRoot = "/sys/fs/cgroup"

// unlimitedCgroup is the smallest value treated as "no limit" in a cgroup
// v1 memory.limit_in_bytes, which reports no limit as a number near 2^63.
const unlimitedCgroup = 1 << 62

// Limit is a soft memory limit and where it came from.
type Limit struct {
	Bytes  int64
	Source string
}

// ResolveLimit picks the soft memory limit: configured when above 0, else
// GOMEMLIMIT when set (and not "off"), else CgroupFraction of the memory
// limit of the process's cgroup, else DefaultLimit.
func ResolveLimit(configured int64) Limit {
	selfCgroup, _ := os.ReadFile("/proc/self/cgroup")
	return resolveLimit(configured, os.Getenv("GOMEMLIMIT"), debug.SetMemoryLimit(-1),
		func() (int64, bool) { return cgroupLimit(cgroupRoot, string(selfCgroup)) })
}

// resolveLimit is ResolveLimit with its inputs passed in: the GOMEMLIMIT
// variable, the limit the runtime currently has, and a cgroup reader.
func resolveLimit(configured int64, env string, runtimeLimit int64,
	cgroup func() (int64, bool)) Limit {
	if configured > 0 {
		return Limit{Bytes: configured, Source: SourceConfig}
	}
	// The runtime parsed GOMEMLIMIT at start; "off" leaves it at MaxInt64.
	if env != "" && runtimeLimit > 0 && runtimeLimit < math.MaxInt64 {
		return Limit{Bytes: runtimeLimit, Source: SourceGOMEMLIMIT}
	}
	if v, ok := cgroup(); ok {
		return Limit{Bytes: int64(float64(v) * CgroupFraction), Source: SourceCgroup}
	}
	return Limit{Bytes: DefaultLimit, Source: SourceDefault}
}

// cgroupLimit returns the smallest memory limit set on the process's cgroup
// or any of its ancestors, under root. selfCgroup is the text of
// /proc/self/cgroup. Both cgroup v2 (memory.max) and v1
// (memory/memory.limit_in_bytes) are read. Inside a container with its own
// cgroup namespace the process's path is "/", whose files are the
// container's own.
func cgroupLimit(root, selfCgroup string) (int64, bool) {
	var lowest int64
	found := false
	for _, line := range strings.Split(selfCgroup, "\n") {
		fields := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(fields) != 3 {
			continue
		}
		var dir, file string
		switch {
		case fields[0] == "0" && fields[1] == "":
			dir, file = root, "memory.max"
		case slices.Contains(strings.Split(fields[1], ","), "memory"):
			dir, file = filepath.Join(root, "memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		for p := path.Clean("/" + fields[2]); ; p = path.Dir(p) {
			if v, ok := readCgroupLimit(filepath.Join(dir, filepath.FromSlash(p), file)); ok {
				if !found || v < lowest {
					lowest, found = v, true
				}
			}
			if p == "/" {
				break
			}
		}
	}
	return lowest, found
}

// readCgroupLimit reads one limit file. It reports false for a missing or
// unreadable file and for "no limit".
func readCgroupLimit(name string) (int64, bool) {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, false
	}
	text := strings.TrimSpace(string(data))
	if text == "max" {
		return 0, false
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil || v <= 0 || v >= unlimitedCgroup {
		return 0, false
	}
	return v, true
}
