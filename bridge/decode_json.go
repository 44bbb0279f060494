package bridge

import (
	"strconv"
	"unicode/utf8"
)

// Reasons a payload or field is rejected, shared by the heart-rate and
// zigbee2mqtt decoders. The set is fixed so that each value can be used as a
// Prometheus label.
const (
	InvalidEmpty      = "empty"         // the payload is empty or only whitespace
	InvalidNotJSON    = "not_json"      // syntax error, truncated JSON or invalid UTF-8
	InvalidNotText    = "not_text"      // a plain-text payload with invalid UTF-8 or control characters
	InvalidTooDeep    = "too_deep"      // JSON nested deeper than maxJSONDepth
	InvalidMissing    = "missing"       // the field is absent, null or an empty string
	InvalidWrongType  = "wrong_type"    // the field is not a number or numeric string
	InvalidNotFinite  = "not_finite"    // NaN or Infinity, as a token or a string
	InvalidZero       = "zero"          // 0 bpm, which straps send when they lose contact
	InvalidSentinel   = "sentinel"      // 255 or 0xFFFFFF, the ANT+/BLE "not available" markers
	InvalidOutOfRange = "out_of_range"  // negative, outside [min, max] or beyond float64
	InvalidDuplicate  = "duplicate_key" // the heart-rate field appears more than once
)

// maxJSONDepth bounds the nesting of objects and arrays, so that a hostile
// payload cannot exhaust the stack. zigbee2mqtt states nest two levels when
// they include the "device" object, so 64 leaves ample room.
const maxJSONDepth = 64

type jsonKind uint8

const (
	kindInvalid jsonKind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	// kindNonFinite is a bare NaN or Infinity token. It is not JSON, but
	// Python's json module writes it for float("nan") and float("inf"), so the
	// scanner accepts it as a value that the decoders then reject.
	kindNonFinite
	kindTrue
	kindFalse
	kindNull
)

// jsonValue is one scanned value. For a string, raw is the text between the
// quotes with its escapes still encoded. For other kinds raw is the whole
// token or container, brackets included.
type jsonValue struct {
	kind    jsonKind
	raw     []byte
	escaped bool
}

// jsonScanner is a validating pull scanner over one JSON document. It never
// allocates: values are returned as sub-slices of data. After the first error
// err holds its reason and every further call returns kindInvalid.
type jsonScanner struct {
	data []byte
	pos  int
	err  string
}

func (s *jsonScanner) fail(reason string) jsonValue {
	if s.err == "" {
		s.err = reason
	}
	return jsonValue{}
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// atEnd reports whether only whitespace is left.
func (s *jsonScanner) atEnd() bool {
	s.skipSpace()
	return s.pos == len(s.data)
}

// value scans the value at the current position. depth is the nesting level
// the value would open if it is a container; the top-level value has depth 1.
func (s *jsonScanner) value(depth int) jsonValue {
	if s.err != "" {
		return jsonValue{}
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.fail(InvalidNotJSON)
	}
	switch c := s.data[s.pos]; {
	case c == '{' || c == '[':
		return s.container(depth)
	case c == '"':
		return s.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		return s.word()
	}
}

func (s *jsonScanner) container(depth int) jsonValue {
	if depth > maxJSONDepth {
		return s.fail(InvalidTooDeep)
	}
	start := s.pos
	kind := kindObject
	if s.data[s.pos] == '[' {
		kind = kindArray
	}
	s.pos++
	if kind == kindObject {
		members := objectMembers{s: s, depth: depth}
		for {
			if _, _, ok := members.next(); !ok {
				break
			}
		}
	} else {
		elements := arrayElements{s: s, depth: depth}
		for {
			if _, ok := elements.next(); !ok {
				break
			}
		}
	}
	if s.err != "" {
		return jsonValue{}
	}
	return jsonValue{kind: kind, raw: s.data[start:s.pos]}
}

// objectMembers iterates the members of an object whose '{' the scanner has
// already consumed. next returns false at the closing '}' or on an error,
// which the caller finds in the scanner's err.
type objectMembers struct {
	s       *jsonScanner
	depth   int
	started bool
}

func (m *objectMembers) next() (key, val jsonValue, ok bool) {
	s := m.s
	if s.err != "" {
		return jsonValue{}, jsonValue{}, false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.fail(InvalidNotJSON)
		return jsonValue{}, jsonValue{}, false
	}
	c := s.data[s.pos]
	switch {
	case c == '}':
		s.pos++
		return jsonValue{}, jsonValue{}, false
	case c == ',' && m.started:
		s.pos++
		s.skipSpace()
	case m.started:
		s.fail(InvalidNotJSON)
		return jsonValue{}, jsonValue{}, false
	}

	m.started = true
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		s.fail(InvalidNotJSON)
		return jsonValue{}, jsonValue{}, false
	}
	key = s.str()
	s.skipSpace()
	if s.err != "" || s.pos >= len(s.data) || s.data[s.pos] != ':' {
		s.fail(InvalidNotJSON)
		return jsonValue{}, jsonValue{}, false
	}
	s.pos++

	val = s.value(m.depth + 1)
	if s.err != "" {
		return jsonValue{}, jsonValue{}, false
	}
	return key, val, true
}

