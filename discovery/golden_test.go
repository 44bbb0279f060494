package discovery

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

var update = flag.Bool("update", false,
	"rewrite discovery/testdata golden files and the entity table in docs/home-assistant.md")

// renderGolden writes each message as its topic on one line followed by the
// payload indented for review. json.Indent keeps the key order, so the file
// still pins the order on the wire.
func renderGolden(t *testing.T, msgs []Message) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, m := range msgs {
		out.WriteString(m.Topic)
		out.WriteByte('\n')
		if err := json.Indent(&out, m.Payload, "", "  "); err != nil {
			t.Fatalf("indenting the payload of %s failed: %v", m.Topic, err)
		}
		out.WriteString("\n\n")
	}
	return out.Bytes()
}

func TestParticipantGolden(t *testing.T) {
	for _, tt := range []struct{ mode, file string }{
		{config.DiscoveryModeComponent, "participant.golden"},
		{config.DiscoveryModeDevice, "participant_device.golden"},
	} {
		cfg := config.Default()
		cfg.InstanceID = "gym"
		cfg.Discovery.Mode = tt.mode
		got := renderGolden(t, NewBuilder(cfg, "1.0.0").Participant("Zoë Ä.", "Zoë Ä."))

		path := filepath.Join("testdata", tt.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatalf("writing %s failed: %v", path, err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s failed: %v (run go test ./discovery -update to create it)", path, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s mode participant configs differ from %s; if the change is intended, "+
				"run go test ./discovery -update and review the diff.\ngot:\n%s", tt.mode, path, got)
		}
	}
}
