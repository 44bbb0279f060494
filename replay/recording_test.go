package replay

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/internal/testbroker"
)

func recordingsDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(testbroker.SharedDir(t), "data", "recordings")
}

func writeRecording(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "recording.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// countLines returns the number of non-blank lines in the file.
func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

func TestReadFileAllRecordings(t *testing.T) {
	// Message counts as documented with the recordings.
	documented := map[string]int{
		"daylightstation-20260627-garage-session.jsonl": 628,
		"fitparse-indoor-rowing-intervals.jsonl":        1641,
		"fitparse-steady-run.jsonl":                     3424,
		"fitparse-ride-with-dropout.jsonl":              4671,
		"fitparse-long-ride-3h30.jsonl":                 10686,
		"tcxparser-tempo-run-smart-recording.jsonl":     383,
		"z2m-djt11lm-payload-variants.jsonl":            8,
		"z2m-djt11lm-punching-bag-round.jsonl":          7,
	}
	paths, err := filepath.Glob(filepath.Join(recordingsDir(t), "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < len(documented) {
		t.Fatalf("found %d recordings, want at least %d", len(paths), len(documented))
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			messages, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := countLines(t, path); len(messages) != want {
				t.Errorf("read %d messages, file has %d lines", len(messages), want)
			}
			if want, ok := documented[name]; ok && len(messages) != want {
				t.Errorf("read %d messages, documented %d", len(messages), want)
			}
			for i, msg := range messages {
				if msg.Topic == "" {
					t.Errorf("message %d has no topic", i)
				}
				if i > 0 && msg.Offset < messages[i-1].Offset {
					t.Errorf("message %d offset %v before %v", i, msg.Offset, messages[i-1].Offset)
				}
				if msg.File != path || msg.Line != i+1 {
					t.Errorf("message %d located at %s:%d, want %s:%d", i, msg.File, msg.Line, path, i+1)
				}
				if strings.HasPrefix(msg.Topic, "fitness/hr/") && !json.Valid(msg.Payload) {
					t.Errorf("message %d heart-rate payload is not JSON: %q", i, msg.Payload)
				}
			}
		})
	}
}

func TestReadFilePunchingBagPayloads(t *testing.T) {
	messages, err := ReadFile(filepath.Join(recordingsDir(t), "z2m-djt11lm-punching-bag-round.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(messages) != 7 {
		t.Fatalf("read %d messages, want 7", len(messages))
	}

	state := messages[0]
	if state.Topic != "zigbee2mqtt/punching_bag" {
		t.Errorf("first topic = %q", state.Topic)
	}
	if state.Offset != 1000*time.Millisecond {
		t.Errorf("first offset = %v, want 1s", state.Offset)
	}
	if !bytes.HasPrefix(state.Payload, []byte(`{"action":"vibration","angle":24,`)) {
		t.Errorf("state payload is not compact JSON text: %s", state.Payload)
	}

	action := messages[1]
	if action.Topic != "zigbee2mqtt/punching_bag/action" {
		t.Errorf("second topic = %q", action.Topic)
	}
	if string(action.Payload) != "vibration" {
		t.Errorf("action payload = %q, want the raw string vibration", action.Payload)
	}
	if action.Offset != 1003*time.Millisecond {
		t.Errorf("action offset = %v, want 1.003s", action.Offset)
	}
}

func TestReadFilePayloadForms(t *testing.T) {
	path := writeRecording(t, strings.Join([]string{
		`{"t_ms": 0, "topic": "a", "payload": { "heart_rate" : 120 , "x": [1, 2] }, "retain": false}`,
		``,
		`{"t_ms": 5, "topic": "b", "payload": "vibration", "retain": true}`,
		`{"t_ms": 5, "topic": "c", "payload": "say \"hi\"\n"}`,
		`  `,
		`{"t_ms": 7, "topic": "d", "payload": 42.5}`,
		`{"t_ms": 8, "topic": "e", "payload": ""}`,
		`{"t_ms": 9, "topic": "f", "payload": null}`,
		`{"t_ms": 9, "topic": "g", "payload": [ true , false ]}`,
	}, "\n"))
	messages, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		topic   string
		payload string
		offset  time.Duration
		retain  bool
		line    int
	}{
		{"a", `{"heart_rate":120,"x":[1,2]}`, 0, false, 1},
		{"b", `vibration`, 5 * time.Millisecond, true, 3},
		{"c", "say \"hi\"\n", 5 * time.Millisecond, false, 4},
		{"d", `42.5`, 7 * time.Millisecond, false, 6},
		{"e", ``, 8 * time.Millisecond, false, 7},
		{"f", `null`, 9 * time.Millisecond, false, 8},
		{"g", `[true,false]`, 9 * time.Millisecond, false, 9},
	}
	if len(messages) != len(want) {
		t.Fatalf("read %d messages, want %d", len(messages), len(want))
	}
	for i, w := range want {
		got := messages[i]
		if got.Topic != w.topic {
			t.Errorf("message %d topic = %q, want %q", i, got.Topic, w.topic)
		}
		if string(got.Payload) != w.payload {
			t.Errorf("message %d payload = %q, want %q", i, got.Payload, w.payload)
		}
		if got.Offset != w.offset {
			t.Errorf("message %d offset = %v, want %v", i, got.Offset, w.offset)
		}
		if got.Retain != w.retain {
			t.Errorf("message %d retain = %v, want %v", i, got.Retain, w.retain)
		}
		if got.Line != w.line {
			t.Errorf("message %d line = %d, want %d", i, got.Line, w.line)
		}
	}
}

