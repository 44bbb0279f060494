package addon

import "regexp"

// The rules of the community add-on linter, frenck/action-addon-linter: its
// JSON schema for config.yaml (src/config.schema.json) and the checks of
// src/lint.py that go beyond the schema. They are written out here as data
// so the tests need neither the linter nor a network.

// valueKind is the JSON type the linter's schema requires of a key.
type valueKind int

const (
	kindString valueKind = iota
	kindBool
	kindInt
	kindList
	kindMap
	kindStringOrBool
)

// linterKey is one key of config.yaml that the linter accepts.
type linterKey struct {
	kind valueKind
	// def is the schema default; a key set to it is an error. Nil when the
	// schema gives none.
	def any
	// enum lists the allowed values of a string, or of each item of a list.
	enum []string
}

// linterKeys are all 67 keys the linter's schema accepts; any other key is
// an error (additionalProperties: false).
var linterKeys = map[string]linterKey{
	"advanced":          {kind: kindBool, def: false},
	"apparmor":          {kind: kindStringOrBool, def: true},
	"arch":              {kind: kindList, enum: []string{"aarch64", "amd64", "armhf", "armv7", "i386"}},
	"audio":             {kind: kindBool, def: false},
	"auth_api":          {kind: kindBool, def: false},
	"auto_uart":         {kind: kindBool, def: false},
	"backup":            {kind: kindString, def: "hot", enum: []string{"hot", "cold"}},
	"backup_exclude":    {kind: kindList},
	"backup_post":       {kind: kindString},
	"backup_pre":        {kind: kindString},
	"boot":              {kind: kindString, def: "auto", enum: []string{"auto", "manual", "manual_only"}},
	"breaking_versions": {kind: kindList},
	"codenotary":        {kind: kindString},
	"description":       {kind: kindString},
	"devices":           {kind: kindList},
	"devicetree":        {kind: kindBool, def: false},
	"discovery":         {kind: kindList},
	"docker_api":        {kind: kindBool, def: false},
	"environment":       {kind: kindMap},
	"full_access":       {kind: kindBool, def: false},
	"gpio":              {kind: kindBool, def: false},
	"hassio_api":        {kind: kindBool, def: false},
	"hassio_role": {kind: kindString, def: "default",
		enum: []string{"admin", "backup", "default", "homeassistant", "manager"}},
	"homeassistant":     {kind: kindString},
	"homeassistant_api": {kind: kindBool, def: false},
	"host_dbus":         {kind: kindBool, def: false},
	"host_ipc":          {kind: kindBool, def: false},
	"host_network":      {kind: kindBool, def: false},
	"host_pid":          {kind: kindBool, def: false},
	"host_uts":          {kind: kindBool, def: false},
	"image":             {kind: kindString},
	"ingress":           {kind: kindBool, def: false},
	"ingress_entry":     {kind: kindString},
	"ingress_port":      {kind: kindInt, def: 8099},
	"ingress_stream":    {kind: kindBool, def: false},
	"init":              {kind: kindBool, def: true},
	"journald":          {kind: kindBool, def: false},
	"kernel_modules":    {kind: kindBool, def: false},
	"legacy":            {kind: kindBool, def: false},
	"machine":           {kind: kindList},
	"map":               {kind: kindList},
	"name":              {kind: kindString},
	"options":           {kind: kindMap, def: map[string]any{}},
	"panel_admin":       {kind: kindBool, def: true},
	"panel_icon":        {kind: kindString, def: "mdi:puzzle"},
	"panel_title":       {kind: kindString},
	"ports":             {kind: kindMap},
	"ports_description": {kind: kindMap},
	"privileged":        {kind: kindList},
	"realtime":          {kind: kindBool, def: false},
	"schema":            {kind: kindMap, def: map[string]any{}},
	"services":          {kind: kindList},
	"slug":              {kind: kindString},
	"stage": {kind: kindString, def: "stable",
		enum: []string{"deprecated", "experimental", "stable"}},
	"startup": {kind: kindString, def: "application",
		enum: []string{"application", "initialize", "once", "services", "system"}},
	"stdin":    {kind: kindBool, def: false},
	"timeout":  {kind: kindInt, def: 10},
	"tmpfs":    {kind: kindStringOrBool, def: false},
	"uart":     {kind: kindBool, def: false},
	"udev":     {kind: kindBool, def: false},
	"ulimits":  {kind: kindMap, def: map[string]any{}},
	"url":      {kind: kindString},
	"usb":      {kind: kindBool, def: false},
	"version":  {kind: kindString},
	"video":    {kind: kindBool, def: false},
	"watchdog": {kind: kindString},
	"webui":    {kind: kindString},
}

// requiredKeys must be present, in the linter's schema and the Supervisor's.
var requiredKeys = []string{"arch", "description", "name", "slug", "version"}

// forbiddenKeys are accepted by the schema but reported as errors by lint.py,
// with its reason.
var forbiddenKeys = map[string]string{
	"watchdog":  "obsolete; use the Docker HEALTHCHECK instruction",
	"auto_uart": "deprecated; use uart",
}

// deprecatedArchs are the 32-bit architectures that the schema still lists.
// The add-on is built for aarch64 and amd64 only.
var deprecatedArchs = []string{"armhf", "armv7", "i386"}

// servicePattern is the linter's pattern for each services entry.
var servicePattern = regexp.MustCompile(`^(mqtt|mysql):(provide|want|need)$`)

// mapPattern is the linter's pattern for a map entry in string form.
var mapPattern = regexp.MustCompile(
	`^(addon_config|all_addon_configs|config|homeassistant_config|ssl|addons|backup|share|media)(:(rw|ro))?$`)

// schemaElement is the Supervisor's grammar of one option type in schema
// (supervisor/addons/options.py), with an optional trailing "?".
var schemaElement = regexp.MustCompile(`^(?:` +
	`bool|email|url|port` +
	`|device(?:\((?:subsystem=[a-z]+)\))?` +
	`|str(?:\((\d+)?,(\d+)?\))?` +
	`|password(?:\((\d+)?,(\d+)?\))?` +
	`|int(?:\((\d+)?,(\d+)?\))?` +
	`|float(?:\(([\d.]+)?,([\d.]+)?\))?` +
	`|match\((.*)\)` +
	`|list\((.+)\)` +
	`)\??$`)
