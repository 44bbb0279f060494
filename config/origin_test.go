package config

import (
	"strings"
	"testing"
)

// TestValidateNamesFileLine checks that a value problem found after the file was read
// names the line of the value, or of the list that holds the value.
func TestValidateNamesFileLine(t *testing.T) {
	path := writeConfig(t, "session:\n  coin_interval: 5s\nzones:\n"+
		"  - {id: cool, min: 0, coins: 0}\n"+
		"  - {id: warm, min: 400, coins: 2}\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a zone above heart_rate.max")
	}
	if want := path + ":5:21: zones[1].min: invalid value 400"; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

// TestValidateNamesOverride checks that a value set by an environment variable or a flag
// after the file is reported with that variable or flag, not with the file's line.
func TestValidateNamesOverride(t *testing.T) {
	cfg, err := Load(writeConfig(t, "http:\n  listen: 127.0.0.1:8080\nbroker:\n  url: mqtt://127.0.0.1:1883\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ApplyEnv([]string{"FITBRIDGE_HTTP_LISTEN=nonsense"}); err != nil {
		t.Fatal(err)
	}
	cfg.Broker.URL = "ftp://example"
	cfg.SetSource("broker.url", "--broker")
	err = cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid listen address and broker URL")
	}
	for _, want := range []string{"FITBRIDGE_HTTP_LISTEN: http.listen: ", "--broker: broker.url: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
}
