package bundle

import (
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/pki"
)

// TestSameSigner: a spec's ca.engine must name the engine that signs for
// the directory; a spec without one applies to any directory.
func TestSameSigner(t *testing.T) {
	vault := &pki.EngineSettings{Type: "vault", Address: "https://v:8200", Mount: "pki", Role: "kafka"}
	step := &pki.EngineSettings{Type: "step-ca", Address: "https://ca:9000", Provisioner: "kafka", Root: "/home/ci/root.crt"}
	for _, tc := range []struct {
		name string
		has  *pki.EngineSettings
		spec CASpec
		want string // "" = accepted
	}{
		{"no engine in the spec, local CA", nil, CASpec{}, ""},
		{"no engine in the spec, engine directory", vault, CASpec{}, ""},
		{"same engine", vault, CASpec{Engine: "vault", Address: "https://v:8200", Mount: "pki", Role: "kafka"}, ""},
		{"same engine, address from the environment", vault, CASpec{Engine: "vault", Mount: "pki", Role: "kafka"}, ""},
		{"engine in the spec, local CA", nil, CASpec{Engine: "vault"}, "has a local CA"},
		{"another role", vault, CASpec{Engine: "vault", Role: "clients"}, "is signed by engine vault pki/roles/kafka"},
		{"another mount", vault, CASpec{Engine: "vault", Mount: "pki_int"}, "is signed by engine"},
		{"another address", vault, CASpec{Engine: "vault", Address: "https://other:8200"}, "is signed by engine"},
		{"same step-ca, root file elsewhere on this runner", step, CASpec{Engine: "step-ca", URL: "https://ca:9000", Provisioner: "kafka", Root: "/runner/root.crt"}, ""},
		{"another provisioner", step, CASpec{Engine: "step-ca", Provisioner: "kafka-clients"}, "is signed by engine step-ca provisioner kafka"},
		{"another step-ca", step, CASpec{Engine: "step-ca", URL: "https://other:9000"}, "is signed by engine"},
		{"step-ca in the spec, vault directory", vault, CASpec{Engine: "step-ca"}, "is signed by engine vault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pki.PKI{Dir: "kafka-pki", Settings: pki.Settings{Engine: tc.has}}
			err := sameSigner(p, tc.spec)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestSpecEngineSettings: ca.address/mount/role are an engine's and need
// ca.engine; an engine and an imported CA exclude each other.
func TestSpecEngineSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		ca   CASpec
		want string
	}{
		{"engine", CASpec{Engine: "vault", Mount: "pki"}, ""},
		{"mount without engine", CASpec{Mount: "pki"}, "set ca.engine too"},
		{"engine and import", CASpec{Engine: "vault", ImportCert: "a", ImportKey: "b"}, "do not apply"},
		{"step-ca", CASpec{Engine: "step-ca", URL: "https://ca:9000", Root: "root.crt", Provisioner: "kafka"}, ""},
		{"url without engine", CASpec{URL: "https://ca:9000"}, "set ca.engine: step-ca too"},
		{"step-ca with a mount", CASpec{Engine: "step-ca", Mount: "pki"}, "vault's settings"},
		{"vault with a provisioner", CASpec{Engine: "vault", Provisioner: "kafka"}, "step-ca's settings"},
		{"unknown engine", CASpec{Engine: "acme"}, "the engines are vault and step-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{CA: tc.ca, Clients: []Client{{Name: "c1"}}}
			err := s.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}
