package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// slugHashBytes is how many bytes of the SHA-256 of the original id a
// changed slug carries, written as hex (8 characters for 4 bytes).
const slugHashBytes = 4

// maxSlugLen bounds a slug, so that topics and entity ids stay short even
// for a guest whose device id is a long topic level. Configured ids are at
// most this long already.
const maxSlugLen = 64

// Slug maps an id to the characters Home Assistant accepts in a discovery
// topic segment, [a-zA-Z0-9_-]. An id of at most 64 characters that already
// uses only those characters is returned unchanged. Any other id is
// lower-cased, its ':' are dropped, every other rune outside the set becomes
// '_', the result is cut to 55 characters, and '_' plus a short hash of the
// original id is appended. The hash keeps ids apart that clean up
// to the same text ("Zoë Ä." and "Zoe A"), and it keeps a cleaned id apart
// from a configured id that already has that form ("aabbcc000005" and
// "AA:BB:CC:00:00:05"). The result is the same for the same id in every run.
//
// NOTE: two different changed ids map to the same slug only if the first 4
// bytes of their SHA-256 agree, which is unlikely but not impossible.
func Slug(id string) string {
	if isSlug(id) && len(id) <= maxSlugLen {
		return id
	}

	keep := maxSlugLen - 1 - 2*slugHashBytes
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if b.Len() == keep {
			break
		}
		switch {
		case r == ':':
			continue
		case isSlugRune(r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}

	sum := sha256.Sum256([]byte(id))
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(sum[:slugHashBytes]))
	return b.String()
}

// isSlug reports whether id is non-empty and uses only slug runes.
func isSlug(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !isSlugRune(r) {
			return false
		}
	}
	return true
}

func isSlugRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r == '_' || r == '-':
		return true
	}
	return false
}

// entityObjectID turns a unique id into the form Home Assistant uses after
// the dot of an entity id: lower-case [a-z0-9_], no leading, trailing or
// doubled '_'. Its input is built from slugs, so it is ASCII already.
func entityObjectID(uniqueID string) string {
	var b strings.Builder
	pendingSeparator := false
	for _, r := range strings.ToLower(uniqueID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if pendingSeparator && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSeparator = false
			b.WriteRune(r)
			continue
		}
		pendingSeparator = true
	}
	return b.String()
}
