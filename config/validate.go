package config

import (
	"errors"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits enforced by Validate.
const (
	// MaxHeartRate is the highest heart_rate.max accepted, in bpm.
	MaxHeartRate = 300
	// MinPayloadBytes and MaxPayloadBytes bound heart_rate.max_payload_bytes.
	MinPayloadBytes = 256
	MaxPayloadBytes = 1 << 20
	// MinCoinInterval is the shortest session.coin_interval accepted.
	MinCoinInterval = time.Second
)

// brokerSchemes are the broker URL schemes accepted. autopaho in paho.golang
// v0.23.0 dials each of them: plain TCP, TLS, or WebSocket.
var brokerSchemes = []string{"mqtt", "tcp", "mqtts", "ssl", "tls", "ws", "wss"}

// validator collects every problem found, so one run reports them all.
type validator struct {
	errs []error
}

func (v *validator) add(path, value, problem, allowed string) {
	v.errs = append(v.errs, &FieldError{Path: path, Value: value, Problem: problem, Allowed: allowed})
}

// Validate checks the whole configuration and returns every problem at once,
// as *FieldError values joined with errors.Join. It first fills in values
// derived from others: an empty participant, equipment or zone name becomes
// its id. Call it after Load, ApplyEnv and command-line flags.
func (c *Config) Validate() error {
	c.fillNames()

	var v validator
	v.checkBroker(c.Broker)
	v.checkTopicRoots(c.BaseTopic, c.DiscoveryPrefix)
	v.checkHeartRate(c)
	v.checkZones(c.Zones, c.zoneCeiling())
	v.checkZoneUnit(c)
	v.checkParticipants(c)
	v.checkEquipment(c)
	v.checkSession(c.Session)
	v.checkHTTP(c.HTTP)
	return errors.Join(v.errs...)
}

func (c *Config) fillNames() {
	for i := range c.Zones {
		if c.Zones[i].Name == "" {
			c.Zones[i].Name = c.Zones[i].ID
		}
	}
	for i := range c.Participants {
		if c.Participants[i].Name == "" {
			c.Participants[i].Name = c.Participants[i].ID
		}
	}
	for i := range c.Equipment {
		if c.Equipment[i].Name == "" {
			c.Equipment[i].Name = c.Equipment[i].ID
		}
	}
}

func (v *validator) checkBroker(b Broker) {
	const path = "broker.url"
	allowed := "a URL with scheme " + strings.Join(brokerSchemes, ", ") +
		" and a host, such as mqtt://127.0.0.1:1883"
	u, err := url.Parse(b.URL)
	if err != nil {
		v.add(path, quote(b.URL), "not a URL", allowed)
		return
	}
	if !slices.Contains(brokerSchemes, u.Scheme) {
		v.add(path, quote(b.URL), "unsupported scheme "+quote(u.Scheme), allowed)
		return
	}
	if u.Hostname() == "" {
		v.add(path, quote(b.URL), "the URL has no host", allowed)
		return
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.add(path, quote(b.URL), "port out of range", allowed)
		}
	}
}

// checkTopicRoots checks the two prefixes fitbridge publishes under.
func (v *validator) checkTopicRoots(base, discovery string) {
	check := func(path, topic string) bool {
		problem := topicNameProblem(topic)
		if problem == "" && strings.HasSuffix(topic, "/") {
			problem = "must not end with /"
		}
		if problem == "" && strings.HasPrefix(topic, "$") {
			problem = "must not start with $, which brokers reserve for their own topics"
		}
		if problem != "" {
			v.add(path, quote(topic), problem, "topic levels separated by /, such as fitbridge")
			return false
		}
		return true
	}
	baseOK := check("base_topic", base)
	discoveryOK := check("discovery_prefix", discovery)
	if baseOK && discoveryOK && base == discovery {
		v.add("discovery_prefix", quote(discovery), "must differ from base_topic",
			"the Home Assistant discovery prefix, by default homeassistant")
	}
}

