package discovery

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// haSchema is the part of the shared Home Assistant discovery rules file that
// the payload tests check against.
type haSchema struct {
	Discovery struct {
		TopicRegexAfterPrefix string                     `json:"topic_regex_after_prefix"`
		OriginKeys            map[string]json.RawMessage `json:"origin_keys"`
	} `json:"discovery"`
	DeviceKeys       map[string]json.RawMessage `json:"device_keys"`
	AvailabilityKeys map[string]schemaKey       `json:"availability_keys"`
	Components       map[string]schemaComponent `json:"components"`
}

type schemaKey struct {
	Values []string `json:"values"`
}

type schemaComponent struct {
	AllowedKeys      map[string]schemaKey        `json:"allowed_keys"`
	Required         []string                    `json:"required"`
	DeviceClass      []string                    `json:"device_class"`
	StateClass       []string                    `json:"state_class"`
	DeviceClassUnits map[string]schemaClassUnits `json:"device_class_units"`
}

type schemaClassUnits struct {
	// ConservativeUnits are the units that older Home Assistant versions
	// accept too, so they are the set the tests allow.
	ConservativeUnits   []string `json:"conservative_units"`
	AllowedStateClasses []string `json:"allowed_state_classes_core_00eb6680"`
}

// availabilityItemKeys are the keys Home Assistant accepts inside one
// availability list entry. The mapping is strict: any other key rejects the
// whole config.
var availabilityItemKeys = map[string]bool{
	"topic": true, "payload_available": true, "payload_not_available": true,
	"value_template": true,
}

// moduleRoot returns the folder that holds go.mod, searching upwards from
// the test's working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("reading the working directory failed: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("go.mod not found above the test's working directory")
		}
		dir = parent
	}
}

// loadHASchema reads ha-discovery-schema.json from the shared reference
// folder next to the module root.
func loadHASchema(t *testing.T) haSchema {
	t.Helper()
	path := filepath.Join(moduleRoot(t), "..", "shared", "reference", "ha-discovery-schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the Home Assistant discovery rules file is missing or unreadable at %s: %v "+
			"(the tests need shared/ checked out next to the repository)", path, err)
	}
	var schema haSchema
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("parsing %s failed: %v", path, err)
	}
	if schema.Discovery.TopicRegexAfterPrefix == "" || len(schema.Components) == 0 {
		t.Fatalf("%s has no discovery.topic_regex_after_prefix or no components", path)
	}
	return schema
}

// topicMatcher compiles Home Assistant's discovery topic pattern for the
// topic after the prefix. It anchors both ends, which is at least as strict
// as Home Assistant's match from the start.
func (s haSchema) topicMatcher(t *testing.T) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile("^" + s.Discovery.TopicRegexAfterPrefix + "$")
	if err != nil {
		t.Fatalf("compiling the discovery topic pattern %q failed: %v",
			s.Discovery.TopicRegexAfterPrefix, err)
	}
	return re
}

func contains(list []string, v string) bool {
	for _, item := range list {
		if item == v {
			return true
		}
	}
	return false
}
