package sessions_test

import (
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// TestMultiStrapCountsAssignedStrap checks that a strap assigned to a
// participant, and not configured for them, takes part in the lowest-reading
// rule like a configured one.
func TestMultiStrapCountsAssignedStrap(t *testing.T) {
	e, rec := newEngine(t, nil)
	e.HeartRate(hr("20001", 0, 100)) // sam's strap; Assign needs a reading first
	if _, err := e.Assign("20001", "alex"); err != nil {
		t.Fatal(err)
	}
	e.HeartRate(hr("20001", 1*time.Second, 125))
	e.HeartRate(hr("10001", 2*time.Second, 150))
	e.End(sessions.EndRequested)

	p := summaryOf(t, rec, "alex")
	if p.HeartRateMax != 125 {
		t.Errorf("alex max = %v, want 125: the 150 of strap 10001 is capped by the assigned "+
			"strap's 125", p.HeartRateMax)
	}
}
