package charts

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// subscription is what a client asks for in the query of its WebSocket URL:
//
//	ws?topics=session,fitness&epoch=<epoch>&last_seq=session:41,fitness:120
//
// topics defaults to every topic. last_seq names, per topic, the newest seq the client
// holds; it counts only when epoch equals the server's current epoch.
type subscription struct {
	topics  topicSet
	epoch   string
	lastSeq map[string]uint64
}

// parseSubscription reads the subscription from a request query. Its errors name the
// parameter and the allowed values.
func parseSubscription(query url.Values) (subscription, error) {
	sub := subscription{lastSeq: make(map[string]uint64)}
	if raw, ok := query["topics"]; ok {
		for _, name := range splitList(strings.Join(raw, ",")) {
			bit := topicBit(name)
			if bit == 0 {
				return sub, fmt.Errorf("topics: unknown topic %q (allowed: %s)",
					name, strings.Join(allTopics, ", "))
			}
			sub.topics |= bit
		}
		if sub.topics == 0 {
			return sub, fmt.Errorf("topics: empty list (allowed: one or more of %s)",
				strings.Join(allTopics, ", "))
		}
	} else {
		for _, name := range allTopics {
			sub.topics |= topicBit(name)
		}
	}

	sub.epoch = query.Get("epoch")
	for _, entry := range splitList(query.Get("last_seq")) {
		name, value, found := strings.Cut(entry, ":")
		if !found {
			return sub, fmt.Errorf("last_seq: invalid entry %q: want topic:seq, such as fitness:120",
				entry)
		}
		if !sub.topics.has(name) {
			return sub, fmt.Errorf("last_seq: topic %q is not subscribed (subscribed: %s)",
				name, strings.Join(sub.topics.names(), ", "))
		}
		seq, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return sub, fmt.Errorf("last_seq: invalid seq %q for topic %s: want a whole number",
				value, name)
		}
		sub.lastSeq[name] = seq
	}
	if len(sub.lastSeq) > 0 && sub.epoch == "" {
		return sub, fmt.Errorf("last_seq: needs the epoch parameter from the hello message")
	}
	return sub, nil
}

// splitList splits a comma-separated list and drops empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
