package principal

import (
	"testing"
)

func FuzzJavaName(f *testing.F) {
	for _, tc := range dnEdgeNames {
		f.Add(tc.der)
	}
	for _, tc := range dnRoundTrips {
		if der, err := ParseDN(tc.in); err == nil {
			f.Add(der)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		name, err := JavaName(der)
		if err != nil || name == "" {
			return
		}
		// Whatever Java prints for a Name, ParseDN reads back into a Name
		// that prints the same, unless it holds an empty RDN or an
		// attribute with an empty value.
		der2, err := ParseDN(name)
		if err != nil {
			return
		}
		again, err := JavaName(der2)
		if err != nil {
			t.Fatalf("JavaName(ParseDN(%q)): %v", name, err)
		}
		if again != name {
			t.Fatalf("JavaName(%x) = %q, but after ParseDN it prints %q", der, name, again)
		}
	})
}

func FuzzParseDN(f *testing.F) {
	for _, tc := range dnRoundTrips {
		f.Add(tc.in)
	}
	for _, s := range []string{`CN=a\`, `CN="x`, "CN=#0c", "+", ",", "=", `\`, "C=U\xff", "CN=\\C3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		der, err := ParseDN(s)
		if err != nil {
			return
		}
		name, err := JavaName(der)
		if err != nil {
			t.Fatalf("JavaName(ParseDN(%q)): %v", s, err)
		}
		der2, err := ParseDN(name)
		if err != nil {
			t.Fatalf("ParseDN(%q) (JavaName of ParseDN(%q)): %v", name, s, err)
		}
		if again, err := JavaName(der2); err != nil || again != name {
			t.Fatalf("ParseDN(%q) prints %q, reparsed prints %q (%v)", s, name, again, err)
		}
	})
}
