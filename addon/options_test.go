package addon

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fitbridge/fitbridge/config"
)

func schemaAndOptions(t *testing.T) (schema, options map[string]any) {
	t.Helper()
	cfg := addonConfig(t)
	schema, ok := cfg["schema"].(map[string]any)
	if !ok {
		t.Fatalf("schema is missing or not a mapping")
	}
	options, ok = cfg["options"].(map[string]any)
	if !ok {
		t.Fatalf("options is missing or not a mapping")
	}
	return schema, options
}

// TestSchemaTypesAndNesting checks every schema type against the
// Supervisor's grammar and the documented limit of two nesting levels: a
// top-level key holds a type, a list of one type or of one mapping of types,
// or a mapping of types.
func TestSchemaTypesAndNesting(t *testing.T) {
	schema, _ := schemaAndOptions(t)
	for key, value := range schema {
		switch v := value.(type) {
		case string:
			checkElement(t, key, v)
		case []any:
			if len(v) != 1 {
				t.Errorf("schema %s: a list schema has exactly one item, got %d", key, len(v))
				continue
			}
			switch item := v[0].(type) {
			case string:
				checkElement(t, key+"[]", item)
			case map[string]any:
				checkFlatMapping(t, key+"[]", item)
			default:
				t.Errorf("schema %s: list item %#v is neither a type nor a mapping", key, item)
			}
		case map[string]any:
			checkFlatMapping(t, key, v)
		default:
			t.Errorf("schema %s: %#v is not a type, list or mapping", key, value)
		}
	}
}

func checkFlatMapping(t *testing.T, path string, m map[string]any) {
	t.Helper()
	for key, value := range m {
		s, ok := value.(string)
		if !ok {
			t.Errorf("schema %s.%s: %#v nests deeper than two levels", path, key, value)
			continue
		}
		checkElement(t, path+"."+key, s)
	}
}

func checkElement(t *testing.T, path, element string) {
	t.Helper()
	if !schemaElement.MatchString(element) {
		t.Errorf("schema %s: %q is not a Supervisor option type", path, element)
		return
	}
	if pattern, ok := matchPattern(element); ok {
		if _, err := regexp.Compile(pattern); err != nil {
			t.Errorf("schema %s: invalid match pattern: %v", path, err)
		}
	}
}

// TestOptionsFollowSchema checks that the defaults in options satisfy the
// schema and that every required option has one, as the Supervisor checks
// before it writes options.json.
func TestOptionsFollowSchema(t *testing.T) {
	schema, options := schemaAndOptions(t)
	for key, value := range options {
		element, ok := schema[key]
		if !ok {
			t.Errorf("option %s has no schema", key)
			continue
		}
		checkValue(t, key, element, value)
	}
	for key, element := range schema {
		if _, ok := options[key]; ok {
			continue
		}
		s, isType := element.(string)
		if !isType || !strings.HasSuffix(s, "?") {
			t.Errorf("schema %s is required but options gives it no value", key)
		}
	}
}

func checkValue(t *testing.T, path string, element, value any) {
	t.Helper()
	switch el := element.(type) {
	case []any:
		items, ok := value.([]any)
		if !ok {
			t.Errorf("option %s = %#v: want a list", path, value)
			return
		}
		for i, item := range items {
			checkValue(t, fmt.Sprintf("%s[%d]", path, i), el[0], item)
		}
	case map[string]any:
		m, ok := value.(map[string]any)
		if !ok {
			t.Errorf("option %s = %#v: want a mapping", path, value)
			return
		}
		for key, v := range m {
			sub, ok := el[key]
			if !ok {
				t.Errorf("option %s.%s has no schema", path, key)
				continue
			}
			checkValue(t, path+"."+key, sub, v)
		}
		for key, sub := range el {
			if _, ok := m[key]; !ok && !strings.HasSuffix(sub.(string), "?") {
				t.Errorf("option %s lacks the required %s", path, key)
			}
		}
	case string:
		if problem := scalarProblem(el, value); problem != "" {
			t.Errorf("option %s = %#v does not fit %q: %s", path, value, el, problem)
		}
	}
}

