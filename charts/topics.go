package charts

import (
	"github.com/gorilla/websocket"
)

// topicSet is a set of topics as bits, in the order of allTopics.
type topicSet uint8

func topicBit(topic string) topicSet {
	for i, name := range allTopics {
		if name == topic {
			return 1 << i
		}
	}
	return 0
}

func (s topicSet) has(topic string) bool { return s&topicBit(topic) != 0 }

// names returns the topics of s in the order of allTopics.
func (s topicSet) names() []string {
	var out []string
	for _, name := range allTopics {
		if s.has(name) {
			out = append(out, name)
		}
	}
	return out
}

// topicLog is one topic's sequence counter and its ring of the newest broadcasts, from
// which a reconnecting client resumes. The ring holds at most len(ring) messages; the
// messages are shared with the client queues, so a full ring costs one encoding each.
type topicLog struct {
	seq  uint64
	ring []*websocket.PreparedMessage
	// count is the number of messages in the ring; they have the seqs seq-count+1 to seq,
	// and the message with seq s is at ring[s % len(ring)].
	count int

	// snapshot caches the encoded snapshot at snapshotSeq, so that many clients connecting
	// between two broadcasts share one encoding.
	snapshot    *websocket.PreparedMessage
	snapshotSeq uint64
}

func newTopicLog(capacity int) *topicLog {
	return &topicLog{ring: make([]*websocket.PreparedMessage, max(capacity, 1))}
}

// append stores msg as the broadcast with seq t.seq+1 and advances the seq.
func (t *topicLog) append(msg *websocket.PreparedMessage) {
	t.seq++
	t.ring[t.seq%uint64(len(t.ring))] = msg
	t.count = min(t.count+1, len(t.ring))
}

// since returns the broadcasts after lastSeq, oldest first. It returns false when the ring
// no longer holds all of them, or when lastSeq is ahead of the topic, so the client needs a
// snapshot instead.
func (t *topicLog) since(lastSeq uint64) ([]*websocket.PreparedMessage, bool) {
	if lastSeq > t.seq {
		return nil, false
	}
	missing := t.seq - lastSeq
	if missing > uint64(t.count) {
		return nil, false
	}
	out := make([]*websocket.PreparedMessage, 0, missing)
	for seq := lastSeq + 1; seq <= t.seq; seq++ {
		out = append(out, t.ring[seq%uint64(len(t.ring))])
	}
	return out, true
}

// cachedSnapshot returns the cached snapshot when it is still current.
func (t *topicLog) cachedSnapshot() *websocket.PreparedMessage {
	if t.snapshot != nil && t.snapshotSeq == t.seq {
		return t.snapshot
	}
	return nil
}

func (t *topicLog) cacheSnapshot(msg *websocket.PreparedMessage) {
	t.snapshot = msg
	t.snapshotSeq = t.seq
}
