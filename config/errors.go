package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FieldError is one invalid key or value in a configuration. Load, ApplyEnv
// and Validate return these, joined with errors.Join when there are several.
type FieldError struct {
	// Source locates the value: "file:line:column" for a value read from a
	// file, the variable name for an environment override, or "" when the
	// origin is unknown (Validate).
	Source string
	// Path is the key path, such as participants[1].devices[0]. An empty
	// path is the top level of the file.
	Path string
	// Value is the rejected value as written, quoted when it is text. It is
	// empty when the problem is the key itself or a whole list or mapping.
	Value string
	// Problem is what is wrong with the key or value.
	Problem string
	// Allowed describes the accepted values, or is empty.
	Allowed string
}

// Error formats the problem as "source: path: invalid value V: problem (allowed: ...)",
// leaving out the parts that are empty.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	b.WriteString(displayPath(e.Path))
	b.WriteString(": ")
	if e.Value != "" {
		b.WriteString("invalid value ")
		b.WriteString(e.Value)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Allowed != "" {
		b.WriteString(" (allowed: ")
		b.WriteString(e.Allowed)
		b.WriteString(")")
	}
	return b.String()
}

func displayPath(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// plainKey matches map keys that can be written after a dot in a key path.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinKey appends a mapping key to a key path. Keys that would make the path
// ambiguous (dots, brackets, spaces) are written as a quoted index instead.
func joinKey(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a list index to a key path.
func joinIndex(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// Value formatters, so every message shows values the same way.

func quote(s string) string { return strconv.Quote(s) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func formatInt(i int) string { return strconv.Itoa(i) }

func formatDuration(d time.Duration) string { return d.String() }
