package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/pki"
)

// TestWarnReplaced: init --force names what it orphaned and what keeps
// identities working instead: `ca rotate` for a local CA only, since it is
// refused in a directory an engine signs for.
func TestWarnReplaced(t *testing.T) {
	step := &pki.EngineSettings{Type: "step-ca", Address: "https://ca:9000", Provisioner: "kafka"}
	bao := &pki.EngineSettings{Type: "vault", Address: "https://bao:8200", Mount: "pki", Role: "kafka"}
	tests := []struct {
		name      string
		old, now  *pki.EngineSettings
		orphaned  []string
		want, not []string
	}{
		{"local to local", nil, nil, []string{"c1"},
			[]string{"1 identities signed by the old CA are orphaned (c1)", "`kafkatls issue NAME --force`", "`kafkatls ca rotate` keeps them working"}, nil},
		{"engine to the engine's new CA", step, step, []string{"kafka-1", "client1"},
			[]string{"2 identities signed by the old CA are orphaned (kafka-1, client1)", "`kafkatls issue NAME --force`",
				"The old directory was signed by engine step-ca provisioner kafka at https://ca:9000: an engine's CA is rotated at the engine",
				"`kafkatls ca rotate` does not apply to a directory an engine signs for"},
			[]string{"keeps them working"}},
		{"engine to a local CA", bao, nil, []string{"c1"},
			[]string{"signed by engine vault pki/roles/kafka at https://bao:8200:", "does not apply"}, []string{"keeps them working"}},
		{"local CA to an engine", nil, bao, []string{"c1"},
			[]string{"(engine vault pki/roles/kafka at https://bao:8200 signs them now)", "`kafkatls ca rotate` rotates a local CA only: it cannot move a directory to an engine"},
			[]string{"keeps them working"}},
		{"nothing orphaned", step, step, nil, []string{"moved the old CA material to /p/ca/replaced-x"}, []string{"orphaned", "ca rotate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errb bytes.Buffer
			g := &globals{stderr: &errb}
			warnReplaced(g, &pki.Replaced{Dir: "/p/ca/replaced-x", Files: []string{pki.CACertFile}, Orphaned: tc.orphaned, Engine: tc.old}, tc.now)
			got := errb.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("warning lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("warning says %q:\n%s", w, got)
				}
			}
		})
	}
}