func (v *validator) checkHeartRate(c *Config) {
	hr := c.HeartRate
	if problem := heartRateFilterProblem(hr.Topic); problem != "" {
		v.add("heart_rate.topic", quote(hr.Topic), problem,
			"an MQTT filter with one + level for the device id, such as fitness/hr/+")
	} else {
		for _, owned := range []struct{ key, prefix string }{
			{"base_topic", c.BaseTopic},
			{"discovery_prefix", c.DiscoveryPrefix},
		} {
			if owned.prefix != "" && filterReaches(hr.Topic, owned.prefix) {
				v.add("heart_rate.topic", quote(hr.Topic),
					"matches topics under "+owned.key+" "+quote(owned.prefix)+
						", where fitbridge publishes",
					"a filter outside "+quote(owned.prefix))
			}
		}
	}

	const bpmRange = "0 < min < max <= 300 bpm"
	minOK := finite(hr.Min) && hr.Min > 0
	if !minOK {
		v.add("heart_rate.min", formatFloat(hr.Min), "must be above 0", bpmRange)
	}
	maxOK := finite(hr.Max) && hr.Max <= MaxHeartRate
	if !maxOK {
		v.add("heart_rate.max", formatFloat(hr.Max), "must be at most 300", bpmRange)
	}
	if minOK && maxOK && hr.Min >= hr.Max {
		v.add("heart_rate.max", formatFloat(hr.Max),
			"must be above heart_rate.min, which is "+formatFloat(hr.Min), bpmRange)
	}

	if hr.MaxPayloadBytes < MinPayloadBytes || hr.MaxPayloadBytes > MaxPayloadBytes {
		v.add("heart_rate.max_payload_bytes", formatInt(hr.MaxPayloadBytes), "out of range",
			"256 to 1048576 bytes")
	}
}

func (v *validator) checkSession(s Session) {
	if s.CoinInterval < MinCoinInterval {
		v.add("session.coin_interval", formatDuration(s.CoinInterval), "shorter than 1s",
			"a duration of at least 1s")
	}
	if s.IdleAfter <= 0 {
		v.add("session.idle_after", formatDuration(s.IdleAfter), "must be positive",
			"a duration above 0 and below session.leave_after")
	} else if s.IdleAfter >= s.LeaveAfter {
		v.add("session.leave_after", formatDuration(s.LeaveAfter),
			"must be longer than session.idle_after, which is "+formatDuration(s.IdleAfter),
			"a duration above session.idle_after")
	}
	if s.EndAfter <= 0 {
		v.add("session.end_after", formatDuration(s.EndAfter), "must be positive",
			"a duration above 0")
	}
	if s.StartSamples < 1 {
		v.add("session.start_samples", formatInt(s.StartSamples), "must be at least 1",
			"a whole number of 1 or more")
	}
	if s.CoinInterval >= MinCoinInterval && s.LiveWindow < s.CoinInterval {
		v.add("session.live_window", formatDuration(s.LiveWindow),
			"shorter than session.coin_interval, which is "+formatDuration(s.CoinInterval),
			"a duration of at least session.coin_interval")
	}
	if s.MaxGuests < 1 {
		v.add("session.max_guests", formatInt(s.MaxGuests), "must be at least 1",
			"a whole number of 1 or more")
	}
	if s.EquipmentTimeout <= 0 {
		v.add("session.equipment_timeout", formatDuration(s.EquipmentTimeout),
			"must be positive", "a duration above 0")
	}
	v.checkSessionRecovery(s)
}

func (v *validator) checkHTTP(h HTTP) {
	if h.Listen == "" {
		return
	}
	const allowed = "host:port such as 127.0.0.1:8080 or :8080, or empty to disable the server"
	_, port, err := net.SplitHostPort(h.Listen)
	if err != nil {
		v.add("http.listen", quote(h.Listen), "not a host:port address", allowed)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add("http.listen", quote(h.Listen), "the port must be a number from 0 to 65535", allowed)
	}
}

func finite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}
