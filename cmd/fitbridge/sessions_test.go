package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// savedSessionID is the id of the session saveSession writes.
const savedSessionID = "20260105T180000Z"

// saveSession writes a 12-tick session of one participant into dir, as a bridge does when
// a session ends.
func saveSession(t *testing.T, dir string) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
	const ticks = 12
	for i := range ticks {
		bpm := 120.0
		tick := sessions.Tick{
			SessionID: savedSessionID, Index: i, IntervalMS: 5000,
			Start:        start.Add(time.Duration(i) * 5 * time.Second),
			Participants: []sessions.TickPoint{{ID: "alex", HeartRate: &bpm, Zone: "warm", Coins: i}},
		}
		if err := st.AppendTick(tick); err != nil {
			t.Fatal(err)
		}
	}
	summary := sessions.Summary{
		SessionID: savedSessionID, StartedAt: start, EndedAt: start.Add(ticks * 5 * time.Second),
		EndReason: sessions.EndReplay, CoinIntervalMS: 5000,
		Participants: []sessions.ParticipantSummary{{ID: "alex", Name: "Alex", Coins: 11}},
	}
	if path, err := st.Finish(summary); err != nil || path == "" {
		t.Fatalf("finish = %q, %v", path, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSessionsListEmptyNamesFolder(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runCLI(t, "sessions", "list", "--data-dir", dir)
	if err != nil {
		t.Fatalf("sessions list: %v", err)
	}
	if want := "no saved sessions in " + dir + "\n"; out != want {
		t.Errorf("sessions list of an empty folder printed %q, want %q", out, want)
	}
}

func TestSessionsListPointsToDemoFolder(t *testing.T) {
	dir := t.TempDir()
	demoDir := filepath.Join(dir, "demo")
	saveSession(t, demoDir)
	out, _, err := runCLI(t, "sessions", "list", "--data-dir", dir)
	if err != nil {
		t.Fatalf("sessions list: %v", err)
	}
	if !strings.Contains(out, "no saved sessions in "+dir+"\n") {
		t.Errorf("sessions list does not name the empty folder:\n%s", out)
	}
	if !strings.Contains(out, "--data-dir "+demoDir) {
		t.Errorf("sessions list does not point to the demo's folder %s:\n%s", demoDir, out)
	}
}

func TestSessionsReadConfigDataDir(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	saveSession(t, dataDir)
	configPath := filepath.Join(dir, "fitbridge.yaml")
	if err := os.WriteFile(configPath, []byte("data_dir: "+dataDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	list, _, err := runCLI(t, "sessions", "list", "--config", configPath)
	if err != nil {
		t.Fatalf("sessions list --config: %v", err)
	}
	if !strings.Contains(list, savedSessionID) || !strings.Contains(list, "11") {
		t.Errorf("sessions list --config lacks the session or its coins:\n%s", list)
	}
	show, _, err := runCLI(t, "sessions", "show", "-c", configPath, savedSessionID)
	if err != nil {
		t.Fatalf("sessions show -c: %v", err)
	}
	if !strings.Contains(show, "11 coins") {
		t.Errorf("sessions show -c lacks the coins:\n%s", show)
	}

	// --data-dir overrides the file.
	empty := t.TempDir()
	out, _, err := runCLI(t, "sessions", "list", "--config", configPath, "--data-dir", empty)
	if err != nil {
		t.Fatalf("sessions list --config --data-dir: %v", err)
	}
	if !strings.Contains(out, "no saved sessions in "+empty) {
		t.Errorf("--data-dir did not override the file's data_dir:\n%s", out)
	}
}
