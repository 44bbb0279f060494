package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConfig writes text to a fresh config.yaml and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadText loads text as a configuration file.
func loadText(t *testing.T, text string) (Config, error) {
	t.Helper()
	return Load(writeConfig(t, text))
}

func TestLoadEmptyYieldsDefaults(t *testing.T) {
	cases := map[string]string{
		"empty file":     "",
		"blank lines":    "\n  \n",
		"only a comment": "# nothing set yet\n",
		"document start": "---\n",
		"null document":  "~\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadText(t, text)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(withoutOrigin(cfg), Default()) {
				t.Errorf("Load = %+v, want Default()", cfg)
			}
		})
	}
	t.Run("empty path", func(t *testing.T) {
		cfg, err := Load("")
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if !reflect.DeepEqual(withoutOrigin(cfg), Default()) {
			t.Errorf("Load = %+v, want Default()", cfg)
		}
	})
}

func TestLoadExampleFile(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if cfg.Broker.Username != "fitbridge" {
		t.Errorf("broker.username = %q, want fitbridge", cfg.Broker.Username)
	}
	if got := len(cfg.Zones); got != 5 {
		t.Errorf("len(zones) = %d, want 5", got)
	}
	if got := len(cfg.Participants); got != 2 {
		t.Fatalf("len(participants) = %d, want 2", got)
	}
	if got := cfg.Participants[1].Name; got != "sam" {
		t.Errorf("participants[1].name = %q, want the id sam", got)
	}
	wantDevices := []string{"10002", "AA:BB:CC:00:00:05"}
	if got := cfg.Participants[1].Devices; !reflect.DeepEqual(got, wantDevices) {
		t.Errorf("participants[1].devices = %q, want %q", got, wantDevices)
	}
	if got := cfg.Participants[0].Zones["warm"]; got != 105 {
		t.Errorf("participants[0].zones.warm = %g, want 105", got)
	}
	if got := cfg.Session.EquipmentTimeout; got != 90*time.Second {
		t.Errorf("session.equipment_timeout = %v, want 90s", got)
	}
}

func TestLoadExampleKeepsDefaults(t *testing.T) {
	// Apart from the lines marked as differing, the example sets every key to
	// its default, so resetting those lines must give Default() back.
	cfg, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	cfg.Broker.Username = ""
	cfg.Participants = nil
	cfg.Equipment = nil
	if !reflect.DeepEqual(withoutOrigin(cfg), Default()) {
		t.Errorf("example differs from Default() beyond the marked lines:\n got %+v\nwant %+v",
			cfg, Default())
	}
}

