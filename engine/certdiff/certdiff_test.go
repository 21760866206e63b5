package certdiff

import (
	"crypto/x509"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got []string
		diff      string
	}{
		{"equal sets in another order", []string{"a", "b"}, []string{"b", "a"}, ""},
		{"missing", []string{"a", "b"}, []string{"a"}, "missing b"},
		{"extra", []string{"a"}, []string{"a", "c"}, "extra c"},
		{"both", []string{"a", "b"}, []string{"c"}, "missing a,b; extra c"},
		{"empty", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff(tc.want, tc.got); got != tc.diff {
				t.Errorf("Diff = %q, want %q", got, tc.diff)
			}
		})
	}
}

func TestEKUs(t *testing.T) {
	c := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if got := EKUs(c); got != "serverAuth+clientAuth" {
		t.Errorf("EKUs = %q", got)
	}
	if got := EKUs(&x509.Certificate{}); got != "none" {
		t.Errorf("EKUs of none = %q", got)
	}
	if got := List(nil); got != "[]" {
		t.Errorf("List(nil) = %q", got)
	}
}
