package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvVarNames(t *testing.T) {
	names := make(map[string]string)
	for _, ev := range envVars() {
		if other, dup := names[ev.name]; dup {
			t.Errorf("%s is derived from both %s and %s", ev.name, other, ev.path)
		}
		names[ev.name] = ev.path
	}
	want := map[string]string{
		"FITBRIDGE_BROKER_URL":                   "broker.url",
		"FITBRIDGE_BROKER_USERNAME":              "broker.username",
		"FITBRIDGE_BROKER_PASSWORD":              "broker.password",
		"FITBRIDGE_BROKER_CLIENT_ID":             "broker.client_id",
		"FITBRIDGE_BASE_TOPIC":                   "base_topic",
		"FITBRIDGE_DISCOVERY_PREFIX":             "discovery_prefix",
		"FITBRIDGE_HEART_RATE_TOPIC":             "heart_rate.topic",
		"FITBRIDGE_HEART_RATE_MIN":               "heart_rate.min",
		"FITBRIDGE_HEART_RATE_MAX":               "heart_rate.max",
		"FITBRIDGE_HEART_RATE_MAX_PAYLOAD_BYTES": "heart_rate.max_payload_bytes",
		"FITBRIDGE_HTTP_LISTEN":                  "http.listen",
		"FITBRIDGE_DATA_DIR":                     "data_dir",
		"FITBRIDGE_SESSION_COIN_INTERVAL":        "session.coin_interval",
		"FITBRIDGE_SESSION_IDLE_AFTER":           "session.idle_after",
		"FITBRIDGE_SESSION_LEAVE_AFTER":          "session.leave_after",
		"FITBRIDGE_SESSION_END_AFTER":            "session.end_after",
		"FITBRIDGE_SESSION_START_SAMPLES":        "session.start_samples",
		"FITBRIDGE_SESSION_LIVE_WINDOW":          "session.live_window",
		"FITBRIDGE_SESSION_MAX_GUESTS":           "session.max_guests",
		"FITBRIDGE_SESSION_EQUIPMENT_TIMEOUT":    "session.equipment_timeout",
	}
	// Keys are added over time, so check the known names one by one; the
	// docs test checks that every variable is documented.
	for name, path := range want {
		if names[name] != path {
			t.Errorf("%s maps to %q, want %q", name, names[name], path)
		}
	}
	for name, path := range names {
		derived := "FITBRIDGE_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(path))
		if name != derived {
			t.Errorf("variable %s for %s, want %s", name, path, derived)
		}
	}
}

func TestApplyEnvOverrides(t *testing.T) {
	cfg := Default()
	err := cfg.ApplyEnv([]string{
		"PATH=/usr/bin",
		"FITBRIDGE_BROKER_URL=mqtts://broker.example:8883",
		"FITBRIDGE_BROKER_USERNAME=bridge",
		"FITBRIDGE_BROKER_PASSWORD=s3cret=with=equals",
		"FITBRIDGE_BROKER_CLIENT_ID=fitbridge-gym",
		"FITBRIDGE_BASE_TOPIC=gym/fitbridge",
		"FITBRIDGE_DISCOVERY_PREFIX=ha",
		"FITBRIDGE_HEART_RATE_TOPIC=straps/+/hr",
		"FITBRIDGE_HEART_RATE_MIN=35.5",
		"FITBRIDGE_HEART_RATE_MAX_PAYLOAD_BYTES=4096",
		"FITBRIDGE_HTTP_LISTEN=:9000",
		"FITBRIDGE_DATA_DIR=/var/lib/fitbridge",
		"FITBRIDGE_SESSION_COIN_INTERVAL=10s",
		"FITBRIDGE_SESSION_LEAVE_AFTER=1m30s",
		"FITBRIDGE_SESSION_START_SAMPLES=5",
		"FITBRIDGE_SESSION_MAX_GUESTS= 8 ",
		"FITBRIDGE_CONFIG=/etc/fitbridge.yaml",
	})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}

	want := Default()
	want.Broker = Broker{URL: "mqtts://broker.example:8883", Username: "bridge",
		Password: "s3cret=with=equals", ClientID: "fitbridge-gym"}
	want.BaseTopic = "gym/fitbridge"
	want.DiscoveryPrefix = "ha"
	want.HeartRate.Topic = "straps/+/hr"
	want.HeartRate.Min = 35.5
	want.HeartRate.MaxPayloadBytes = 4096
	want.HTTP.Listen = ":9000"
	want.DataDir = "/var/lib/fitbridge"
	want.Session.CoinInterval = 10 * time.Second
	want.Session.LeaveAfter = 90 * time.Second
	want.Session.StartSamples = 5
	want.Session.MaxGuests = 8

	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("ApplyEnv =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestApplyEnvOverridesFile(t *testing.T) {
	cfg, err := loadText(t, "http:\n  listen: 127.0.0.1:9000\nsession:\n  max_guests: 3\n")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.ApplyEnv([]string{"FITBRIDGE_HTTP_LISTEN="}); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if cfg.HTTP.Listen != "" {
		t.Errorf("http.listen = %q, want the empty value from the environment", cfg.HTTP.Listen)
	}
	if cfg.Session.MaxGuests != 3 {
		t.Errorf("session.max_guests = %d, want 3 from the file", cfg.Session.MaxGuests)
	}
}

