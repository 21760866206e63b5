// Package engine connects a PKI directory to the shared CA engine its
// settings name: it adapts each engine client to pki.Engine, the seam
// through which pki has certificates signed and revoked elsewhere. pki
// knows no engine; engine/vault knows no transaction; this package, one
// layer above both, joins them, and cmd hands its Opener to pki.Update.
//
// Each engine is a client package one layer below (engine/vault,
// engine/stepca), a case in Open returning its adapter, and its name in
// Types; a third plugs in the same way.
package engine

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/pki"
)

// Engine type names, as kafkatls.json, --engine and ca.engine spell them.
const (
	TypeVault  = "vault"   // Vault or OpenBao PKI
	TypeStepCA = "step-ca" // smallstep step-ca, JWK provisioner
)

// Types are the engines Open knows.
var Types = []string{TypeVault, TypeStepCA}

// ErrUnknownType: the settings name an engine this program does not know.
var ErrUnknownType = errors.New("unknown engine")

// Credentials say where each run finds the engine's credential, which is
// never stored in the PKI directory.
type Credentials struct {
	// Getenv reads the environment (VAULT_TOKEN, VAULT_ADDR, VAULT_CACERT,
	// VAULT_NAMESPACE); nil: os.Getenv.
	Getenv func(string) string
	// TokenFile, when set, holds the token instead of VAULT_TOKEN.
	TokenFile string
	// PasswordFile, when set, holds the step-ca provisioner password
	// instead of the file STEP_PROVISIONER_PASSWORD_FILE names.
	PasswordFile string
	// TrustFile is the PKI directory's trust anchor (DIR/ca.crt, step-ca's
	// root once init copied it): used to authenticate step-ca when the
	// root file named in the settings is gone (the directory was copied
	// to another host).
	TrustFile string
}

func (c Credentials) getenv() func(string) string {
	if c.Getenv == nil {
		return os.Getenv
	}
	return c.Getenv
}

// Opener returns the pki.EngineOpener for these credentials.
func Opener(c Credentials) pki.EngineOpener {
	return func(ctx context.Context, s pki.EngineSettings) (pki.Engine, error) { return Open(ctx, s, c) }
}

// Open connects to the engine s names. It does not contact it.
func Open(_ context.Context, s pki.EngineSettings, c Credentials) (pki.Engine, error) {
	switch s.Type {
	case TypeVault:
		cl, err := Vault(s, c)
		if err != nil {
			return nil, err
		}
		return &vaultEngine{c: cl, resent: map[string]bool{}}, nil
	case TypeStepCA:
		cl, err := StepCA(s, c)
		if err != nil {
			return nil, err
		}
		return &stepEngine{c: cl}, nil
	}
	return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownType, s.Type, Types)
}

// VaultConfig is the vault.Config for settings s and credentials c: the
// address, mount and role from s (the address from VAULT_ADDR when s has
// none), the CA file and namespace from the environment, the token from
// the token file or VAULT_TOKEN.
func VaultConfig(s pki.EngineSettings, c Credentials) (vault.Config, error) {
	cfg := vault.ConfigFromEnv(c.getenv())
	if s.Address != "" {
		cfg.Address = s.Address
	}
	if s.Mount != "" {
		cfg.Mount = s.Mount
	}
	if s.Role != "" {
		cfg.Role = s.Role
	}
	if c.TokenFile != "" {
		tok, err := vault.ReadTokenFile(c.TokenFile)
		if err != nil {
			return cfg, err
		}
		cfg.Token = tok
	}
	return cfg, nil
}

// Vault returns the Vault/OpenBao client for settings s (see VaultConfig).
func Vault(s pki.EngineSettings, c Credentials) (*vault.Client, error) {
	cfg, err := VaultConfig(s, c)
	if err != nil {
		return nil, err
	}
	return vault.New(cfg)
}

// vaultEngine is a Vault or OpenBao PKI mount as a pki.Engine, and a
// pki.EngineInventory (its stored certificates can be listed) and
// pki.EngineResender.
type vaultEngine struct {
	c      *vault.Client
	mu     sync.Mutex
	resent map[string]bool // serials of leaves whose request was sent again
}

// Unknown lists the mount's certificates the index does not know (see
// vault.Client.Unknown).
func (e *vaultEngine) Unknown(ctx context.Context, known func(string) bool, since time.Time, limit int) ([]*x509.Certificate, bool, error) {
	return e.c.Unknown(ctx, known, since, limit)
}

// Resent reports (once) whether leaf's request was sent again after an
// attempt the engine may have acted on.
func (e *vaultEngine) Resent(leaf *x509.Certificate) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := pki.SerialHex(leaf)
	r := e.resent[s]
	delete(e.resent, s)
	return r
}

func (e *vaultEngine) Sign(ctx context.Context, req pki.CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	vr := vault.FromCertRequest(req, subject)
	vr.URIs = req.SANs.URIs
	var is *vault.Issued
	var err error
	if req.CSR != nil {
		is, err = e.c.SignCSR(ctx, vr, req.CSR)
	} else {
		is, err = e.c.Sign(ctx, vr, req.Key)
	}
	if is != nil && is.Leaf != nil && is.Resent {
		e.mu.Lock()
		e.resent[is.Serial()] = true
		e.mu.Unlock()
	}
	if err != nil {
		if is != nil && is.Leaf != nil { // signed, then refused: record it
			return is.Leaf, nil, err
		}
		if nothingIssued(err) {
			return nil, nil, pki.NothingIssued(err)
		}
		return nil, nil, err
	}
	chain := append(append([]*x509.Certificate{}, is.Intermediates...), is.Root)
	return is.Leaf, chain, nil
}

// nothingIssued reports whether err says the engine signed nothing: a
// permission error, a refusal (no certificate to compare), a 4xx answer,
// an engine that could not be reached (no connection was made), or a
// request refused before it was sent. A difference found in a certificate
// the engine did sign, a timeout or a 5xx is not.
func nothingIssued(err error) bool {
	var pe *vault.PermissionError
	var me *vault.MismatchError
	var ee *vault.EngineError
	var dial *net.OpError
	switch {
	case errors.As(err, &dial) && dial.Op == "dial":
		return true
	case errors.As(err, &pe):
		return true
	case errors.As(err, &me):
		return me.Want == ""
	case errors.As(err, &ee):
		return ee.Status >= 400 && ee.Status < 500 && ee.Status != http.StatusRequestTimeout
	case errors.Is(err, vault.ErrEngine):
		return false
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

func (e *vaultEngine) Revoke(ctx context.Context, serial *big.Int) (time.Time, error) {
	return e.c.Revoke(ctx, serial)
}

func (e *vaultEngine) CRL(ctx context.Context) (*x509.RevocationList, error) { return e.c.CRL(ctx) }

func (e *vaultEngine) Chain(ctx context.Context) ([]*x509.Certificate, error) {
	chain, err := e.c.CAChain(ctx)
	if err == nil && len(chain) == 0 {
		cfg := e.c.Config()
		err = fmt.Errorf("%w: mount %s has no CA: generate or import one (kafkatls init --setup does)", vault.ErrEngine, cfg.Mount)
	}
	return chain, err
}
