package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the YAML nodes one decode visits. Each use of an alias is
// visited again, so nested aliases can multiply a small file; real
// configuration files stay far below this.
const maxNodes = 100_000

// yamlField is a struct field as it appears in YAML.
type yamlField struct {
	key   string
	index int
}

// yamlFields lists the fields of struct type t in declaration order, keyed
// by the name in their yaml tag.
func yamlFields(t reflect.Type) []yamlField {
	var fields []yamlField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(f.Name)
		}
		fields = append(fields, yamlField{key: key, index: i})
	}
	return fields
}

// decoder copies a yaml.Node tree into a Go value by reflection. It checks
// every key against the yaml tags of the target struct and every scalar
// against the field type, and collects all problems instead of stopping at the
// first one.
//
// Aliases need no cycle check: every step goes one level deeper into Config,
// which does not contain itself, so even an anchor that contains an alias to
// itself ends in a type error.
type decoder struct {
	file      string
	visited   int
	overLimit bool
	errs      []error
	// at records where each decoded value is: path to "file:line:column".
	at map[string]string
}

func (d *decoder) fail(n *yaml.Node, path, value, problem, allowed string) {
	d.errs = append(d.errs, &FieldError{
		Source:  fmt.Sprintf("%s:%d:%d", d.file, n.Line, n.Column),
		Path:    path,
		Value:   value,
		Problem: problem,
		Allowed: allowed,
	})
}

// decode stores node n into v. A null node leaves v unchanged, so a key
// written without a value keeps its default.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n = resolveAlias(n)
	d.visited++
	if d.visited > maxNodes {
		if !d.overLimit {
			d.overLimit = true
			d.fail(n, path, "", fmt.Sprintf("the file expands to more than %d values", maxNodes),
				"fewer aliases")
		}
		return
	}
	if isNull(n) {
		return
	}
	if path != "" {
		d.at[path] = fmt.Sprintf("%s:%d:%d", d.file, n.Line, n.Column)
	}

	switch {
	case v.Type() == durationType:
		d.decodeDuration(n, path, v)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(n, path, v)
	case v.Kind() == reflect.Slice:
		d.decodeSlice(n, path, v)
	case v.Kind() == reflect.Map:
		d.decodeMap(n, path, v)
	default:
		d.decodeScalar(n, path, v)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// resolveAlias returns the anchored node that an alias refers to. The parser points every
// alias at an anchored node, which is never itself an alias.
func resolveAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// wrongKind reports node n where a value of type t was expected.
func (d *decoder) wrongKind(n *yaml.Node, path string, t reflect.Type) {
	switch n.Kind {
	case yaml.ScalarNode:
		d.fail(n, path, quote(n.Value), "expected "+describeType(t), "")
	case yaml.SequenceNode:
		d.fail(n, path, "", "expected "+describeType(t)+", got a list", "")
	case yaml.MappingNode:
		d.fail(n, path, "", "expected "+describeType(t)+", got a mapping", "")
	default:
		d.fail(n, path, "", "expected "+describeType(t), "")
	}
}

// mappingKey returns the text of a mapping key, or false after reporting a
// key that is not a plain scalar.
func (d *decoder) mappingKey(keyNode *yaml.Node, path string) (string, bool) {
	keyNode = resolveAlias(keyNode)
	if keyNode.Kind != yaml.ScalarNode {
		d.fail(keyNode, path, "", "a key must be a single value, not a list or mapping", "")
		return "", false
	}
	if keyNode.ShortTag() == "!!merge" {
		d.fail(keyNode, path, "", "merge keys (<<) are not supported",
			"the keys written out, or an alias for the whole value")
		return "", false
	}
	return keyNode.Value, true
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, path, v.Type())
		return
	}
	fields := yamlFields(v.Type())
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}

	d.eachEntry(n, path, func(keyNode, valueNode *yaml.Node, key, child string) {
		idx := -1
		for _, f := range fields {
			if f.key == key {
				idx = f.index
				break
			}
		}
		if idx < 0 {
			d.fail(keyNode, child, "", "unknown key", strings.Join(keys, ", "))
			return
		}
		d.decode(valueNode, child, v.Field(idx))
	})
}

