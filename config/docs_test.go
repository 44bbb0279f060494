package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docsPath is the configuration reference, which must describe every key.
var docsPath = filepath.Join("..", "docs", "configuration.md")

// keyPaths lists the documented key paths of Config: scalars, lists of
// scalars and mappings, with [] in place of a list index.
func keyPaths() []string {
	var paths []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for _, f := range yamlFields(t) {
			ft := t.Field(f.index).Type
			fieldPath := joinKey(path, f.key)
			switch {
			case ft.Kind() == reflect.Struct && ft != durationType:
				walk(ft, fieldPath)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), fieldPath+"[]")
			default:
				paths = append(paths, fieldPath)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return paths
}

func readDocs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read the configuration reference: %v", err)
	}
	return string(data)
}

func TestDocsDescribeEveryKey(t *testing.T) {
	docs := readDocs(t)
	for _, path := range keyPaths() {
		if !strings.Contains(docs, "| `"+path+"` |") {
			t.Errorf("%s has no row in %s", path, docsPath)
		}
	}
}

func TestDocsListEveryVariable(t *testing.T) {
	docs := readDocs(t)
	for _, ev := range envVars() {
		row := "| `" + ev.name + "` | `" + ev.path + "` |"
		if !strings.Contains(docs, row) {
			t.Errorf("%s has no row %q in %s", ev.name, row, docsPath)
		}
	}
}

func TestDocsExampleMatchesTestdata(t *testing.T) {
	docs := readDocs(t)
	const heading = "## Complete example"
	_, section, found := strings.Cut(docs, heading)
	if !found {
		t.Fatalf("%s has no %q section", docsPath, heading)
	}
	_, block, found := strings.Cut(section, "```yaml\n")
	if !found {
		t.Fatalf("the %q section has no yaml block", heading)
	}
	block, _, found = strings.Cut(block, "```")
	if !found {
		t.Fatalf("the yaml block in %q is not closed", heading)
	}
	example, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if block != string(example) {
		t.Errorf("the example in %s differs from testdata/example.yaml", docsPath)
	}
}

// TestExampleSetsEveryKey keeps the example complete when a key is added.
func TestExampleSetsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	present := make(map[string]bool)
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				child := joinKey(path, n.Content[i].Value)
				present[child] = true
				walk(n.Content[i+1], child)
			}
		}
	}
	walk(&doc, "")
	for _, path := range keyPaths() {
		if !present[path] {
			t.Errorf("testdata/example.yaml does not set %s", path)
		}
	}
}
