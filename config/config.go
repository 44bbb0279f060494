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
	DefaultLiveWindow       = 60 * time.Minute
	DefaultHTTPListen       = "127.0.0.1:8080"
	DefaultMaxPayloadBytes  = 64 * 1024
	DefaultMaxGuests        = 64
	DefaultEquipmentTimeout = 90 * time.Second
	DefaultResumeWithin     = 10 * time.Minute
	DefaultRestartCooldown  = 10 * time.Minute
	DefaultMaxLateness      = 2 * time.Second
	DefaultCheckpoint       = 15 * time.Second
	DefaultHandoverWindow   = 5 * time.Minute
	DefaultCoinMilestone    = 100
	DefaultMaxHeartRateBPM  = 190
	DefaultHighRatio        = 0.6
	DefaultCriticalRatio    = 0.8
	DefaultHysteresisRatio  = 0.05
	DefaultSampleInterval   = 2 * time.Second
	DefaultDiscoveryMode    = DiscoveryModeComponent
	DefaultStatusTopic      = "homeassistant/status"
)

// Home Assistant discovery modes: one config message per entity, or one per
// device listing its entities as components (Home Assistant 2024.12 or
// later).
const (
	DiscoveryModeComponent = "component"
	DiscoveryModeDevice    = "device"
)

// Zone units: the unit of every zone lower bound, global and per participant.
const (
	ZoneUnitBPM     = "bpm"
	ZoneUnitPercent = "percent" // percent of the participant's maximum heart rate
)

// Config is the whole configuration of one fitbridge instance.
type Config struct {
	Broker          Broker    `yaml:"broker"`
	BaseTopic       string    `yaml:"base_topic"`
	DiscoveryPrefix string    `yaml:"discovery_prefix"`
	HeartRate       HeartRate `yaml:"heart_rate"`
	Zones           []Zone    `yaml:"zones"`
	// ZoneUnit is the unit of every zone bound: ZoneUnitBPM or ZoneUnitPercent.
	ZoneUnit string `yaml:"zone_unit"`
	// DefaultMaxHeartRate is the maximum heart rate in bpm of guests and of
	// participants who set none; it converts percent zone bounds to bpm.
	DefaultMaxHeartRate float64       `yaml:"default_max_heart_rate"`
	Participants        []Participant `yaml:"participants"`
	Equipment           []Equipment   `yaml:"equipment"`
	Session             Session       `yaml:"session"`
	HTTP                HTTP          `yaml:"http"`
	Memory              Memory        `yaml:"memory"`
	// InstanceID is the id that keeps fitbridge instances on one broker
	// apart: the node id of every discovery topic and the start of every
	// unique id. Empty means the slugged host name. A set InstanceID also changes the
	// base_topic and client_id defaults (see Validate).
	InstanceID string    `yaml:"instance_id"`
	Discovery  Discovery `yaml:"discovery"`
	// ConfigurationURL is the link on the bridge device's page in Home
	// Assistant (the device's configuration_url). Empty leaves it out.
	ConfigurationURL string `yaml:"configuration_url"`
	// DataDir is the folder for saved sessions. Empty means the per-user
	// data folder (see DefaultDataDir).
	DataDir string `yaml:"data_dir"`

	// origin records where values came from, so that Validate can name the
	// file line or variable of a bad value. It is nil for a configuration
	// not read from a file.
	origin *origin
}

// Broker is the MQTT broker connection.
type Broker struct {
	// URL is the broker address, for example mqtt://host:1883 or mqtts://host:8883.
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile names a file whose content, without a trailing line
	// break, is the password. It excludes Password.
	PasswordFile string `yaml:"password_file"`
	ClientID     string `yaml:"client_id"`
	// CAFile is a PEM file of the certificate authorities that a TLS broker's
	// certificate must chain to; empty means the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the PEM client certificate and its private
	// key for brokers that require one; both or neither are set.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
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
	// Zones overrides the lower bound of any zone, by zone id, in ZoneUnit.
	Zones map[string]float64 `yaml:"zones"`
	// MaxHeartRate is this participant's maximum heart rate in bpm; zero
	// means DefaultMaxHeartRate.
	MaxHeartRate float64 `yaml:"max_heart_rate"`
}

