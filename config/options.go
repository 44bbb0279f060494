package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// AddonOptionsPath is the file into which the Home Assistant Supervisor
// writes the add-on's options, after checking them against the schema in
// addon/config.yaml.
const AddonOptionsPath = "/data/options.json"

// addonScalarOptions maps each single-value add-on option to the key path it
// sets. The add-on form shows these without nested sections, so the names
// are flat. Every other key keeps its default or is set by the add-on
// start-up.
var addonScalarOptions = []struct{ option, path string }{
	{"broker_url", "broker.url"},
	{"broker_username", "broker.username"},
	{"broker_password", "broker.password"},
	{"base_topic", "base_topic"},
	{"discovery_prefix", "discovery_prefix"},
	{"instance_id", "instance_id"},
	{"heart_rate_topic", "heart_rate.topic"},
	{"zone_unit", "zone_unit"},
	{"default_max_heart_rate", "default_max_heart_rate"},
	{"coin_interval", "session.coin_interval"},
	{"idle_after", "session.idle_after"},
	{"leave_after", "session.leave_after"},
	{"end_after", "session.end_after"},
	{"start_samples", "session.start_samples"},
	{"live_window", "session.live_window"},
	{"max_guests", "session.max_guests"},
	{"equipment_timeout", "session.equipment_timeout"},
	{"resume_within", "session.resume_within"},
	{"restart_cooldown", "session.restart_cooldown"},
	{"handover_window", "session.handover_window"},
	{"coin_milestone", "session.coin_milestone"},
}

// AddonLogLevels are the values of the log_level option, in the words of
// the add-on form, with the slog level each one selects.
var AddonLogLevels = map[string]slog.Level{
	"debug":   slog.LevelDebug,
	"info":    slog.LevelInfo,
	"warning": slog.LevelWarn,
	"error":   slog.LevelError,
}

// AddonOptions is the content of the add-on's options.json. Optional options
// that the user left empty are absent from the file.
type AddonOptions struct {
	// LogLevel is a key of AddonLogLevels, or empty for info.
	LogLevel string
	// Participants, Equipment and Zones are the lists of the add-on form.
	Participants []AddonParticipant
	Equipment    []AddonEquipment
	Zones        []AddonZone
	// scalars holds the options of addonScalarOptions that are present, as
	// raw JSON values keyed by option name.
	scalars map[string]json.RawMessage
	// source names the file in error messages.
	source string
}

// AddonParticipant is one entry of the participants option. The add-on
// schema allows only two levels of nesting, so the strap list and the zone
// overrides are text.
type AddonParticipant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Devices is a comma-separated list of strap device ids, such as "10001, 10002".
	Devices string `json:"devices"`
	// MaxHeartRate is in bpm; 0 means default_max_heart_rate.
	MaxHeartRate float64 `json:"max_heart_rate"`
	// Zones lists zone lower bounds as comma-separated id=value pairs, such
	// as "active=80, warm=105", in the unit of zone_unit.
	Zones string `json:"zones"`
}

// AddonEquipment is one entry of the equipment option.
type AddonEquipment struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Topic string `json:"topic"`
}

// AddonZone is one entry of the zones option.
type AddonZone struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Min   float64 `json:"min"`
	Coins int     `json:"coins"`
}

// ReadAddonOptions reads and decodes the options file at path, normally
// AddonOptionsPath. A file that cannot be read or is not a JSON object gives
// one wrapped error; problems with options are *FieldError values joined
// with errors.Join, each naming the file and the option.
func ReadAddonOptions(path string) (AddonOptions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return AddonOptions{}, fmt.Errorf("read add-on options: %w", err)
	}
	return ParseAddonOptions(path, data)
}