func TestReadFileRejectsInvalidLines(t *testing.T) {
	good := `{"t_ms": 10, "topic": "a", "payload": 1}` + "\n"
	cases := []struct {
		name    string
		line    string
		wantErr string
	}{
		{"negative time", `{"t_ms": -1, "topic": "a", "payload": 1}`, "negative t_ms"},
		{"decreasing time", `{"t_ms": 9, "topic": "a", "payload": 1}`, "before the previous"},
		{"missing time", `{"topic": "a", "payload": 1}`, "missing t_ms"},
		{"fractional time", `{"t_ms": 10.5, "topic": "a", "payload": 1}`, "invalid JSON line"},
		{"missing topic", `{"t_ms": 10, "payload": 1}`, "missing topic"},
		{"empty topic", `{"t_ms": 10, "topic": "", "payload": 1}`, "missing topic"},
		{"wildcard topic", `{"t_ms": 10, "topic": "fitness/hr/+", "payload": 1}`, "wildcard"},
		{"missing payload", `{"t_ms": 10, "topic": "a"}`, "missing payload"},
		{"unknown field", `{"t_ms": 10, "topic": "a", "payload": 1, "qos": 1}`, "unknown field"},
		{"broken JSON", `{"t_ms": 10, "topic": "a", "payload": `, "invalid JSON line"},
		{"two values", `{"t_ms": 10, "topic": "a", "payload": 1} {}`, "more than one value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRecording(t, good+tc.line+"\n")
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("ReadFile succeeded")
			}
			if !strings.Contains(err.Error(), path+":2:") {
				t.Errorf("error %q does not name %s:2", err, path)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.jsonl")
	_, err := ReadFile(path)
	if err == nil {
		t.Fatal("ReadFile of a missing file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestReadFileLineTooLong(t *testing.T) {
	long := `{"t_ms": 0, "topic": "a", "payload": "` + strings.Repeat("x", maxLineBytes) + `"}`
	path := writeRecording(t, `{"t_ms": 0, "topic": "a", "payload": 1}`+"\n"+long+"\n")
	_, err := ReadFile(path)
	if err == nil {
		t.Fatal("ReadFile of an over-long line succeeded")
	}
	if !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("error %q does not name %s:2", err, path)
	}
}

func message(file string, line int, offsetMS int64) Message {
	return Message{
		Offset: time.Duration(offsetMS) * time.Millisecond,
		Topic:  file,
		File:   file,
		Line:   line,
	}
}

func TestMergeEqualTimesKeepFileOrder(t *testing.T) {
	a := []Message{message("a", 1, 0), message("a", 2, 5), message("a", 3, 5), message("a", 4, 9)}
	b := []Message{message("b", 1, 5), message("b", 2, 5), message("b", 3, 6)}
	c := []Message{message("c", 1, 0), message("c", 2, 9)}

	merged := Merge(a, b, c)
	want := []string{"a:1", "c:1", "a:2", "a:3", "b:1", "b:2", "b:3", "a:4", "c:2"}
	if len(merged) != len(want) {
		t.Fatalf("merged %d messages, want %d", len(merged), len(want))
	}
	for i, msg := range merged {
		got := msg.File + ":" + strconv.Itoa(msg.Line)
		if got != want[i] {
			t.Errorf("position %d = %s, want %s", i, got, want[i])
		}
	}
}

func TestMergeKeepsInputs(t *testing.T) {
	a := []Message{message("a", 1, 5), message("a", 2, 6)}
	b := []Message{message("b", 1, 0)}
	merged := Merge(a, b)
	if merged[0].File != "b" {
		t.Errorf("first merged message from %s, want b", merged[0].File)
	}
	if a[0].File != "a" || a[0].Line != 1 || a[1].Line != 2 {
		t.Errorf("input a modified: %+v", a)
	}
	if len(Merge()) != 0 {
		t.Error("Merge of nothing is not empty")
	}
}

func TestMergeRecordingsOrdered(t *testing.T) {
	dir := recordingsDir(t)
	var files [][]Message
	total := 0
	for _, name := range []string{
		"z2m-djt11lm-punching-bag-round.jsonl",
		"daylightstation-20260627-garage-session.jsonl",
		"tcxparser-tempo-run-smart-recording.jsonl",
	} {
		messages, err := ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, messages)
		total += len(messages)
	}
	merged := Merge(files...)
	if len(merged) != total {
		t.Fatalf("merged %d messages, want %d", len(merged), total)
	}
	for i := 1; i < len(merged); i++ {
		if merged[i].Offset < merged[i-1].Offset {
			t.Fatalf("merged message %d at %v is before %v", i, merged[i].Offset, merged[i-1].Offset)
		}
	}
}
