package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/config"
)

// checkTimeout bounds CheckConnect: the dial, the TLS handshake and the
// CONNECT and CONNACK exchange.
const checkTimeout = 10 * time.Second

// BrokerConnection contains the address, TLS settings and credentials for a
// client of the configured broker. Run connects with them, and other clients
// of fitbridge, such as the replay publisher, use them to log in the same way.
type BrokerConnection struct {
	// URL is broker.url without its user information, so it can be logged.
	URL *url.URL
	// TLS is nil for a URL whose scheme does not use TLS.
	TLS      *tls.Config
	Username string
	Password []byte
}

// NewBrokerConnection reads the files that b names: broker.ca_file,
// broker.cert_file with broker.key_file, and broker.password_file. The
// credentials are broker.username with the password, or else the user
// information of broker.url. Errors name the key whose value is unusable.
func NewBrokerConnection(b config.Broker) (BrokerConnection, error) {
	u, err := url.Parse(b.URL)
	if err != nil {
		// url.Error repeats the raw URL, which may contain a password.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return BrokerConnection{}, fmt.Errorf("invalid broker.url %q: %w",
			config.RedactURL(b.URL), err)
	}
	tlsConfig, err := brokerTLSConfig(b, u)
	if err != nil {
		return BrokerConnection{}, err
	}
	username, password, err := brokerCredentials(b, u)
	if err != nil {
		return BrokerConnection{}, err
	}
	return BrokerConnection{
		URL:      withoutUserInfo(u),
		TLS:      tlsConfig,
		Username: username,
		Password: password,
	}, nil
}

// CheckConnect connects to the broker once as clientID and disconnects,
// without retrying. A command that must not wait forever for a broker calls
// it first. The error names the broker URL and the user. For a connection
// that the broker rejected, it also gives the CONNACK reason and what to check.
func (c BrokerConnection) CheckConnect(parent context.Context, clientID string) error {
	ctx, cancel := context.WithTimeout(parent, checkTimeout)
	defer cancel()

	up := make(chan struct{}, 1)
	failed := make(chan error, 1)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{c.URL},
		TlsCfg:                        c.TLS,
		KeepAlive:                     keepAlive,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                checkTimeout,
		// The first attempt starts at once. The ctx ends before a second
		// one, because this delay outlasts checkTimeout.
		ReconnectBackoff: autopaho.NewConstantBackoff(2 * checkTimeout),
		ConnectUsername:  c.Username,
		ConnectPassword:  c.Password,
		OnConnectionUp: func(*autopaho.ConnectionManager, *paho.Connack) {
			select {
			case up <- struct{}{}:
			default:
			}
		},
		OnConnectError: func(err error) {
			select {
			case failed <- err:
			default:
			}
		},
		ClientConfig: paho.ClientConfig{ClientID: clientID},
	})
	if err != nil {
		return fmt.Errorf("connect to broker %s as %s: %w", c.URL, c.userText(), err)
	}

	var result error
	select {
	case <-up:
	case err := <-failed:
		result = c.connectError(err)
	case <-ctx.Done():
		result = fmt.Errorf("connect to broker %s as %s: timed out after %s",
			c.URL, c.userText(), checkTimeout)
		if parent.Err() != nil {
			result = fmt.Errorf("connect to broker %s as %s: %w", c.URL, c.userText(),
				parent.Err())
		}
	}
	stopCtx, stop := context.WithTimeout(context.Background(), checkTimeout)
	defer stop()
	if err := cm.Disconnect(stopCtx); err != nil && result == nil {
		result = fmt.Errorf("disconnect from broker %s: %w", c.URL, err)
	}
	return result
}

// connectError describes a failed connect attempt reported by autopaho.
func (c BrokerConnection) connectError(err error) error {
	var connack *autopaho.ConnackError
	if errors.As(err, &connack) {
		return fmt.Errorf("broker %s rejected the connection of %s: %s "+
			"(CONNACK reason code 0x%02X)", c.URL, c.userText(),
			connackReasonText(connack.ReasonCode), connack.ReasonCode)
	}
	// autopaho prefixes the dial error with the URL, which this error names
	// already.
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	return fmt.Errorf("connect to broker %s as %s: %w", c.URL, c.userText(), err)
}

// userText names the user for an error message.
func (c BrokerConnection) userText() string {
	if c.Username == "" {
		return "an anonymous client"
	}
	return fmt.Sprintf("user %q", c.Username)
}
