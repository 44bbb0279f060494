package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// runCLI runs the fitbridge command line with args and returns its output.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = newApp(&out, &errOut).Run(append([]string{"fitbridge"}, args...))
	return out.String(), errOut.String(), err
}

func TestDiscoveryCommandPrintsJSONLines(t *testing.T) {
	out, _, err := runCLI(t, "discovery", "--config", "../../testdata/daylightstation.yaml")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 10 {
		t.Fatalf("discovery printed %d lines, want one per entity", len(lines))
	}
	for _, line := range lines {
		var m struct {
			Topic   string          `json:"topic"`
			Retain  bool            `json:"retain"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if !strings.HasPrefix(m.Topic, "homeassistant/") || !strings.HasSuffix(m.Topic, "/config") {
			t.Errorf("topic %q is not a discovery config topic", m.Topic)
		}
		if !m.Retain {
			t.Errorf("%s not retained", m.Topic)
		}
	}
	// The unique id starts with the instance id, here the host name.
	if !strings.Contains(out, `_participant_participant-1_heart_rate"`) {
		t.Errorf("participant heart rate entity missing from output")
	}
}

func TestConfigErrorNamesKeyPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("session:\n  coin_intervall: 5s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(t, "discovery", "--config", path)
	if err == nil || !strings.Contains(err.Error(), "session.coin_intervall") {
		t.Fatalf("error = %v, want one naming session.coin_intervall", err)
	}
}

func TestFlagOverridesEnvironment(t *testing.T) {
	t.Setenv("FITBRIDGE_BASE_TOPIC", "gym")
	out, _, err := runCLI(t, "discovery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"state_topic":"gym/`) {
		t.Errorf("FITBRIDGE_BASE_TOPIC not applied")
	}
	t.Setenv("FITBRIDGE_BROKER_URL", "not a url")
	if _, _, err := runCLI(t, "discovery", "--broker", "mqtt://127.0.0.1:1"); err != nil {
		t.Errorf("--broker did not override an invalid FITBRIDGE_BROKER_URL: %v", err)
	}
}

func TestReplaySpeedInvalid(t *testing.T) {
	_, _, err := runCLI(t, "replay", "--speed", "fast", "x.jsonl")
	if err == nil || !strings.Contains(err.Error(), "--speed") {
		t.Fatalf("error = %v, want one about --speed", err)
	}
}

// TestReplaySummaryIndependentOfSpeed replays all eight recordings through
// the embedded broker at full speed and at 100 times real time, and
// compares the summary files byte for byte. The slow run takes about two
// minutes, so -short skips it.
func TestReplaySummaryIndependentOfSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("the --speed 100 replay takes about two minutes")
	}
	paths := recordingPaths(t, append(append([]string{}, heartRateRecordings...),
		vibrationRecordings...))
	dir := t.TempDir()
	run := func(speed string) []byte {
		summary := filepath.Join(dir, "summary-"+speed+".json")
		args := append([]string{"--log-level", "error", "replay", "--speed", speed,
			"--data-dir", filepath.Join(dir, speed), "--summary", summary, "--stats"}, paths...)
		out, errOut, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("replay --speed %s: %v\n%s", speed, err, errOut)
		}
		if !strings.Contains(out, "peak heap in use") {
			t.Errorf("--stats output lacks the peak heap: %q", out)
		}
		data, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	fast := run("max")
	slow := run("100")
	if !bytes.Equal(fast, slow) {
		t.Errorf("summaries differ between --speed max and --speed 100:\n%s\n---\n%s", fast, slow)
	}
	var sums []json.RawMessage
	if err := json.Unmarshal(fast, &sums); err != nil || len(sums) == 0 {
		t.Fatalf("summary file holds no sessions: %v", err)
	}
}

func TestSessionsListAndShow(t *testing.T) {
	dir := t.TempDir()
	rec := recordingPaths(t, []string{"daylightstation-20260627-garage-session.jsonl"})
	_, errOut, err := runCLI(t, "--log-level", "error", "replay", "-c",
		"../../testdata/daylightstation.yaml", "--data-dir", dir, rec[0])
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	list, _, err := runCLI(t, "sessions", "list", "--data-dir", dir)
	if err != nil {
		t.Fatalf("sessions list: %v", err)
	}
	if !strings.Contains(list, "20260105T180000Z") || !strings.Contains(list, "971") {
		t.Errorf("sessions list lacks the session or its coins:\n%s", list)
	}
	show, _, err := runCLI(t, "sessions", "show", "--data-dir", dir, "20260105T180000Z")
	if err != nil {
		t.Fatalf("sessions show: %v", err)
	}
	for _, want := range []string{"971 coins", "628 ticks", "warm", "#"} {
		if !strings.Contains(show, want) {
			t.Errorf("sessions show lacks %q:\n%s", want, show)
		}
	}
	if _, _, err := runCLI(t, "sessions", "show", "--data-dir", dir, "20990101T000000Z"); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("show of a missing session: err = %v, want not found", err)
	}
}

func TestSavedSessionTimelineForCharts(t *testing.T) {
	dir := t.TempDir()
	rec := recordingPaths(t, []string{"daylightstation-20260627-garage-session.jsonl"})
	if _, errOut, err := runCLI(t, "--log-level", "error", "replay", "-c",
		"../../testdata/daylightstation.yaml", "--data-dir", dir, rec[0]); err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := savedSessions{store: st}.Load(context.Background(), "20260105T180000Z")
	if err != nil {
		t.Fatal(err)
	}
	tl := saved.Timeline
	if tl == nil || tl.Length != 628 || len(tl.Participants) != 1 {
		t.Fatalf("timeline = %+v, want 628 ticks of one participant", tl)
	}
	p := tl.Participants[0]
	if len(p.HeartRate) != 628 || *p.HeartRate[0] != 116 || *p.Coins[627] != 971 {
		t.Errorf("series: %d points, first %v, last coins %v", len(p.HeartRate), *p.HeartRate[0],
			*p.Coins[627])
	}
	if _, err := (savedSessions{store: st}).Load(context.Background(), "nope"); !errors.Is(err,
		charts.ErrSessionNotFound) {
		t.Errorf("load of a bad id: %v, want not found", err)
	}
}
