package config

import (
	"strings"
	"testing"
)

func TestValidateBrokerAuthAccepts(t *testing.T) {
	cases := map[string]func(b *Broker){
		"tls with ca and client certificate": func(b *Broker) {
			b.URL = "mqtts://broker.lan:8883"
			b.CAFile, b.CertFile, b.KeyFile = "/etc/ca.pem", "/etc/client.pem", "/etc/client.key"
		},
		"tls with ca only":  func(b *Broker) { b.URL, b.CAFile = "ssl://broker.lan", "/etc/ca.pem" },
		"wss with ca":       func(b *Broker) { b.URL, b.CAFile = "wss://broker.lan/mqtt", "/etc/ca.pem" },
		"password file":     func(b *Broker) { b.Username, b.PasswordFile = "fitbridge", "/run/pw" },
		"user info in url":  func(b *Broker) { b.URL = "mqtt://fitbridge:secret@broker.lan:1883" },
		"upper-case scheme": func(b *Broker) { b.URL, b.CAFile = "MQTTS://broker.lan", "/etc/ca.pem" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			mutate(&cfg.Broker)
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateBrokerAuthRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(b *Broker)
		want   []string
	}{
		{
			name:   "password and password file",
			mutate: func(b *Broker) { b.Password, b.PasswordFile = "secret", "/run/pw" },
			want:   []string{"broker.password_file", `"/run/pw"`, "broker.password is set too"},
		},
		{
			name: "user info and username",
			mutate: func(b *Broker) {
				b.URL, b.Username = "mqtt://fitbridge:secret@broker.lan", "fitbridge"
			},
			want: []string{"broker.url", `"mqtt://fitbridge:xxxxx@broker.lan"`, "has a user name"},
		},
		{
			name:   "ca file without tls",
			mutate: func(b *Broker) { b.URL, b.CAFile = "mqtt://broker.lan:1883", "/etc/ca.pem" },
			want:   []string{"broker.ca_file", `"/etc/ca.pem"`, "does not use TLS"},
		},
		{
			name: "client certificate without tls",
			mutate: func(b *Broker) {
				b.URL, b.CertFile, b.KeyFile = "ws://broker.lan", "/etc/c.pem", "/etc/c.key"
			},
			want: []string{"broker.cert_file", "broker.key_file", "does not use TLS"},
		},
		{
			name:   "certificate without key",
			mutate: func(b *Broker) { b.URL, b.CertFile = "mqtts://broker.lan", "/etc/c.pem" },
			want:   []string{"broker.key_file", "must be set together"},
		},
		{
			name:   "key without certificate",
			mutate: func(b *Broker) { b.URL, b.KeyFile = "mqtts://broker.lan", "/etc/c.key" },
			want:   []string{"broker.key_file", `"/etc/c.key"`, "must be set together"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			tc.mutate(&cfg.Broker)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted the configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateBrokerURLHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"mqtt://fitbridge:hunter2-secret@broker.lan:99999", // out of range, parses
		"mqtt://fitbridge:hunter2-secret@broker.lan:port",  // does not parse
		"ftp://fitbridge:hunter2-secret@broker.lan",        // wrong scheme
	} {
		cfg := Default()
		cfg.Broker.URL = raw
		err := cfg.Validate()
		if err == nil {
			t.Errorf("Validate accepted %q", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "broker.lan") {
			t.Errorf("error %q does not show the host", err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"mqtt://u:p@h:1883":    "mqtt://u:xxxxx@h:1883",
		"mqtt://u@h":           "mqtt://u@h",
		"mqtt://h:1883":        "mqtt://h:1883",
		"mqtt://u:p%zz@h:1883": "mqtt://xxxxx@h:1883",
		"not a url %zz":        "not a url %zz",
	}
	for raw, want := range cases {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
