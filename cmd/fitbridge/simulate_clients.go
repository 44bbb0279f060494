package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/fitbridge/fitbridge/replay"
	"github.com/fitbridge/fitbridge/sim"
)

// clientRetryDelay is how long a chart client waits before reconnecting.
const clientRetryDelay = 100 * time.Millisecond

// chartClients are WebSocket clients of the chart feed that read and
// discard every message, reconnecting whenever the connection ends.
type chartClients struct {
	wg         sync.WaitGroup
	messages   atomic.Uint64
	reconnects atomic.Uint64
}

// startChartClients starts n reading clients of the feed at wsURL. They run
// until ctx ends.
func startChartClients(ctx context.Context, wsURL string, n int, log *slog.Logger) *chartClients {
	c := &chartClients{}
	for i := range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.read(ctx, wsURL, i, log)
		}()
	}
	return c
}

func (c *chartClients) read(ctx context.Context, wsURL string, index int, log *slog.Logger) {
	for connects := 0; ctx.Err() == nil; connects++ {
		if connects > 0 {
			c.reconnects.Add(1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(clientRetryDelay):
			}
		}
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("simulated chart client connect failed", "client", index, "err", err)
			}
			continue
		}
		// Closing the connection ends the blocked read when ctx ends.
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		for {
			if _, _, err = conn.ReadMessage(); err != nil {
				break
			}
			c.messages.Add(1)
		}
		stop()
		conn.Close()
		if ctx.Err() == nil {
			log.Info("simulated chart client disconnected", "client", index, "err", err)
		}
	}
}

// received returns the number of messages the clients have read.
func (c *chartClients) received() uint64 { return c.messages.Load() }

// stop waits for the clients, whose context must have ended, and returns
// how often they reconnected.
func (c *chartClients) stop() uint64 {
	c.wg.Wait()
	return c.reconnects.Load()
}

// stalledClients are chart clients that complete the WebSocket handshake
// and then never read, like a browser tab frozen in the background.
type stalledClients struct {
	wsURL    string
	n        int
	log      *slog.Logger
	conns    []*websocket.Conn
	renewals uint64
}

func newStalledClients(wsURL string, n int, log *slog.Logger) *stalledClients {
	return &stalledClients{wsURL: wsURL, n: n, log: log}
}

// renew closes the stalled connections and opens new ones.
func (s *stalledClients) renew(ctx context.Context) error {
	s.close()
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024}
	for range s.n {
		conn, _, err := dialer.DialContext(ctx, s.wsURL, nil)
		if err != nil {
			return fmt.Errorf("connect stalled chart client: %w", err)
		}
		s.conns = append(s.conns, conn)
	}
	if s.n > 0 {
		s.renewals++
	}
	return nil
}

func (s *stalledClients) close() {
	for _, conn := range s.conns {
		conn.Close()
	}
	s.conns = s.conns[:0]
}

// stampedPublisher publishes simulated messages at QoS 0, as straps and
// zigbee2mqtt do, each with its simulated time in the timestamp user
// property.
type stampedPublisher struct {
	cm     *autopaho.ConnectionManager
	cancel context.CancelFunc
	log    *slog.Logger
}

func connectPublisher(ctx context.Context, brokerURL, clientID string,
	log *slog.Logger) (*stampedPublisher, error) {
	server, err := url.Parse(brokerURL)
	if err != nil {
		return nil, fmt.Errorf("invalid broker URL %q: %w", brokerURL, err)
	}
	connCtx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(connCtx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{server},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff:              autopaho.NewConstantBackoff(250 * time.Millisecond),
		ClientConfig:                  paho.ClientConfig{ClientID: clientID},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("connect simulator to %s: %w", server.Redacted(), err)
	}
	if err := cm.AwaitConnection(ctx); err != nil {
		cancel()
		<-cm.Done()
		return nil, fmt.Errorf("connect simulator to %s: %w", server.Redacted(), err)
	}
	return &stampedPublisher{cm: cm, cancel: cancel, log: log}, nil
}

// publish sends m stamped with start plus its offset.
func (p *stampedPublisher) publish(ctx context.Context, m sim.Message, start time.Time) error {
	_, err := p.cm.Publish(ctx, &paho.Publish{
		Topic:   m.Topic,
		QoS:     0,
		Payload: m.Payload,
		Properties: &paho.PublishProperties{User: paho.UserProperties{{
			Key: replay.TimestampProperty, Value: replay.Timestamp(start, m.Offset),
		}}},
	})
	if err != nil {
		return fmt.Errorf("publish simulated message to %s: %w", m.Topic, err)
	}
	return nil
}

// close disconnects and waits for the connection to end.
func (p *stampedPublisher) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.cm.Disconnect(ctx); err != nil {
		p.log.Warn("simulator disconnect failed", "err", err)
	}
	p.cancel()
	<-p.cm.Done()
}
