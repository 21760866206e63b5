package pki

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// Engine is a CA outside the PKI directory that signs its certificates (a
// Vault or OpenBao PKI mount, a step-ca): the seam between the directory's
// bookkeeping, which stays here, and whoever holds the CA key. A directory
// whose settings name an engine (Settings.Engine) has no CA key: PKI.Sign
// hands every request to the engine, Revoke and the CRL come from it, and
// ca/ca.crt (the engine's issuing CA), ca/chain.pem (its issuers) and
// DIR/ca.crt (the root, the trust anchor) are copies of its chain fetched
// by init.
//
// Keys never leave the host: the engine signs a CSR, made with
// CertRequest.Key or passed on as CertRequest.CSR.
type Engine interface {
	// Sign has the engine sign a certificate for req, whose subject is
	// resolved (subject) and Days set, and checks it against req. It
	// returns the leaf and the chain above it (issuer first, root last).
	// An error that wraps ErrNothingIssued means the engine signed
	// nothing (a refusal, a permission error). When the engine signed a
	// certificate the check refuses (the engine changed the subject, a
	// SAN, the validity), Sign returns that leaf with the error, so its
	// serial is recorded and it can be revoked.
	Sign(ctx context.Context, req CertRequest, subject string) (leaf *x509.Certificate, chain []*x509.Certificate, err error)
	// Revoke revokes a certificate the engine issued.
	Revoke(ctx context.Context, serial *big.Int) (time.Time, error)
	// CRL returns the engine's current CRL, its signature checked.
	CRL(ctx context.Context) (*x509.RevocationList, error)
	// Chain returns the engine's CA chain: the issuing CA first, up to
	// the self-signed root.
	Chain(ctx context.Context) ([]*x509.Certificate, error)
}

// EngineSettings say which engine signs a PKI directory's certificates:
// what kafkatls.json keeps, never a credential (a token comes from the
// environment each run).
type EngineSettings struct {
	// Type names the engine: "vault" (Vault or OpenBao) or "step-ca".
	Type string `json:"type"`
	// Address is the engine's URL (Vault's address, step-ca's CA URL).
	Address string `json:"address,omitempty"`
	Mount   string `json:"mount,omitempty"` // Vault: the PKI mount
	Role    string `json:"role,omitempty"`  // Vault: the role that signs
	// Provisioner is the step-ca JWK provisioner that signs.
	Provisioner string `json:"provisioner,omitempty"`
	// Root is the file of step-ca's root certificate (an absolute path):
	// it authenticates step-ca's HTTPS before init copies it to DIR/ca.crt,
	// which later runs use when this file is gone.
	Root string `json:"root,omitempty"`
}

// String names the engine for messages: "vault pki/roles/kafka at URL",
// "step-ca provisioner kafka at URL".
func (s EngineSettings) String() string {
	out := s.Type
	if s.Mount != "" || s.Role != "" {
		out += " " + s.Mount + "/roles/" + s.Role
	}
	if s.Provisioner != "" {
		out += " provisioner " + s.Provisioner
	}
	if s.Address != "" {
		out += " at " + s.Address
	}
	return out
}

// EngineOpener connects to the engine a directory's settings name. The
// program supplies it (UpdateOptions.Engines): pki knows no engine client.
// Opening does not contact the engine; a missing credential is an error.
type EngineOpener func(ctx context.Context, s EngineSettings) (Engine, error)

// Errors of engine-signed directories.
var (
	// ErrNothingIssued is wrapped by an Engine's Sign error when the
	// engine certainly signed nothing: the reservation is released.
	ErrNothingIssued = errors.New("the engine issued nothing")
	// ErrEngineSigns is returned where a CA key is needed (ca rotate, a
	// local CRL) in a directory whose certificates an engine signs.
	ErrEngineSigns = errors.New("an engine signs this PKI directory's certificates: it holds no CA key")
	// ErrNoEngine: the directory names an engine and this program was
	// given no way to reach it.
	ErrNoEngine = errors.New("no engine client to sign with")
	// ErrEngineCAChanged: the engine's issuing CA is not the one init
	// copied into the directory.
	ErrEngineCAChanged = errors.New("the engine's CA changed since init")
	// ErrEngineNeedsCSR: the engine signs a CSR, and the request carries
	// neither the key nor a CSR (a renewal of a certificate whose key
	// kafkatls never held).
	ErrEngineNeedsCSR = errors.New("the engine signs CSRs only: a new CSR is needed")
	// ErrEngineNoCRL is wrapped by an Engine's CRL error when the engine
	// publishes no CRL (a step-ca without "crl" in its ca.json): its
	// revocations are recorded, but there is no CRL to copy.
	ErrEngineNoCRL = errors.New("the engine publishes no CRL")
)

// NothingIssued wraps err so that errors.Is(err, ErrNothingIssued) holds,
// keeping its message.
func NothingIssued(err error) error { return &nothingIssued{err} }

type nothingIssued struct{ err error }

func (e *nothingIssued) Error() string        { return e.err.Error() }
func (e *nothingIssued) Unwrap() error        { return e.err }
func (e *nothingIssued) Is(target error) bool { return target == ErrNothingIssued }

// External reports whether an engine signs this directory's certificates.
func (p *PKI) External() bool { return p.Settings.Engine != nil }

// AttachEngine gives an engine-signed PKI the means to reach its engine
// for the life of ctx; the engine is opened on first use.
func (p *PKI) AttachEngine(ctx context.Context, open EngineOpener) {
	p.engineCtx, p.engineOpen = ctx, open
	p.engine = nil
}

