package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/fitbridge/fitbridge/sessions"
)

// tickLine is one line of a timeline file: one closed tick.
type tickLine struct {
	Index        int             `json:"i"`
	Participants []tickPoint     `json:"p,omitempty"`
	Equipment    []tickEquipment `json:"e,omitempty"`
}

type tickPoint struct {
	ID        string   `json:"id"`
	HeartRate *float64 `json:"hr"`
	Zone      string   `json:"z,omitempty"`
	Coins     int      `json:"c"`
}

type tickEquipment struct {
	ID     string `json:"id"`
	Active bool   `json:"a,omitempty"`
	Events int    `json:"n,omitempty"`
}

// Saved is the saved record of a session: its summary, and its whole
// timeline at tick resolution.
type Saved struct {
	sessions.Summary
	Timeline Timeline `json:"timeline"`
}

// Timeline is every tick of a session, one run-length encoded series per
// participant and value. Series are Ticks long; a participant's values
// before they joined are null.
type Timeline struct {
	IntervalMS   int64                        `json:"interval_ms"`
	Ticks        int                          `json:"ticks"`
	Encoding     string                       `json:"encoding"`
	Participants map[string]ParticipantSeries `json:"participants"`
	Equipment    map[string]EquipmentSeries   `json:"equipment,omitempty"`
}

// ParticipantSeries holds a participant's run-length encoded series:
// heart rate in bpm (null in a window without a valid sample), zone id
// (null likewise) and cumulative coins.
type ParticipantSeries struct {
	HeartRate json.RawMessage `json:"heart_rate"`
	Zone      json.RawMessage `json:"zone"`
	Coins     json.RawMessage `json:"coins"`
}

// EquipmentSeries holds a piece of equipment's run-length encoded series:
// whether it was active, and its vibration events per tick.
type EquipmentSeries struct {
	Active json.RawMessage `json:"active"`
	Events json.RawMessage `json:"events"`
}

// readTimeline reads the timeline file of session id into a Timeline.
func (s *Store) readTimeline(id string, intervalMS int64) (Timeline, error) {
	tl := Timeline{IntervalMS: intervalMS, Encoding: "rle",
		Participants: map[string]ParticipantSeries{}, Equipment: map[string]EquipmentSeries{}}
	f, err := os.Open(s.timelinePath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return tl, nil
	}
	if err != nil {
		return tl, fmt.Errorf("open timeline: %w", err)
	}
	defer f.Close()

	type participantColumns struct {
		hr    []*float64
		zone  []*string
		coins []*int
	}
	type equipmentColumns struct {
		active []*bool
		events []*int
	}
	people := map[string]*participantColumns{}
	gear := map[string]*equipmentColumns{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var line tickLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return tl, fmt.Errorf("decode timeline of %s line %d: %w", id, tl.Ticks+1, err)
		}
		tick := tl.Ticks
		tl.Ticks++
		for _, p := range line.Participants {
			c := people[p.ID]
			if c == nil {
				c = &participantColumns{hr: make([]*float64, tick), zone: make([]*string, tick),
					coins: make([]*int, tick)}
				people[p.ID] = c
			}
			c.hr = padTo(c.hr, tick)
			c.zone = padTo(c.zone, tick)
			c.coins = padTo(c.coins, tick)
			var zone *string
			if p.Zone != "" {
				zone = &p.Zone
			}
			coins := p.Coins
			c.hr, c.zone, c.coins = append(c.hr, p.HeartRate), append(c.zone, zone), append(c.coins, &coins)
		}
		for _, e := range line.Equipment {
			c := gear[e.ID]
			if c == nil {
				c = &equipmentColumns{active: make([]*bool, tick), events: make([]*int, tick)}
				gear[e.ID] = c
			}
			c.active, c.events = padTo(c.active, tick), padTo(c.events, tick)
			active, events := e.Active, e.Events
			c.active, c.events = append(c.active, &active), append(c.events, &events)
		}
	}
	if err := sc.Err(); err != nil {
		return tl, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	for id, c := range people {
		tl.Participants[id] = ParticipantSeries{
			HeartRate: mustJSON(EncodeRLE(padTo(c.hr, tl.Ticks))),
			Zone:      mustJSON(EncodeRLE(padTo(c.zone, tl.Ticks))),
			Coins:     mustJSON(EncodeRLE(padTo(c.coins, tl.Ticks))),
		}
	}
	for id, c := range gear {
		tl.Equipment[id] = EquipmentSeries{
			Active: mustJSON(EncodeRLE(padTo(c.active, tl.Ticks))),
			Events: mustJSON(EncodeRLE(padTo(c.events, tl.Ticks))),
		}
	}
	return tl, nil
}

// padTo appends nulls to series until it is n long.
func padTo[T any](series []*T, n int) []*T {
	for len(series) < n {
		series = append(series, nil)
	}
	return series
}

// mustJSON encodes a value built from plain types, which cannot fail.
func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}
