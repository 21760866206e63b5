package inspect

import (
	"testing"
)

// TestParseKcat: kcat's -F reader trims the line, not the key or value.
func TestParseKcat(t *testing.T) {
	got := parseKcat([]byte("# c\n  ssl.key.password = x=y \nssl.ca.location=/a\\:b\n"))
	if got["ssl.key.password "] != " x=y" {
		t.Errorf("%q", got)
	}
	if got["ssl.ca.location"] != "/a:b" {
		t.Errorf("%q", got)
	}
}