// Engine returns the directory's engine, opening it on first use.
func (p *PKI) Engine() (Engine, error) {
	if p.Settings.Engine == nil {
		return nil, errors.New("this PKI directory has a local CA, not an engine")
	}
	if p.engine != nil {
		return p.engine, nil
	}
	if p.engineOpen == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoEngine, *p.Settings.Engine)
	}
	e, err := p.engineOpen(p.engineCtx, *p.Settings.Engine)
	if err != nil {
		return nil, err
	}
	p.engine = e
	return e, nil
}

func (p *PKI) ctx() context.Context {
	if p.engineCtx != nil {
		return p.engineCtx
	}
	return context.Background()
}

// signEngine has the engine sign req (checked and resolved by Sign) for
// pub, and checks that the chain above the leaf is the one init copied.
func (p *PKI) signEngine(req CertRequest, pub crypto.PublicKey) (*x509.Certificate, error) {
	if req.Key == nil && req.CSR == nil {
		return nil, fmt.Errorf("%s: %w", req.Name, ErrEngineNeedsCSR)
	}
	e, err := p.Engine()
	if err != nil {
		return nil, err
	}
	leaf, chain, err := e.Sign(p.ctx(), req, p.SubjectDN(req))
	if leaf != nil && p.engineSigned != nil {
		// Before anything is checked or placed, and when the engine's
		// certificate is refused too: the engine holds it now, so its
		// serial goes into the index (list shows it, revoke reaches it).
		resent := false
		if r, ok := e.(EngineResender); ok {
			resent = r.Resent(leaf)
		}
		if rerr := p.engineSigned(req, leaf, resent); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(leaf.PublicKey, pub) {
		return nil, fmt.Errorf("engine %s returned a certificate for another key", *p.Settings.Engine)
	}
	if len(chain) == 0 || !chain[0].Equal(p.CA) {
		got := "no issuer"
		if len(chain) > 0 {
			got = fmt.Sprintf("%s (sha256 %s)", caName(chain[0]), Fingerprint(chain[0]))
		}
		return nil, fmt.Errorf("%w: it signed with %s, the directory holds %s (sha256 %s)", ErrEngineCAChanged, got, caName(p.CA), Fingerprint(p.CA))
	}
	return leaf, nil
}

// KeyFingerprint is the SHA-256 of a public key's DER (PKIX), lowercase
// hex: how an engine request is reserved in the index before the engine
// picks its serial.
func KeyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// requestPublicKey is the key a request is for: its Key's or its CSR's.
func (req CertRequest) requestPublicKey() crypto.PublicKey {
	switch {
	case req.Key != nil:
		return req.Key.Public()
	case req.CSR != nil:
		return req.CSR.PublicKey
	}
	return nil
}

// reservation names a request's pending record: its serial, or for an
// engine request (the engine picks the serial) its key.
func (req CertRequest) reservation() string {
	if req.Serial != nil {
		return serialHex(req.Serial)
	}
	if pub := req.requestPublicKey(); pub != nil {
		return "key:" + KeyFingerprint(pub)
	}
	return ""
}

// reservation is the name of a pending record (see CertRequest's).
func (r Record) reservation() string {
	if r.EngineKey != "" {
		return "key:" + r.EngineKey
	}
	return r.Serial
}

// initEngine is Init for a directory an engine signs for: the engine's
// chain is copied in (issuing CA to ca/ca.crt, its issuers to
// ca/chain.pem, the root to DIR/ca.crt), with the settings naming the
// engine. No CA key exists anywhere on this host.
func (p *PKI) initEngine(o InitOptions, earlier *earlierCA) (*PKI, error) {
	chain := o.EngineChain
	if len(chain) == 0 {
		return nil, fmt.Errorf("engine %s: it has no CA certificate", *o.Engine)
	}
	for i := 1; i < len(chain); i++ {
		if err := chain[i-1].CheckSignatureFrom(chain[i]); err != nil {
			return nil, fmt.Errorf("engine %s: CA certificate %d of its chain is not signed by certificate %d: %v", *o.Engine, i, i+1, err)
		}
	}
	if root := chain[len(chain)-1]; root.CheckSignatureFrom(root) != nil {
		return nil, fmt.Errorf("engine %s: its CA chain ends at %s, which is not a self-signed root: import the intermediate followed by its root into the mount", *o.Engine, caName(root))
	}
	p.CA, p.Parents = chain[0], chain[1:]
	s := *o.Engine
	p.Settings.Engine = &s
	p.Settings.CAKeyEncrypted = false
	if err := fsx.MkdirPrivate(filepath.Join(o.Dir, CADir)); err != nil {
		return nil, err
	}
	var err error
	if earlier != nil {
		if p.Replaced, err = earlier.moveAside(o.Dir); err != nil {
			return nil, err
		}
	}
	if err := p.placeCA(o, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// EngineContext is the context the engine was attached with.
func (p *PKI) EngineContext() context.Context { return p.ctx() }

// SetEngineRequestStatus sets the status of the engine request reserved
// for the key with this fingerprint whose serial is unknown.
func (idx *Index) SetEngineRequestStatus(engineKey, status string) {
	for i := range idx.Records {
		if r := &idx.Records[i]; r.EngineKey == engineKey && r.Serial == "" {
			r.Status, r.RevokedAt = status, time.Time{}
		}
	}
}

// SetRevokedAt records when the engine revoked serial.
func (idx *Index) SetRevokedAt(serial string, at time.Time) {
	for i := range idx.Records {
		if r := &idx.Records[i]; r.Serial == serial && r.Status == StatusRevoked {
			r.RevokedAt = at.UTC().Truncate(time.Second)
		}
	}
}
