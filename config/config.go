// Package config holds fitbridge's configuration: its types, defaults,
// loading from YAML, environment overrides and validation.
package config

import "time"

// Defaults for values that an empty configuration file leaves unset.
const (
	DefaultBrokerURL        = "mqtt://127.0.0.1:1883"
	DefaultClientID         = "fitbridge"
	DefaultBaseTopic        = "fitbridge"
	DefaultDiscoveryPrefix  = "homeassistant"
	DefaultHeartRateTopic   = "fitness/hr/+"
	DefaultHeartRateMin     = 30
	DefaultHeartRateMax     = 240
	DefaultCoinInterval     = 5 * time.Second
	DefaultIdleAfter        = 15 * time.Second
	DefaultLeaveAfter       = 5 * time.Minute
	DefaultEndAfter         = 2 * time.Minute
	DefaultStartSamples     = 3
	DefaultLiveWindow       = 30 * time.Minute
	DefaultHTTPListen       = "127.0.0.1:8080"
	DefaultMaxPayloadBytes  = 64 * 1024
	DefaultMaxGuests        = 64
	DefaultEquipmentTimeout = 90 * time.Second
)

// Config is the whole configuration of one fitbridge instance.
type Config struct {
	Broker          Broker        `yaml:"broker"`
	BaseTopic       string        `yaml:"base_topic"`
	DiscoveryPrefix string        `yaml:"discovery_prefix"`
	HeartRate       HeartRate     `yaml:"heart_rate"`
	Zones           []Zone        `yaml:"zones"`
	Participants    []Participant `yaml:"participants"`
	Equipment       []Equipment   `yaml:"equipment"`
	Session         Session       `yaml:"session"`
	HTTP            HTTP          `yaml:"http"`
	// DataDir is the folder for saved sessions. Empty means the per-user
	// data folder (see DefaultDataDir).
	DataDir string `yaml:"data_dir"`
}

// Broker is the MQTT broker connection.
type Broker struct {
	// URL is the broker address, for example mqtt://host:1883 or mqtts://host:8883.
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	ClientID string `yaml:"client_id"`
}

// HeartRate describes where heart-rate readings arrive and which values are valid.
type HeartRate struct {
	// Topic is an MQTT topic filter with exactly one single-level
	// wildcard '+' whose matched segment is the device id.
	Topic string `yaml:"topic"`
	// Min and Max bound a valid reading in bpm, inclusive.
	Min float64 `yaml:"min"`
	Max float64 `yaml:"max"`
	// MaxPayloadBytes is the largest input payload accepted; larger ones are
	// dropped before parsing.
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
}

// Zone is one heart-rate zone. Zones are ordered by Min; a heart rate
// belongs to the highest zone whose Min is at most the heart rate.
type Zone struct {
	ID    string  `yaml:"id"`
	Name  string  `yaml:"name"`
	Min   float64 `yaml:"min"`
	Coins int     `yaml:"coins"`
}

// Participant is a configured person and the heart-rate devices they wear.
type Participant struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Devices []string `yaml:"devices"`
	// Zones overrides the lower bound in bpm of any zone, by zone id.
	Zones map[string]float64 `yaml:"zones"`
}

// Equipment is a piece of gym equipment with a zigbee2mqtt vibration sensor.
type Equipment struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Topic is the zigbee2mqtt state topic of the sensor, e.g. zigbee2mqtt/bag_sensor.
	Topic string `yaml:"topic"`
}

// Session holds the timings of the session engine.
type Session struct {
	CoinInterval time.Duration `yaml:"coin_interval"`
	IdleAfter    time.Duration `yaml:"idle_after"`
	LeaveAfter   time.Duration `yaml:"leave_after"`
	EndAfter     time.Duration `yaml:"end_after"`
	// StartSamples is how many valid heart-rate samples start a session.
	StartSamples int `yaml:"start_samples"`
	// LiveWindow is how much recent history the chart feed keeps in memory.
	LiveWindow time.Duration `yaml:"live_window"`
	// MaxGuests bounds the number of guest participants kept at once.
	MaxGuests int `yaml:"max_guests"`
	// EquipmentTimeout is how long a piece of equipment stays active after
	// its last vibration event when the sensor sends no vibration:false.
	EquipmentTimeout time.Duration `yaml:"equipment_timeout"`
}

// HTTP is the dashboard, chart feed and metrics server.
type HTTP struct {
	// Listen is the TCP address to serve on; empty disables the server.
	Listen string `yaml:"listen"`
}

// DefaultZones returns the zone set used when the file has none.
func DefaultZones() []Zone {
	return []Zone{
		{ID: "cool", Name: "Cool", Min: 0, Coins: 0},
		{ID: "active", Name: "Active", Min: 100, Coins: 1},
		{ID: "warm", Name: "Warm", Min: 120, Coins: 2},
		{ID: "hot", Name: "Hot", Min: 140, Coins: 3},
		{ID: "fire", Name: "On fire", Min: 160, Coins: 5},
	}
}

// Default returns a configuration with every default filled in.
func Default() Config {
	return Config{
		Broker:          Broker{URL: DefaultBrokerURL, ClientID: DefaultClientID},
		BaseTopic:       DefaultBaseTopic,
		DiscoveryPrefix: DefaultDiscoveryPrefix,
		HeartRate: HeartRate{
			Topic:           DefaultHeartRateTopic,
			Min:             DefaultHeartRateMin,
			Max:             DefaultHeartRateMax,
			MaxPayloadBytes: DefaultMaxPayloadBytes,
		},
		Zones: DefaultZones(),
		Session: Session{
			CoinInterval:     DefaultCoinInterval,
			IdleAfter:        DefaultIdleAfter,
			LeaveAfter:       DefaultLeaveAfter,
			EndAfter:         DefaultEndAfter,
			StartSamples:     DefaultStartSamples,
			LiveWindow:       DefaultLiveWindow,
			MaxGuests:        DefaultMaxGuests,
			EquipmentTimeout: DefaultEquipmentTimeout,
		},
		HTTP: HTTP{Listen: DefaultHTTPListen},
	}
}