// eachEntry calls fn with each entry of mapping n whose key is usable and given once, and
// reports the others: a key that is not a single value, a merge key, a duplicate key.
func (d *decoder) eachEntry(n *yaml.Node, path string,
	fn func(keyNode, valueNode *yaml.Node, key, child string)) {
	firstLine := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valueNode := n.Content[i], n.Content[i+1]
		key, ok := d.mappingKey(keyNode, path)
		if !ok {
			continue
		}
		child := joinKey(path, key)
		if line, dup := firstLine[key]; dup {
			d.fail(keyNode, child, "", fmt.Sprintf("duplicate key, first given on line %d", line), "")
			continue
		}
		firstLine[key] = keyNode.Line
		fn(keyNode, valueNode, key, child)
	}
}

// decodeSlice replaces the whole list: defaults are never merged item by item.
func (d *decoder) decodeSlice(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.wrongKind(n, path, v.Type())
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := joinIndex(path, i)
		if isNull(resolveAlias(item)) {
			d.fail(item, child, "", "empty list item", describeType(v.Type().Elem()))
			continue
		}
		d.decode(item, child, out.Index(i))
	}
	v.Set(out)
}

// decodeMap replaces the whole mapping. Only string keys are supported.
func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, path, v.Type())
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.eachEntry(n, path, func(keyNode, valueNode *yaml.Node, key, child string) {
		if isNull(resolveAlias(valueNode)) {
			d.fail(keyNode, child, "", "missing value", describeType(v.Type().Elem()))
			return
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(valueNode, child, elem)
		out.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
	v.Set(out)
}

func (d *decoder) decodeDuration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.wrongKind(n, path, v.Type())
		return
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		d.fail(n, path, quote(n.Value),
			"a duration needs a unit; add one, for example "+quote(n.Value+"s"), allowedDuration)
		return
	case "!!str":
	default:
		d.fail(n, path, quote(n.Value), "not a duration", allowedDuration)
		return
	}
	dur, fe := parseDuration(n.Value)
	if fe != nil {
		d.fail(n, path, fe.Value, fe.Problem, fe.Allowed)
		return
	}
	v.SetInt(int64(dur))
}

// decodeScalar stores a string, boolean or number. Strings take the text of
// any plain scalar, so an unquoted device id such as 10001 stays "10001".
func (d *decoder) decodeScalar(n *yaml.Node, path string, v reflect.Value) {
	t := v.Type()
	if n.Kind != yaml.ScalarNode {
		d.wrongKind(n, path, t)
		return
	}
	tag := n.ShortTag()
	if !strings.HasPrefix(tag, "!!") {
		d.fail(n, path, quote(n.Value), "custom YAML tag "+tag+" is not supported", describeType(t))
		return
	}
	invalid := func(problem string) {
		d.fail(n, path, quote(n.Value), problem, describeType(t))
	}

	switch t.Kind() {
	case reflect.String:
		if tag == "!!binary" {
			invalid("binary values are not supported")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			invalid("not a boolean")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag == "!!float" && isWholeFloat(n) {
			// YAML resolves integers beyond int64 as floats.
			invalid("out of range")
			return
		}
		if tag != "!!int" {
			invalid("not a whole number")
			return
		}
		if n.Decode(&i) != nil || v.OverflowInt(i) {
			invalid("out of range")
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if tag != "!!int" || n.Decode(&u) != nil {
			invalid("not a whole number of 0 or more")
			return
		}
		if v.OverflowUint(u) {
			invalid("out of range")
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			invalid("not a number")
			return
		}
		if t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
			invalid("out of range")
			return
		}
		v.SetFloat(f)
	default:
		// A field type the decoder does not know is a bug in this package;
		// TestDecoderSupportsEveryField keeps Config free of them.
		invalid("unsupported field type " + t.String())
	}
}

// isWholeFloat reports whether a !!float node holds a finite whole number.
func isWholeFloat(n *yaml.Node) bool {
	var f float64
	if n.Decode(&f) != nil {
		return false
	}
	return finite(f) && f == math.Trunc(f)
}