// ParseAddonOptions decodes the options JSON in data, which came from the
// file named source. An option that the add-on schema does not declare is an
// error: the Supervisor's validation (supervisor/addons/options.py) drops
// undeclared options, so one here means config.yaml and this code disagree.
func ParseAddonOptions(source string, data []byte) (AddonOptions, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return AddonOptions{}, fmt.Errorf("parse add-on options %s: %w", source, err)
	}
	opts := AddonOptions{scalars: make(map[string]json.RawMessage), source: source}
	var errs []error
	for _, name := range sortedMapKeys(top) {
		raw := top[name]
		switch {
		case isJSONNull(raw) || string(bytes.TrimSpace(raw)) == `""`:
			// The Supervisor leaves empty optional options out; null and an
			// empty string mean the same.
		case name == "log_level":
			if fe := decodeLogLevel(raw, &opts.LogLevel); fe != nil {
				errs = append(errs, opts.located(fe, name))
			}
		case name == "participants":
			errs = append(errs, decodeList(source, name, raw, &opts.Participants)...)
		case name == "equipment":
			errs = append(errs, decodeList(source, name, raw, &opts.Equipment)...)
		case name == "zones":
			errs = append(errs, decodeList(source, name, raw, &opts.Zones)...)
		case slices.ContainsFunc(addonScalarOptions, func(o struct{ option, path string }) bool {
			return o.option == name
		}):
			opts.scalars[name] = raw
		default:
			errs = append(errs, &FieldError{Source: source, Path: name,
				Problem: "unknown option; the add-on's config.yaml and this version disagree"})
		}
	}
	if len(errs) > 0 {
		return AddonOptions{}, errors.Join(errs...)
	}
	return opts, nil
}

// AddonOptionNames returns the name of every top-level add-on option that
// ParseAddonOptions accepts, sorted.
func AddonOptionNames() []string {
	names := []string{"log_level", "participants", "equipment", "zones"}
	for _, so := range addonScalarOptions {
		names = append(names, so.option)
	}
	slices.Sort(names)
	return names
}

// Has reports whether the options file sets the single-value option name.
func (o AddonOptions) Has(name string) bool {
	_, ok := o.scalars[name]
	return ok
}

// SlogLevel returns the slog level that LogLevel selects.
func (o AddonOptions) SlogLevel() slog.Level {
	if level, ok := AddonLogLevels[o.LogLevel]; ok {
		return level
	}
	return slog.LevelInfo
}

