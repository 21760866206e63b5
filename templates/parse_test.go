package templates_test

import (
	"os"
	"path/filepath"
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
		{"hash and backslash escapes", `pw=a\#b\\c\u0041\td`, "pw", "a#b\\cA\td"},
		{"continuation keeps the comma", "list=a,\\\n   b\n", "list", "a,b"},
		{"comment lines are not keys", "# x=1\n! y=2\n  z = 3\n", "x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := templates.ParseProperties([]byte(tc.in))[tc.key]; got != tc.want {
				t.Errorf("%q: %s = %q, want %q", tc.in, tc.key, got, tc.want)
			}
		})
	}
	for _, v := range []string{"Kp9#secret!pw", " lead", "back\\slash", "tab\tnew\nline", "ünï", "a=b:c", "trail "} {
		if got := templates.ParseProperties([]byte("k=" + templates.PropertiesValue(v) + "\n"))["k"]; got != v {
			t.Errorf("PropertiesValue(%q) reads back as %q", v, got)
		}
	}
}

// TestParsePropertiesAgreesWithReference: on every generated properties
// golden file, ParseProperties reads what loadProperties (the reference
// reader the real-peer tests hold to java itself) reads, last key winning.
func TestParsePropertiesAgreesWithReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*", "*.properties.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden properties files (%v)", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := loadProperties(data)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, p := range ref {
				want[p.Key] = p.Value
			}
			got := templates.ParseProperties(data)
			if len(got) != len(want) {
				t.Errorf("%d keys, reference %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, reference %q", k, got[k], v)
				}
			}
		})
	}
}