func TestApplyEnvFirstEntryWins(t *testing.T) {
	cfg := Default()
	err := cfg.ApplyEnv([]string{"FITBRIDGE_BASE_TOPIC=first", "FITBRIDGE_BASE_TOPIC=second"})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if cfg.BaseTopic != "first" {
		t.Errorf("base_topic = %q, want first", cfg.BaseTopic)
	}
}

func TestApplyEnvBadValues(t *testing.T) {
	cases := []struct {
		entry string
		want  []string
	}{
		{"FITBRIDGE_SESSION_COIN_INTERVAL=5", []string{
			`FITBRIDGE_SESSION_COIN_INTERVAL: session.coin_interval: invalid value "5"`,
			"add one, for example \"5s\""}},
		{"FITBRIDGE_SESSION_IDLE_AFTER=soon", []string{
			`FITBRIDGE_SESSION_IDLE_AFTER: session.idle_after: invalid value "soon": not a duration`}},
		{"FITBRIDGE_HEART_RATE_MAX=high", []string{
			`FITBRIDGE_HEART_RATE_MAX: heart_rate.max: invalid value "high": not a number`}},
		{"FITBRIDGE_SESSION_MAX_GUESTS=2.5", []string{
			`FITBRIDGE_SESSION_MAX_GUESTS: session.max_guests: invalid value "2.5": not a whole number`}},
		{"FITBRIDGE_SESSION_START_SAMPLES=", []string{
			`FITBRIDGE_SESSION_START_SAMPLES: session.start_samples: invalid value ""`}},
		{"FITBRIDGE_HEART_RATE_MAX_PAYLOAD_BYTES=99999999999999999999", []string{
			"FITBRIDGE_HEART_RATE_MAX_PAYLOAD_BYTES", "out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.entry, func(t *testing.T) {
			cfg := Default()
			err := cfg.ApplyEnv([]string{"FITBRIDGE_BASE_TOPIC=changed", tc.entry})
			if err == nil {
				t.Fatal("ApplyEnv succeeded, want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q\nwant it to contain %q", err, want)
				}
			}
			if !reflect.DeepEqual(cfg, Default()) {
				t.Errorf("ApplyEnv changed the configuration despite the error: %+v", cfg)
			}
		})
	}
}

func TestApplyEnvUnknownVariable(t *testing.T) {
	cfg := Default()
	err := cfg.ApplyEnv([]string{
		"FITBRIDGE_BROKER_PASWORD=hunter2",
		"FITBRIDGE_COLOUR=blue-and-secret",
	})
	if err == nil {
		t.Fatal("ApplyEnv succeeded, want unknown-variable errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"FITBRIDGE_BROKER_PASWORD: unknown environment variable; " +
			"did you mean FITBRIDGE_BROKER_PASSWORD?",
		"FITBRIDGE_COLOUR: unknown environment variable " +
			"(allowed: FITBRIDGE_CONFIG, FITBRIDGE_BROKER_URL,",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error = %q\nwant it to contain %q", msg, want)
		}
	}
	for _, secret := range []string{"hunter2", "blue-and-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error = %q shows the value %q of an unknown variable", msg, secret)
		}
	}
}

func TestApplyEnvIgnoresOtherEntries(t *testing.T) {
	cfg := Default()
	err := cfg.ApplyEnv([]string{
		"HOME=/root",
		"fitbridge_base_topic=lower-case",
		"FITBRIDGE_BASE_TOPIC",
		"=C:=C:\\",
		EnvConfigFile + "=/etc/fitbridge/config.yaml",
	})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("ApplyEnv changed the configuration: %+v", cfg)
	}
}
