package pki

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// SubjectDefaults are the DN attributes appended after CN=NAME for issued
// certificates, in the order Java prints them (CN,OU,O,L,ST,C as keytool
// -dname writes).
type SubjectDefaults struct {
	OrganizationalUnit string `json:"ou,omitempty"`
	Organization       string `json:"o,omitempty"`
	Locality           string `json:"l,omitempty"`
	State              string `json:"st,omitempty"`
	Country            string `json:"c,omitempty"`
}

// DN returns "CN=<cn>,OU=..,O=..,L=..,ST=..,C=.." with the set attributes,
// each value escaped as RFC 4514 requires.
func (d SubjectDefaults) DN(cn string) string {
	parts := []string{"CN=" + EscapeDNValue(cn)}
	for _, a := range []struct{ k, v string }{
		{"OU", d.OrganizationalUnit}, {"O", d.Organization}, {"L", d.Locality}, {"ST", d.State}, {"C", d.Country},
	} {
		if a.v != "" {
			parts = append(parts, a.k+"="+EscapeDNValue(a.v))
		}
	}
	return strings.Join(parts, ",")
}

// EscapeDNValue escapes an attribute value for an RFC 4514 string.
func EscapeDNValue(v string) string {
	var b strings.Builder
	for i, c := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, c),
			c == '#' && i == 0,
			c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Settings are the PKI directory's saved defaults, read by every command.
type Settings struct {
	Version        int             `json:"version"`
	Subject        SubjectDefaults `json:"subject"`
	Key            KeySpec         `json:"key"`
	LeafDays       int             `json:"leafDays"`
	CAKeyEncrypted bool            `json:"caKeyEncrypted"`
	// Engine, when set, names the engine that signs this directory's
	// certificates instead of a local CA key (see Engine).
	Engine *EngineSettings `json:"engine,omitempty"`
}

const settingsFile = "kafkatls.json"

// DefaultLeafDays is the validity of issued certificates unless overridden.
const DefaultLeafDays = 365

func loadSettings(dir string) (Settings, error) {
	var s Settings
	b, err := fsx.ReadFileLimit(filepath.Join(dir, settingsFile), fsx.LimitPEM)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, settingsFile), err)
	}
	if s.LeafDays == 0 {
		s.LeafDays = DefaultLeafDays
	}
	return s, nil
}

func settingsJSON(s Settings) []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}
