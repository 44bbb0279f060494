package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// everyOption sets every add-on option to a value other than its default.
const everyOption = `{
  "log_level": "debug",
  "broker_url": "mqtts://broker.lan:8883",
  "broker_username": "fitbridge",
  "broker_password": "s3cret",
  "base_topic": "gym",
  "discovery_prefix": "ha",
  "instance_id": "garage",
  "heart_rate_topic": "straps/+/hr",
  "zone_unit": "percent",
  "default_max_heart_rate": 185,
  "coin_interval": "10s",
  "idle_after": "20s",
  "leave_after": "6m",
  "end_after": "3m",
  "start_samples": 5,
  "live_window": "45m",
  "max_guests": 8,
  "equipment_timeout": "2m",
  "resume_within": "5m",
  "restart_cooldown": "1m",
  "handover_window": "3m",
  "coin_milestone": 50,
  "participants": [
    {"id": "alex", "name": "Alex", "devices": "10001, AA:BB:CC:00:00:05",
     "max_heart_rate": 180, "zones": "active=45, warm=60"},
    {"id": "sam", "devices": "10002"}
  ],
  "equipment": [
    {"id": "punching_bag", "name": "Punching bag", "topic": "zigbee2mqtt/bag_sensor"}
  ],
  "zones": [
    {"id": "easy", "name": "Easy", "min": 0, "coins": 0},
    {"id": "active", "name": "Active", "min": 50, "coins": 1},
    {"id": "warm", "min": 70, "coins": 2}
  ]
}`

func TestAddonOptionsEveryOption(t *testing.T) {
	opts, err := ParseAddonOptions("options.json", []byte(everyOption))
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	if got := opts.SlogLevel(); got != slog.LevelDebug {
		t.Errorf("SlogLevel = %v, want debug", got)
	}
	cfg, err := opts.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}

	want := Default()
	want.Broker.URL = "mqtts://broker.lan:8883"
	want.Broker.Username = "fitbridge"
	want.Broker.Password = "s3cret"
	want.BaseTopic = "gym"
	want.DiscoveryPrefix = "ha"
	want.InstanceID = "garage"
	want.HeartRate.Topic = "straps/+/hr"
	want.ZoneUnit = ZoneUnitPercent
	want.DefaultMaxHeartRate = 185
	want.Session.CoinInterval = 10 * time.Second
	want.Session.IdleAfter = 20 * time.Second
	want.Session.LeaveAfter = 6 * time.Minute
	want.Session.EndAfter = 3 * time.Minute
	want.Session.StartSamples = 5
	want.Session.LiveWindow = 45 * time.Minute
	want.Session.MaxGuests = 8
	want.Session.EquipmentTimeout = 2 * time.Minute
	want.Session.ResumeWithin = 5 * time.Minute
	want.Session.RestartCooldown = time.Minute
	want.Session.HandoverWindow = 3 * time.Minute
	want.Session.CoinMilestone = 50
	want.Participants = []Participant{
		{ID: "alex", Name: "Alex", Devices: []string{"10001", "AA:BB:CC:00:00:05"},
			MaxHeartRate: 180, Zones: map[string]float64{"active": 45, "warm": 60}},
		{ID: "sam", Devices: []string{"10002"}},
	}
	want.Equipment = []Equipment{
		{ID: "punching_bag", Name: "Punching bag", Topic: "zigbee2mqtt/bag_sensor"},
	}
	want.Zones = []Zone{
		{ID: "easy", Name: "Easy", Min: 0, Coins: 0},
		{ID: "active", Name: "Active", Min: 50, Coins: 1},
		{ID: "warm", Min: 70, Coins: 2},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", cfg, want)
	}
	if err := AddonValidate(&cfg); err != nil {
		t.Errorf("AddonValidate: %v", err)
	}
}

// TestAddonOptionsCoverScalars fails when a row of addonScalarOptions names
// a key that Config no longer has, or when everyOption misses a row.
func TestAddonOptionsCoverScalars(t *testing.T) {
	paths := make(map[string]bool)
	for _, ev := range envVars() {
		paths[ev.path] = true
	}
	for _, so := range addonScalarOptions {
		if !paths[so.path] {
			t.Errorf("option %s sets %s, which is not a single-value key", so.option, so.path)
		}
		if !strings.Contains(everyOption, `"`+so.option+`":`) {
			t.Errorf("option %s is missing from the everyOption test input", so.option)
		}
	}
}

