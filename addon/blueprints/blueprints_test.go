package blueprints

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/sessions"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// inputTag is the YAML tag of a blueprint input reference.
const inputTag = "!input"

// fitbridgeInputs names, per blueprint file, the inputs that select
// fitbridge entities, with the domain and device class their selector must
// filter on.
var fitbridgeInputs = map[string]map[string][2]string{
	"light_follows_zone.yaml":       {"zone_sensors": {"sensor", "enum"}},
	"fan_when_hot.yaml":             {"zone_sensors": {"sensor", "enum"}},
	"session_end_notification.yaml": {"session_event": {"event", ""}},
}

// blueprint is one parsed blueprint file.
type blueprint struct {
	name string
	root *yaml.Node
	text string
}

func loadBlueprints(t *testing.T) []blueprint {
	t.Helper()
	names, err := fs.Glob(FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(fitbridgeInputs) {
		t.Errorf("found blueprints %q, want the %d listed in fitbridgeInputs", names, len(fitbridgeInputs))
	}
	var out []blueprint
	for _, name := range names {
		data, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s is not valid YAML: %v", name, err)
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			t.Fatalf("%s is not one YAML mapping", name)
		}
		out = append(out, blueprint{name: name, root: doc.Content[0], text: string(data)})
	}
	return out
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// inputRefs returns the input names of every !input tag under n.
func inputRefs(n *yaml.Node) []string {
	var refs []string
	if n.Tag == inputTag {
		refs = append(refs, n.Value)
	}
	for _, c := range n.Content {
		refs = append(refs, inputRefs(c)...)
	}
	return refs
}

func TestBlueprintsHaveRequiredKeys(t *testing.T) {
	for _, bp := range loadBlueprints(t) {
		meta := get(bp.root, "blueprint")
		if meta == nil {
			t.Errorf("%s: no blueprint key", bp.name)
			continue
		}
		if name := get(meta, "name"); name == nil || name.Value == "" {
			t.Errorf("%s: blueprint.name is missing", bp.name)
		}
		if domain := get(meta, "domain"); domain == nil || domain.Value != "automation" {
			t.Errorf("%s: blueprint.domain is not automation", bp.name)
		}
		inputs := get(meta, "input")
		if inputs == nil || inputs.Kind != yaml.MappingNode || len(inputs.Content) == 0 {
			t.Errorf("%s: blueprint.input is missing or empty", bp.name)
			continue
		}
		for i := 0; i+1 < len(inputs.Content); i += 2 {
			key, input := inputs.Content[i].Value, inputs.Content[i+1]
			if get(input, "name") == nil || get(input, "selector") == nil {
				t.Errorf("%s: input %s lacks a name or a selector", bp.name, key)
			}
		}
		for _, key := range []string{"triggers", "actions"} {
			list := get(bp.root, key)
			if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
				t.Errorf("%s: %s is missing or empty", bp.name, key)
			}
		}
		for _, trigger := range get(bp.root, "triggers").Content {
			if get(trigger, "trigger") == nil {
				t.Errorf("%s: a trigger has no trigger key", bp.name)
			}
		}
		if mode := get(bp.root, "mode"); mode == nil ||
			!slices.Contains([]string{"single", "restart", "queued", "parallel"}, mode.Value) {
			t.Errorf("%s: mode is missing or invalid", bp.name)
		}
	}
}

func TestBlueprintInputsDeclaredAndUsed(t *testing.T) {
	for _, bp := range loadBlueprints(t) {
		inputs := get(get(bp.root, "blueprint"), "input")
		declared := map[string]bool{}
		for i := 0; i+1 < len(inputs.Content); i += 2 {
			declared[inputs.Content[i].Value] = true
		}
		used := map[string]bool{}
		for _, ref := range inputRefs(bp.root) {
			used[ref] = true
			if !declared[ref] {
				t.Errorf("%s: !input %s is not declared", bp.name, ref)
			}
		}
		for name := range declared {
			if !used[name] {
				t.Errorf("%s: input %s is never used", bp.name, name)
			}
		}
	}
}

