package addon

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// readYAML decodes the YAML file at path into a generic value.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return doc
}

func addonConfig(t *testing.T) map[string]any {
	t.Helper()
	return readYAML(t, "config.yaml")
}

func TestConfigHasRequiredKeys(t *testing.T) {
	cfg := addonConfig(t)
	for _, key := range requiredKeys {
		if s, ok := cfg[key]; !ok || s == nil || s == "" {
			t.Errorf("required key %s is missing or empty", key)
		}
	}
}

func TestConfigKeysAllowedTypedAndNotDefault(t *testing.T) {
	for key, value := range addonConfig(t) {
		rule, ok := linterKeys[key]
		if !ok {
			t.Errorf("key %s is not accepted by the add-on linter", key)
			continue
		}
		if !hasKind(value, rule.kind) {
			t.Errorf("key %s = %#v has the wrong type", key, value)
		}
		if rule.def != nil && reflect.DeepEqual(value, rule.def) {
			t.Errorf("key %s is set to its default %v; the linter wants it removed", key, value)
		}
		if reason, bad := forbiddenKeys[key]; bad {
			t.Errorf("key %s is rejected by the linter: %s", key, reason)
		}
		if len(rule.enum) > 0 {
			for _, item := range listOrSelf(value) {
				if s, _ := item.(string); !slices.Contains(rule.enum, s) {
					t.Errorf("key %s: value %v is not one of %v", key, item, rule.enum)
				}
			}
		}
	}
}

func TestConfigLinterCrossRules(t *testing.T) {
	cfg := addonConfig(t)
	if cfg["ingress"] == true && cfg["webui"] != nil {
		t.Errorf("webui must not be set together with ingress")
	}
	if cfg["ingress_port"] == 0 && cfg["host_network"] != true {
		t.Errorf("ingress_port 0 needs host_network")
	}
	if cfg["full_access"] == true {
		for _, key := range []string{"devices", "gpio", "uart", "usb"} {
			if cfg[key] != nil {
				t.Errorf("full_access must not be combined with %s", key)
			}
		}
	}
	if cfg["backup"] == "cold" && (cfg["backup_pre"] != nil || cfg["backup_post"] != nil) {
		t.Errorf("backup_pre and backup_post do not run with cold backups")
	}
	if tmpfs, ok := cfg["tmpfs"]; ok && !hasKind(tmpfs, kindBool) {
		t.Errorf("tmpfs = %v: the linter wants a boolean", tmpfs)
	}
	for _, device := range listOrSelf(cfg["devices"]) {
		if s, _ := device.(string); strings.Contains(s, ":") {
			t.Errorf("devices entry %q uses the old host:container:mode format", s)
		}
	}
	for _, entry := range listOrSelf(cfg["map"]) {
		if s, _ := entry.(string); !mapPattern.MatchString(s) {
			t.Errorf("map entry %v does not match the linter's pattern", entry)
		}
	}
	for _, entry := range listOrSelf(cfg["services"]) {
		s, _ := entry.(string)
		if !servicePattern.MatchString(s) {
			t.Errorf("services entry %v does not match %s", entry, servicePattern)
		}
	}
	ports, _ := cfg["ports"].(map[string]any)
	for port, host := range ports {
		n, isInt := host.(int)
		if host != nil && (!isInt || n < 1 || n > 65535) {
			t.Errorf("ports %s = %v: want null or a port from 1 to 65535", port, host)
		}
	}
}

// TestConfigProjectRules checks what this add-on promises its users, beyond
// the linter's rules.
func TestConfigProjectRules(t *testing.T) {
	cfg := addonConfig(t)

	arch := listOrSelf(cfg["arch"])
	if !reflect.DeepEqual(arch, []any{"aarch64", "amd64"}) {
		t.Errorf("arch = %v, want [aarch64 amd64]", arch)
	}
	for _, a := range arch {
		if slices.Contains(deprecatedArchs, a.(string)) {
			t.Errorf("arch %v is deprecated", a)
		}
	}

	if !slices.Contains(listOrSelf(cfg["services"]), any("mqtt:need")) {
		t.Errorf("services must contain mqtt:need")
	}
	if cfg["ingress"] != true {
		t.Errorf("ingress must be true: the dashboard is served through ingress")
	}

	for _, key := range []string{"panel_icon", "panel_title", "image", "url", "homeassistant"} {
		if s, _ := cfg[key].(string); s == "" {
			t.Errorf("%s must be set", key)
		}
	}
	// The metrics and probes share the ingress port, which is off on the host.
	ports, _ := cfg["ports"].(map[string]any)
	if host, ok := ports["8099/tcp"]; !ok || host != nil {
		t.Errorf("ports 8099/tcp = %v, %v; want declared and null", host, ok)
	}
	// Each of these lowers the security rating or widens access.
	for _, key := range []string{"host_network", "privileged", "full_access", "docker_api",
		"hassio_api", "homeassistant_api", "host_pid", "host_dbus", "devices", "usb", "uart",
		"apparmor", "hassio_role", "map"} {
		if _, ok := cfg[key]; ok {
			t.Errorf("%s is set; the add-on needs none of it", key)
		}
	}
}

func hasKind(v any, kind valueKind) bool {
	switch kind {
	case kindString:
		_, ok := v.(string)
		return ok
	case kindBool:
		_, ok := v.(bool)
		return ok
	case kindInt:
		_, ok := v.(int)
		return ok
	case kindList:
		_, ok := v.([]any)
		return ok
	case kindMap:
		_, ok := v.(map[string]any)
		return ok
	case kindStringOrBool:
		return hasKind(v, kindString) || hasKind(v, kindBool)
	}
	return false
}

// listOrSelf returns v's items when v is a list, else v alone; nil gives none.
func listOrSelf(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}
