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

// tickLine is one line of a timeline file: one closed tick, or a hand-over
// (Move set), which is no tick.
type tickLine struct {
	Index        int             `json:"i"`
	Participants []tickPoint     `json:"p,omitempty"`
	Equipment    []tickEquipment `json:"e,omitempty"`
	Move         *handover       `json:"move,omitempty"`
}

// handover records that the series of From so far became To's: a strap
// changed wearer early enough for its earnings to move. To's value at each
// earlier tick is From's and To's merged (see mergeMoved).
type handover struct {
	From string `json:"from"`
	To   string `json:"to"`
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
	err := s.scanTimeline(id, func(line tickLine) {
		if m := line.Move; m != nil {
			from, to := people[m.From], people[m.To]
			switch {
			case from == nil || m.From == m.To:
			case to == nil:
				people[m.To] = from
			default:
				n := tl.Ticks
				from.hr, from.zone, from.coins = padTo(from.hr, n), padTo(from.zone, n), padTo(from.coins, n)
				to.hr, to.zone, to.coins = padTo(to.hr, n), padTo(to.zone, n), padTo(to.coins, n)
				for i := range n {
					to.hr[i], to.zone[i], to.coins[i] = mergeMoved(to.hr[i], to.zone[i], to.coins[i],
						from.hr[i], from.zone[i], from.coins[i])
				}
			}
			delete(people, m.From)
			return
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
	})
	if err != nil {
		return tl, err
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

// mergeMoved returns the new wearer's values for one tick before a
// hand-over: their own heart rate and zone where they had one, else the
// previous wearer's; and the sum of both cumulative coin counts, because the
// new wearer took over the previous one's coins. A nil coin count means the
// participant was not on the roster then.
func mergeMoved(hr *float64, zone *string, coins *int, fromHR *float64, fromZone *string,
	fromCoins *int) (*float64, *string, *int) {
	if hr == nil {
		hr, zone = fromHR, fromZone
	}
	switch {
	case coins == nil:
		coins = fromCoins
	case fromCoins != nil:
		sum := *coins + *fromCoins
		coins = &sum
	}
	return hr, zone, coins
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

// RecentTicks returns the newest n ticks of session id's timeline, oldest
// first, with hand-overs applied. Names, statuses, start times and the
// interval are not in the timeline: the caller fills them in. The chart
// feed uses it to refill its live window after a restart.
func (s *Store) RecentTicks(id string, n int) ([]sessions.Tick, error) {
	if n <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	err := s.syncTimeline()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var ticks []sessions.Tick
	err = s.scanTimeline(id, func(l tickLine) {
		if l.Move != nil {
			for i := range ticks {
				ticks[i].Participants = moveInTick(ticks[i].Participants, *l.Move)
			}
			return
		}
		t := sessions.Tick{SessionID: id, Index: l.Index}
		for _, p := range l.Participants {
			t.Participants = append(t.Participants, sessions.TickPoint{ID: p.ID,
				HeartRate: p.HeartRate, Zone: p.Zone, Coins: p.Coins})
		}
		for _, e := range l.Equipment {
			t.Equipment = append(t.Equipment, sessions.EquipmentPoint{ID: e.ID, Active: e.Active,
				Events: e.Events})
		}
		ticks = append(ticks, t)
		// Trimming in batches keeps a long timeline from being copied on every line.
		if len(ticks) >= 2*n {
			ticks = append(ticks[:0], ticks[len(ticks)-n:]...)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(ticks) > n {
		ticks = ticks[len(ticks)-n:]
	}
	return ticks, nil
}

// scanTimeline calls fn with each line of session id's timeline, in order. A
// session without a timeline file has no lines.
func (s *Store) scanTimeline(id string, fn func(tickLine)) error {
	f, err := os.Open(s.timelinePath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open timeline: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var line tickLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("decode timeline of %s line %d: %w", id, n, err)
		}
		fn(line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read timeline of %s: %w", id, err)
	}
	return nil
}

// moveInTick applies a hand-over to one tick's points: m.From's point is
// merged into m.To's, or renamed when m.To has none.
func moveInTick(points []sessions.TickPoint, m handover) []sessions.TickPoint {
	from, to := -1, -1
	for i, p := range points {
		switch p.ID {
		case m.From:
			from = i
		case m.To:
			to = i
		}
	}
	switch {
	case from < 0 || m.From == m.To:
		return points
	case to < 0:
		points[from].ID = m.To
		return points
	}
	f, t := points[from], &points[to]
	coins := t.Coins
	hr, zone, sum := mergeMoved(t.HeartRate, optional(t.Zone), &coins, f.HeartRate, optional(f.Zone), &f.Coins)
	t.HeartRate, t.Zone, t.Coins = hr, "", *sum
	if zone != nil {
		t.Zone = *zone
	}
	return append(points[:from], points[from+1:]...)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
