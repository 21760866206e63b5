package bundle

import (
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/pki"
)

// chainEngine answers only Chain: what a dry run may ask an engine.
type chainEngine struct {
	chain []*x509.Certificate
	err   error
}

var errNotInDryRun = errors.New("a dry run must not sign or revoke")

func (e *chainEngine) Sign(context.Context, pki.CertRequest, string) (*x509.Certificate, []*x509.Certificate, error) {
	return nil, nil, errNotInDryRun
}
func (e *chainEngine) Revoke(context.Context, *big.Int) (time.Time, error) {
	return time.Time{}, errNotInDryRun
}
func (e *chainEngine) CRL(context.Context) (*x509.RevocationList, error)  { return nil, errNotInDryRun }
func (e *chainEngine) Chain(context.Context) ([]*x509.Certificate, error) { return e.chain, e.err }

// TestNewEngineChainDryRunPreview: for a new directory an engine will sign
// for, NewEngineChain reads the engine's chain, and a dry run given it
// lists ca/chain.pem exactly when the engine signs with an intermediate;
// it asks nothing of a local CA's spec or of a directory holding a CA, and
// an engine that cannot be reached is an error the caller words.
func TestNewEngineChainDryRunPreview(t *testing.T) {
	root, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "root"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	issuing, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "issuing"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(t.TempDir(), "existing")
	if _, err := pki.Init(pki.InitOptions{Dir: existing, Key: pki.KeySpec{Type: pki.ECDSA}}); err != nil {
		t.Fatal(err)
	}
	vault := CASpec{Engine: "vault", Address: "https://bao.example.com:8200", Mount: "pki-int", Role: "kafka", KeyType: "ecdsa"}
	for _, tc := range []struct {
		name      string
		ca        CASpec
		dir       string
		engine    *chainEngine
		wantAsked bool
		wantErr   bool
		wantChain bool // ca/chain.pem in the preview
	}{
		{"engine with an intermediate", vault, "", &chainEngine{chain: []*x509.Certificate{issuing.CA, root.CA}}, true, false, true},
		{"engine signing with its root", vault, "", &chainEngine{chain: []*x509.Certificate{root.CA}}, true, false, false},
		{"engine unreachable", vault, "", &chainEngine{err: errors.New("dial tcp: connection refused")}, true, true, false},
		{"local CA", CASpec{CN: "x", KeyType: "ecdsa"}, "", &chainEngine{}, false, false, false},
		{"directory holding a CA", CASpec{}, existing, &chainEngine{}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "pki")
			}
			spec := &Spec{CA: tc.ca, Brokers: []Node{{Name: "kafka-1"}}}
			asked := false
			open := func(context.Context, pki.EngineSettings) (pki.Engine, error) { asked = true; return tc.engine, nil }
			chain, err := NewEngineChain(context.Background(), dir, spec, open)
			if asked != tc.wantAsked || (err != nil) != tc.wantErr {
				t.Fatalf("asked the engine %v, error %v", asked, err)
			}
			if err != nil {
				return
			}
			res, err := Run(context.Background(), spec, Options{Dir: dir, DryRun: true, EngineChain: chain})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(res.Plan.Preview.Files, pki.CAChainFile); got != tc.wantChain {
				t.Errorf("preview lists %s: %v, want %v (%v)", pki.CAChainFile, got, tc.wantChain, res.Plan.Preview.Files)
			}
		})
	}
}
