package config

import (
	"strings"
	"unicode/utf8"
)

// maxTopicBytes is the MQTT limit on a topic name or filter: a UTF-8 string
// with a two-byte length prefix (MQTT 5.0, section 1.5.4).
const maxTopicBytes = 65535

// topicTextProblem checks what topic names and filters share: non-empty,
// valid UTF-8, no U+0000 and within the length limit. It returns "" when s
// passes.
func topicTextProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "must not contain the NUL character"
	case len(s) > maxTopicBytes:
		return "longer than the MQTT limit of 65535 bytes"
	}
	return ""
}

// topicNameProblem checks a topic that fitbridge publishes to or subscribes
// to as a literal name: no wildcards and no leading '/'.
func topicNameProblem(s string) string {
	if p := topicTextProblem(s); p != "" {
		return p
	}
	if strings.ContainsAny(s, "+#") {
		return "must not contain the MQTT wildcards + or #"
	}
	if strings.HasPrefix(s, "/") {
		return "must not start with /"
	}
	return ""
}

// heartRateFilterProblem checks the heart-rate subscription: a valid MQTT
// filter whose single '+' level carries the device id. '#' is rejected
// because the device id must be one level at a fixed position.
func heartRateFilterProblem(s string) string {
	if p := topicTextProblem(s); p != "" {
		return p
	}
	if strings.Contains(s, "#") {
		return "must not contain #"
	}
	plus := 0
	for _, level := range strings.Split(s, "/") {
		if level == "+" {
			plus++
			continue
		}
		if strings.Contains(level, "+") {
			return "a + must fill a whole topic level, as in fitness/hr/+"
		}
	}
	if plus != 1 {
		return "must contain exactly one + level, which matches the device id"
	}
	return ""
}

// isUnder reports whether topic lies under prefix, level by level.
func isUnder(topic, prefix string) bool {
	return topic == prefix || strings.HasPrefix(topic, prefix+"/")
}

// filterReaches reports whether the filter (no '#') matches some topic under
// prefix, so that fitbridge would receive messages it publishes there.
func filterReaches(filter, prefix string) bool {
	filterLevels := strings.Split(filter, "/")
	prefixLevels := strings.Split(prefix, "/")
	if len(filterLevels) <= len(prefixLevels) {
		return false
	}
	for i, level := range prefixLevels {
		if filterLevels[i] != "+" && filterLevels[i] != level {
			return false
		}
	}
	return true
}

// filterMatches reports whether the filter (no '#') matches the topic name.
func filterMatches(filter, topic string) bool {
	filterLevels := strings.Split(filter, "/")
	topicLevels := strings.Split(topic, "/")
	if len(filterLevels) != len(topicLevels) {
		return false
	}
	for i, level := range filterLevels {
		if level != "+" && level != topicLevels[i] {
			return false
		}
	}
	return true
}