// Config returns Default() with the options applied: each scalar option sets
// its key, the lists replace the configured participants and equipment, and
// a non-empty zones list replaces the default zones. An empty zones list
// keeps the defaults, because the add-on form cannot restore them once they
// are deleted. Call AddonValidate on the result after the start-up has set
// the broker and paths.
func (o AddonOptions) Config() (Config, error) {
	cfg := Default()
	byPath := make(map[string]envVar)
	for _, ev := range envVars() {
		byPath[ev.path] = ev
	}
	target := reflect.ValueOf(&cfg).Elem()
	var errs []error
	for _, so := range addonScalarOptions {
		raw, ok := o.scalars[so.option]
		if !ok {
			continue
		}
		ev, ok := byPath[so.path]
		if !ok {
			errs = append(errs, &FieldError{Source: o.source, Path: so.option,
				Problem: "sets the unknown key " + so.path})
			continue
		}
		text, fe := scalarText(raw)
		if fe == nil {
			fe = setFromText(target.FieldByIndex(ev.index), text)
		}
		if fe != nil {
			errs = append(errs, o.located(fe, so.option))
		}
	}

	cfg.Participants = make([]Participant, 0, len(o.Participants))
	for i, p := range o.Participants {
		path := joinIndex("participants", i)
		zones, zoneErrs := o.parseZoneOverrides(joinKey(path, "zones"), p.Zones)
		errs = append(errs, zoneErrs...)
		cfg.Participants = append(cfg.Participants, Participant{
			ID:           p.ID,
			Name:         p.Name,
			Devices:      splitCommaList(p.Devices),
			Zones:        zones,
			MaxHeartRate: p.MaxHeartRate,
		})
	}
	cfg.Equipment = make([]Equipment, 0, len(o.Equipment))
	for _, e := range o.Equipment {
		cfg.Equipment = append(cfg.Equipment, Equipment{ID: e.ID, Name: e.Name, Topic: e.Topic})
	}
	if len(o.Zones) > 0 {
		cfg.Zones = make([]Zone, 0, len(o.Zones))
		for _, z := range o.Zones {
			cfg.Zones = append(cfg.Zones, Zone{ID: z.ID, Name: z.Name, Min: z.Min, Coins: z.Coins})
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// AddonValidate runs Validate and renames the key paths in its errors to
// the add-on option names, so "session.idle_after" reads "idle_after".
func AddonValidate(cfg *Config) error {
	err := cfg.Validate()
	if err == nil {
		return nil
	}
	optionOf := make(map[string]string, len(addonScalarOptions))
	for _, so := range addonScalarOptions {
		optionOf[so.path] = so.option
	}
	var renamed []error
	for _, e := range joinedErrors(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			copied := *fe
			if option, ok := optionOf[copied.Path]; ok {
				copied.Path = option
			}
			e = &copied
		}
		renamed = append(renamed, e)
	}
	return errors.Join(renamed...)
}

// parseZoneOverrides parses "id=value, id=value" into a map. Empty text
// gives nil, which means no overrides.
func (o AddonOptions) parseZoneOverrides(path, text string) (map[string]float64, []error) {
	const allowed = "comma-separated zone id=value pairs, such as active=80, warm=105"
	var errs []error
	var zones map[string]float64
	for _, pair := range splitCommaList(text) {
		id, value, ok := strings.Cut(pair, "=")
		id, value = strings.TrimSpace(id), strings.TrimSpace(value)
		if !ok || id == "" {
			errs = append(errs, &FieldError{Source: o.source, Path: path, Value: quote(pair),
				Problem: "not an id=value pair", Allowed: allowed})
			continue
		}
		bound, err := strconv.ParseFloat(value, 64)
		if err != nil {
			errs = append(errs, &FieldError{Source: o.source, Path: path, Value: quote(pair),
				Problem: "the value after = is not a number", Allowed: allowed})
			continue
		}
		if _, dup := zones[id]; dup {
			errs = append(errs, &FieldError{Source: o.source, Path: path, Value: quote(pair),
				Problem: "zone " + quote(id) + " is set twice", Allowed: allowed})
			continue
		}
		if zones == nil {
			zones = make(map[string]float64)
		}
		zones[id] = bound
	}
	return zones, errs
}

// located fills in where a problem was found.
func (o AddonOptions) located(fe *FieldError, option string) *FieldError {
	fe.Source = o.source
	fe.Path = option
	return fe
}

func decodeLogLevel(raw json.RawMessage, level *string) *FieldError {
	allowed := strings.Join(sortedMapKeys(AddonLogLevels), ", ")
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return &FieldError{Value: string(raw), Problem: "not a string", Allowed: allowed}
	}
	if _, ok := AddonLogLevels[text]; !ok {
		return &FieldError{Value: quote(text), Problem: "unknown log level", Allowed: allowed}
	}
	*level = text
	return nil
}

// decodeList decodes the JSON list raw of the option name into list, one
// entry at a time so that each error names its index and field.
func decodeList[T any](source, name string, raw json.RawMessage, list *[]T) []error {
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return []error{&FieldError{Source: source, Path: name, Problem: "not a list",
			Allowed: "a list of entries"}}
	}
	var errs []error
	for i, entry := range entries {
		path := joinIndex(name, i)
		var item T
		dec := json.NewDecoder(bytes.NewReader(entry))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&item); err != nil {
			errs = append(errs, listEntryError(source, path, err))
			continue
		}
		*list = append(*list, item)
	}
	return errs
}

// listEntryError turns an encoding/json error into a FieldError naming the field.
func listEntryError(source, path string, err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return &FieldError{Source: source, Path: joinKey(path, typeErr.Field),
			Problem: "a JSON " + typeErr.Value + " where " + describeType(typeErr.Type) +
				" is expected"}
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &FieldError{Source: source, Path: path,
			Problem: "unknown field " + field + "; the add-on's config.yaml and this version disagree"}
	}
	return &FieldError{Source: source, Path: path, Problem: err.Error()}
}

// scalarText returns a JSON string's content, or the literal text of a
// number or boolean, for setFromText.
func scalarText(raw json.RawMessage) (string, *FieldError) {
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return text, nil
	}
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, "[") || strings.HasPrefix(trimmed, "{") {
		return "", &FieldError{Value: trimmed, Problem: "a list or mapping where a single value is expected"}
	}
	return trimmed, nil
}

// splitCommaList splits comma-separated text and drops blank entries.
func splitCommaList(text string) []string {
	var out []string
	for _, part := range strings.Split(text, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func isJSONNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func joinedErrors(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
