// Package store keeps sessions on disk: the checkpoint of the running
// session, its timeline while it runs, and the saved record of each session
// that ended. The file formats are documented in docs/sessions.md.
package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// ErrInvalidID is returned by Load for an id that is not a session start
// time.
var ErrInvalidID = errors.New("invalid session id")

// Sessions shorter than these are not saved: they are too short to matter.
const (
	MinSavedDuration = time.Minute
	MinSavedTicks    = 3
)

const (
	checkpointFile = "checkpoint.json"
	savedPrefix    = "session-"
	savedSuffix    = ".json"
	timelineSuffix = ".timeline.jsonl"
)

// Store reads and writes the files of one data folder. It is safe for
// concurrent use, so that checkpoints can be written off the engine loop
// while the loop appends ticks.
type Store struct {
	dir string

	// mu guards the timeline being written: the running session's, or the
	// last one's while it may still resume.
	mu           sync.Mutex
	timelineID   string
	timeline     *os.File
	timelineBuf  *bufio.Writer
	timelineSize int64
}

// Checkpoint is what a checkpoint file holds: the engine state and how
// much of the session's timeline it covers.
type Checkpoint struct {
	WrittenAt time.Time      `json:"written_at"`
	State     sessions.State `json:"state"`
	// TimelineID and TimelineBytes name the timeline file and its length
	// when the checkpoint was taken; later ticks are written again.
	TimelineID    string `json:"timeline_id,omitempty"`
	TimelineBytes int64  `json:"timeline_bytes,omitempty"`
}

// Open returns a store for dir, creating the folder if needed.
func Open(dir string) (*Store, error) {
	// Heart-rate data is personal, so only the owner may read it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the data folder.
func (s *Store) Dir() string { return s.dir }

// LoadCheckpoint reads the checkpoint, or returns nil when there is none.
// It cuts the timeline back to what the checkpoint covers, so ticks after
// it are not recorded twice when the engine closes them again.
func (s *Store) LoadCheckpoint() (*Checkpoint, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, checkpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("decode checkpoint %s: %w", filepath.Join(s.dir, checkpointFile), err)
	}
	if cp.TimelineID != "" {
		path := s.timelinePath(cp.TimelineID)
		if err := os.Truncate(path, cp.TimelineBytes); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cut timeline back to the checkpoint: %w", err)
		}
	}
	return &cp, nil
}

// Position is how far the timeline being written goes.
type Position struct {
	TimelineID string
	Bytes      int64
}

// Position returns how far the timeline goes now. Taken together with the
// engine state, it lets WriteCheckpoint run later, on another goroutine,
// while more ticks are appended.
func (s *Store) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Position{TimelineID: s.timelineID, Bytes: s.timelineSize}
}

// WriteCheckpoint writes state as the checkpoint, recording that it covers
// the timeline up to pos, which Position returned when the state was taken.
// It syncs the timeline first, so the checkpoint never covers ticks that
// are not on disk.
func (s *Store) WriteCheckpoint(state sessions.State, now time.Time, pos Position) error {
	s.mu.Lock()
	err := s.syncTimeline()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	cp := Checkpoint{WrittenAt: now.UTC(), State: state, TimelineID: pos.TimelineID,
		TimelineBytes: pos.Bytes}
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	return writeAtomic(s.dir, checkpointFile, data)
}

// AppendTick adds a closed tick to its session's timeline.
func (s *Store) AppendTick(t sessions.Tick) error {
	line := tickLine{Index: t.Index}
	for _, p := range t.Participants {
		line.Participants = append(line.Participants, tickPoint{
			ID: p.ID, HeartRate: p.HeartRate, Zone: p.Zone, Coins: p.Coins,
		})
	}
	for _, e := range t.Equipment {
		line.Equipment = append(line.Equipment, tickEquipment{ID: e.ID, Active: e.Active, Events: e.Events})
	}
	return s.appendLine(t.SessionID, line)
}

// AppendHandover records in session id's timeline that from's series so
// far now belongs to to: a strap changed wearer early enough for its
// earnings to move with it.
func (s *Store) AppendHandover(id, from, to string) error {
	return s.appendLine(id, tickLine{Move: &handover{From: from, To: to}})
}

// appendLine writes one line to session id's timeline. A line of another
// session than the one being written closes that timeline.
func (s *Store) appendLine(id string, line tickLine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.openTimeline(id); err != nil {
		return err
	}
	data, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode timeline line: %w", err)
	}
	n, err := s.timelineBuf.Write(append(data, '\n'))
	s.timelineSize += int64(n)
	if err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// Finish writes the saved record of a session that ended, with its whole
