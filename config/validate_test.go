package config

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// validConfig returns a valid configuration with participants and equipment.
func validConfig() Config {
	cfg := Default()
	cfg.Participants = []Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001"},
			Zones: map[string]float64{"active": 80}},
		{ID: "sam", Devices: []string{"10002", "AA:BB:CC:00:00:05"}},
	}
	cfg.Equipment = []Equipment{
		{ID: "punching_bag", Name: "Punching bag", Topic: "zigbee2mqtt/bag_sensor"},
		{ID: "rower", Topic: "zigbee2mqtt/rower"},
	}
	return cfg
}

func TestValidateAcceptsValidConfigs(t *testing.T) {
	for name, cfg := range map[string]Config{"defaults": Default(), "full": validConfig()} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateNamesDefaultToID(t *testing.T) {
	cfg := validConfig()
	cfg.Zones[0].Name = ""
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got := cfg.Participants[1].Name; got != "sam" {
		t.Errorf("participant name = %q, want sam", got)
	}
	if got := cfg.Equipment[1].Name; got != "rower" {
		t.Errorf("equipment name = %q, want rower", got)
	}
	if got := cfg.Zones[0].Name; got != "cool" {
		t.Errorf("zone name = %q, want cool", got)
	}
	if got := cfg.Participants[0].Name; got != "Alex" {
		t.Errorf("participant name = %q, want the configured Alex", got)
	}
}

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
		// want are substrings of the error: the key path and the value.
		want []string
	}{
		// ids
		{"participant id pattern", func(c *Config) { c.Participants[0].ID = "j.doe" },
			[]string{`participants[0].id: invalid value "j.doe": not a valid id`}},
		{"participant id empty", func(c *Config) { c.Participants[0].ID = "" },
			[]string{`participants[0].id: invalid value "": not a valid id`}},
		{"participant id too long", func(c *Config) { c.Participants[0].ID = strings.Repeat("a", 65) },
			[]string{"participants[0].id", "not a valid id", "1 to 64 characters"}},
		{"participant id duplicate", func(c *Config) { c.Participants[1].ID = "alex" },
			[]string{`participants[1].id: invalid value "alex": duplicate id, participants[0]`}},
		{"participant id duplicate case", func(c *Config) { c.Participants[1].ID = "ALEX" },
			[]string{`participants[1].id: invalid value "ALEX": duplicate id`}},
		{"participant guest prefix", func(c *Config) { c.Participants[1].ID = "guest-10002" },
			[]string{`participants[1].id: invalid value "guest-10002"`, `"guest-"`}},
		{"participant guest prefix case", func(c *Config) { c.Participants[1].ID = "Guest-1" },
			[]string{`participants[1].id: invalid value "Guest-1"`}},
		{"equipment id pattern", func(c *Config) { c.Equipment[0].ID = "Bag (heavy)" },
			[]string{`equipment[0].id: invalid value "Bag (heavy)": not a valid id`}},
		{"equipment id duplicate", func(c *Config) { c.Equipment[1].ID = "punching_bag" },
			[]string{`equipment[1].id: invalid value "punching_bag": duplicate id`}},
		{"zone id pattern", func(c *Config) { c.Zones[1].ID = "act ive" },
			[]string{`zones[1].id: invalid value "act ive": not a valid id`}},
		{"zone id duplicate", func(c *Config) { c.Zones[2].ID = "active" },
			[]string{`zones[2].id: invalid value "active": duplicate id`}},

		// devices
		{"device twice", func(c *Config) { c.Participants[1].Devices[0] = "10001" },
			[]string{`participants[1].devices[0]: invalid value "10001"`,
				"already listed at participants[0].devices[0]"}},
		{"device twice in one participant",
			func(c *Config) { c.Participants[0].Devices = []string{"1", "1"} },
			[]string{`participants[0].devices[1]: invalid value "1"`, "already listed"}},
		{"device empty", func(c *Config) { c.Participants[0].Devices[0] = "" },
			[]string{`participants[0].devices[0]: invalid value "": must not be empty`}},
		{"device plus", func(c *Config) { c.Participants[0].Devices[0] = "a+b" },
			[]string{`participants[0].devices[0]: invalid value "a+b"`, "must not contain + # or /"}},
		{"device hash", func(c *Config) { c.Participants[0].Devices[0] = "#" },
			[]string{`participants[0].devices[0]: invalid value "#"`}},
		{"device slash", func(c *Config) { c.Participants[0].Devices[0] = "hr/1" },
			[]string{`participants[0].devices[0]: invalid value "hr/1"`}},

		// zones
		{"no zones", func(c *Config) { c.Zones = nil },
			[]string{"zones: at least one zone is required"}},
		{"zones not ascending", func(c *Config) { c.Zones[2].Min = 100 },
			[]string{"zones[2].min: invalid value 100: zones must be in ascending order",
				"zones[1].min is 100"}},
		{"first zone negative", func(c *Config) { c.Zones[0].Min = -1 },
			[]string{"zones[0].min: invalid value -1: the first zone must start at 0"}},
		{"zone min NaN", func(c *Config) { c.Zones[3].Min = math.NaN() },
			[]string{"zones[3].min: invalid value NaN: not a finite number"}},
		{"zone unreachable", func(c *Config) { c.Zones[4].Min = 250 },
			[]string{"zones[4].min: invalid value 250", "heart_rate.max is 240"}},
		{"percent zone above 100", func(c *Config) {
			c.ZoneUnit = ZoneUnitPercent
			c.DefaultMaxHeartRate = 190
			for i, pct := range []float64{0, 50, 60, 70, 150} {
				c.Zones[i].Min = pct
			}
		}, []string{"zones[4].min: invalid value 150: a percent bound must be at most 100"}},
		{"zone coins negative", func(c *Config) { c.Zones[1].Coins = -2 },
			[]string{"zones[1].coins: invalid value -2: must not be negative"}},
		{"override unknown zone",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"zone9": 90} },
			[]string{"participants[0].zones.zone9: unknown zone id \"zone9\"",
				"allowed: cool, active, warm, hot, fire"}},
		{"override below previous",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"warm": 95} },
			[]string{"participants[0].zones.warm: invalid value 95",
				"above this participant's active zone, which starts at 100"}},
		{"override above next",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"active": 130} },
			[]string{"participants[0].zones.active: invalid value 130",
				"below this participant's warm zone, which starts at 120"}},
		{"overrides cross each other",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"warm": 150, "hot": 145} },
			[]string{"participants[0].zones.hot: invalid value 145",
				"above this participant's warm zone, which starts at 150"}},
		{"override first zone negative",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"cool": -5} },
			[]string{"participants[0].zones.cool: invalid value -5", "start at 0 or above"}},
		{"override infinite",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"fire": math.Inf(1)} },
			[]string{"participants[0].zones.fire: invalid value +Inf: not a finite number"}},
		{"override unreachable",
			func(c *Config) { c.Participants[0].Zones = map[string]float64{"fire": 245} },
			[]string{"participants[0].zones.fire: invalid value 245", "heart_rate.max is 240"}},

		// heart rate
		{"hr topic without plus", func(c *Config) { c.HeartRate.Topic = "fitness/hr" },
			[]string{`heart_rate.topic: invalid value "fitness/hr": must contain exactly one + level`}},
		{"hr topic two plus", func(c *Config) { c.HeartRate.Topic = "+/hr/+" },
			[]string{`heart_rate.topic: invalid value "+/hr/+"`, "exactly one +"}},
		{"hr topic hash", func(c *Config) { c.HeartRate.Topic = "fitness/+/#" },
			[]string{`heart_rate.topic: invalid value "fitness/+/#": must not contain #`}},
		{"hr topic partial plus", func(c *Config) { c.HeartRate.Topic = "fitness/hr+" },
			[]string{`heart_rate.topic: invalid value "fitness/hr+"`, "whole topic level"}},
		{"hr topic empty", func(c *Config) { c.HeartRate.Topic = "" },
			[]string{`heart_rate.topic: invalid value "": must not be empty`}},
		{"hr topic under base topic", func(c *Config) { c.HeartRate.Topic = "fitbridge/device/+/state" },
			[]string{`heart_rate.topic: invalid value "fitbridge/device/+/state"`,
				`under base_topic "fitbridge"`}},
		{"hr topic under discovery", func(c *Config) { c.HeartRate.Topic = "+/sensor/x" },
			[]string{`heart_rate.topic: invalid value "+/sensor/x"`, "under discovery_prefix"}},
		{"hr min zero", func(c *Config) { c.HeartRate.Min = 0 },
			[]string{"heart_rate.min: invalid value 0: must be above 0"}},
		{"hr max above 300", func(c *Config) { c.HeartRate.Max = 301 },
			[]string{"heart_rate.max: invalid value 301: must be at most 300"}},
		{"hr max NaN", func(c *Config) { c.HeartRate.Max = math.NaN() },
			[]string{"heart_rate.max: invalid value NaN: not a finite number"}},
		{"hr min infinite", func(c *Config) { c.HeartRate.Min = math.Inf(-1) },
			[]string{"heart_rate.min: invalid value -Inf: not a finite number"}},
		{"hr min above max", func(c *Config) { c.HeartRate.Min = 200; c.HeartRate.Max = 150 },
			[]string{"heart_rate.max: invalid value 150: must be above heart_rate.min, which is 200"}},
		{"payload too small", func(c *Config) { c.HeartRate.MaxPayloadBytes = 255 },
			[]string{"heart_rate.max_payload_bytes: invalid value 255: out of range",
				"256 to 1048576"}},
		{"payload too large", func(c *Config) { c.HeartRate.MaxPayloadBytes = 1<<20 + 1 },
			[]string{"heart_rate.max_payload_bytes: invalid value 1048577"}},

		// equipment
		{"equipment topic empty", func(c *Config) { c.Equipment[0].Topic = "" },
			[]string{`equipment[0].topic: invalid value "": must not be empty`}},
		{"equipment topic wildcard", func(c *Config) { c.Equipment[0].Topic = "zigbee2mqtt/+" },
			[]string{`equipment[0].topic: invalid value "zigbee2mqtt/+"`,
				"must not contain the MQTT wildcards"}},
		{"equipment topic leading slash", func(c *Config) { c.Equipment[0].Topic = "/zigbee2mqtt/bag" },
			[]string{`equipment[0].topic: invalid value "/zigbee2mqtt/bag": must not start with /`}},
		{"equipment topic duplicate", func(c *Config) { c.Equipment[1].Topic = "zigbee2mqtt/bag_sensor" },
			[]string{`equipment[1].topic: invalid value "zigbee2mqtt/bag_sensor"`,
				"duplicate topic, equipment[0]"}},
		{"equipment topic under base", func(c *Config) { c.Equipment[0].Topic = "fitbridge/bag" },
			[]string{`equipment[0].topic: invalid value "fitbridge/bag"`, "under base_topic"}},
		{"equipment topic matches hr", func(c *Config) { c.Equipment[0].Topic = "fitness/hr/bag" },
			[]string{`equipment[0].topic: invalid value "fitness/hr/bag"`,
				`heart_rate.topic "fitness/hr/+" matches it`}},

		// topic roots
		{"base topic empty", func(c *Config) { c.BaseTopic = "" },
			[]string{`base_topic: invalid value "": must not be empty`}},
		{"base topic wildcard", func(c *Config) { c.BaseTopic = "fit/#" },
			[]string{`base_topic: invalid value "fit/#": must not contain the MQTT wildcards`}},
		{"base topic leading slash", func(c *Config) { c.BaseTopic = "/fit" },
			[]string{`base_topic: invalid value "/fit": must not start with /`}},
		{"base topic trailing slash", func(c *Config) { c.BaseTopic = "fit/" },
			[]string{`base_topic: invalid value "fit/": must not end with /`}},
		{"base topic dollar", func(c *Config) { c.BaseTopic = "$SYS" },
			[]string{`base_topic: invalid value "$SYS": must not start with $`}},
		{"discovery prefix empty", func(c *Config) { c.DiscoveryPrefix = "" },
			[]string{`discovery_prefix: invalid value "": must not be empty`}},
		{"discovery prefix wildcard", func(c *Config) { c.DiscoveryPrefix = "home+" },
			[]string{`discovery_prefix: invalid value "home+"`}},
		{"discovery prefix trailing slash", func(c *Config) { c.DiscoveryPrefix = "ha/" },
			[]string{`discovery_prefix: invalid value "ha/": must not end with /`}},
		{"roots equal", func(c *Config) { c.DiscoveryPrefix = "fitbridge" },
			[]string{`discovery_prefix: invalid value "fitbridge": must differ from base_topic`}},

		// session
		{"coin interval short", func(c *Config) { c.Session.CoinInterval = 500 * time.Millisecond },
			[]string{"session.coin_interval: invalid value 500ms: shorter than 1s"}},
		{"idle after zero", func(c *Config) { c.Session.IdleAfter = 0 },
			[]string{"session.idle_after: invalid value 0s: must be positive"}},
		{"idle not below leave", func(c *Config) { c.Session.LeaveAfter = 15 * time.Second },
			[]string{"session.leave_after: invalid value 15s: must be longer than session.idle_after"}},
		{"end after zero", func(c *Config) { c.Session.EndAfter = 0 },
			[]string{"session.end_after: invalid value 0s: must be positive"}},
		{"start samples zero", func(c *Config) { c.Session.StartSamples = 0 },
			[]string{"session.start_samples: invalid value 0: must be at least 1"}},
		{"live window short", func(c *Config) { c.Session.LiveWindow = 2 * time.Second },
			[]string{"session.live_window: invalid value 2s: shorter than session.coin_interval"}},
		{"max guests zero", func(c *Config) { c.Session.MaxGuests = 0 },
			[]string{"session.max_guests: invalid value 0: must be at least 1"}},
		{"equipment timeout negative", func(c *Config) { c.Session.EquipmentTimeout = -time.Second },
			[]string{"session.equipment_timeout: invalid value -1s: must be positive"}},

		// broker
		{"broker url scheme", func(c *Config) { c.Broker.URL = "http://127.0.0.1:1883" },
			[]string{`broker.url: invalid value "http://127.0.0.1:1883": unsupported scheme "http"`,
				"mqtt, tcp, mqtts, ssl, tls, ws, wss"}},
		{"broker url no scheme", func(c *Config) { c.Broker.URL = "127.0.0.1:1883" },
			[]string{`broker.url: invalid value "127.0.0.1:1883"`}},
		{"broker url no host", func(c *Config) { c.Broker.URL = "mqtt://:1883" },
			[]string{`broker.url: invalid value "mqtt://:1883": the URL has no host`}},
		{"broker url bad port", func(c *Config) { c.Broker.URL = "mqtt://host:99999" },
			[]string{`broker.url: invalid value "mqtt://host:99999": port out of range`}},
		{"broker url empty", func(c *Config) { c.Broker.URL = "" },
			[]string{`broker.url: invalid value ""`}},

		// http
		{"listen without port", func(c *Config) { c.HTTP.Listen = "localhost" },
			[]string{`http.listen: invalid value "localhost": not a host:port address`}},
		{"listen bad port", func(c *Config) { c.HTTP.Listen = ":http" },
			[]string{`http.listen: invalid value ":http": the port must be a number`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate succeeded, want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := validConfig()
	cfg.BaseTopic = ""
	cfg.Zones[0].Coins = -1
	cfg.Participants[0].ID = "guest-alex"
	cfg.Session.MaxGuests = 0

	err := cfg.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate = %v (%T), want errors from errors.Join", err, err)
	}
	var paths []string
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q is not a *FieldError", e)
		}
		paths = append(paths, fe.Path)
	}
	want := []string{"base_topic", "zones[0].coins", "participants[0].id", "session.max_guests"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths = %q, want %q", paths, want)
	}
}

func TestValidateAcceptsEdgeValues(t *testing.T) {
	cfg := validConfig()
	cfg.HeartRate.Max = 300
	cfg.HeartRate.MaxPayloadBytes = 1 << 20
	cfg.Session.CoinInterval = time.Second
	cfg.Session.LiveWindow = time.Second
	cfg.HTTP.Listen = ""
	cfg.Broker.URL = "wss://broker.example/mqtt"
	cfg.BaseTopic = "home/gym/fitbridge"
	cfg.Participants[0].ID = strings.Repeat("a", 64)
	cfg.Participants[0].Zones = map[string]float64{"cool": 50, "active": 99.5}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
