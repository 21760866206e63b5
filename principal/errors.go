package principal

import (
	"fmt"
	"strings"
)

// DNError reports a distinguished name that ParseDN cannot encode: it
// names the attribute (by position and type) and what is wrong with it.
type DNError struct {
	// Index is the 1-based position of the attribute as typed; 0 when the
	// whole DN is at fault (empty).
	Index int
	// Attr is the attribute as typed ("C=GBR"); Type its type in upper case
	// ("C"), empty when it could not be read.
	Attr, Type string
	// Reason says what is wrong.
	Reason string
}

func (e *DNError) Error() string {
	if e.Index == 0 {
		return "dn: " + e.Reason
	}
	return fmt.Sprintf("dn: attribute %d %q: %s", e.Index, e.Attr, e.Reason)
}

func newDNError(i int, text string, err error) *DNError {
	text = strings.TrimSpace(text)
	typ := ""
	if k, _, ok := strings.Cut(text, "="); ok {
		typ = strings.ToUpper(strings.TrimSpace(k))
	}
	return &DNError{Index: i, Attr: text, Type: typ, Reason: err.Error()}
}
