package sessions_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

// nopListener drops the engine's output.
type nopListener struct{}

func (nopListener) SessionStarted(sessions.Snapshot) {}
func (nopListener) TickClosed(sessions.Tick)         {}
func (nopListener) SessionEnded(sessions.Summary)    {}
func (nopListener) Event(sessions.Event)             {}

// BenchmarkEngineHeartRate measures one reading in a running session of 20
// participants, 20 readings a second each, so a 5 s window closes every
// 2000 readings and its cost is part of the figure.
func BenchmarkEngineHeartRate(b *testing.B) {
	const people = 20
	cfg := config.Default()
	devices := make([]string, people)
	for i := range people {
		devices[i] = fmt.Sprintf("dev%03d", i)
		cfg.Participants = append(cfg.Participants, config.Participant{
			ID: fmt.Sprintf("p%03d", i), Name: fmt.Sprintf("P%03d", i), Devices: []string{devices[i]},
		})
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	e := sessions.New(cfg, nopListener{}, nil)
	at := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
	step := time.Second / (20 * people)
	// Warm up: start the session and fill one window per participant.
	i := 0
	for ; i < 10*people; i++ {
		e.HeartRate(sessions.HeartRateReading{DeviceID: devices[i%people],
			Time: at.Add(time.Duration(i) * step), BPM: float64(100 + i%60), Battery: -1})
	}
	if !e.Running() {
		b.Fatal("session did not start")
	}
	b.ReportAllocs()
	for b.Loop() {
		e.HeartRate(sessions.HeartRateReading{DeviceID: devices[i%people],
			Time: at.Add(time.Duration(i) * step), BPM: float64(100 + i%60), Battery: -1})
		i++
	}
}
