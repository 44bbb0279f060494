package bridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// recordedMessage is one line of a recording: an MQTT message with its
// offset from the start of the recording.
type recordedMessage struct {
	Millis  int64           `json:"t_ms"`
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload"`
	Retain  bool            `json:"retain"`
}

// wirePayload returns the payload as it was on the wire. Recordings store a
// payload that was not JSON as a JSON string, so a string is unquoted.
func (m recordedMessage) wirePayload(t testing.TB) []byte {
	t.Helper()
	if len(m.Payload) > 0 && m.Payload[0] == '"' {
		var text string
		if err := json.Unmarshal(m.Payload, &text); err != nil {
			t.Fatalf("recording line at t_ms=%d: unquote payload: %v", m.Millis, err)
		}
		return []byte(text)
	}
	return m.Payload
}

// recordingsDir returns the shared recordings folder, which sits beside the
// module root.
func recordingsDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root not found above the working directory")
		}
		dir = parent
	}
	recordings := filepath.Join(dir, "..", "shared", "data", "recordings")
	if _, err := os.Stat(recordings); err != nil {
		t.Fatalf("recordings folder missing; it must sit beside the module root: %v", err)
	}
	return recordings
}

// readRecording returns every message of one recording, in file order.
func readRecording(t testing.TB, name string) []recordedMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(recordingsDir(t), name))
	if err != nil {
		t.Fatalf("read recording: %v", err)
	}
	var messages []recordedMessage
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, 1<<20)
	for line := 1; scanner.Scan(); line++ {
		if len(bytes.TrimSpace(scanner.Bytes())) == 0 {
			continue
		}
		var m recordedMessage
		if err := json.Unmarshal(scanner.Bytes(), &m); err != nil {
			t.Fatalf("%s line %d: %v", name, line, err)
		}
		messages = append(messages, m)
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("scan %s: %v", name, err)
	}
	if len(messages) == 0 {
		t.Fatalf("%s has no messages", name)
	}
	return messages
}

// recordingNames returns the file names in the recordings folder that match
// pattern.
func recordingNames(t testing.TB, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(recordingsDir(t), pattern))
	if err != nil {
		t.Fatalf("glob %s: %v", pattern, err)
	}
	if len(paths) == 0 {
		t.Fatalf("no recording matches %s", pattern)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}
