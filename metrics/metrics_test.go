package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/fitbridge/fitbridge/metrics"
)

func TestMetricNamesPassPromlint(t *testing.T) {
	m := metrics.New()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "fitbridge_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

func TestRuntimeMetricsIncluded(t *testing.T) {
	m := metrics.New()
	for _, name := range []string{"go_gc_heap_live_bytes", "go_memory_classes_total_bytes",
		"process_resident_memory_bytes", "fitbridge_mqtt_messages_received_total"} {
		n, err := testutil.GatherAndCount(m.Registry, name)
		if err != nil {
			t.Fatalf("gather %s: %v", name, err)
		}
		if n == 0 {
			t.Errorf("metric %s missing", name)
		}
	}
}
