package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"

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

// participantColumns and equipmentColumns are the series of one participant or piece of
// equipment while a timeline is read.
type participantColumns struct {
	hr    column[float64]
	zone  column[string]
	coins column[int]
}

type equipmentColumns struct {
	active column[bool]
	events column[int]
}

// padTo appends missing values to every series until each holds n values.
func (c *participantColumns) padTo(n int) {
	c.hr.padTo(n)
	c.zone.padTo(n)
	c.coins.padTo(n)
}

func (c *equipmentColumns) padTo(n int) {
	c.active.padTo(n)
	c.events.padTo(n)
}

// timelineColumns is a whole timeline, read and run-length encoded.
type timelineColumns struct {
	ticks  int
	people map[string]*participantColumns
	gear   map[string]*equipmentColumns
}

// readTimeline reads the timeline file of session id. It builds each series run by run as
// it reads, so its memory follows the number of runs, not of ticks.
func (s *Store) readTimeline(id string) (*timelineColumns, error) {
	tl := &timelineColumns{people: map[string]*participantColumns{},
		gear: map[string]*equipmentColumns{}}
	people, gear := tl.people, tl.gear
	err := s.scanTimeline(id, func(line tickLine) {
		if m := line.Move; m != nil {
			from, to := people[m.From], people[m.To]
			switch {
			case from == nil || m.From == m.To:
			case to == nil:
				people[m.To] = from
			default:
				// Hand-overs are rare, so the merge expands the two series once.
				n := tl.ticks
				from.padTo(n)
				to.padTo(n)
				hr, zone, coins := to.hr.values(), to.zone.values(), to.coins.values()
				fromHR, fromZone, fromCoins := from.hr.values(), from.zone.values(), from.coins.values()
				for i := range n {
					hr[i], zone[i], coins[i] = mergeMoved(hr[i], zone[i], coins[i],
						fromHR[i], fromZone[i], fromCoins[i])
				}
				to.hr, to.zone, to.coins = columnOf(hr), columnOf(zone), columnOf(coins)
			}
			delete(people, m.From)
			return
		}
		tick := tl.ticks
		tl.ticks++
		for _, p := range line.Participants {
			c := people[p.ID]
			if c == nil {
				c = &participantColumns{}
				people[p.ID] = c
			}
			c.padTo(tick)
			var zone *string
			if p.Zone != "" {
				zone = &p.Zone
			}
			c.hr.add(p.HeartRate)
			c.zone.add(zone)
			c.coins.add(&p.Coins)
		}
		for _, e := range line.Equipment {
			c := gear[e.ID]
			if c == nil {
				c = &equipmentColumns{}
				gear[e.ID] = c
			}
			c.padTo(tick)
			c.active.add(&e.Active)
			c.events.add(&e.Events)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, c := range people {
		c.padTo(tl.ticks)
	}
	for _, c := range gear {
		c.padTo(tl.ticks)
	}
	return tl, nil
}

// writeJSON writes the timeline as encoding/json writes a Timeline, map keys sorted, one
// series at a time.
func (tl *timelineColumns) writeJSON(w io.Writer, intervalMS int64) error {
	buf := fmt.Appendf(nil, `{"interval_ms":%d,"ticks":%d,"encoding":"rle","participants":{`,
		intervalMS, tl.ticks)
	for i, id := range slices.Sorted(maps.Keys(tl.people)) {
		c := tl.people[id]
		buf = appendKey(buf, i, id)
		buf = append(buf, `{"heart_rate":`...)
		buf = c.hr.appendJSON(buf)
		buf = append(buf, `,"zone":`...)
		buf = c.zone.appendJSON(buf)
		buf = append(buf, `,"coins":`...)
		buf = c.coins.appendJSON(buf)
		buf = append(buf, '}')
		if _, err := w.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
	}
	buf = append(buf, '}')
	if len(tl.gear) > 0 {
		buf = append(buf, `,"equipment":{`...)
		for i, id := range slices.Sorted(maps.Keys(tl.gear)) {
			c := tl.gear[id]
			buf = appendKey(buf, i, id)
			buf = append(buf, `{"active":`...)
			buf = c.active.appendJSON(buf)
			buf = append(buf, `,"events":`...)
			buf = c.events.appendJSON(buf)
			buf = append(buf, '}')
		}
		buf = append(buf, '}')
	}
	buf = append(buf, '}')
	_, err := w.Write(buf)
	return err
}

// appendKey appends the i-th key of a JSON object, with the comma before it.
func appendKey(buf []byte, i int, key string) []byte {
	if i > 0 {
		buf = append(buf, ',')
	}
	buf = appendValue(buf, key)
	return append(buf, ':')
}

// mergeMoved returns the new wearer's values for one tick before a hand-over. The heart
// rate and zone are the new wearer's where they had one, else the previous wearer's. The
// coins are the sum of both counts, because the new wearer took over the previous one's
// coins. A nil coin count means the participant was not on the roster then.
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
			point := sessions.TickPoint{ID: p.ID, Zone: p.Zone, Coins: p.Coins}
			if p.HeartRate != nil {
				hr := *p.HeartRate
				point.HeartRate = &hr
			}
			t.Participants = append(t.Participants, point)
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
// session without a timeline file has no lines. The line passed to fn is reused
// for the next one.
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
	// One line value serves every line, so its slices keep their capacity: a long
	// timeline would otherwise regrow them on every line. Zeroing the elements keeps a
	// member omitted from one line from showing the previous line's value. fn must not
	// keep the line or anything it points to.
	var line tickLine
	for n := 1; sc.Scan(); n++ {
		clear(line.Participants[:cap(line.Participants)])
		clear(line.Equipment[:cap(line.Equipment)])
		line = tickLine{Participants: line.Participants[:0], Equipment: line.Equipment[:0]}
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
