package bridge

import (
	"strings"
	"testing"
)

func TestConnackReasonText(t *testing.T) {
	if got := connackReasonText(0x86); !strings.Contains(got, "bad user name or password") {
		t.Errorf("0x86 = %q", got)
	}
	if got := connackReasonText(0x87); !strings.Contains(got, "not authorized") {
		t.Errorf("0x87 = %q", got)
	}
	if got := connackReasonText(0xA0); got != "reason code 0xA0" {
		t.Errorf("unknown code = %q, want reason code 0xA0", got)
	}
}
