package metrics_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/fitbridge/fitbridge/metrics"
)

// Files under deploy/ that ship beside the binary.
var (
	prometheusDir = filepath.Join("..", "deploy", "prometheus")
	rulesFile     = "fitbridge.rules.yml"
	rulesTestFile = "fitbridge.rules.test.yml"
	configFile    = "prometheus.yml"
	dashboardFile = filepath.Join("..", "deploy", "grafana", "fitbridge.json")
)

// metricName matches the metric names in a PromQL expression: fitbridge's
// own, the Go and process collectors' and the handler's, and Prometheus's
// up. Label values are quoted, so a name inside one is skipped by
// stripping quoted strings first.
var (
	metricName   = regexp.MustCompile(`\b(?:fitbridge|go|process|promhttp)_[A-Za-z0-9_:]*|\bup\b`)
	quotedString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

func namesIn(expr string) []string {
	return metricName.FindAllString(quotedString.ReplaceAllString(expr, `""`), -1)
}

// registered returns every metric name a fitbridge process exports, with
// the _bucket, _sum and _count series of histograms and summaries, and the
// families with their help text.
func registered(t *testing.T) (map[string]bool, []*dto.MetricFamily) {
	t.Helper()
	m := metrics.New()
	m.Handler() // registers the promhttp_* handler metrics
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	names := map[string]bool{"up": true}
	for _, f := range families {
		names[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+suffix] = true
			}
		}
	}
	return names, families
}

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found in PATH; install Debian's prometheus package, " +
			"as scripts/test.sh does")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = prometheusDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool(t, "check", "rules", rulesFile)
}

func TestPromtoolTestRules(t *testing.T) {
	out := promtool(t, "test", "rules", rulesTestFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules did not report success:\n%s", out)
	}
}

func TestPromtoolCheckConfig(t *testing.T) {
	promtool(t, "check", "config", configFile)
}

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// alertExprs returns each alert's expression by alert name.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(prometheusDir, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	var rules ruleFile
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("parse %s: %v", rulesFile, err)
	}
	exprs := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs[r.Alert] = r.Expr
		}
	}
	return exprs
}

func TestRulesUseRegisteredMetrics(t *testing.T) {
	names, _ := registered(t)
	exprs := alertExprs(t)
	if len(exprs) == 0 {
		t.Fatalf("%s has no alerts", rulesFile)
	}
	for alert, expr := range exprs {
		for _, name := range namesIn(expr) {
			if !names[name] {
				t.Errorf("alert %s uses %s, which fitbridge does not export", alert, name)
			}
		}
	}
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// dashboardExprs parses the Grafana dashboard and returns its queries by
// panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("parse %s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard has title %q and uid %q, want both set", d.Title, d.UID)
	}
	exprs := map[string][]string{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			exprs[p.Title] = append(exprs[p.Title], target.Expr)
		}
	}
	return exprs
}

func TestDashboardUsesRegisteredMetrics(t *testing.T) {
	names, _ := registered(t)
	for title, exprs := range dashboardExprs(t) {
		for _, expr := range exprs {
			for _, name := range namesIn(expr) {
				if !names[name] {
					t.Errorf("panel %q uses %s, which fitbridge does not export", title, name)
				}
			}
		}
	}
}

// shown returns every metric name the dashboard queries.
func shown(t *testing.T) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	for _, exprs := range dashboardExprs(t) {
		for _, expr := range exprs {
			for _, name := range namesIn(expr) {
				used[name] = true
			}
		}
	}
	return used
}

func TestDashboardShowsEveryFitbridgeMetric(t *testing.T) {
	_, families := registered(t)
	used := shown(t)
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "fitbridge_") {
			continue
		}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			name += "_bucket"
		}
		if !used[name] {
			t.Errorf("no dashboard panel shows %s", name)
		}
	}
}

func TestDashboardShowsAlertedMetrics(t *testing.T) {
	used := shown(t)
	for alert, expr := range alertExprs(t) {
		for _, name := range namesIn(expr) {
			if !used[name] {
				t.Errorf("alert %s uses %s, which no dashboard panel shows", alert, name)
			}
		}
	}
}

func TestEveryMetricHasHelp(t *testing.T) {
	_, families := registered(t)
	for _, f := range families {
		if strings.TrimSpace(f.GetHelp()) == "" {
			t.Errorf("%s has no help text", f.GetName())
		}
	}
}

func TestNamesInExpression(t *testing.T) {
	got := namesIn(`sum by (le) (rate(fitbridge_x_bucket{job="go_fake", a="up"}[5m])) / up`)
	want := []string{"fitbridge_x_bucket", "up"}
	if !slices.Equal(got, want) {
		t.Errorf("namesIn = %q, want %q", got, want)
	}
}
