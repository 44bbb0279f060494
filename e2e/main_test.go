// Package e2e holds the tests that drive fitbridge from outside: the dashboard in a real
// headless Chromium, the bridge fed by recorded workouts, and the chart feed fan-out
// benchmark. Everything they start listens on 127.0.0.1.
package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
