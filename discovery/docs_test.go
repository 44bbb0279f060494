package discovery

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

// Markers around the generated entity table in docs/home-assistant.md.
const (
	tableBegin = "<!-- BEGIN entity table: generated from discovery/entities.go by " +
		"`go test ./discovery -update` -->\n"
	tableEnd = "<!-- END entity table -->\n"
)

// Placeholders used in the documented entity ids and topics.
const (
	instancePlaceholder = "<instance>"
	zonePlaceholder     = "<zone>"
)

var ownerPlaceholders = map[OwnerKind]string{
	OwnerParticipant: "<pid>",
	OwnerDevice:      "<did>",
	OwnerEquipment:   "<eid>",
}

// documentedOwnerTopics are the topics below the base topic that an owner's
// rows read, by owner kind.
var documentedOwnerTopics = map[OwnerKind]string{
	OwnerBridge:      "session",
	OwnerParticipant: "participant/<pid>",
	OwnerDevice:      "device/<did>",
	OwnerEquipment:   "equipment/<eid>",
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

// renderEntityTable renders the entity table rows as Markdown, with
// placeholders for the instance, owner and zone ids.
func renderEntityTable() string {
	var b strings.Builder
	b.WriteString("| Device | Entity | Platform | Default entity id | Reads | Device class " +
		"| Unit | State class | Other settings |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, e := range entities {
		key, name := e.key, e.name
		if e.perZone {
			key = "zone_" + zonePlaceholder + "_" + e.key
			name = fmt.Sprintf(e.name, "*<zone name>*")
		}
		objectID := string(e.owner) + "_" + key
		if e.owner != OwnerBridge {
			objectID = string(e.owner) + "_" + ownerPlaceholders[e.owner] + "_" + key
		}
		entityID := e.component + "." + instancePlaceholder + "_" + objectID
		if name == "" {
			name = "*(device name)*"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %s | %s | %s | %s |\n",
			deviceModels[e.owner], name, e.component, entityID, documentedSource(e),
			orDash(e.deviceClass), orDash(e.unit), orDash(e.stateClass), documentedExtras(e))
	}
	return b.String()
}

func documentedSource(e entity) string {
	field := e.field
	if e.perZone {
		field += "['" + zonePlaceholder + "']"
	}
	ownerTopic := documentedOwnerTopics[e.owner]
	switch e.source {
	case fromAvailability:
		return "`bridge/availability`"
	case fromBridgeState:
		return "`" + field + "` in `bridge/state`"
	case toCommand:
		return "publishes `" + e.press + "` to `session/set`"
	case toAssign:
		return "`" + field + "` in `" + ownerTopic + "/state`; publishes the choice to `" +
			string(e.owner) + "/<device id>/assign`"
	case fromEvents:
		return "events on `" + ownerTopic + "/event`"
	}
	return "`" + field + "` in `" + ownerTopic + "/state`"
}

func documentedExtras(e entity) string {
	var extras []string

	if len(e.options) > 0 {
		extras = append(extras, "options `"+strings.Join(e.options, "`, `")+"`")
	}
	switch e.optionsFrom {
	case optionsZones:
		extras = append(extras, "options: the configured zone ids")
	case optionsAssign:
		extras = append(extras, "options: the configured participant ids and `"+AssignGuest+"`")
	}
	if len(e.eventTypes) > 0 {
		extras = append(extras, "event types `"+strings.Join(e.eventTypes, "`, `")+"`")
	}
	if e.perZone {
		extras = append(extras, "one entity per configured zone")
	}

	if e.expireAfter > 0 {
		extras = append(extras, fmt.Sprintf("expire_after %d s", e.expireAfter))
	}
	if e.offDelay > 0 {
		extras = append(extras, fmt.Sprintf("off_delay %d s", e.offDelay))
	}
	if e.category != "" {
		extras = append(extras, e.category)
	}
	if e.disabled {
		extras = append(extras, "disabled by default")
	}
	if e.qos > 0 {
		extras = append(extras, fmt.Sprintf("QoS %d", e.qos))
	}
	if e.source == fromAvailability {
		extras = append(extras, "no availability list")
	}

	if len(extras) == 0 {
		return "–"
	}
	return strings.Join(extras, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + s + "`"
}

func TestDocsEntityTableIsCurrent(t *testing.T) {
	path := filepath.Join(moduleRoot(t), "docs", "home-assistant.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s failed: %v", path, err)
	}
	before, rest, foundBegin := bytes.Cut(doc, []byte(tableBegin))
	current, after, foundEnd := bytes.Cut(rest, []byte(tableEnd))
	if !foundBegin || !foundEnd {
		t.Fatalf("%s lacks the entity table markers %q and %q", path, tableBegin, tableEnd)
	}

	want := renderEntityTable()
	if *update {
		var out bytes.Buffer
		out.Write(before)
		out.WriteString(tableBegin)
		out.WriteString(want)
		out.WriteString(tableEnd)
		out.Write(after)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatalf("writing %s failed: %v", path, err)
		}
		return
	}
	if string(current) != want {
		t.Errorf("the entity table in %s is out of date; run go test ./discovery -update.\nwant:\n%s",
			path, want)
	}
}

func TestDocumentedIDsMatchBuilder(t *testing.T) {
	// The table derives entity ids and topics by hand, so compare it with
	// what the builder sends for ids that need no slugging.
	cfg := config.Default()
	cfg.InstanceID = "instance"
	cfg.Zones = []config.Zone{{ID: "zone", Name: "Zone"}}
	b := NewBuilder(cfg, testVersion)
	table := renderEntityTable()
	ids := map[OwnerKind]string{OwnerParticipant: "pid", OwnerDevice: "did", OwnerEquipment: "eid"}
	var msgs []Message
	msgs = append(msgs, b.Bridge()...)
	msgs = append(msgs, b.Participant(ids[OwnerParticipant], "P")...)
	msgs = append(msgs, b.Device(ids[OwnerDevice])...)
	msgs = append(msgs, b.Equipment(ids[OwnerEquipment], "E")...)
	placeholders := func(s, sep string) string {
		for kind, id := range ids {
			s = strings.Replace(s, string(kind)+sep+id+sep,
				string(kind)+sep+ownerPlaceholders[kind]+sep, 1)
		}
		return strings.ReplaceAll(s, "_zone_zone_", "_zone_"+zonePlaceholder+"_")
	}
	for _, m := range msgs {
		p := decodeObject(t, m.Payload)
		entityID, _ := p["default_entity_id"].(string)
		entityID = strings.Replace(entityID, ".instance_", "."+instancePlaceholder+"_", 1)
		entityID = placeholders(entityID, "_")
		if !strings.Contains(table, "`"+entityID+"`") {
			t.Errorf("the entity table lacks entity id %s", entityID)
		}

		for _, key := range []string{"state_topic", "command_topic"} {
			topic, _ := p[key].(string)
			if topic == "" || key == "command_topic" && strings.HasSuffix(topic, "/session/set") {
				continue
			}
			topic = placeholders(strings.TrimPrefix(topic, cfg.BaseTopic+"/"), "/")
			// The assign topic holds the device id itself, not the slug.
			topic = strings.Replace(topic, "/<did>/assign", "/<device id>/assign", 1)
			if !strings.Contains(table, "`"+topic+"`") {
				t.Errorf("the entity table lacks %s %s of %s", key, topic, entityID)
			}
		}
	}
}
