package discovery

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them, which
// would mean an MQTT client of the broker test was not shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
