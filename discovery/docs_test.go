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

// ownerPlaceholders are the id placeholders used in the documented entity ids.
var ownerPlaceholders = map[OwnerKind]string{
	OwnerParticipant: "<pid>",
	OwnerDevice:      "<did>",
	OwnerEquipment:   "<eid>",
}

// renderEntityTable renders the entity table rows as Markdown for the
// default base topic.
func renderEntityTable() string {
	topics := NewTopics(config.DefaultBaseTopic, config.DefaultDiscoveryPrefix)
	var b strings.Builder
	b.WriteString("| Device | Entity | Platform | Default entity id | Reads | Device class " +
		"| Unit | State class | Other settings |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, e := range entities {
		o := owner{kind: e.owner, id: ownerPlaceholders[e.owner]}
		objectID := string(e.owner) + "_" + e.key
		if e.owner != OwnerBridge {
			objectID = string(e.owner) + "_" + o.id + "_" + e.key
		}
		entityID := e.component + "." + topics.NodeID() + "_" + objectID

		name := e.name
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
	switch e.source {
	case fromAvailability:
		return "`bridge/availability`"
	case toCommand:
		return "publishes `" + e.press + "` to `session/set`"
	}
	return "`" + e.field + "` in `" + documentedStateTopics[e.owner] + "`"
}

// documentedStateTopics are the state topics below the base topic, per owner kind.
var documentedStateTopics = map[OwnerKind]string{
	OwnerBridge:      "session/state",
	OwnerParticipant: "participant/<pid>/state",
	OwnerDevice:      "device/<did>/state",
	OwnerEquipment:   "equipment/<eid>/state",
}

func documentedExtras(e entity) string {
	var extras []string
	if len(e.options) > 0 {
		extras = append(extras, "options `"+strings.Join(e.options, "`, `")+"`")
	}
	if e.zoneOptions {
		extras = append(extras, "options: the configured zone ids")
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
	// The table derives entity ids and state topics by hand, so compare it
	// with what the builder sends for ids that need no slugging.
	b := NewBuilder(config.Default(), testVersion)
	table := renderEntityTable()
	ids := map[OwnerKind]string{OwnerParticipant: "pid", OwnerDevice: "did", OwnerEquipment: "eid"}
	var msgs []Message
	msgs = append(msgs, b.Bridge()...)
	msgs = append(msgs, b.Participant(ids[OwnerParticipant], "P")...)
	msgs = append(msgs, b.Device(ids[OwnerDevice])...)
	msgs = append(msgs, b.Equipment(ids[OwnerEquipment], "E")...)
	for _, m := range msgs {
		entityID := defaultEntityID(t, m)
		for kind, id := range ids {
			entityID = strings.Replace(entityID, "_"+string(kind)+"_"+id+"_",
				"_"+string(kind)+"_"+ownerPlaceholders[kind]+"_", 1)
		}
		if !strings.Contains(table, "`"+entityID+"`") {
			t.Errorf("the entity table lacks entity id %s", entityID)
		}

		stateTopic, _ := decodeObject(t, m.Payload)["state_topic"].(string)
		stateTopic = strings.TrimPrefix(stateTopic, config.DefaultBaseTopic+"/")
		for kind, id := range ids {
			stateTopic = strings.Replace(stateTopic, string(kind)+"/"+id+"/",
				string(kind)+"/"+ownerPlaceholders[kind]+"/", 1)
		}
		if stateTopic != "" && !strings.Contains(table, "`"+stateTopic+"`") {
			t.Errorf("the entity table lacks state topic %s of %s", stateTopic, entityID)
		}
	}
}

func defaultEntityID(t *testing.T, m Message) string {
	t.Helper()
	payload := decodeObject(t, m.Payload)
	id, _ := payload["default_entity_id"].(string)
	return id
}
