package bridge

import (
	"sync"

	"github.com/fitbridge/fitbridge/discovery"
)

// outbox contains the messages waiting to be published, at most one per
// topic, because a newer state replaces the one still waiting. A slow or
// absent broker therefore costs memory bounded by the number of topics.
type outbox struct {
	mu      sync.Mutex
	pending map[string]discovery.Message
	order   []string // topics in the order they first became pending
	// events are messages that must each be sent, such as automation
	// events, in order and never replaced; at most maxEvents wait.
	events        []discovery.Message
	eventsDropped uint64
	wake          chan struct{}
}

// maxEvents bounds the events waiting for a slow or absent broker; the
// oldest is dropped first.
const maxEvents = 1024

func newOutbox() *outbox {
	return &outbox{
		pending: make(map[string]discovery.Message),
		wake:    make(chan struct{}, 1),
	}
}

// put queues m, replacing any message still waiting for the same topic.
func (o *outbox) put(m discovery.Message) {
	o.mu.Lock()
	if _, waiting := o.pending[m.Topic]; !waiting {
		o.order = append(o.order, m.Topic)
	}
	o.pending[m.Topic] = m
	o.mu.Unlock()
	o.poke()
}

// poke wakes the publisher without queuing anything.
func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// putEvent queues m to be sent in order with the other events.
func (o *outbox) putEvent(m discovery.Message) {
	o.mu.Lock()
	if len(o.events) >= maxEvents {
		o.events[0] = discovery.Message{}
		o.events = o.events[1:]
		o.eventsDropped++
	}
	o.events = append(o.events, m)
	o.mu.Unlock()
	o.poke()
}

// take removes and returns the oldest waiting event, else the oldest
// waiting state.
func (o *outbox) take() (discovery.Message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.events) > 0 {
		m := o.events[0]
		o.events[0] = discovery.Message{}
		o.events = o.events[1:]
		return m, true
	}
	if len(o.order) == 0 {
		return discovery.Message{}, false
	}
	topic := o.order[0]
	o.order[0] = ""
	o.order = o.order[1:]
	m := o.pending[topic]
	delete(o.pending, topic)
	return m, true
}

// len returns the number of messages waiting.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.order) + len(o.events)
}
