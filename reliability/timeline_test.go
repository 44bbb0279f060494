package reliability

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// tick is one line of a session's timeline file, in the format of
// docs/sessions.md: the window index and each participant's highest heart
// rate (null without a sample) and cumulative coins.
type tick struct {
	Index        int `json:"i"`
	Participants []struct {
		ID        string   `json:"id"`
		HeartRate *float64 `json:"hr"`
		Coins     int      `json:"c"`
	} `json:"p"`
}

// point returns participant's heart rate and coins in the tick, and whether
// the participant is on its roster.
func (tk tick) point(participant string) (*float64, int, bool) {
	for _, p := range tk.Participants {
		if p.ID == participant {
			return p.HeartRate, p.Coins, true
		}
	}
	return nil, 0, false
}

// readTimeline reads session-<id>.timeline.jsonl from dataDir.
func readTimeline(t *testing.T, dataDir, sessionID string) []tick {
	t.Helper()
	path := filepath.Join(dataDir, "session-"+sessionID+".timeline.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open timeline: %v", err)
	}
	defer f.Close()
	var ticks []tick
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var tk tick
		if err := json.Unmarshal(sc.Bytes(), &tk); err != nil {
			t.Fatalf("%s line %d: %v", path, len(ticks)+1, err)
		}
		ticks = append(ticks, tk)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ticks) == 0 {
		t.Fatalf("%s has no ticks", path)
	}
	return ticks
}

// checkCoinsFollowSamples checks that the windows are numbered without a
// hole and that participant's coins grow by perSample in every window with
// a sample and stay put in every window without one.
func checkCoinsFollowSamples(t *testing.T, ticks []tick, participant string, perSample int) {
	t.Helper()
	coins := 0
	samples := 0
	for i, tk := range ticks {
		if tk.Index != ticks[0].Index+i {
			t.Fatalf("window %d follows window %d", tk.Index, ticks[i-1].Index)
		}
		hr, got, ok := tk.point(participant)
		if !ok {
			continue
		}
		want := coins
		if hr != nil {
			want += perSample
			samples++
		}
		if got != want {
			t.Errorf("window %d (heart rate %v): %s has %d coins, want %d", tk.Index,
				deref(hr), participant, got, want)
		}
		coins = got
	}
	if samples == 0 {
		t.Errorf("%s has no window with a sample", participant)
	}
}

// maxStarvedWindows is how many windows in a row a real participant, who
// sends a reading every 250 ms, may miss while the bridge handles bad or
// flooding input. A race-enabled bridge on a loaded 2-core machine can stall
// for a second or two (garbage collection, a checkpoint's fsync); input that
// really starved the participant would cost every window of the flood.
const maxStarvedWindows = 3

// longestGap returns the longest run of windows without a heart rate for
// participant between two windows with one.
func longestGap(ticks []tick, participant string) int {
	longest, run := 0, 0
	seen := false
	for _, tk := range ticks {
		hr, _, ok := tk.point(participant)
		switch {
		case !ok:
		case hr == nil:
			run++
		default:
			if seen {
				longest = max(longest, run)
			}
			seen, run = true, 0
		}
	}
	return longest
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
