package bridge

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanDocument scans data as one JSON document and returns the scanner's
// error reason, or "".
func scanDocument(data []byte) string {
	s := jsonScanner{data: data}
	s.value(1)
	if s.err != "" {
		return s.err
	}
	if !s.atEnd() {
		return InvalidNotJSON
	}
	return ""
}

func TestUnescapeString(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"plain", `heart_rate`, "heart_rate"},
		{"short escapes", `a\"b\\c\/d\be\ff\ng\rh\ti`, "a\"b\\c/d\be\ff\ng\rh\ti"},
		{"unicode escape", `\u0068r`, "hr"},
		{"two byte rune", `\u00fc`, "ü"},
		{"surrogate pair", `\ud83d\ude00`, "😀"},
		{"lone high surrogate", `\ud83dx`, "\uFFFDx"},
		{"lone low surrogate", `\ude00`, "\uFFFD"},
		{"high then non-surrogate", `\ud83d\u0041`, "\uFFFDA"},
		{"nul", `\u0000`, "\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf [64]byte
			v := jsonValue{kind: kindString, raw: []byte(tc.raw), escaped: strings.Contains(tc.raw, `\`)}
			got, ok := unescapeString(buf[:0], v)
			if !ok {
				t.Fatal("unescapeString reported overflow")
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// encoding/json must agree on the same string.
			var std string
			if err := json.Unmarshal([]byte(`"`+tc.raw+`"`), &std); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if std != tc.want {
				t.Errorf("encoding/json decodes %q, the test expects %q", std, tc.want)
			}
		})
	}
}

func TestUnescapeStringOverflow(t *testing.T) {
	var buf [4]byte
	for _, raw := range []string{`abcde`, `abc\u00fc`, `ab\ud83d\ude00`} {
		v := jsonValue{kind: kindString, raw: []byte(raw), escaped: strings.Contains(raw, `\`)}
		if got, ok := unescapeString(buf[:0], v); ok {
			t.Errorf("%s: got %q into a 4-byte buffer, want overflow", raw, got)
		}
	}
}

func TestScannerReasons(t *testing.T) {
	tests := []struct {
		doc  string
		want string
	}{
		{`{"a":[1,2,{"b":null}],"c":true,"d":false,"e":"x","f":-1.5e-3}`, ""},
		{`NaN`, ""},
		{`[-Infinity, +inf, nan]`, ""},
		{`nanx`, InvalidNotJSON},
		{`+1`, InvalidNotJSON},
		{`-`, InvalidNotJSON},
		{`1.`, InvalidNotJSON},
		{`1e`, InvalidNotJSON},
		{`.5`, InvalidNotJSON},
		{`tru`, InvalidNotJSON},
		{`[1 2]`, InvalidNotJSON},
		{`{"a" 1}`, InvalidNotJSON},
		{`{"a":1 "b":2}`, InvalidNotJSON},
		{`{1:2}`, InvalidNotJSON},
		{`[,1]`, InvalidNotJSON},
		{`"\u12"`, InvalidNotJSON},
		{`"abc`, InvalidNotJSON},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), ""},
		{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), InvalidTooDeep},
		{strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1),
			InvalidTooDeep},
	}
	for _, tc := range tests {
		if got := scanDocument([]byte(tc.doc)); got != tc.want {
			t.Errorf("%.40s: reason = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

// nonFiniteWord matches the NaN and Infinity spellings the scanner accepts
// beyond JSON.
var nonFiniteWord = regexp.MustCompile(`(?i)[+-]?(nan|infinity|inf)`)

// checkScannerAgainstStd compares the scanner's verdict on data with
// encoding/json's, allowing only the documented differences: NaN/Infinity
// tokens, the depth limit, and invalid UTF-8, which encoding/json accepts.
func checkScannerAgainstStd(t *testing.T, data []byte) {
	if !utf8.Valid(data) {
		return
	}
	reason := scanDocument(data)
	std := json.Valid(data)
	switch {
	case reason == InvalidTooDeep:
	case reason == "" && !std:
		if !json.Valid(nonFiniteWord.ReplaceAll(data, []byte("0"))) {
			t.Errorf("scanner accepts %q, encoding/json rejects it", data)
		}
	case reason != "" && std:
		t.Errorf("scanner rejects %q (%s), encoding/json accepts it", data, reason)
	}
}

func FuzzJSONScanner(f *testing.F) {
	for _, tc := range heartRateCases {
		f.Add([]byte(tc.payload))
	}
	for _, seed := range []string{`{"a":[1,{"b":"\ud83d\ude00"}]}`, `[]`, `{}`, `""`, `-0.0e+0`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(checkScannerAgainstStd)
}
