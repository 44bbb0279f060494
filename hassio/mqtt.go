package hassio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MQTTService is the MQTT broker that the Supervisor hands out to add-ons
// declaring services: [mqtt:need] or [mqtt:want]. The Mosquitto add-on
// provides it with a login of its own for add-ons.
type MQTTService struct {
	// Addon is the slug of the add-on that provides the broker, such as core_mosquitto.
	Addon string
	// Host is the broker's host name on the add-on network.
	Host string
	// Port is the broker's TCP port, from 1 to 65535.
	Port int
	// SSL is true when the broker expects TLS on Port.
	SSL bool
	// Username and Password are the login the Supervisor hands out; either may be empty.
	Username string
	Password string
	// Protocol is the MQTT protocol version the provider names, such as "3.1.1".
	Protocol string
}

// mqttServiceData is the "data" of GET /services/mqtt. The Supervisor sends
// the port as a string; a number is accepted as well.
type mqttServiceData struct {
	Addon    string          `json:"addon"`
	Host     string          `json:"host"`
	Port     json.RawMessage `json:"port"`
	SSL      bool            `json:"ssl"`
	Username string          `json:"username"`
	Password string          `json:"password"`
	Protocol string          `json:"protocol"`
}

// MQTTService returns the MQTT service from GET /services/mqtt. It needs no
// hassio_api permission, only the mqtt entry in the add-on's services. A
// Supervisor without a provider, such as a system without the Mosquitto
// add-on, returns a 4xx status, which becomes a *StatusError.
func (c *Client) MQTTService(ctx context.Context) (MQTTService, error) {
	var data mqttServiceData
	if err := c.get(ctx, "/services/mqtt", &data); err != nil {
		return MQTTService{}, err
	}
	svc := MQTTService{
		Addon:    data.Addon,
		Host:     data.Host,
		SSL:      data.SSL,
		Username: data.Username,
		Password: data.Password,
		Protocol: data.Protocol,
	}
	if svc.Host == "" {
		return MQTTService{}, errors.New("get /services/mqtt from the Supervisor: the service has no host")
	}
	port, err := parsePort(data.Port)
	if err != nil {
		return MQTTService{}, fmt.Errorf("get /services/mqtt from the Supervisor: %w", err)
	}
	svc.Port = port
	return svc, nil
}

// BrokerURL returns the broker address in the form fitbridge's broker.url
// takes: mqtt://host:port, or mqtts://host:port when SSL is set. The login
// is not part of it.
func (s MQTTService) BrokerURL() string {
	scheme := "mqtt"
	if s.SSL {
		scheme = "mqtts"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	return u.String()
}

// parsePort reads a port sent as a JSON string ("1883") or number (1883).
func parsePort(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("the service has no port")
	}
	text := strings.TrimSpace(string(raw))
	if unquoted, err := strconv.Unquote(text); err == nil {
		text = strings.TrimSpace(unquoted)
	}
	port, err := strconv.Atoi(text)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("invalid port %s: want a number from 1 to 65535", raw)
	}
	return port, nil
}
