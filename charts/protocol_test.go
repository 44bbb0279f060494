package charts

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// protoClient is a chart feed client written from docs/chart-feed.md: it keeps the fitness
// series, checks every topic's seq, and reconnects with epoch and last_seq.
type protoClient struct {
	t       *testing.T
	feed    *feedServer
	conn    *websocket.Conn
	epoch   string
	lastSeq map[string]uint64
	// fitness series: entry i is tick firstIndex+i.
	firstIndex int
	length     int
	heartRate  map[string][]*float64
	// what the server sent on the latest connect, per topic: "snapshot" or "resumed".
	started map[string]string
	// gap is set when a broadcast's seq was not the previous one plus one.
	gap string
}

func newProtoClient(t *testing.T, feed *feedServer) *protoClient {
	return &protoClient{t: t, feed: feed, lastSeq: map[string]uint64{}, heartRate: map[string][]*float64{}}
}

// connect dials with the held epoch and seqs and reads hello and each topic's start.
func (c *protoClient) connect() {
	c.t.Helper()
	query := url.Values{}
	if c.epoch != "" && len(c.lastSeq) > 0 {
		var held []string
		for _, topic := range allTopics {
			if seq, ok := c.lastSeq[topic]; ok {
				held = append(held, fmt.Sprintf("%s:%d", topic, seq))
			}
		}
		query.Set("epoch", c.epoch)
		query.Set("last_seq", strings.Join(held, ","))
	}
	c.conn = c.feed.dialQuery(c.t, websocket.DefaultDialer, query.Encode())
	hello := readAs[helloView](c.t, c.conn, TypeHello)
	if hello.Epoch != c.epoch {
		c.lastSeq = map[string]uint64{}
	}
	c.epoch = hello.Epoch
	c.started = map[string]string{}
	for range allTopics {
		data := readRaw(c.t, c.conn)
		var head topicHead
		mustDecode(c.t, data, &head)
		c.started[head.Topic] = head.Type
		switch head.Type {
		case TypeSnapshot:
			c.apply(data)
		case TypeResumed:
			var resumed resumedView
			mustDecode(c.t, data, &resumed)
			if resumed.Seq != c.lastSeq[head.Topic] {
				c.t.Fatalf("resumed %s at seq %d, client holds %d", head.Topic, resumed.Seq, c.lastSeq[head.Topic])
			}
			for range resumed.Count {
				c.apply(readRaw(c.t, c.conn))
			}
		default:
			c.t.Fatalf("message %s/%s where a snapshot or resumed was due", head.Type, head.Topic)
		}
	}
}

// apply updates the client's state with one topic message.
func (c *protoClient) apply(data []byte) {
	c.t.Helper()
	var head topicHead
	mustDecode(c.t, data, &head)
	if head.Type != TypeSnapshot {
		if last, ok := c.lastSeq[head.Topic]; !ok || head.Seq != last+1 {
			c.gap = fmt.Sprintf("%s seq %d after %d", head.Topic, head.Seq, last)
			return
		}
	}
	c.lastSeq[head.Topic] = head.Seq
	if head.Topic != TopicFitness {
		return
	}
	switch head.Type {
	case TypeSnapshot:
		var snapshot fitnessSnapshotView
		mustDecode(c.t, data, &snapshot)
		c.heartRate = map[string][]*float64{}
		c.length = 0
		c.firstIndex = 0
		if snapshot.FirstIndex != nil {
			c.firstIndex = *snapshot.FirstIndex
		}
		for _, p := range snapshot.Participants {
			c.heartRate[p.ID] = p.HeartRate
			c.length = len(p.HeartRate)
		}
	case TypePoints:
		var points fitnessPointsView
		mustDecode(c.t, data, &points)
		if c.length == 0 {
			c.firstIndex = points.Index
		}
		for c.firstIndex+c.length < points.Index {
			for id := range c.heartRate {
				c.heartRate[id] = append(c.heartRate[id], nil)
			}
			c.length++
		}
		listed := map[string]bool{}
		for _, p := range points.Participants {
			if _, ok := c.heartRate[p.ID]; !ok {
				c.heartRate[p.ID] = make([]*float64, c.length)
			}
			c.heartRate[p.ID] = append(c.heartRate[p.ID], p.HeartRate)
			listed[p.ID] = true
		}
		for id := range c.heartRate {
			if !listed[id] {
				c.heartRate[id] = append(c.heartRate[id], nil)
			}
		}
		c.length++
	}
}

// readBroadcasts reads and applies n broadcasts.
func (c *protoClient) readBroadcasts(n int) {
	c.t.Helper()
	for range n {
		c.apply(readRaw(c.t, c.conn))
	}
}

func (c *protoClient) close() {
	c.conn.Close()
}

// series returns the client's heart rates of id as text, for comparisons.
func (c *protoClient) series(id string) string {
	return describe(c.heartRate[id])
}

func mustDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// broadcastTicks closes ticks from to to-1: p1 always has a heart rate, p2 has a dropout
// at ticks 6 to 8.
func broadcastTicks(feed *feedServer, from, to int) {
	for i := from; i < to; i++ {
		p2 := activePoint("p2", i)
		if i >= 6 && i <= 8 {
			p2 = dropoutPoint("p2", i)
		}
		feed.hub.TickClosed(makeTick("s1", i, activePoint("p1", i), p2))
	}
}

// freshSeries returns what a new client holds for id, the reference for a resumed one.
func freshSeries(t *testing.T, feed *feedServer, id string) string {
	t.Helper()
	fresh := newProtoClient(t, feed)
	fresh.connect()
	defer fresh.close()
	return fresh.series(id)
}

func TestProtocolClientScenario(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 50, ResumeMessages: 12}, nil)
	client := newProtoClient(t, feed)
	client.connect()
	if !equalStarts(client.started, TypeSnapshot) {
		t.Fatalf("first connect started with %v, want snapshots", client.started)
	}

	// Snapshot, then ticks.
	feed.hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	client.readBroadcasts(3)
	broadcastTicks(feed, 0, 5)
	client.readBroadcasts(5 * 3)
	if client.gap != "" || client.length != 5 {
		t.Fatalf("after 5 ticks: gap %q, length %d, want no gap and 5", client.gap, client.length)
	}

	// The client misses ticks 5 to 8 and resumes from the ring.
	client.close()
	broadcastTicks(feed, 5, 9)
	client.connect()
	if !equalStarts(client.started, TypeResumed) {
		t.Fatalf("reconnect within the ring started with %v, want resumed on every topic", client.started)
	}
	if client.gap != "" {
		t.Fatalf("gap after resume: %s", client.gap)
	}
	for _, id := range []string{"p1", "p2"} {
		if got, want := client.series(id), freshSeries(t, feed, id); got != want {
			t.Errorf("resumed %s series = %s, want the snapshot's %s", id, got, want)
		}
	}
	if p2 := client.heartRate["p2"]; len(p2) != 9 || p2[6] != nil || p2[8] != nil || p2[5] == nil {
		t.Errorf("p2 series = %s, want 9 ticks with nulls at 6 to 8", client.series("p2"))
	}

	// A client that loses one message notices the seq gap at the topic's next message
	// and resynchronizes that topic.
	broadcastTicks(feed, 9, 11)
	client.readBroadcasts(3)
	readRaw(t, client.conn) // tick 10's session_state, lost
	client.readBroadcasts(2)
	if client.gap != "" {
		t.Fatalf("gap %q before the session topic's next message", client.gap)
	}
	broadcastTicks(feed, 11, 12)
	client.readBroadcasts(3)
	if !strings.HasPrefix(client.gap, TopicSession) {
		t.Fatalf("gap = %q, want one on the session topic", client.gap)
	}
	client.close()
	delete(client.lastSeq, TopicSession)
	client.gap = ""
	client.connect()
	if client.started[TopicSession] != TypeSnapshot || client.started[TopicFitness] != TypeResumed {
		t.Errorf("resync started with %v, want a session snapshot and resumed series", client.started)
	}

	// Missing more than the ring holds gives snapshots.
	client.close()
	broadcastTicks(feed, 12, 12+13)
	client.connect()
	if !equalStarts(client.started, TypeSnapshot) {
		t.Errorf("reconnect beyond the ring started with %v, want snapshots", client.started)
	}
	if got, want := client.series("p1"), freshSeries(t, feed, "p1"); got != want {
		t.Errorf("series after the resync = %s, want %s", got, want)
	}

	// A range query over the whole session, with fewer points than ticks.
	request := `{"type":"range","id":"q1","topic":"fitness","max_points":5}`
	if err := client.conn.WriteMessage(websocket.TextMessage, []byte(request)); err != nil {
		t.Fatalf("send range request: %v", err)
	}
	result := readAs[rangeResultView](t, client.conn, TypeRangeResult)
	if result.ID != "q1" || !result.Live || result.SessionID != "s1" {
		t.Errorf("range_result id %q live %v session %q, want q1, live, s1", result.ID, result.Live, result.SessionID)
	}
	if result.TicksPerBucket < 5 || result.IntervalMS != int64(result.TicksPerBucket)*testIntervalMS {
		t.Errorf("range_result ticks_per_bucket %d interval_ms %d, want interval = width x 5000",
			result.TicksPerBucket, result.IntervalMS)
	}
	for _, p := range result.Participants {
		if len(p.HeartRateMax) > 5 {
			t.Errorf("range_result %s has %d buckets, want at most 5", p.ID, len(p.HeartRateMax))
		}
	}

	stats := feed.hub.Stats()
	if stats.Resumes < 5 {
		t.Errorf("hub counted %d resumed topics, want at least 5", stats.Resumes)
	}
}

