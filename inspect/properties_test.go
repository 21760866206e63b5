package inspect

import (
	"testing"

	"github.com/kafkatls/kafkatls/templates"
)

// TestParseProperties: the forms java.util.Properties.load reads, and
// every value the templates' escaper writes comes back unchanged.
func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		name, in, key, want string
	}{
		{"equals", "a=b", "a", "b"},
		{"colon and spaces", "  a : b c ", "a", "b c "},
		{"space separator", "a b", "a", "b"},
		{"space then equals", "a   =  b", "a", "b"},
		{"continuation", "a=b\\\n    c", "a", "bc"},
		{"escaped backslash is no continuation", "a=b\\\\\nc=d", "a", `b\`},
		{"comment", "# a=x\n! a=y\na=z", "a", "z"},
		{"escapes", `a=\t\u00e9\#\!\=\:\ x`, "a", "\té#!=: x"},
		{"escaped key", `a\=b=c`, "a=b", "c"},
		{"last wins", "a=1\na=2", "a", "2"},
		{"CRLF", "a=1\r\nb=2\r\n", "b", "2"},
		{"latin-1 byte", "a=\xe9", "a", "é"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseProperties([]byte(tc.in))[tc.key]; got != tc.want {
				t.Errorf("%q: %s = %q, want %q", tc.in, tc.key, got, tc.want)
			}
		})
	}
	for _, v := range []string{"Kp9#secret!pw", " lead", "back\\slash", "tab\tnew\nline", "ünï", "a=b:c", "trail "} {
		if got := parseProperties([]byte("k=" + templates.PropertiesValue(v) + "\n"))["k"]; got != v {
			t.Errorf("PropertiesValue(%q) reads back as %q", v, got)
		}
	}
}

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
