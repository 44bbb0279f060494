package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/eclipse/paho.golang/paho"
)

// dialMQTT connects a plain paho client (MQTT v5, clean start) to brokerURL.
// onPublish, if not nil, receives every message; it runs on the client's
// receive goroutine.
func dialMQTT(ctx context.Context, brokerURL, clientID string,
	onPublish func(*paho.Publish)) (*paho.Client, error) {
	u, err := url.Parse(brokerURL)
	if err != nil {
		return nil, fmt.Errorf("parse broker url %q: %w", brokerURL, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("dial broker %s: %w", u.Host, err)
	}
	cfg := paho.ClientConfig{ClientID: clientID, Conn: conn}
	if onPublish != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				onPublish(pr.Packet)
				return true, nil
			},
		}
	}
	c := paho.NewClient(cfg)
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: clientID, CleanStart: true,
		KeepAlive: 30}); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("mqtt connect %s as %s: %w", u.Host, clientID, err)
	}
	return c, nil
}

// subscribe subscribes c to filter at qos.
func subscribe(ctx context.Context, c *paho.Client, filter string, qos byte) error {
	_, err := c.Subscribe(ctx, &paho.Subscribe{
		Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}},
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", filter, err)
	}
	return nil
}

// closeMQTT disconnects c and waits for its goroutines.
func closeMQTT(c *paho.Client) {
	_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
	<-c.Done()
}
