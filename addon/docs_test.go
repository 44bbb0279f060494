package addon

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTranslationsDescribeEveryOption checks translations/en.yaml: a name and
// description for every option and every field of a list option, and a
// description for every port.
func TestTranslationsDescribeEveryOption(t *testing.T) {
	schema, _ := schemaAndOptions(t)
	tr := readYAML(t, "translations/en.yaml")
	configuration, _ := tr["configuration"].(map[string]any)
	for key, element := range schema {
		entry, _ := configuration[key].(map[string]any)
		checkNameAndDescription(t, key, entry)
		list, ok := element.([]any)
		if !ok {
			continue
		}
		subSchema, ok := list[0].(map[string]any)
		if !ok {
			continue
		}
		fields, _ := entry["fields"].(map[string]any)
		for sub := range subSchema {
			fieldEntry, _ := fields[sub].(map[string]any)
			checkNameAndDescription(t, key+".fields."+sub, fieldEntry)
		}
		for sub := range fields {
			if _, ok := subSchema[sub]; !ok {
				t.Errorf("translation %s.fields.%s has no schema field", key, sub)
			}
		}
	}
	for key := range configuration {
		if _, ok := schema[key]; !ok {
			t.Errorf("translation %s has no schema option", key)
		}
	}

	ports, _ := addonConfig(t)["ports"].(map[string]any)
	network, _ := tr["network"].(map[string]any)
	for port := range ports {
		if s, _ := network[port].(string); s == "" {
			t.Errorf("port %s has no network description", port)
		}
	}
	for port := range network {
		if _, ok := ports[port]; !ok {
			t.Errorf("network description %s names no declared port", port)
		}
	}
}

func checkNameAndDescription(t *testing.T, path string, entry map[string]any) {
	t.Helper()
	for _, key := range []string{"name", "description"} {
		if s, _ := entry[key].(string); strings.TrimSpace(s) == "" {
			t.Errorf("translation %s has no %s", path, key)
		}
	}
}

func TestDocsExplainEveryOption(t *testing.T) {
	schema, _ := schemaAndOptions(t)
	docs := readText(t, "DOCS.md")
	for key := range schema {
		if !strings.Contains(docs, "`"+key+"`") {
			t.Errorf("DOCS.md does not mention the option `%s`", key)
		}
	}
	for _, section := range []string{"## Install", "## Configuration",
		"## What appears in Home Assistant", "## Blueprints", "## Troubleshooting"} {
		if !strings.Contains(docs, "\n"+section+"\n") {
			t.Errorf("DOCS.md has no %q section", section)
		}
	}
}

func TestReadmeMarksImageBuildUntested(t *testing.T) {
	if !strings.Contains(readText(t, "README.md"), "**The image build is untested.**") {
		t.Errorf("README.md must say that the image build is untested")
	}
}

// TestChangelogHasCurrentVersion checks that the newest changelog heading is
// the version in config.yaml, since Home Assistant shows it on update.
func TestChangelogHasCurrentVersion(t *testing.T) {
	version, _ := addonConfig(t)["version"].(string)
	heading := regexp.MustCompile(`(?m)^## (\S+)`).FindStringSubmatch(readText(t, "CHANGELOG.md"))
	if heading == nil {
		t.Fatal("CHANGELOG.md has no version heading")
	}
	if heading[1] != version {
		t.Errorf("newest CHANGELOG.md heading is %s, want the config.yaml version %s",
			heading[1], version)
	}
}

// TestRepositoryFile checks repository.yaml at the repository root, which
// Home Assistant reads when the repository URL is added.
func TestRepositoryFile(t *testing.T) {
	repo := readYAML(t, "../repository.yaml")
	allowed := map[string]bool{"name": true, "url": true, "maintainer": true}
	for key, value := range repo {
		if !allowed[key] {
			t.Errorf("repository.yaml key %s is not name, url or maintainer", key)
		}
		if s, _ := value.(string); s == "" {
			t.Errorf("repository.yaml %s is empty", key)
		}
	}
	if _, ok := repo["name"]; !ok {
		t.Errorf("repository.yaml has no name")
	}
	if repo["url"] != addonConfig(t)["url"] {
		t.Errorf("repository.yaml url %v differs from config.yaml url %v",
			repo["url"], addonConfig(t)["url"])
	}
}
