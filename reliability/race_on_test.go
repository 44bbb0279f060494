//go:build race

package reliability

// raceEnabled builds the child binary with the race detector too, because
// this test binary runs with it.
const raceEnabled = true
