package config

import (
	"errors"
	"fmt"
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
	errs   []error
	origin *origin // nil when the configuration was not read from a file
}

func (v *validator) add(path, value, problem, allowed string) {
	v.errs = append(v.errs, &FieldError{Source: v.origin.sourceOf(path), Path: path, Value: value,
		Problem: problem, Allowed: allowed})
}

// Validate checks the whole configuration and returns every problem at once,
// as *FieldError values joined with errors.Join. It first fills in values
// derived from others: an empty participant, equipment or zone name becomes
// its id, and a set instance_id replaces the defaults of base_topic and
// broker.client_id (fitbridge/<instance_id> and fitbridge-<instance_id>).
// Call it after Load, ApplyEnv and command-line flags.
func (c *Config) Validate() error {
	c.fillNames()
	c.fillInstanceDefaults()

	v := validator{origin: c.origin}
	v.checkBroker(c.Broker)
	v.checkBrokerAuth(c.Broker)
	v.checkTopicRoots(c.BaseTopic, c.DiscoveryPrefix)
	v.checkDiscovery(c)
	v.checkHeartRate(c)
	v.checkZones(c.Zones, c.zoneCeiling(), c.ZoneUnit == ZoneUnitPercent)
	v.checkZoneUnit(c)
	v.checkParticipants(c)
	v.checkEquipment(c)
	v.checkSession(c.Session)
	v.checkHTTP(c.HTTP)
	v.checkHTTPAccess(c.HTTP)
	v.checkConfigurationURL(c.ConfigurationURL)
	v.checkMemory(c.Memory)
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
	// The URL may carry a password, which error messages must not show.
	shown := quote(RedactURL(b.URL))
	u, err := url.Parse(b.URL)
	if err != nil {
		v.add(path, shown, "not a URL", allowed)
		return
	}
	if !slices.Contains(brokerSchemes, u.Scheme) {
		v.add(path, shown, "unsupported scheme "+quote(u.Scheme), allowed)
		return
	}
	if u.Hostname() == "" {
		v.add(path, shown, "the URL has no host", allowed)
		return
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.add(path, shown, "port out of range", allowed)
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
	switch {
	case !finite(hr.Min):
		v.add("heart_rate.min", formatFloat(hr.Min), "not a finite number", bpmRange)
	case !minOK:
		v.add("heart_rate.min", formatFloat(hr.Min), "must be above 0", bpmRange)
	}
	maxOK := finite(hr.Max) && hr.Max <= MaxHeartRate
	switch {
	case !finite(hr.Max):
		v.add("heart_rate.max", formatFloat(hr.Max), "not a finite number", bpmRange)
	case !maxOK:
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

// minTokenLength is the shortest accepted http.token.
const minTokenLength = 16

func (v *validator) checkHTTPAccess(h HTTP) {
	const originAllowed = "an origin such as https://homeassistant.local:8123: " +
		"http or https, a host, an optional port, and no path"
	for i, origin := range h.AllowedOrigins {
		path := fmt.Sprintf("http.allowed_origins[%d]", i)
		u, err := url.Parse(origin)
		switch {
		case err != nil || u.Host == "":
			v.add(path, quote(origin), "not an origin", originAllowed)
		case u.Scheme != "http" && u.Scheme != "https":
			v.add(path, quote(origin), "the scheme must be http or https", originAllowed)
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			v.add(path, quote(origin), "an origin has no path, query, fragment or user", originAllowed)
		}
	}
	if h.Token == "" {
		return
	}
	const tokenAllowed = "empty, or at least 16 printable ASCII characters without spaces"
	// The value is left out of the message because it is a secret.
	if len(h.Token) < minTokenLength {
		v.add("http.token", "(hidden)", fmt.Sprintf("only %d characters", len(h.Token)), tokenAllowed)
		return
	}
	for _, r := range h.Token {
		if r <= ' ' || r > '~' {
			v.add("http.token", "(hidden)", "contains a space, a control or a non-ASCII character",
				tokenAllowed)
			return
		}
	}
}

func finite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

// configurationURLSchemes are the schemes Home Assistant accepts in a device
// configuration_url (CONFIGURATION_URL_PROTOCOL_SCHEMA_LIST in its
// helpers/config_validation.py).
var configurationURLSchemes = []string{"http", "https", "homeassistant"}

func (v *validator) checkConfigurationURL(raw string) {
	if raw == "" {
		return
	}
	const allowed = "an http, https or homeassistant URL with a host, " +
		"such as http://192.0.2.10:8080/ or homeassistant://hassio/addon/local_fitbridge"
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.add("configuration_url", quote(raw), "not a URL", allowed)
	case !slices.Contains(configurationURLSchemes, u.Scheme):
		v.add("configuration_url", quote(raw), "unsupported scheme "+quote(u.Scheme), allowed)
	case u.Host == "":
		v.add("configuration_url", quote(raw), "the URL has no host", allowed)
	}
}
