package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// EnvPrefix starts every environment variable that ApplyEnv reads.
const EnvPrefix = "FITBRIDGE_"

// EnvConfigFile names the configuration file to load. The command line reads
// it; ApplyEnv skips it instead of rejecting it as unknown.
const EnvConfigFile = EnvPrefix + "CONFIG"

// envVar is one environment variable and the scalar field it sets.
type envVar struct {
	name  string
	path  string
	index []int
}

// envVars derives one variable for every scalar field reachable through
// nested structs, named after its key path: session.coin_interval becomes
// FITBRIDGE_SESSION_COIN_INTERVAL. Lists and mappings have none.
func envVars() []envVar {
	var vars []envVar
	var walk func(t reflect.Type, path string, index []int)
	walk = func(t reflect.Type, path string, index []int) {
		for _, f := range yamlFields(t) {
			fieldPath := joinKey(path, f.key)
			// Clone so that sibling fields do not share a backing array.
			fieldIndex := append(slices.Clone(index), f.index)
			ft := t.Field(f.index).Type
			switch {
			case isScalarType(ft):
				name := EnvPrefix + strings.ToUpper(strings.ReplaceAll(fieldPath, ".", "_"))
				vars = append(vars, envVar{name: name, path: fieldPath, index: fieldIndex})
			case ft.Kind() == reflect.Struct:
				walk(ft, fieldPath, fieldIndex)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return vars
}

// ApplyEnv overrides scalar settings from FITBRIDGE_* entries of environ,
// which has the "NAME=value" form of os.Environ. Each scalar key has a
// variable named after its path, upper-cased with dots turned into
// underscores. Durations use Go syntax such as 5s. An empty value sets an
// empty string, which for example disables the HTTP server through
// FITBRIDGE_HTTP_LISTEN=.
//
// Unknown FITBRIDGE_* variables (other than EnvConfigFile) and values that do
// not parse are returned together, each naming its variable. On error c is
// left unchanged. When a name occurs twice, the first entry counts, as with
// os.Getenv.
func (c *Config) ApplyEnv(environ []string) error {
	vars := envVars()
	byName := make(map[string]envVar, len(vars))
	for _, ev := range vars {
		byName[ev.name] = ev
	}

	next := *c
	target := reflect.ValueOf(&next).Elem()
	seen := make(map[string]bool)
	var errs []error
	var applied []envVar
	for _, entry := range environ {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || name == EnvConfigFile || seen[name] {
			continue
		}
		seen[name] = true
		ev, known := byName[name]
		if !known {
			// The value is left out of the message because it may be a
			// password under a misspelt name.
			errs = append(errs, unknownEnvError(name, vars))
			continue
		}
		if fe := setFromText(target.FieldByIndex(ev.index), value); fe != nil {
			fe.Source = name
			fe.Path = ev.path
			errs = append(errs, fe)
			continue
		}
		applied = append(applied, ev)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*c = next
	for _, ev := range applied {
		c.SetSource(ev.path, ev.name)
	}
	return nil
}

func unknownEnvError(name string, vars []envVar) error {
	best, bestDistance := "", 4
	names := make([]string, len(vars))
	for i, ev := range vars {
		names[i] = ev.name
		if d := editDistance(name, ev.name); d < bestDistance {
			best, bestDistance = ev.name, d
		}
	}
	if best != "" {
		return fmt.Errorf("%s: unknown environment variable; did you mean %s?", name, best)
	}
	return fmt.Errorf("%s: unknown environment variable (allowed: %s, %s)",
		name, EnvConfigFile, strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
