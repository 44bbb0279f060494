package bridge_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/internal/testbroker"
	"github.com/fitbridge/fitbridge/metrics"
)

func TestParticipantsMetricFollowsStatus(t *testing.T) {
	mosq := testbroker.Start(t)
	r := startBridge(t, mosq.URL(), func(cfg *config.Config) {
		cfg.Session.StartSamples = 1
		cfg.Session.IdleAfter = time.Second
		cfg.Session.LeaveAfter = 2 * time.Second
		cfg.Session.EndAfter = time.Hour
	})
	c := newClient(t, mosq.URL(), "test-pub")
	count := func(status string) float64 {
		return testutil.ToFloat64(r.m.Participants.WithLabelValues(status))
	}
	counts := func(active, idle, left float64) func() bool {
		return func() bool {
			return count(metrics.StatusActive) == active && count(metrics.StatusIdle) == idle &&
				count(metrics.StatusLeft) == left
		}
	}

	c.publish(t, "fitness/hr/10001", `{"heart_rate":120}`, false)
	eventually(t, "one active participant", counts(1, 0, 0))
	// No more readings: the engine's clock moves the participant to idle, then to left.
	eventually(t, "one idle participant", counts(0, 1, 0))
	eventually(t, "one participant who left", counts(0, 0, 1))

	c.publish(t, "fitbridge/session/set", "end", false)
	eventually(t, "no participant after the session end", counts(0, 0, 0))
}