func equalStarts(started map[string]string, kind string) bool {
	for _, topic := range allTopics {
		if started[topic] != kind {
			return false
		}
	}
	return true
}

func TestResumeWithOtherEpochGetsSnapshots(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	broadcastTicks(feed, 0, 2)
	for _, query := range []string{
		"epoch=0000000000000000&last_seq=session:1,fitness:1,equipment:1",
		"epoch=" + feed.hub.Epoch() + "&last_seq=session:99,fitness:99,equipment:99",
	} {
		conn := feed.dialQuery(t, websocket.DefaultDialer, query)
		initial := readInitial(t, conn)
		if initial.fitness.Seq != 3 || len(initial.fitness.Participants) != 2 {
			t.Errorf("?%s: fitness snapshot seq %d with %d participants, want seq 3 with 2",
				query, initial.fitness.Seq, len(initial.fitness.Participants))
		}
	}
}

func TestResumeAtCurrentSeqSendsNothingMore(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	feed.hub.SessionStarted(startSnapshot("s1", "p1"))
	broadcastTicks(feed, 0, 1)
	query := "epoch=" + feed.hub.Epoch() + "&last_seq=session:2,fitness:2,equipment:2"
	conn := feed.dialQuery(t, websocket.DefaultDialer, query)
	readAs[helloView](t, conn, TypeHello)
	for _, topic := range allTopics {
		resumed := readAs[resumedView](t, conn, TypeResumed+"/"+topic)
		if resumed.Seq != 2 || resumed.Count != 0 {
			t.Errorf("%s resumed seq %d count %d, want 2 and 0", topic, resumed.Seq, resumed.Count)
		}
	}
	broadcastTicks(feed, 1, 2)
	state, points, _ := readTick(t, conn)
	if state.Seq != 3 || points.Seq != 3 {
		t.Errorf("next broadcast seqs %d and %d, want 3", state.Seq, points.Seq)
	}
}

func TestRangeRequestErrors(t *testing.T) {
	feed := startFeed(t, Options{}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	cases := []struct {
		request string
		code    string
	}{
		{`{"type":"range","id":"a","topic":"fitness","max_points":10}`, ErrorUnknownSession},
		{`{"type":"range","id":"b","topic":"session","max_points":10}`, ErrorInvalidRequest},
		{`{"type":"range","id":"c","topic":"fitness","max_points":0}`, ErrorInvalidRequest},
		{`{"type":"range","id":"d","topic":"fitness","max_points":5,"from_ms":9,"to_ms":1}`, ErrorInvalidRequest},
		{`{"type":"range","id":"e","topic":"fitness","max_points":5,"session_id":"old"}`, ErrorNoSavedSessions},
		{`{"type":"subscribe","id":"f"}`, ErrorInvalidRequest},
		{`not json`, ErrorInvalidRequest},
	}
	for _, tc := range cases {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(tc.request)); err != nil {
			t.Fatalf("send %s: %v", tc.request, err)
		}
		reply := readAs[errorView](t, conn, TypeError)
		if reply.Code != tc.code {
			t.Errorf("%s: error code %q (%s), want %q", tc.request, reply.Code, reply.Message, tc.code)
		}
		var sent struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(tc.request), &sent)
		if reply.ID != sent.ID {
			t.Errorf("%s: error id %q, want %q", tc.request, reply.ID, sent.ID)
		}
	}
}

func TestRangeOfSavedSessionUsesStore(t *testing.T) {
	store := &memoryStore{saved: map[string]SavedSession{"old": savedSession("old", 40)}}
	feed := startFeed(t, Options{Store: store}, nil)
	conn := feed.dial(t)
	readInitial(t, conn)

	request := `{"type":"range","id":"s","topic":"fitness","session_id":"old","max_points":10}`
	if err := conn.WriteMessage(websocket.TextMessage, []byte(request)); err != nil {
		t.Fatal(err)
	}
	result := readAs[rangeResultView](t, conn, TypeRangeResult)
	if result.Live || result.SessionID != "old" || result.TicksPerBucket != 4 {
		t.Errorf("range_result live %v session %q ticks_per_bucket %d, want saved old with 4",
			result.Live, result.SessionID, result.TicksPerBucket)
	}
	ids := []string{}
	for _, p := range result.Participants {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("range_result participants = %v, want [p1]", ids)
	}

	missing := `{"type":"range","id":"m","topic":"fitness","session_id":"nope","max_points":10}`
	if err := conn.WriteMessage(websocket.TextMessage, []byte(missing)); err != nil {
		t.Fatal(err)
	}
	if reply := readAs[errorView](t, conn, TypeError); reply.Code != ErrorUnknownSession {
		t.Errorf("unknown saved session: code %q, want %q", reply.Code, ErrorUnknownSession)
	}
}
