package charts

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
)

// maxSafeJSInteger is 2^53-1, the largest integer a JavaScript number represents exactly.
const maxSafeJSInteger = 1<<53 - 1

func TestReplyBoundsNarrowToTimeline(t *testing.T) {
	tl := Timeline{IntervalMS: testIntervalMS, StartMS: tickStartMS(0), Length: 10}
	lastMS := tickStartMS(10) - 1
	ms := func(v int64) *int64 { return &v }
	cases := []struct {
		name             string
		tl               Timeline
		from, to         *int64
		wantFrom, wantTo int64
	}{
		{"both open", tl, nil, nil, tickStartMS(0), lastMS},
		{"from open", tl, nil, ms(tickStartMS(4)), tickStartMS(0), tickStartMS(4)},
		{"to open", tl, ms(tickStartMS(4) + 1), nil, tickStartMS(4) + 1, lastMS},
		{"ends inside", tl, ms(tickStartMS(2)), ms(tickStartMS(3)), tickStartMS(2), tickStartMS(3)},
		{"ends outside", tl, ms(math.MinInt64), ms(math.MaxInt64), tickStartMS(0), lastMS},
		{"inside the last tick", tl, ms(lastMS - 10), ms(lastMS - 5), lastMS - 10, lastMS - 5},
		{"after the data", tl, ms(lastMS + 1), nil, lastMS + 1, lastMS + 1},
		{"before the data", tl, nil, ms(tickStartMS(0) - 1), tickStartMS(0) - 1, tickStartMS(0) - 1},
		{"both ends after", tl, ms(lastMS + 1), ms(lastMS + 9), lastMS + 1, lastMS + 9},
		{"empty timeline", Timeline{IntervalMS: testIntervalMS, StartMS: 7}, nil, nil, 7, 7},
		{"empty timeline with ends", Timeline{IntervalMS: testIntervalMS}, ms(-5), ms(5), -5, 5},
	}
	for _, tc := range cases {
		from, to := replyBounds(tc.tl, tc.from, tc.to)
		if from != tc.wantFrom {
			t.Errorf("%s: from_ms = %d, want %d", tc.name, from, tc.wantFrom)
		}
		if to != tc.wantTo {
			t.Errorf("%s: to_ms = %d, want %d", tc.name, to, tc.wantTo)
		}
	}
}

func TestOpenRangeRepliesWithLiveBounds(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 8}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	readStart(t, conn)
	// Twelve ticks wrap the window of eight, so the oldest tick kept is tick 4.
	const ticks = 12
	for i := range ticks {
		feed.hub.TickClosed(makeTick("s1", i, activePoint("p1", i)))
	}
	for range ticks {
		readTick(t, conn)
	}

	for _, topic := range []string{TopicFitness, TopicEquipment} {
		request := fmt.Sprintf(`{"type":"range","id":"open","topic":%q,"max_points":3}`, topic)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(request)); err != nil {
			t.Fatalf("send range request: %v", err)
		}
		result := readAs[rangeResultView](t, conn, TypeRangeResult)
		if result.FromMS != tickStartMS(4) {
			t.Errorf("%s range_result from_ms = %d, want the oldest tick's start %d",
				topic, result.FromMS, tickStartMS(4))
		}
		if result.ToMS != tickStartMS(ticks)-1 {
			t.Errorf("%s range_result to_ms = %d, want the newest tick's end %d",
				topic, result.ToMS, tickStartMS(ticks)-1)
		}
	}
}

func TestOpenRangeRepliesWithSavedBounds(t *testing.T) {
	store := &memoryStore{saved: map[string]SavedSession{"old": savedSession("old", 40)}}
	feed := startFeed(t, Options{Store: store}, nil)

	for _, topic := range []string{TopicFitness, TopicEquipment} {
		var detail struct {
			Range *rangeResultView `json:"range"`
		}
		path := "/api/v1/sessions/old?max_points=2&topic=" + topic
		if status := getJSON(t, feed, path, nil, &detail); status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, status)
		}
		if detail.Range == nil {
			t.Fatalf("GET %s: no range in the reply", path)
		}
		if detail.Range.FromMS != tickStartMS(0) {
			t.Errorf("GET %s: from_ms = %d, want the first tick's start %d",
				path, detail.Range.FromMS, tickStartMS(0))
		}
		if detail.Range.ToMS != tickStartMS(40)-1 {
			t.Errorf("GET %s: to_ms = %d, want the last tick's end %d",
				path, detail.Range.ToMS, tickStartMS(40)-1)
		}
		if detail.Range.ToMS > maxSafeJSInteger || detail.Range.FromMS < -maxSafeJSInteger {
			t.Errorf("GET %s: bounds %d to %d are beyond JavaScript's safe integers",
				path, detail.Range.FromMS, detail.Range.ToMS)
		}
	}
}
