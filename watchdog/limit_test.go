package watchdog

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveLimitOrder(t *testing.T) {
	cgroup := func(v int64, ok bool) func() (int64, bool) {
		return func() (int64, bool) { return v, ok }
	}
	cases := []struct {
		name       string
		configured int64
		env        string
		runtime    int64
		cgroup     func() (int64, bool)
		want       Limit
	}{
		{"config wins", 100 << 20, "200MiB", 200 << 20, cgroup(1<<30, true),
			Limit{100 << 20, SourceConfig}},
		{"GOMEMLIMIT next", 0, "200MiB", 200 << 20, cgroup(1<<30, true),
			Limit{200 << 20, SourceGOMEMLIMIT}},
		{"GOMEMLIMIT off is ignored", 0, "off", math.MaxInt64, cgroup(1000<<20, true),
			Limit{900 << 20, SourceCgroup}},
		{"cgroup", 0, "", math.MaxInt64, cgroup(1000<<20, true),
			Limit{900 << 20, SourceCgroup}},
		{"default", 0, "", math.MaxInt64, cgroup(0, false), Limit{DefaultLimit, SourceDefault}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resolveLimit(tc.configured, tc.env, tc.runtime, tc.cgroup)
			if got != tc.want {
				t.Errorf("resolveLimit = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// writeFiles creates each file under root with its content.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCgroupLimit(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		self   string
		want   int64
		wantOK bool
	}{
		{
			name:  "v2 container namespace",
			files: map[string]string{"memory.max": "268435456\n"},
			self:  "0::/\n", want: 256 << 20, wantOK: true,
		},
		{
			name:  "v2 unlimited",
			files: map[string]string{"memory.max": "max\n"},
			self:  "0::/\n",
		},
		{
			name: "v2 systemd service under a limited slice",
			files: map[string]string{
				"memory.max":                                "max\n",
				"system.slice/memory.max":                   "1073741824\n",
				"system.slice/fitbridge.service/memory.max": "max\n",
			},
			self: "0::/system.slice/fitbridge.service\n", want: 1 << 30, wantOK: true,
		},
		{
			name: "v2 smallest ancestor wins",
			files: map[string]string{
				"a/memory.max":   "104857600\n",
				"a/b/memory.max": "209715200\n",
			},
			self: "0::/a/b\n", want: 100 << 20, wantOK: true,
		},
		{
			name: "v1 limited",
			files: map[string]string{
				"memory/memory.limit_in_bytes":          "9223372036854771712\n",
				"memory/docker/x/memory.limit_in_bytes": "536870912\n",
			},
			self: "12:cpu,cpuacct:/docker/x\n4:memory:/docker/x\n", want: 512 << 20, wantOK: true,
		},
		{
			name: "v1 unlimited, hybrid with an empty v2 hierarchy",
			files: map[string]string{
				"memory/memory.limit_in_bytes": "9223372036854771712\n",
			},
			self: "4:memory:/process_api/abc\n0::/\n",
		},
		{
			name:  "garbage",
			files: map[string]string{"memory.max": "lots\n"},
			self:  "0::/\n",
		},
		{name: "no cgroup file system", self: "0::/\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			got, ok := cgroupLimit(root, tc.self)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("cgroupLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
