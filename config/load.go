package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML configuration file at path on top of Default(). An
// empty path or an empty file yields Default().
//
// Keys present in the file replace their default. Mappings merge key by key,
// so broker: {url: ...} keeps the default client_id. Lists and the
// participants' zone mappings are replaced as a whole. A key written with no
// value (null) keeps its default, so "zones:" alone keeps the default zones
// while "zones: []" sets an empty list, which Validate rejects.
//
// Unknown keys, wrong types and durations without a unit are returned as
// *FieldError values joined with errors.Join, each with file, line and column.
// Load does not call Validate, because environment variables and flags may
// still change the result.
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	return parse(path, data)
}

// parse decodes data, which came from the file named name, on top of Default().
func parse(name string, data []byte) (Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil
		}
		return Config{}, fmt.Errorf("parse %s: %w", name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Config{}, fmt.Errorf("parse %s: %w", name, err)
	default:
		return Config{}, fmt.Errorf("%s:%d: a second YAML document starts here; "+
			"put the whole configuration in one document", name, next.Line)
	}

	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return Default(), nil
		}
		root = doc.Content[0]
	}

	cfg := Default()
	d := decoder{file: name, at: make(map[string]string)}
	d.decode(root, "", reflect.ValueOf(&cfg).Elem())
	if len(d.errs) > 0 {
		return Config{}, errors.Join(d.errs...)
	}
	cfg.origin = &origin{at: d.at}
	return cfg, nil
}