// arrayElements iterates the elements of an array whose '[' the scanner has
// already consumed, with the same contract as objectMembers.
type arrayElements struct {
	s       *jsonScanner
	depth   int
	started bool
}

func (a *arrayElements) next() (jsonValue, bool) {
	s := a.s
	if s.err != "" {
		return jsonValue{}, false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.fail(InvalidNotJSON)
		return jsonValue{}, false
	}
	switch c := s.data[s.pos]; {
	case c == ']':
		s.pos++
		return jsonValue{}, false
	case c == ',' && a.started:
		s.pos++
	case a.started:
		s.fail(InvalidNotJSON)
		return jsonValue{}, false
	}
	a.started = true
	v := s.value(a.depth + 1)
	if s.err != "" {
		return jsonValue{}, false
	}
	return v, true
}

// str scans a string, checking escapes, control characters and UTF-8.
func (s *jsonScanner) str() jsonValue {
	s.pos++ // opening quote
	start := s.pos
	escaped := false
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			v := jsonValue{kind: kindString, raw: s.data[start:s.pos], escaped: escaped}
			s.pos++
			return v
		case c == '\\':
			escaped = true
			if !s.escape() {
				return s.fail(InvalidNotJSON)
			}
		case c < 0x20:
			return s.fail(InvalidNotJSON)
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return s.fail(InvalidNotJSON)
			}
			s.pos += size
		}
	}
	return s.fail(InvalidNotJSON)
}

