package discovery

import (
	"regexp"
	"strings"
	"testing"
)

var slugPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func TestSlugKeepsValidIDs(t *testing.T) {
	for _, id := range []string{"fitbridge", "p-1", "Alex_2", "aabbcc000005", "10001"} {
		if got := Slug(id); got != id {
			t.Errorf("Slug(%q) = %q, want it unchanged", id, got)
		}
	}
}

func TestSlugCleansInvalidIDs(t *testing.T) {
	tests := []struct {
		id         string
		wantPrefix string
	}{
		{id: "AA:BB:CC:00:00:05", wantPrefix: "aabbcc000005_"},
		{id: "Bag (heavy)", wantPrefix: "bag__heavy__"},
		{id: "gym/step", wantPrefix: "gym_step_"},
		{id: "Zoë Ä.", wantPrefix: "zo_____"},
		{id: "guest-AA:BB:CC:00:00:06", wantPrefix: "guest-aabbcc000006_"},
		{id: "a+b#c", wantPrefix: "a_b_c_"},
		{id: "", wantPrefix: "_"},
	}
	for _, tt := range tests {
		got := Slug(tt.id)
		if !slugPattern.MatchString(got) {
			t.Errorf("Slug(%q) = %q, which has characters outside [a-zA-Z0-9_-]", tt.id, got)
		}
		if !strings.HasPrefix(got, tt.wantPrefix) {
			t.Errorf("Slug(%q) = %q, want prefix %q", tt.id, got, tt.wantPrefix)
		}
		hash := strings.TrimPrefix(got, tt.wantPrefix)
		if len(hash) != 2*slugHashBytes {
			t.Errorf("Slug(%q) = %q, want %d hash characters after %q",
				tt.id, got, 2*slugHashBytes, tt.wantPrefix)
		}
		if again := Slug(tt.id); again != got {
			t.Errorf("Slug(%q) is not stable: %q then %q", tt.id, got, again)
		}
	}
}

func TestSlugKeepsSimilarIDsApart(t *testing.T) {
	pairs := [][2]string{
		{"Zoë Ä.", "Zoe A"},
		{"Zoë Ä.", "Zoë Ä,"},
		{"AA:BB:CC:00:00:05", "aabbcc000005"},
		{"AA:BB:CC:00:00:05", "aa:bb:cc:00:00:05"},
		{"Bag (heavy)", "bag  heavy "},
		{"gym/step", "gym_step"},
	}
	for _, p := range pairs {
		if Slug(p[0]) == Slug(p[1]) {
			t.Errorf("Slug(%q) and Slug(%q) are both %q", p[0], p[1], Slug(p[0]))
		}
	}
}

func TestSlugOfKnownIDIsFixed(t *testing.T) {
	// The slug is part of unique ids and topics, so it must not change
	// between releases. This pins the hash function and its length.
	const want = "aabbcc000005_bea19810"
	if got := Slug("AA:BB:CC:00:00:05"); got != want {
		t.Errorf("Slug(MAC) = %q, want %q", got, want)
	}
}

func TestEntityObjectID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fitbridge_participant_p-1_coins", "fitbridge_participant_p_1_coins"},
		{"fitbridge_participant_zo______1a2b_zone", "fitbridge_participant_zo_1a2b_zone"},
		{"Gym_Bridge__x_", "gym_bridge_x"},
		{"_a", "a"},
	}
	for _, tt := range tests {
		if got := entityObjectID(tt.in); got != tt.want {
			t.Errorf("entityObjectID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlugBoundsLength(t *testing.T) {
	exactly := strings.Repeat("a", maxSlugLen)
	if got := Slug(exactly); got != exactly {
		t.Errorf("Slug of a %d-character id changed it to %q", maxSlugLen, got)
	}
	long := strings.Repeat("b", maxSlugLen+1)
	got := Slug(long)
	if len(got) != maxSlugLen || !slugPattern.MatchString(got) {
		t.Errorf("Slug of a %d-character id = %q (%d characters), want %d slug characters",
			len(long), got, len(got), maxSlugLen)
	}
	if other := Slug(long + "b"); other == got {
		t.Errorf("two long ids with the same start share the slug %q", got)
	}
	if mac := Slug(strings.Repeat("AB:CD:", 40)); len(mac) > maxSlugLen {
		t.Errorf("Slug of a long MAC-like id has %d characters", len(mac))
	}
}
