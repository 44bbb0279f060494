package config

import (
	"strings"
	"testing"
)

func TestInstanceIDSetsDefaults(t *testing.T) {
	tests := []struct {
		name                 string
		instance, base, id   string
		wantBase, wantClient string
	}{
		{"unset", "", DefaultBaseTopic, DefaultClientID, "fitbridge", "fitbridge"},
		{"set", "gym_2", DefaultBaseTopic, DefaultClientID, "fitbridge/gym_2", "fitbridge-gym_2"},
		{"set with own topics", "gym_2", "home/gym", "bridge-2", "home/gym", "bridge-2"},
		{"default name", "fitbridge", DefaultBaseTopic, DefaultClientID, "fitbridge", "fitbridge"},
	}
	for _, tt := range tests {
		cfg := Default()
		cfg.InstanceID, cfg.BaseTopic, cfg.Broker.ClientID = tt.instance, tt.base, tt.id
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", tt.name, err)
		}
		if cfg.BaseTopic != tt.wantBase || cfg.Broker.ClientID != tt.wantClient {
			t.Errorf("%s: base_topic %q, client_id %q, want %q and %q", tt.name,
				cfg.BaseTopic, cfg.Broker.ClientID, tt.wantBase, tt.wantClient)
		}
		// A second Validate must not derive again.
		base, client := cfg.BaseTopic, cfg.Broker.ClientID
		if err := cfg.Validate(); err != nil || cfg.BaseTopic != base || cfg.Broker.ClientID != client {
			t.Errorf("%s: a second Validate changed base_topic %q to %q or client_id %q to %q (err %v)",
				tt.name, base, cfg.BaseTopic, client, cfg.Broker.ClientID, err)
		}
	}
}

func TestDiscoveryKeysRejected(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"instance id with a dot", func(c *Config) { c.InstanceID = "gym.1" },
			`instance_id: invalid value "gym.1": not a valid id`},
		{"instance id too long", func(c *Config) { c.InstanceID = strings.Repeat("a", 65) },
			"instance_id: invalid value"},
		{"unknown mode", func(c *Config) { c.Discovery.Mode = "devices" },
			`discovery.mode: invalid value "devices": unknown mode`},
		{"empty mode", func(c *Config) { c.Discovery.Mode = "" },
			`discovery.mode: invalid value ""`},
		{"status topic wildcard", func(c *Config) { c.Discovery.StatusTopic = "homeassistant/#" },
			`discovery.status_topic: invalid value "homeassistant/#"`},
		{"status topic empty", func(c *Config) { c.Discovery.StatusTopic = "" },
			`discovery.status_topic: invalid value "": must not be empty`},
	}
	for _, tt := range tests {
		cfg := Default()
		tt.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	cfg := Default()
	cfg.InstanceID = "gym.1"
	_ = cfg.Validate()
	if cfg.BaseTopic != DefaultBaseTopic {
		t.Errorf("an invalid instance_id changed base_topic to %q", cfg.BaseTopic)
	}
}
