package bench

import (
	"context"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// counter is the broker-only receiver: a paho subscriber that only counts
// and notes when each message arrived.
type counter struct {
	client *paho.Client
	clock  time.Time

	mu       sync.Mutex
	arrivals []time.Duration // offsets from clock, in arrival order
	done     chan struct{}   // closed when want messages have arrived
	want     int
}

// startCounter subscribes a counting client to filter and expects want
// messages.
func startCounter(ctx context.Context, brokerURL, clientID, filter string, want int,
	clock time.Time) (*counter, error) {
	c := &counter{clock: clock, want: want, done: make(chan struct{}),
		arrivals: make([]time.Duration, 0, want)}
	client, err := dialMQTT(ctx, brokerURL, clientID, c.receive)
	if err != nil {
		return nil, err
	}
	c.client = client
	if err := subscribe(ctx, client, filter, 0); err != nil {
		closeMQTT(client)
		return nil, err
	}
	return c, nil
}

func (c *counter) receive(*paho.Publish) {
	at := time.Since(c.clock)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arrivals = append(c.arrivals, at)
	if len(c.arrivals) == c.want {
		close(c.done)
	}
}

// wait waits until every expected message arrived or ctx ends, and returns
// the arrival offsets seen so far.
func (c *counter) wait(ctx context.Context) []time.Duration {
	select {
	case <-c.done:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.arrivals...)
}

func (c *counter) close() { closeMQTT(c.client) }