func TestLoadParticipantAndEquipment(t *testing.T) {
	cfg, err := loadText(t, `
participants: [{id: alex, name: Alex, devices: ["10001"], zones: {active: 80}}]
equipment: [{id: punching_bag, name: Punching bag, topic: zigbee2mqtt/bag_sensor}]
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	wantParticipants := []Participant{{
		ID: "alex", Name: "Alex", Devices: []string{"10001"},
		Zones: map[string]float64{"active": 80},
	}}
	if !reflect.DeepEqual(cfg.Participants, wantParticipants) {
		t.Errorf("participants = %+v, want %+v", cfg.Participants, wantParticipants)
	}
	wantEquipment := []Equipment{{ID: "punching_bag", Name: "Punching bag",
		Topic: "zigbee2mqtt/bag_sensor"}}
	if !reflect.DeepEqual(cfg.Equipment, wantEquipment) {
		t.Errorf("equipment = %+v, want %+v", cfg.Equipment, wantEquipment)
	}
	if !reflect.DeepEqual(cfg.Zones, DefaultZones()) {
		t.Errorf("zones = %+v, want the defaults", cfg.Zones)
	}
	if got := cfg.ZonesFor("alex")[1].Min; got != 80 {
		t.Errorf("ZonesFor(alex) active min = %g, want 80", got)
	}
}

func TestLoadMergesWithDefaults(t *testing.T) {
	cfg, err := loadText(t, `
broker:
  url: mqtts://broker.example:8883
session:
  coin_interval: 10s
zones:
http:
  listen: ""
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.Broker.URL = "mqtts://broker.example:8883"
	want.Session.CoinInterval = 10 * time.Second
	want.HTTP.Listen = ""
	if !reflect.DeepEqual(withoutOrigin(cfg), want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadListsReplaceDefaults(t *testing.T) {
	cfg, err := loadText(t, "zones:\n  - {id: easy, min: 0}\n  - {id: hard, min: 150, coins: 4}\n")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []Zone{{ID: "easy", Min: 0}, {ID: "hard", Min: 150, Coins: 4}}
	if !reflect.DeepEqual(cfg.Zones, want) {
		t.Errorf("zones = %+v, want %+v", cfg.Zones, want)
	}
}

func TestLoadEmptyZoneListFailsValidate(t *testing.T) {
	cfg, err := loadText(t, "zones: []\n")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Zones) != 0 {
		t.Fatalf("zones = %+v, want an empty list", cfg.Zones)
	}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "zones: at least one zone is required") {
		t.Errorf("Validate = %v, want the at-least-one-zone error", err)
	}
}

func TestLoadUnquotedDeviceIDKeepsText(t *testing.T) {
	cfg, err := loadText(t, "participants: [{id: kim, devices: [10001, 0042]}]\n")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []string{"10001", "0042"}
	if got := cfg.Participants[0].Devices; !reflect.DeepEqual(got, want) {
		t.Errorf("devices = %q, want %q", got, want)
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	cases := []struct {
		name string
		text string
		want string
	}{
		{
			name: "top level",
			text: "base_topic: fb\nbrokr:\n  url: mqtt://x\n",
			// The list of allowed keys grows with the configuration, so only
			// its start is checked here.
			want: "config.yaml:2:1: brokr: unknown key (allowed: broker, base_topic, " +
				"discovery_prefix, heart_rate, zones,",
		},
		{
			name: "nested mapping",
			text: "broker:\n  uri: mqtt://x\n",
			want: "config.yaml:2:3: broker.uri: unknown key (allowed: url, username, password, " +
				"password_file, client_id, ca_file, cert_file, key_file)",
		},
		{
			name: "list item",
			text: "participants:\n  - id: a\n  - id: b\n    devcies: [x]\n",
			want: "config.yaml:4:5: participants[1].devcies: unknown key " +
				"(allowed: id, name, devices, zones",
		},
		{
			name: "zone",
			text: "zones:\n  - {id: cool, min: 0, color: blue}\n",
			want: "zones[0].color: unknown key (allowed: id, name, min, coins)",
		},
		{
			name: "session",
			text: "session:\n  coin_intervall: 5s\n",
			want: "session.coin_intervall: unknown key",
		},
		{
			name: "key needing quotes",
			text: "http:\n  listen.port: 80\n",
			want: `http["listen.port"]: unknown key (allowed: listen, allowed_origins, token)`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, tc.text)
			if err == nil {
				t.Fatal("Load succeeded, want an unknown-key error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadWrongTypes(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // substrings of the error
	}{
		{"string for number", "heart_rate:\n  min: abc\n",
			[]string{"config.yaml:2:8: heart_rate.min", `"abc"`, "not a number", "allowed: a number"}},
		{"quoted number", "heart_rate:\n  max_payload_bytes: \"1024\"\n",
			[]string{"config.yaml:2:22: heart_rate.max_payload_bytes", `"1024"`,
				"allowed: a whole number"}},
		{"fraction for whole number", "session:\n  start_samples: 2.5\n",
			[]string{"session.start_samples", `"2.5"`, "not a whole number"}},
		{"number out of range", "session:\n  max_guests: 99999999999999999999\n",
			[]string{"session.max_guests", "out of range"}},
		{"scalar for mapping", "broker: mqtt://x\n",
			[]string{"config.yaml:1:9: broker", `invalid value "mqtt://x"`, "expected a mapping"}},
		{"mapping for list", "participants:\n  id: alex\n",
			[]string{"config.yaml:2:3: participants", "expected a list, got a mapping"}},
		{"scalar for list", "participants: [{id: a, devices: x}]\n",
			[]string{"participants[0].devices", `"x"`, "expected a list"}},
		{"list for scalar", "zones: [{id: a, coins: [1]}]\n",
			[]string{"zones[0].coins", "expected a whole number, got a list"}},
		{"string in override map", "participants: [{id: a, zones: {active: high}}]\n",
			[]string{"participants[0].zones.active", `"high"`, "not a number"}},
		{"empty override", "participants: [{id: a, zones: {active: }}]\n",
			[]string{"participants[0].zones.active", "missing value"}},
		{"empty list item", "participants:\n  -\n",
			[]string{"config.yaml:2:4: participants[0]", "empty list item"}},
		{"list at top", "- a\n- b\n",
			[]string{"config.yaml:1:1: top level", "expected a mapping, got a list"}},
		{"custom tag", "broker:\n  password: !secret mqtt_password\n",
			[]string{"broker.password", "custom YAML tag !secret is not supported"}},
		{"merge key", "base: &b {url: mqtt://x}\nbroker:\n  <<: *b\n",
			[]string{"base: unknown key", "merge keys (<<) are not supported"}},
		{"duplicate key", "base_topic: a\nbase_topic: b\n",
			[]string{"config.yaml:2:1: base_topic", "duplicate key, first given on line 1"}},
		{"duplicate map key", "participants: [{id: a, zones: {warm: 1, warm: 2}}]\n",
			[]string{"participants[0].zones.warm", "duplicate key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, tc.text)
			if err == nil {
				t.Fatal("Load succeeded, want a type error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadDurations(t *testing.T) {
	cases := []struct {
		text    string
		want    time.Duration
		wantErr []string
	}{
		{text: "5s", want: 5 * time.Second},
		{text: "1m30s", want: 90 * time.Second},
		{text: "'2m'", want: 2 * time.Minute},
		{text: "5", wantErr: []string{`invalid value "5"`, "add one, for example \"5s\""}},
		{text: "1.5", wantErr: []string{`invalid value "1.5"`, "needs a unit"}},
		{text: "'5'", wantErr: []string{`invalid value "5"`, "needs a unit"}},
		{text: "fast", wantErr: []string{`invalid value "fast"`, "not a duration",
			"allowed: a duration such as 5s"}},
		{text: "[5s]", wantErr: []string{"expected a duration", "got a list"}},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			cfg, err := loadText(t, "session:\n  coin_interval: "+tc.text+"\n")
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.Session.CoinInterval != tc.want {
					t.Errorf("coin_interval = %v, want %v", cfg.Session.CoinInterval, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want a duration error")
			}
			msg := err.Error()
			if !strings.Contains(msg, "config.yaml:2:18: session.coin_interval") {
				t.Errorf("error = %q, want the position and key path", msg)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error = %q\nwant it to contain %q", msg, want)
				}
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := loadText(t, "brokr: {}\nheart_rate: {min: x}\nsession: {end_after: 3}\n")
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not come from errors.Join", err)
	}
	var paths []string
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q is not a *FieldError", e)
		}
		paths = append(paths, fe.Path)
	}
	want := []string{"brokr", "heart_rate.min", "session.end_after"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
}

func TestLoadAliases(t *testing.T) {
	cfg, err := loadText(t, `
participants:
  - id: a
    devices: &shared ["1", "2"]
  - id: b
    devices: *shared
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.Participants[1].Devices; !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("participants[1].devices = %q, want the aliased list", got)
	}
}

func TestLoadSelfReferencingAliasEnds(t *testing.T) {
	_, err := loadText(t, "participants: &p [{id: a, devices: *p}]\n")
	want := "participants[0].devices[0]: expected a string, got a mapping"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load = %v, want an error containing %q", err, want)
	}
}

func TestLoadAliasExpansionIsBounded(t *testing.T) {
	// 400 participants share one anchored list of 300 devices, so decoding
	// visits over 120000 values although the file is a few kilobytes long.
	var b strings.Builder
	b.WriteString("participants:\n  - &p {id: a, devices: [")
	b.WriteString(strings.Repeat("x, ", 299) + "x]}\n")
	b.WriteString(strings.Repeat("  - *p\n", 399))

	_, err := loadText(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "expands to more than 100000 values") {
		t.Errorf("Load = %v, want the expansion limit error", err)
	}
}

func TestLoadSecondDocumentRejected(t *testing.T) {
	_, err := loadText(t, "base_topic: a\n---\nbase_topic: b\n")
	if err == nil || !strings.Contains(err.Error(), "second YAML document") {
		t.Errorf("Load = %v, want the second-document error", err)
	}
}

func TestLoadSyntaxError(t *testing.T) {
	path := writeConfig(t, "broker: [\n")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "parse "+path) {
		t.Errorf("Load = %v, want a parse error naming the file", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want fs.ErrNotExist", err)
	}
}

// TestDecoderSupportsEveryField walks Config so that a new field of a type
// the decoder cannot fill fails here rather than at a user's first load.
func TestDecoderSupportsEveryField(t *testing.T) {
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		switch {
		case isScalarType(tp):
		case tp.Kind() == reflect.Struct:
			for _, f := range yamlFields(tp) {
				walk(tp.Field(f.index).Type, joinKey(path, f.key))
			}
		case tp.Kind() == reflect.Slice:
			walk(tp.Elem(), path+"[]")
		case tp.Kind() == reflect.Map && tp.Key().Kind() == reflect.String:
			walk(tp.Elem(), path+".<key>")
		default:
			t.Errorf("%s: type %s is not supported by the decoder", path, tp)
		}
	}
	walk(reflect.TypeFor[Config](), "")
}

// withoutOrigin returns cfg without the record of where its values came from, which is
// not part of the configuration, so that it compares equal to one built in code.
func withoutOrigin(cfg Config) Config {
	cfg.origin = nil
	return cfg
}