func TestAddonOptionsMinimal(t *testing.T) {
	// The required options only, with every list emptied in the form.
	const minimal = `{"log_level":"info","participants":[],"equipment":[],"zones":[]}`
	opts, err := ParseAddonOptions("options.json", []byte(minimal))
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	cfg, err := opts.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	want := Default()
	want.Participants = []Participant{}
	want.Equipment = []Equipment{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Config() =\n%+v\nwant Default() with empty lists\n%+v", cfg, want)
	}
	if got := opts.SlogLevel(); got != slog.LevelInfo {
		t.Errorf("SlogLevel = %v, want info", got)
	}
}

func TestAddonOptionsNullMeansUnset(t *testing.T) {
	opts, err := ParseAddonOptions("options.json",
		[]byte(`{"broker_url":null,"coin_interval":"","zones":null,"log_level":null}`))
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	if opts.Has("broker_url") || opts.Has("coin_interval") {
		t.Errorf("Has reports an option set to null or \"\"")
	}
	cfg, err := opts.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if cfg.Broker.URL != DefaultBrokerURL {
		t.Errorf("broker.url = %q, want the default", cfg.Broker.URL)
	}
	if cfg.Session.CoinInterval != DefaultCoinInterval {
		t.Errorf("session.coin_interval = %v, want the default", cfg.Session.CoinInterval)
	}
	if len(cfg.Zones) != len(DefaultZones()) {
		t.Errorf("len(zones) = %d, want the default zones", len(cfg.Zones))
	}
}

func TestAddonLogLevels(t *testing.T) {
	for name, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo,
		"warning": slog.LevelWarn, "error": slog.LevelError,
	} {
		opts, err := ParseAddonOptions("o", []byte(`{"log_level":"`+name+`"}`))
		if err != nil {
			t.Fatalf("log_level %s: %v", name, err)
		}
		if got := opts.SlogLevel(); got != want {
			t.Errorf("log_level %s: SlogLevel = %v, want %v", name, got, want)
		}
	}
}

func TestAddonOptionsInvalid(t *testing.T) {
	cases := []struct {
		name, json string
		// wantPath and wantText must both appear in one error line.
		wantPath, wantText string
	}{
		{"not JSON", `{"log_level":`, "", "parse add-on options"},
		{"not an object", `[1]`, "", "parse add-on options"},
		{"unknown option", `{"mqtt_server":"x"}`, "mqtt_server", "unknown option"},
		{"log level unknown", `{"log_level":"trace"}`, "log_level", "unknown log level"},
		{"log level number", `{"log_level":3}`, "log_level", "not a string"},
		{"participants not a list", `{"participants":{"id":"a"}}`, "participants", "not a list"},
		{"participant unknown field",
			`{"participants":[{"id":"a","devices":"1","strap":"2"}]}`,
			"participants[0]", `unknown field "strap"`},
		{"participant max heart rate text",
			`{"participants":[{"id":"a","devices":"1","max_heart_rate":"high"}]}`,
			"participants[0].max_heart_rate", "a JSON string where a number is expected"},
		{"zone coins fraction",
			`{"zones":[{"id":"z","min":0,"coins":1.5}]}`,
			"zones[0].coins", "where a whole number is expected"},
		{"equipment topic number",
			`{"equipment":[{"id":"e","topic":7}]}`,
			"equipment[0].topic", "a JSON number where a string is expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAddonOptions("/data/options.json", []byte(tc.json))
			checkAddonError(t, err, tc.wantPath, tc.wantText)
		})
	}
}

