// Package replay reads recorded MQTT sessions (JSON lines) and publishes them
// to a broker with their original timing, or faster.
package replay

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// maxLineBytes bounds one recording line. The largest payload in the known
// recordings is under 1 KiB, so the limit only stops a corrupt file from
// being read into memory whole.
const maxLineBytes = 1 << 20

// Message is one recorded MQTT message.
type Message struct {
	// Offset is the time since the recording's start (t_ms), at millisecond
	// resolution.
	Offset  time.Duration
	Topic   string
	Payload []byte
	Retain  bool
	// File and Line locate the message in its recording, for error messages.
	File string
	Line int
}

// recordLine is the JSON form of one line. Pointers tell a missing field
// from a zero one.
type recordLine struct {
	TimeMS  *int64          `json:"t_ms"`
	Topic   *string         `json:"topic"`
	Payload json.RawMessage `json:"payload"`
	Retain  bool            `json:"retain"`
}

// ReadFile reads a recording: one JSON object per line with the fields
// t_ms (milliseconds since the start, never negative or decreasing), topic,
// payload and retain. A payload that is a JSON string becomes the string's
// raw bytes, so "vibration" is published as vibration. Any other JSON value
// is published as its compact JSON text. Blank lines are skipped. Errors name
// the file and line.
func ReadFile(path string) ([]Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	defer f.Close()
	return read(f, path)
}

func read(r io.Reader, name string) ([]Message, error) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64<<10), maxLineBytes)
	var (
		messages []Message
		previous int64
		lineNo   int
	)
	for scanner.Scan() {
		lineNo++
		line := bytes.TrimSpace(scanner.Bytes())
		if len(line) == 0 {
			continue
		}
		msg, timeMS, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if timeMS < previous {
			return nil, fmt.Errorf("%s:%d: t_ms %d is before the previous line's %d, "+
				"but lines must be sorted by t_ms", name, lineNo, timeMS, previous)
		}
		previous = timeMS
		msg.File = name
		msg.Line = lineNo
		messages = append(messages, msg)
	}
	if err := scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, lineNo+1, maxLineBytes)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return messages, nil
}

// parseLine decodes one non-blank line and returns the message and its t_ms.
func parseLine(line []byte) (Message, int64, error) {
	var rec recordLine
	decoder := json.NewDecoder(bytes.NewReader(line))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&rec); err != nil {
		return Message{}, 0, fmt.Errorf("invalid JSON line: %w", err)
	}
	if decoder.More() {
		return Message{}, 0, errors.New("invalid JSON line: more than one value")
	}
	switch {
	case rec.TimeMS == nil:
		return Message{}, 0, errors.New("missing t_ms")
	case *rec.TimeMS < 0:
		return Message{}, 0, fmt.Errorf("negative t_ms %d", *rec.TimeMS)
	case rec.Topic == nil || *rec.Topic == "":
		return Message{}, 0, errors.New("missing topic")
	case strings.ContainsAny(*rec.Topic, "+#"):
		return Message{}, 0, fmt.Errorf("topic %q contains a wildcard, "+
			"which a publish topic must not", *rec.Topic)
	case rec.Payload == nil:
		return Message{}, 0, errors.New("missing payload")
	}
	payload, err := payloadBytes(rec.Payload)
	if err != nil {
		return Message{}, 0, err
	}
	msg := Message{
		Offset:  time.Duration(*rec.TimeMS) * time.Millisecond,
		Topic:   *rec.Topic,
		Payload: payload,
		Retain:  rec.Retain,
	}
	return msg, *rec.TimeMS, nil
}

// payloadBytes turns the recorded JSON payload into the bytes to publish.
func payloadBytes(raw json.RawMessage) ([]byte, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("invalid payload string: %w", err)
		}
		return []byte(s), nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, fmt.Errorf("invalid payload: %w", err)
	}
	return compact.Bytes(), nil
}

// Merge combines recordings into one list ordered by Offset. Messages with
// equal offsets keep the order of their files in the arguments, then their
// order within the file. The inputs are not modified.
func Merge(files ...[]Message) []Message {
	total := 0
	for _, messages := range files {
		total += len(messages)
	}
	merged := make([]Message, 0, total)
	for _, messages := range files {
		merged = append(merged, messages...)
	}
	// A stable sort of the concatenation gives exactly the tie order above.
	slices.SortStableFunc(merged, func(a, b Message) int {
		return cmp.Compare(a.Offset, b.Offset)
	})
	return merged
}