func TestBlueprintsSelectFitbridgeEntities(t *testing.T) {
	for _, bp := range loadBlueprints(t) {
		inputs := get(get(bp.root, "blueprint"), "input")
		for name, want := range fitbridgeInputs[bp.name] {
			entity := get(get(get(inputs, name), "selector"), "entity")
			filter := get(entity, "filter")
			if filter == nil || filter.Kind != yaml.SequenceNode || len(filter.Content) != 1 {
				t.Errorf("%s: input %s has no single entity filter", bp.name, name)
				continue
			}
			f := filter.Content[0]
			if v := get(f, "integration"); v == nil || v.Value != "mqtt" {
				t.Errorf("%s: input %s does not filter on the mqtt integration", bp.name, name)
			}
			if v := get(f, "domain"); v == nil || v.Value != want[0] {
				t.Errorf("%s: input %s does not filter on domain %s", bp.name, name, want[0])
			}
			if class := get(f, "device_class"); want[1] != "" && (class == nil || class.Value != want[1]) {
				t.Errorf("%s: input %s does not filter on device class %s", bp.name, name, want[1])
			}
		}
	}
}

// TestBlueprintTemplatesBalanced checks that every Jinja block that a
// template opens is closed, which Home Assistant checks only when the
// automation runs.
func TestBlueprintTemplatesBalanced(t *testing.T) {
	for _, bp := range loadBlueprints(t) {
		for _, block := range []string{"if", "for"} {
			opened := strings.Count(bp.text, "{% "+block+" ")
			closed := strings.Count(bp.text, "{% end"+block+" %}")
			if opened != closed {
				t.Errorf("%s: %d {%% %s %%} blocks but %d {%% end%s %%}", bp.name, opened, block, closed, block)
			}
		}
		if strings.Count(bp.text, "{{") != strings.Count(bp.text, "}}") {
			t.Errorf("%s: unbalanced {{ }}", bp.name)
		}
	}
}

// TestNotificationReadsSessionEndedEvent checks that the notification
// blueprint uses the event type and attributes that fitbridge sends.
func TestNotificationReadsSessionEndedEvent(t *testing.T) {
	var text string
	for _, bp := range loadBlueprints(t) {
		if bp.name == "session_end_notification.yaml" {
			text = bp.text
		}
	}
	if !strings.Contains(text, "'"+discovery.EventSessionEnded+"'") ||
		!slices.Contains(discovery.SessionEventTypes, discovery.EventSessionEnded) {
		t.Errorf("the notification does not test for the %s event type", discovery.EventSessionEnded)
	}
	var ev map[string]any
	sum := sessions.Summary{Participants: []sessions.ParticipantSummary{{ID: "a", Name: "A", Coins: 3}}}
	if err := json.Unmarshal(discovery.SessionEndedPayload(sum), &ev); err != nil {
		t.Fatal(err)
	}
	participants, _ := ev["participants"].([]any)
	first, _ := participants[0].(map[string]any)
	for _, attribute := range []string{"name", "coins"} {
		if _, ok := first[attribute]; !ok {
			t.Errorf("session_ended participants lack %q, which the notification reads", attribute)
		}
		if !strings.Contains(text, "p."+attribute) {
			t.Errorf("the notification does not read the participants' %s", attribute)
		}
	}
	if !strings.Contains(text, "attributes.participants") {
		t.Errorf("the notification does not read the participants attribute")
	}
}

func TestFanThresholdIsDefaultZone(t *testing.T) {
	for _, bp := range loadBlueprints(t) {
		if bp.name != "fan_when_hot.yaml" {
			continue
		}
		threshold := get(get(get(get(bp.root, "blueprint"), "input"), "threshold_zone"), "default")
		var ids []string
		for _, z := range config.DefaultZones() {
			ids = append(ids, z.ID)
		}
		if threshold == nil || !slices.Contains(ids, threshold.Value) {
			t.Errorf("fan threshold default is not one of the default zone ids %q", ids)
		}
	}
}
