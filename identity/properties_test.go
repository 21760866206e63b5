package identity

import (
	"maps"
	"testing"
)

func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"plain", "a=1\nb: 2\nc 3\n", map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"comments", "# x=1\n! y=2\n  z = 3\n", map[string]string{"z": "3"}},
		{"escapes", `pw=a\#b\\c\u0041\td` + "\n", map[string]string{"pw": "a#b\\cA\td"}},
		{"escaped separator in key", `a\=b=c` + "\n", map[string]string{"a=b": "c"}},
		{"continuation", "list=a,\\\n   b\n", map[string]string{"list": "a,b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseProperties([]byte(tc.in)); !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
