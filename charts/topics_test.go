package charts

import (
	"testing"

	"github.com/gorilla/websocket"
)

func TestTopicLogSinceAtRingEdges(t *testing.T) {
	log := newTopicLog(3)
	messages := make([]*websocket.PreparedMessage, 6)
	for i := range messages {
		msg, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte{byte('a' + i)})
		if err != nil {
			t.Fatal(err)
		}
		messages[i] = msg
	}
	if missed, ok := log.since(0); !ok || len(missed) != 0 {
		t.Errorf("empty log since 0 = %d messages, %v; want none and true", len(missed), ok)
	}
	for _, msg := range messages[:5] {
		log.append(msg)
	}
	// The ring holds seqs 3, 4 and 5.
	cases := []struct {
		lastSeq uint64
		want    []*websocket.PreparedMessage
		ok      bool
	}{
		{5, nil, true},
		{4, messages[4:5], true},
		{2, messages[2:5], true},
		{1, nil, false},
		{0, nil, false},
		{6, nil, false},
	}
	for _, tc := range cases {
		missed, ok := log.since(tc.lastSeq)
		if ok != tc.ok || len(missed) != len(tc.want) {
			t.Errorf("since(%d) = %d messages, %v; want %d, %v", tc.lastSeq, len(missed), ok, len(tc.want), tc.ok)
			continue
		}
		for i := range missed {
			if missed[i] != tc.want[i] {
				t.Errorf("since(%d)[%d] is not the message with seq %d", tc.lastSeq, i, tc.lastSeq+uint64(i)+1)
			}
		}
	}
}

func TestTopicLogSnapshotCacheFollowsSeq(t *testing.T) {
	log := newTopicLog(2)
	snapshot, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	log.cacheSnapshot(snapshot)
	if log.cachedSnapshot() != snapshot {
		t.Errorf("cached snapshot missing at the same seq")
	}
	log.append(snapshot)
	if log.cachedSnapshot() != nil {
		t.Errorf("cached snapshot still returned after a broadcast")
	}
}
