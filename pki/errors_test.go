package pki

import (
	"errors"
	"strings"
	"testing"
)

// TestInvalidFieldErrors: a bad value comes back as an *InvalidFieldError
// naming the field and the value, in domain words (never a flag).
func TestInvalidFieldErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		field     Field
		value     string
		belongsIn Field
	}{
		{"IP as DNS name", func() error { _, err := BuildSANs(SANs{}, []string{"10.0.0.1"}, nil, nil); return err }(), FieldDNS, "10.0.0.1", FieldIP},
		{"bad DNS name", func() error { _, err := BuildSANs(SANs{}, []string{"a..b"}, nil, nil); return err }(), FieldDNS, "a..b", ""},
		{"bad IP", func() error { _, err := BuildSANs(SANs{}, nil, []string{"10.0.0.300"}, nil); return err }(), FieldIP, "10.0.0.300", ""},
		{"bad email", func() error { _, err := BuildSANs(SANs{}, nil, nil, []string{"x"}); return err }(), FieldEmail, "x", ""},
		{"bad role", func() error { _, err := ParseRole("admin"); return err }(), FieldRole, "admin", ""},
		{"bad key type", func() error { _, err := KeySpec{Type: "dsa"}.Normalize(); return err }(), FieldKeyType, "dsa", ""},
		{"small key", func() error { _, err := KeySpec{Type: RSA, Size: 1024}.Normalize(); return err }(), FieldKeySize, "1024", ""},
		{"short password", ValidatePassword("abc"), FieldPassword, "", ""},
		{"CA days", func() error { _, err := Init(InitOptions{Dir: t.TempDir(), Days: -1}); return err }(), FieldCADays, "-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe *InvalidFieldError
			if !errors.As(tt.err, &fe) {
				t.Fatalf("err = %v (%T), want an *InvalidFieldError", tt.err, tt.err)
			}
			if fe.Field != tt.field || fe.Value != tt.value || fe.BelongsIn != tt.belongsIn {
				t.Errorf("got field %q value %q belongsIn %q, want %q %q %q", fe.Field, fe.Value, fe.BelongsIn, tt.field, tt.value, tt.belongsIn)
			}
			if strings.Contains(fe.Error(), "--") {
				t.Errorf("core error names a flag: %q", fe.Error())
			}
		})
	}
}