// escape consumes one backslash escape and reports whether it was valid.
func (s *jsonScanner) escape() bool {
	if s.pos+1 >= len(s.data) {
		return false
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return true
	case 'u':
		if s.pos+6 > len(s.data) {
			return false
		}
		if _, ok := hex4(s.data[s.pos+2 : s.pos+6]); !ok {
			return false
		}
		s.pos += 6
		return true
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a number in JSON grammar, or a signed NaN/Infinity word.
func (s *jsonScanner) number() jsonValue {
	start := s.pos
	if c := s.data[s.pos]; c == '-' || c == '+' {
		if s.pos+1 < len(s.data) && isLetter(s.data[s.pos+1]) {
			return s.word()
		}
		if c == '+' {
			return s.fail(InvalidNotJSON)
		}
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return s.fail(InvalidNotJSON)
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail(InvalidNotJSON)
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail(InvalidNotJSON)
		}
	}
	return jsonValue{kind: kindNumber, raw: s.data[start:s.pos]}
}

func (s *jsonScanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func isLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// word scans true, false, null, or an optionally signed NaN/Infinity spelling
// (NaN, nan, Infinity, inf, in any letter case).
func (s *jsonScanner) word() jsonValue {
	start := s.pos
	if c := s.data[s.pos]; c == '-' || c == '+' {
		s.pos++
	}
	letters := s.pos
	for s.pos < len(s.data) && isLetter(s.data[s.pos]) {
		s.pos++
	}
	raw := s.data[start:s.pos]
	switch string(raw) {
	case "true":
		return jsonValue{kind: kindTrue, raw: raw}
	case "false":
		return jsonValue{kind: kindFalse, raw: raw}
	case "null":
		return jsonValue{kind: kindNull, raw: raw}
	}
	if isNonFiniteWord(s.data[letters:s.pos]) {
		return jsonValue{kind: kindNonFinite, raw: raw}
	}
	return s.fail(InvalidNotJSON)
}

func isNonFiniteWord(b []byte) bool {
	var lower [8]byte
	if len(b) > len(lower) {
		return false
	}
	for i, c := range b {
		lower[i] = c | 0x20 // ASCII letters only, so setting bit 5 lowercases
	}
	switch string(lower[:len(b)]) {
	case "nan", "inf", "infinity":
		return true
	}
	return false
}

// unescapeString appends the decoded text of a scanned string to dst and
// reports false when the result would not fit in cap(dst), so that callers
// can decode into a fixed stack buffer. A lone UTF-16 surrogate decodes to
// U+FFFD, as in encoding/json. The scanner has already checked every escape.
func unescapeString(dst []byte, v jsonValue) ([]byte, bool) {
	raw := v.raw
	if !v.escaped {
		if len(dst)+len(raw) > cap(dst) {
			return dst, false
		}
		return append(dst, raw...), true
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if len(dst) == cap(dst) {
				return dst, false
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := decodeEscape(raw[i:])
		i += size
		if len(dst)+utf8.RuneLen(r) > cap(dst) {
			return dst, false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}

// decodeEscape decodes the escape at the start of b, joining a \uD800-\uDBFF
// escape with a following \uDC00-\uDFFF one, and returns the bytes consumed.
func decodeEscape(b []byte) (rune, int) {
	switch b[1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		// handled below
	default:
		return rune(b[1]), 2
	}
	r, _ := hex4(b[2:6])
	if r < 0xD800 || r > 0xDFFF {
		return r, 6
	}
	if r <= 0xDBFF && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if low, ok := hex4(b[8:12]); ok && low >= 0xDC00 && low <= 0xDFFF {
			return 0x10000 + (r-0xD800)<<10 + (low - 0xDC00), 12
		}
	}
	return utf8.RuneError, 6
}

// parseNumber converts a scanned JSON number. Plain integers of up to 15
// digits skip strconv, which keeps the common case free of allocations. A
// magnitude above float64's maximum returns InvalidOutOfRange; one below its
// smallest subnormal rounds to 0, as strconv does.
func parseNumber(raw []byte) (float64, string) {
	digits := raw
	negative := len(digits) > 0 && digits[0] == '-'
	if negative {
		digits = digits[1:]
	}
	if len(digits) > 0 && len(digits) <= 15 {
		var n int64
		plain := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			if negative {
				return -float64(n), ""
			}
			return float64(n), ""
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		// The scanner accepted the grammar, so the only possible error is
		// ErrRange: a magnitude above ~1.8e308.
		return 0, InvalidOutOfRange
	}
	return f, ""
}

// numberValue converts a number, a numeric string (surrounding spaces
// allowed) or a NaN/Infinity token to a float64. The reason is "" on
// success, InvalidMissing for null or an empty string, InvalidNotFinite,
// InvalidOutOfRange, or InvalidWrongType for anything else.
func numberValue(v jsonValue) (float64, string) {
	switch v.kind {
	case kindNumber:
		return parseNumber(v.raw)
	case kindNonFinite:
		return 0, InvalidNotFinite
	case kindNull:
		return 0, InvalidMissing
	case kindString:
		return numericString(v)
	}
	return 0, InvalidWrongType
}

// numericString converts the text of a string value. It calls number and
// word directly instead of value, because value's recursion makes escape
// analysis move the stack buffer to the heap.
func numericString(v jsonValue) (float64, string) {
	var buf [64]byte
	dst := buf[:0]
	if len(v.raw) > cap(dst) {
		// Rare: a long numeric string such as "70.000…0" costs one
		// allocation; the unescaped text is never longer than the raw one.
		dst = make([]byte, 0, len(v.raw))
	}
	text, ok := unescapeString(dst, v)
	if !ok {
		return 0, InvalidWrongType
	}
	inner := jsonScanner{data: text}
	if inner.atEnd() {
		return 0, InvalidMissing
	}
	var n jsonValue
	switch c := text[inner.pos]; {
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		n = inner.number()
	case isLetter(c):
		n = inner.word()
	default:
		return 0, InvalidWrongType
	}
	if inner.err != "" || !inner.atEnd() {
		return 0, InvalidWrongType
	}
	switch n.kind {
	case kindNumber:
		return parseNumber(n.raw)
	case kindNonFinite:
		return 0, InvalidNotFinite
	}
	return 0, InvalidWrongType
}
