package wizard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/pki"
)

// TestExplainNamesWizardFields: core errors reach the wizard user with the
// wizard's input to fix, never a CLI flag.
func TestExplainNamesWizardFields(t *testing.T) {
	_, ipAsDNS := pki.BuildSANs(pki.SANs{}, []string{"10.0.0.1"}, nil, nil)
	_, badIP := pki.BuildSANs(pki.SANs{}, nil, []string{"10.0.0.300"}, nil)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"IP given as a hostname", ipAsDNS, `enter it under "IP addresses"`},
		{"bad IP", badIP, `("IP addresses")`},
		{"CA passphrase", fmt.Errorf("bundle: %w", pki.ErrCAKeyEncrypted), `enter it under "CA key passphrase"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(tt.err)
			if !strings.Contains(got, tt.want) || strings.Contains(got, "--") {
				t.Errorf("explain = %q, want it to contain %q and no flag", got, tt.want)
			}
		})
	}
}