// Equipment is a piece of gym equipment with a zigbee2mqtt vibration sensor.
type Equipment struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Topic is the zigbee2mqtt state topic of the sensor, e.g. zigbee2mqtt/bag_sensor.
	Topic string `yaml:"topic"`
	// Hold is how long the equipment stays active after a vibration event;
	// zero means Session.EquipmentTimeout.
	Hold time.Duration `yaml:"hold"`
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
	// ResumeWithin is the time after an automatic end within which returning
	// readings resume the same session instead of starting a new one.
	ResumeWithin time.Duration `yaml:"resume_within"`
	// RestartCooldown is how long automatic starts wait after a manual end.
	RestartCooldown time.Duration `yaml:"restart_cooldown"`
	// MaxLateness is how late a reading may arrive and still count in its
	// coin window; windows close this long after they end.
	MaxLateness time.Duration `yaml:"max_lateness"`
	// CheckpointInterval is the longest time between two checkpoints of the
	// running session.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// HandoverWindow is how long after a strap's first reading a
	// reassignment still moves that strap's coins to the new wearer.
	HandoverWindow time.Duration `yaml:"handover_window"`
	// CoinMilestone publishes an event each time a participant's coins pass
	// a multiple of it; zero turns the events off.
	CoinMilestone int `yaml:"coin_milestone"`
}

// LiveWindowTicks returns how many ticks the live window holds: LiveWindow in coin
// intervals.
func (s Session) LiveWindowTicks() int {
	if s.CoinInterval <= 0 {
		return 0
	}
	return int(s.LiveWindow / s.CoinInterval)
}

// Discovery sets how fitbridge announces its entities to Home Assistant.
type Discovery struct {
	// Mode is DiscoveryModeComponent or DiscoveryModeDevice.
	Mode string `yaml:"mode"`
	// StatusTopic is the topic of Home Assistant's birth message
	// ("online"), after which fitbridge publishes every state again.
	StatusTopic string `yaml:"status_topic"`
}

// HTTP is the dashboard, chart feed and metrics server.
type HTTP struct {
	// Listen is the TCP address to serve on; empty disables the server.
	Listen string `yaml:"listen"`
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages may open
	// the chart feed besides the dashboard's own origin.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Token, when set, is the bearer token that the chart feed and the
	// /api/v1/ endpoints require.
	Token string `yaml:"token"`
}

// Memory sets the soft memory limit and the pressure levels of the heap
// watchdog. The ratios are fractions of the limit that the live heap (what
// the last garbage collection kept) must reach.
type Memory struct {
	// LimitBytes is the soft limit given to the Go runtime. 0 picks it
	// automatically: GOMEMLIMIT if set, else 90 % of the container's memory
	// limit, else 512 MiB.
	LimitBytes int64 `yaml:"limit_bytes"`
	// HighRatio is the fraction of the limit at which load shedding starts.
	HighRatio float64 `yaml:"high_ratio"`
	// CriticalRatio is the fraction of the limit at which a heap profile is written.
	CriticalRatio float64 `yaml:"critical_ratio"`
	// HysteresisRatio is how far below a level's ratio the live heap must
	// fall before the level is left.
	HysteresisRatio float64 `yaml:"hysteresis_ratio"`
	// SampleInterval is how often the live heap is read.
	SampleInterval time.Duration `yaml:"sample_interval"`
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
		Discovery:       Discovery{Mode: DefaultDiscoveryMode, StatusTopic: DefaultStatusTopic},
		HeartRate: HeartRate{
			Topic:           DefaultHeartRateTopic,
			Min:             DefaultHeartRateMin,
			Max:             DefaultHeartRateMax,
			MaxPayloadBytes: DefaultMaxPayloadBytes,
		},
		Zones:               DefaultZones(),
		ZoneUnit:            ZoneUnitBPM,
		DefaultMaxHeartRate: DefaultMaxHeartRateBPM,
		Session: Session{
			CoinInterval:       DefaultCoinInterval,
			IdleAfter:          DefaultIdleAfter,
			LeaveAfter:         DefaultLeaveAfter,
			EndAfter:           DefaultEndAfter,
			StartSamples:       DefaultStartSamples,
			LiveWindow:         DefaultLiveWindow,
			MaxGuests:          DefaultMaxGuests,
			EquipmentTimeout:   DefaultEquipmentTimeout,
			ResumeWithin:       DefaultResumeWithin,
			RestartCooldown:    DefaultRestartCooldown,
			MaxLateness:        DefaultMaxLateness,
			CheckpointInterval: DefaultCheckpoint,
			HandoverWindow:     DefaultHandoverWindow,
			CoinMilestone:      DefaultCoinMilestone,
		},
		HTTP: HTTP{Listen: DefaultHTTPListen, AllowedOrigins: []string{}},
		Memory: Memory{
			HighRatio:       DefaultHighRatio,
			CriticalRatio:   DefaultCriticalRatio,
			HysteresisRatio: DefaultHysteresisRatio,
			SampleInterval:  DefaultSampleInterval,
		},
	}
}
