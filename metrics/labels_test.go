package metrics_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fitbridge/fitbridge/metrics"
)

// TestLabelledMetricsExportedAtStart checks that every vector of Metrics has children
// before anything is counted, so dashboards and rate() see zeros rather than no series.
func TestLabelledMetricsExportedAtStart(t *testing.T) {
	m := metrics.New()
	fields := reflect.ValueOf(m).Elem()
	vectors := 0
	for i := range fields.NumField() {
		name := fields.Type().Field(i).Name
		var collector prometheus.Collector
		switch v := fields.Field(i).Interface().(type) {
		case *prometheus.CounterVec:
			collector = v
		case *prometheus.GaugeVec:
			collector = v
		default:
			continue
		}
		vectors++
		if n := testutil.CollectAndCount(collector); n == 0 {
			t.Errorf("%s exports no series before its first update", name)
		}
	}
	if vectors == 0 {
		t.Fatal("Metrics has no vector fields; the test reads the wrong type")
	}
}

func TestInvalidReadingReasonsCreated(t *testing.T) {
	m := metrics.New()
	reasons := metrics.InvalidReadingReasons()
	if n := testutil.CollectAndCount(m.InvalidReadings); n != len(reasons) {
		t.Errorf("readings_invalid_total has %d series, want one per reason (%d)", n, len(reasons))
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if seen[r] {
			t.Errorf("reason %q listed twice", r)
		}
		seen[r] = true
	}
}

// bridgeReasons returns the invalid-reading reasons in the bridge's source: the values of
// its Invalid* and reason* string constants, and the string literals it passes to
// InvalidReadings.WithLabelValues.
func bridgeReasons(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "bridge", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if !isReasonConstant(name.Name) || i >= len(n.Values) {
						continue
					}
					if value, ok := stringLiteral(n.Values[i]); ok {
						found[value] = true
					}
				}
			case *ast.CallExpr:
				call, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || call.Sel.Name != "WithLabelValues" {
					return true
				}
				target, ok := call.X.(*ast.SelectorExpr)
				if !ok || target.Sel.Name != "InvalidReadings" {
					return true
				}
				for _, arg := range n.Args {
					if value, ok := stringLiteral(arg); ok {
						found[value] = true
					}
				}
			}
			return true
		})
	}
	if len(found) == 0 {
		t.Fatal("found no reasons in ../bridge; the test reads the wrong files")
	}
	out := make([]string, 0, len(found))
	for value := range found {
		out = append(out, value)
	}
	slices.Sort(out)
	return out
}

// isReasonConstant reports whether a bridge identifier names an invalid-reading reason.
func isReasonConstant(name string) bool {
	for _, prefix := range []string{"Invalid", "reason"} {
		rest, ok := strings.CutPrefix(name, prefix)
		if ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
			return true
		}
	}
	return false
}

func stringLiteral(expr ast.Expr) (string, bool) {
	lit, ok := expr.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	value, err := strconv.Unquote(lit.Value)
	return value, err == nil
}

func TestInvalidReadingReasonsMatchBridge(t *testing.T) {
	listed := metrics.InvalidReadingReasons()
	inSource := bridgeReasons(t)
	for _, r := range inSource {
		if !slices.Contains(listed, r) {
			t.Errorf("the bridge counts reason %q, which metrics.InvalidReadingReasons lacks", r)
		}
	}
	for _, r := range listed {
		if !slices.Contains(inSource, r) {
			t.Errorf("metrics.InvalidReadingReasons lists %q, which the bridge never counts", r)
		}
	}
}