// timeline, and returns its path. It writes nothing for a session shorter
// than MinSavedDuration or MinSavedTicks ticks, and returns "" then. The
// timeline stays on disk while the session may still resume.
func (s *Store) Finish(sum sessions.Summary) (string, error) {
	s.mu.Lock()
	err := s.syncTimeline()
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	timeline, err := s.readTimeline(sum.SessionID)
	if err != nil {
		return "", err
	}
	if sum.EndedAt.Sub(sum.StartedAt) < MinSavedDuration || timeline.ticks < MinSavedTicks {
		return "", nil
	}
	head, err := json.Marshal(sum)
	if err != nil || len(head) < 2 {
		return "", fmt.Errorf("encode saved session %s: %w", sum.SessionID, err)
	}
	name := SavedFileName(sum)
	// The file has the bytes encoding/json would give Saved: the summary's fields, then
	// "timeline". Writing the series one by one keeps a long timeline out of memory.
	err = writeAtomicFunc(s.dir, name, func(w io.Writer) error {
		head = head[:len(head)-1] // the summary object without its closing brace
		if len(head) > 1 {
			head = append(head, ',')
		}
		head = append(head, `"timeline":`...)
		if _, err := w.Write(head); err != nil {
			return err
		}
		if err := timeline.writeJSON(w, sum.CoinIntervalMS); err != nil {
			return err
		}
		_, err := io.WriteString(w, "}\n")
		return err
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name), nil
}

// Close flushes and closes the open timeline.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeTimeline()
}

// SavedFileName returns the file name of a session's saved record:
// session-<start as YYYYMMDDTHHMMSSZ>.json.
func SavedFileName(sum sessions.Summary) string {
	return savedPrefix + sum.StartedAt.UTC().Format("20060102T150405Z") + savedSuffix
}

func (s *Store) timelinePath(id string) string {
	return filepath.Join(s.dir, savedPrefix+id+timelineSuffix)
}

// openTimeline makes id's timeline the one being written. Switching to a
// new session deletes the previous session's timeline: its saved record
// is on disk and it can no longer resume.
func (s *Store) openTimeline(id string) error {
	if s.timelineID == id && s.timeline != nil {
		return nil
	}
	previous := s.timelineID
	if err := s.closeTimeline(); err != nil {
		return err
	}
	if previous != "" && previous != id {
		if err := os.Remove(s.timelinePath(previous)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove old timeline: %w", err)
		}
	}
	f, err := os.OpenFile(s.timelinePath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open timeline: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open timeline: %w", err)
	}
	s.timelineID, s.timeline, s.timelineSize = id, f, info.Size()
	s.timelineBuf = bufio.NewWriterSize(f, 64<<10)
	return nil
}

func (s *Store) syncTimeline() error {
	if s.timeline == nil {
		return nil
	}
	if err := s.timelineBuf.Flush(); err != nil {
		return fmt.Errorf("flush timeline: %w", err)
	}
	if err := s.timeline.Sync(); err != nil {
		return fmt.Errorf("sync timeline: %w", err)
	}
	return nil
}

func (s *Store) closeTimeline() error {
	if s.timeline == nil {
		return nil
	}
	err := s.syncTimeline()
	if cerr := s.timeline.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close timeline: %w", cerr)
	}
	s.timeline, s.timelineBuf = nil, nil
	return err
}

// writeAtomic writes data to dir/name through a temporary file that is
// synced and renamed into place, then syncs the folder, so a crash leaves
// either the old file or the complete new one.
func writeAtomic(dir, name string, data []byte) error {
	return writeAtomicFunc(dir, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomicFunc is writeAtomic for content that write streams to the file through a
// buffer, so that a large file is never held in memory whole.
func writeAtomicFunc(dir, name string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	buf := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(buf); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := buf.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s into place: %w", name, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open data dir to sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	return nil
}

// List returns the saved sessions in the folder, newest first.
func (s *Store) List() ([]sessions.Summary, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list data dir: %w", err)
	}
	var out []sessions.Summary
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, savedPrefix) || !strings.HasSuffix(name, savedSuffix) ||
			strings.HasSuffix(name, timelineSuffix) {
			continue
		}
		var head sessions.Summary
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		out = append(out, head)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, nil
}

// Load reads the saved session with the given id (its start as
// YYYYMMDDTHHMMSSZ).
func (s *Store) Load(id string) (*Saved, error) {
	if _, err := time.Parse("20060102T150405Z", id); err != nil {
		return nil, fmt.Errorf("%w %q: want the start time as YYYYMMDDTHHMMSSZ", ErrInvalidID, id)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, savedPrefix+id+savedSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("session %s: %w", id, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read session %s: %w", id, err)
	}
	var saved Saved
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("decode session %s: %w", id, err)
	}
	return &saved, nil
}
