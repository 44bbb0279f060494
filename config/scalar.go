package config

import (
	"reflect"
	"strconv"
	"strings"
	"time"
)

var durationType = reflect.TypeFor[time.Duration]()

const allowedDuration = "a duration such as 5s, 2m or 1m30s, with units ns, us, ms, s, m or h"

// parseDuration parses Go duration syntax. A bare number gets its own message
// because "5" is the most common mistake and time.ParseDuration only reports a
// missing unit.
func parseDuration(text string) (time.Duration, *FieldError) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err == nil {
		return d, nil
	}
	fe := &FieldError{Value: quote(text), Allowed: allowedDuration}
	if _, numErr := strconv.ParseFloat(strings.TrimSpace(text), 64); numErr == nil {
		fe.Problem = "a duration needs a unit; add one, for example " + quote(text+"s")
	} else {
		fe.Problem = "not a duration"
	}
	return time.Duration(0), fe
}

// isScalarType reports whether a field of type t is set from one text value,
// which makes it addressable by an environment variable.
func isScalarType(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// describeType names what a field of type t accepts, for error messages.
func describeType(t reflect.Type) string {
	if t == durationType {
		return allowedDuration
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// setFromText parses text into the scalar field v. It serves environment
// variables, where every value arrives as text. The returned error has no
// Source or Path; the caller fills them in.
func setFromText(v reflect.Value, text string) *FieldError {
	t := v.Type()
	if t == durationType {
		d, fe := parseDuration(text)
		if fe != nil {
			return fe
		}
		v.SetInt(int64(d))
		return nil
	}

	invalid := &FieldError{Value: quote(text), Allowed: describeType(t)}
	trimmed := strings.TrimSpace(text)
	switch t.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(trimmed)
		if err != nil {
			invalid.Problem = "not a boolean"
			return invalid
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(trimmed, 10, t.Bits())
		if err != nil {
			invalid.Problem = numberProblem(err, "not a whole number")
			return invalid
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(trimmed, 10, t.Bits())
		if err != nil {
			invalid.Problem = numberProblem(err, "not a whole number of 0 or more")
			return invalid
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(trimmed, t.Bits())
		if err != nil {
			invalid.Problem = numberProblem(err, "not a number")
			return invalid
		}
		v.SetFloat(f)
	default:
		invalid.Problem = "cannot be set from text"
		return invalid
	}
	return nil
}

func numberProblem(err error, syntaxProblem string) string {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return "out of range"
	}
	return syntaxProblem
}