// scalarProblem checks one value against one schema type, or returns "".
func scalarProblem(element string, value any) string {
	element = strings.TrimSuffix(element, "?")
	name, args, _ := strings.Cut(element, "(")
	args = strings.TrimSuffix(args, ")")
	switch name {
	case "bool":
		if _, ok := value.(bool); !ok {
			return "not a boolean"
		}
	case "int", "float":
		var n float64
		switch v := value.(type) {
		case int:
			n = float64(v)
		case float64:
			if name == "int" {
				return "not a whole number"
			}
			n = v
		default:
			return "not a number"
		}
		lo, hi, _ := strings.Cut(args, ",")
		if limit, err := strconv.ParseFloat(lo, 64); err == nil && n < limit {
			return "below " + lo
		}
		if limit, err := strconv.ParseFloat(hi, 64); err == nil && n > limit {
			return "above " + hi
		}
	case "list":
		if s, _ := value.(string); !slices.Contains(strings.Split(args, "|"), s) {
			return "not one of " + args
		}
	case "match":
		pattern, _ := matchPattern(element)
		if s, ok := value.(string); !ok || !regexp.MustCompile(pattern).MatchString(s) {
			return "does not match " + pattern
		}
	default:
		if _, ok := value.(string); !ok {
			return "not a string"
		}
	}
	return ""
}

// matchPattern returns the regular expression of a match(...) type.
func matchPattern(element string) (string, bool) {
	element = strings.TrimSuffix(element, "?")
	inner, ok := strings.CutPrefix(element, "match(")
	if !ok {
		return "", false
	}
	return strings.TrimSuffix(inner, ")"), true
}

func TestSchemaMatchesGoOptions(t *testing.T) {
	schema, _ := schemaAndOptions(t)
	var keys []string
	for key := range schema {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if want := config.AddonOptionNames(); !slices.Equal(keys, want) {
		t.Errorf("schema keys\n %v\ndiffer from the options fitbridge reads\n %v", keys, want)
	}
	for _, list := range []struct {
		key    string
		goType reflect.Type
	}{
		{"participants", reflect.TypeFor[config.AddonParticipant]()},
		{"equipment", reflect.TypeFor[config.AddonEquipment]()},
		{"zones", reflect.TypeFor[config.AddonZone]()},
	} {
		items, _ := schema[list.key].([]any)
		if len(items) != 1 {
			t.Errorf("schema %s is not a list of one mapping", list.key)
			continue
		}
		fields, _ := items[0].(map[string]any)
		var got []string
		for f := range fields {
			got = append(got, f)
		}
		slices.Sort(got)
		var want []string
		for i := range list.goType.NumField() {
			want = append(want, list.goType.Field(i).Tag.Get("json"))
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s fields %v differ from %s fields %v",
				list.key, got, list.goType.Name(), want)
		}
	}
}

// TestDefaultOptionsGiveValidConfig feeds the options a fresh install writes
// to options.json through fitbridge's own reading and validation.
func TestDefaultOptionsGiveValidConfig(t *testing.T) {
	_, options := schemaAndOptions(t)
	data, err := json.Marshal(options)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := config.ParseAddonOptions("options.json", data)
	if err != nil {
		t.Fatalf("ParseAddonOptions: %v", err)
	}
	cfg, err := opts.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if err := config.AddonValidate(&cfg); err != nil {
		t.Errorf("the default options are invalid: %v", err)
	}
	if !reflect.DeepEqual(cfg.Zones, config.DefaultZones()) {
		t.Errorf("default zones in options = %+v, want config.DefaultZones() %+v",
			cfg.Zones, config.DefaultZones())
	}
}

// TestSchemaPatternsAgreeWithConfig checks the match(...) patterns against
// values fitbridge accepts and rejects, so the form does not refuse what
// fitbridge reads or the reverse.
func TestSchemaPatternsAgreeWithConfig(t *testing.T) {
	schema, _ := schemaAndOptions(t)
	pattern := func(path ...string) *regexp.Regexp {
		var node any = schema
		for _, p := range path {
			if list, ok := node.([]any); ok {
				node = list[0]
			}
			node = node.(map[string]any)[p]
		}
		if list, ok := node.([]any); ok {
			node = list[0]
		}
		p, ok := matchPattern(node.(string))
		if !ok {
			t.Fatalf("schema %v is not a match type", path)
		}
		return regexp.MustCompile(p)
	}
	for _, tc := range []struct {
		path []string
		good []string
		bad  []string
	}{
		{[]string{"participants", "id"}, []string{"alex", "p-1", "A_2"},
			[]string{"", "a b", "zoë", strings.Repeat("x", 65)}},
		{[]string{"participants", "zones"}, []string{"active=80", " active = 80 , warm=105.5"},
			[]string{"active", "active=", "=80", "active=80,", "active:80"}},
		{[]string{"coin_interval"}, []string{"5s", "1m30s", "500ms", "1.5h"},
			[]string{"5", "five", "5 s", "-5s"}},
	} {
		re := pattern(tc.path...)
		for _, v := range tc.good {
			if !re.MatchString(v) {
				t.Errorf("schema %v rejects %q", tc.path, v)
			}
		}
		for _, v := range tc.bad {
			if re.MatchString(v) {
				t.Errorf("schema %v accepts %q", tc.path, v)
			}
		}
	}
}