func TestAddonOptionsInvalidValues(t *testing.T) {
	cases := []struct {
		name, json, wantPath, wantText string
	}{
		{"duration without unit", `{"idle_after":"20"}`, "idle_after", "needs a unit"},
		{"duration as number", `{"end_after":120}`, "end_after", "needs a unit"},
		{"duration text", `{"coin_interval":"soon"}`, "coin_interval", "not a duration"},
		{"whole number text", `{"max_guests":"many"}`, "max_guests", "not a whole number"},
		{"whole number fraction", `{"start_samples":2.5}`, "start_samples", "not a whole number"},
		{"number text", `{"default_max_heart_rate":"high"}`, "default_max_heart_rate",
			"not a number"},
		{"list for a value", `{"broker_url":["a"]}`, "broker_url", "a list or mapping"},
		{"zone override without =",
			`{"participants":[{"id":"a","devices":"1","zones":"active 80"}]}`,
			"participants[0].zones", "not an id=value pair"},
		{"zone override not a number",
			`{"participants":[{"id":"a","devices":"1","zones":"active=fast"}]}`,
			"participants[0].zones", "not a number"},
		{"zone override twice",
			`{"participants":[{"id":"a","devices":"1","zones":"warm=100, warm=110"}]}`,
			"participants[0].zones", `zone "warm" is set twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ParseAddonOptions("/data/options.json", []byte(tc.json))
			if err != nil {
				t.Fatalf("ParseAddonOptions: %v", err)
			}
			_, err = opts.Config()
			checkAddonError(t, err, tc.wantPath, tc.wantText)
		})
	}
}

// checkAddonError fails unless err has a line that names the options file,
// wantPath and wantText.
func checkAddonError(t *testing.T, err error, wantPath, wantText string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one about %s", wantPath)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.Contains(line, wantText) && strings.Contains(line, wantPath) &&
			(wantPath == "" || strings.Contains(line, "/data/options.json")) {
			return
		}
	}
	t.Errorf("error %q has no line with %q and %q", err, wantPath, wantText)
}

func TestAddonOptionsReportsEveryProblem(t *testing.T) {
	opts, err := ParseAddonOptions("o", []byte(`{"idle_after":"1","end_after":"2","max_guests":"x"}`))
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	_, err = opts.Config()
	if n := len(joinedErrors(err)); n != 3 {
		t.Errorf("got %d errors, want 3: %v", n, err)
	}
}

func TestAddonValidateNamesOptions(t *testing.T) {
	opts, err := ParseAddonOptions("o", []byte(`{
		"idle_after": "10m", "leave_after": "5m",
		"broker_url": "http://broker.lan",
		"participants": [{"id": "guest-a", "devices": "1"}]}`))
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	cfg, err := opts.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	err = AddonValidate(&cfg)
	if err == nil {
		t.Fatal("AddonValidate accepted idle_after above leave_after")
	}
	var paths []string
	for _, e := range joinedErrors(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *FieldError", e)
		}
		paths = append(paths, fe.Path)
	}
	for _, want := range []string{"leave_after", "broker_url", "participants[0].id"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("error paths %q do not include %s", paths, want)
		}
	}
	for _, path := range paths {
		if strings.HasPrefix(path, "session.") || strings.HasPrefix(path, "broker.") {
			t.Errorf("error path %s is a key path, not an option name", path)
		}
	}
}

func TestReadAddonOptionsMissingFile(t *testing.T) {
	_, err := ReadAddonOptions(filepath.Join(t.TempDir(), "options.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestReadAddonOptionsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "options.json")
	if err := os.WriteFile(path, []byte(everyOption), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := ReadAddonOptions(path)
	if err != nil {
		t.Fatalf("ReadAddonOptions: %v", err)
	}
	if len(opts.Participants) != 2 {
		t.Errorf("len(participants) = %d, want 2", len(opts.Participants))
	}
	if !opts.Has("broker_url") {
		t.Errorf("Has(broker_url) = false for a file that sets it")
	}
}

func TestAddonOptionNames(t *testing.T) {
	names := AddonOptionNames()
	for _, want := range []string{"log_level", "participants", "equipment", "zones", "broker_url"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("AddonOptionNames() = %v, missing %s", names, want)
		}
	}
}

func TestValidateConfigurationURL(t *testing.T) {
	for _, tc := range []struct {
		url   string
		valid bool
	}{
		{"", true},
		{"http://192.0.2.10:8080/", true},
		{"https://gym.example/", true},
		{"homeassistant://hassio/addon/local_fitbridge", true},
		{"ftp://gym.example/", false},
		{"javascript:alert(1)", false},
		{"http:///no-host", false},
		{"gym.example", false},
		{"http://[::1", false},
	} {
		cfg := Default()
		cfg.ConfigurationURL = tc.url
		err := cfg.Validate()
		if tc.valid && err != nil {
			t.Errorf("configuration_url %q rejected: %v", tc.url, err)
		}
		if !tc.valid && (err == nil || !strings.Contains(err.Error(), "configuration_url")) {
			t.Errorf("configuration_url %q: error = %v, want one naming configuration_url",
				tc.url, err)
		}
	}
}
