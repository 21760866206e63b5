package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/principal"
)

// Layout of a PKI directory.
const (
	CADir       = "ca"
	CACertFile  = "ca/ca.crt"    // the signing CA certificate
	CAKeyFile   = "ca/ca.key"    // its key: PKCS#8, encrypted when a passphrase was given
	CAChainFile = "ca/chain.pem" // issuers above an imported intermediate, if any
	TrustFile   = "ca.crt"       // trust anchor(s) every truststore holds
	CertsDir    = "certs"
)

// DefaultCADays is the CA validity unless overridden (10 years).
const DefaultCADays = 3650

// ErrNoCA means the directory holds no CA yet.
var ErrNoCA = errors.New("no CA in this PKI directory")

// PKI is an opened PKI directory: its settings and CA certificate. The CA
// key is loaded (and decrypted) only when something is signed.
type PKI struct {
	Dir      string
	Settings Settings
	CA       *x509.Certificate
	// Parents are the issuers above an imported intermediate CA, nearest
	// first; empty for a root CA.
	Parents []*x509.Certificate

	passphrase func() ([]byte, error)
	key        crypto.Signer
	// Replaced is set by an Init with Force that moved an earlier CA aside.
	Replaced *Replaced

	// stagedTrust is what an Init with InitOptions.Batch staged for
	// TrustFile, which is not in place until the caller commits.
	stagedTrust []*x509.Certificate

	// The engine that signs, for a directory whose settings name one
	// (AttachEngine, Engine).
	engine     Engine
	engineCtx  context.Context
	engineOpen EngineOpener
	// engineSigned records the serial an engine chose, durably, before
	// Sign returns (set by Tx.Reserve: the transaction's index).
	// resent: the engine may hold a second certificate (EngineResender).
	engineSigned func(req CertRequest, leaf *x509.Certificate, resent bool) error
}

// InitOptions configure a new CA.
type InitOptions struct {
	Dir     string
	CN      string
	Subject SubjectDefaults
	Key     KeySpec
	Days    int
	// Passphrase encrypts the CA key at rest when non-empty.
	Passphrase []byte
	// ImportCert and ImportKey (PEM contents) adopt an existing CA instead
	// of creating one. ImportCert may hold the CA followed by its issuers.
	ImportCert, ImportKey []byte
	// Force replaces an existing CA, or what is left of one: every file of
	// it is moved to ca/replaced-<time>/, never deleted (PKI.Replaced says
	// what moved and which identities it orphaned).
	Force bool
	// Successor says the caller (ca rotate) moved the current CA aside
	// itself and keeps the trust file and the index, which belong to the
	// rotation: Init does not look for an earlier CA.
	Successor bool
	// LeafDays is the default validity of issued certificates.
	LeafDays int
	// Locked says the caller runs Init inside a transaction (pki.Update)
	// on Dir; otherwise Init runs in one of its own.
	Locked bool
	// Batch, if set, receives the CA's files instead of Init committing
	// them itself. The caller commits it, with whatever depends on the CA
	// staged after them (bundle stages its identities, bundle files and
	// index there, so a whole run costs one syncfs), and hands out nothing
	// the CA signed before that. Until then the files are not in place:
	// (*PKI).StagedTrust stands in for TrustFile.
	Batch *fsx.Batch
	// Engine, when set, makes a directory whose certificates this engine
	// signs: EngineChain (its issuing CA first, up to the root, as
	// Engine.Chain returns it) is copied in, no CA key is made or kept,
	// and Key is the key type of the identities' keys. CN, Days,
	// Passphrase and the Import fields do not apply.
	Engine      *EngineSettings
	EngineChain []*x509.Certificate
}

// Init creates (or adopts) the CA of a PKI directory. It refuses to replace
// any CA material (key, certificate, trust file, index), complete or not,
// unless Force is set, with an *ExistingCAError; a replaced CA is kept
// under ca/replaced-<time>/ so no CA is ever lost.
func Init(o InitOptions) (*PKI, error) {
	if o.Dir == "" {
		return nil, errors.New("PKI directory: empty path")
	}
	key, err := o.Key.Normalize()
	if err != nil {
		return nil, err
	}
	o.Key = key
	if o.Days == 0 {
		o.Days = DefaultCADays
	}
	if o.Days < 1 {
		return nil, invalid(FieldCADays, fmt.Sprint(o.Days), "CA validity %d days: must be at least 1", o.Days)
	}
	if o.LeafDays == 0 {
		o.LeafDays = DefaultLeafDays
	}
	if o.CN == "" {
		o.CN = "kafkatls CA"
	}
	if err := fsx.MkdirPrivate(o.Dir); err != nil {
		return nil, err
	}
	if !o.Locked {
		// A transaction of its own: the lock, and the repair of what a
		// killed writer left (a bundle stages a new CA's files until its
		// end), before anything else.
		var p *PKI
		err := Update(context.Background(), o.Dir, UpdateOptions{AllowNoCA: true}, func(tx *Tx) error {
			o.Locked = true
			var err error
			p, err = Init(o)
			tx.PKI = p
			if p != nil && p.Replaced != nil {
				// The old CA's index moved aside with it: the new CA
				// starts with an empty one, not the transaction's copy.
				tx.Index = &Index{}
			}
			return err
		})
		return p, err
	}

	var earlier *earlierCA
	if !o.Successor {
		var err error
		if earlier, err = findEarlierCA(o.Dir); err != nil {
			return nil, err
		}
		if earlier != nil && !o.Force {
			return nil, earlier.refusal(o)
		}
	}

	p := &PKI{Dir: o.Dir, Settings: Settings{Version: 1, Subject: o.Subject, Key: o.Key, LeafDays: o.LeafDays, CAKeyEncrypted: len(o.Passphrase) > 0}}
	var signer crypto.Signer
	if o.Engine != nil {
		return p.initEngine(o, earlier)
	}
	if o.ImportCert != nil || o.ImportKey != nil {
		signer, err = p.adopt(o.ImportCert, o.ImportKey, o.Passphrase)
	} else {
		signer, err = p.createRoot(o)
	}
	if err != nil {
		return nil, err
	}
	p.key = signer

	var keyPEM []byte
	if len(o.Passphrase) > 0 {
		keyPEM, err = pem.EncodeEncryptedKey(signer, o.Passphrase)
	} else {
		keyPEM, err = pem.EncodeKey(signer)
	}
	if err != nil {
		return nil, err
	}
	if err := fsx.MkdirPrivate(filepath.Join(o.Dir, CADir)); err != nil {
		return nil, err
	}
	// The new CA exists (in memory) before anything of the old one moves:
	// a failed creation or import leaves the directory as it was.
	if earlier != nil {
		if p.Replaced, err = earlier.moveAside(o.Dir); err != nil {
			return nil, err
		}
	}
	// One batch, renamed in this order: the intent (creatingFile), the key,
	// and the certificate, which marks a directory as holding a CA, last.
	// A run killed part-way leaves no CA, never a certificate without its
	// key; killed between the renames it leaves a key without its
	// certificate, which the next transaction's recovery completes from the
	// intent (init never overwrites a lone key: without an intent it cannot
	// tell a lost certificate from a killed run). (Across a power loss
	// the order holds on file systems that journal metadata in order, as
	// ext4 and XFS do; elsewhere the worst case is a certificate whose key
	// is missing, which kafkatls reports and init --force moves aside.)
	if err := p.placeCA(o, keyPEM); err != nil {
		return nil, err
	}
	return p, nil
}

// placeCA writes a new CA's files as one batch (o.Batch when the caller
// commits it, else its own, committed here): the intent (creatingFile),
// the key (none for an engine's CA), the public files, the certificate,
// which marks the directory as holding a CA, last.
func (p *PKI) placeCA(o InitOptions, keyPEM []byte) error {
	var parents []byte // an adopted intermediate's or an engine's issuers
	if len(p.Parents) > 0 {
		parents = pem.EncodeCerts(p.Parents...)
	}
	var public []creationFile
	for _, w := range []struct {
		name string
		data []byte
	}{
		{TrustFile, pem.EncodeCerts(p.TrustAnchor())},
		{CAChainFile, parents},
		{settingsFile, settingsJSON(p.Settings)},
		{CACertFile, pem.EncodeCerts(p.CA)},
	} {
		if w.data != nil {
			public = append(public, creationFile{Path: w.name, Data: w.data})
		}
	}
	intent, err := newCreation(keyPEM, public)
	if err != nil {
		return err
	}
	b := o.Batch
	if b == nil {
		b = new(fsx.Batch)
	}
	if err := b.WriteFile(filepath.Join(o.Dir, creatingFile), intent, fsx.PublicFile); err != nil {
		return err
	}
	if keyPEM != nil {
		if err := b.WriteFile(filepath.Join(o.Dir, CAKeyFile), keyPEM, fsx.PrivateFile); err != nil {
			return err
		}
	}
	for _, f := range public {
		if err := b.WriteFile(filepath.Join(o.Dir, f.Path), f.Data, fsx.PublicFile); err != nil {
			return err
		}
	}
	if o.Batch != nil {
		p.stagedTrust = []*x509.Certificate{p.TrustAnchor()}
		return nil
	}
	if err := b.Commit(); err != nil {
		return err
	}
	return removeCreating(o.Dir)
}

// StagedTrust returns, for a PKI from an Init with InitOptions.Batch, the
// trust set staged for TrustFile, which is not in place until the caller
// commits the batch; nil for any other PKI, whose TrustFile is on disk.
func (p *PKI) StagedTrust() []*x509.Certificate { return p.stagedTrust }

func (p *PKI) createRoot(o InitOptions) (crypto.Signer, error) {
	rawSubject, err := principal.ParseDN(o.Subject.DN(o.CN))
	if err != nil {
		return nil, fmt.Errorf("CA subject: %w", err)
	}
	key, err := GenerateKey(o.Key)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            rawSubject,
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.AddDate(0, 0, o.Days),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	p.CA, _ = x509.ParseCertificate(der)
	return key, nil
}

func (p *PKI) adopt(certPEM, keyPEM, passphrase []byte) (crypto.Signer, error) {
	if certPEM == nil || keyPEM == nil {
		return nil, invalid(FieldCAKey, "", "an adopted CA needs both its certificate and its key")
	}
	certs, err := pem.DecodeCerts(certPEM)
	if err != nil {
		return nil, &InvalidFieldError{Field: FieldCACert, Problem: "CA certificate: " + err.Error(), Err: err}
	}
	ca := certs[0]
	if !ca.IsCA || !ca.BasicConstraintsValid {
		return nil, invalid(FieldCACert, ca.Subject.String(), "%q is not a CA certificate (BasicConstraints CA:TRUE missing)", ca.Subject)
	}
	if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, invalid(FieldCACert, ca.Subject.String(), "CA certificate %q lacks the keyCertSign key usage", ca.Subject)
	}
	if time.Now().After(ca.NotAfter) {
		return nil, invalid(FieldCACert, ca.Subject.String(), "CA certificate %q expired on %s", ca.Subject, ca.NotAfter.Format(time.DateOnly))
	}
	key, err := pem.DecodeKey(keyPEM, func() ([]byte, error) {
		if len(passphrase) == 0 {
			return nil, ErrCAKeyEncrypted
		}
		return passphrase, nil
	})
	switch {
	case errors.Is(err, pem.ErrWrongPassphrase):
		return nil, fmt.Errorf("CA key: %w", ErrWrongPassphrase) // as for a CA in place: not a usage error
	case errors.Is(err, ErrCAKeyEncrypted):
		return nil, fmt.Errorf("CA key: %w", err)
	case err != nil:
		return nil, &InvalidFieldError{Field: FieldCAKey, Problem: "CA key: " + err.Error(), Err: err}
	}
	if !publicKeysEqual(key.Public(), ca.PublicKey) {
		return nil, invalid(FieldCAKey, "", "the CA key does not match the CA certificate's public key")
	}
	for i := 1; i < len(certs); i++ {
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return nil, invalid(FieldCACert, "", "CA certificate %d is not signed by certificate %d: %v (the CA comes first, then its issuers in order)", i, i+1, err)
		}
	}
	p.CA, p.Parents = ca, certs[1:]
	p.Settings.Key = KeySpecOf(ca.PublicKey)
	return key, nil
}

// Open reads a PKI directory. passphrase is called only if a signing
// operation needs the encrypted CA key.
func Open(dir string, passphrase func() ([]byte, error)) (*PKI, error) {
	certPEM, err := fsx.ReadFileLimit(filepath.Join(dir, CACertFile), fsx.LimitPEM)
	if errors.Is(err, fs.ErrNotExist) {
		if fsx.Exists(filepath.Join(dir, CAKeyFile)) {
			return nil, incompleteCA(dir)
		}
		return nil, fmt.Errorf("%w: %s", ErrNoCA, dir)
	}
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CACertFile), err)
	}
	s, err := loadSettings(dir)
	if err != nil {
		return nil, fmt.Errorf("PKI settings: %w", err)
	}
	p := &PKI{Dir: dir, Settings: s, CA: certs[0], passphrase: passphrase}
	if chain, err := fsx.ReadFileLimit(filepath.Join(dir, CAChainFile), fsx.LimitPEM); err == nil {
		if p.Parents, err = pem.DecodeCerts(chain); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CAChainFile), err)
		}
	}
	return p, nil
}

// Signer returns the CA private key, decrypting it on first use.
func (p *PKI) Signer() (crypto.Signer, error) {
	if p.key != nil {
		return p.key, nil
	}
	if p.External() {
		return nil, fmt.Errorf("%w (%s)", ErrEngineSigns, *p.Settings.Engine)
	}
	keyPEM, err := fsx.ReadFileLimit(filepath.Join(p.Dir, CAKeyFile), fsx.LimitPEM)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingKey(p.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	pass := p.passphrase
	if pass == nil {
		pass = func() ([]byte, error) { return nil, pem.ErrPassphraseRequired }
	}
	key, err := pem.DecodeKey(keyPEM, pass)
	switch {
	case errors.Is(err, pem.ErrPassphraseRequired):
		return nil, ErrCAKeyEncrypted
	case errors.Is(err, pem.ErrWrongPassphrase):
		return nil, ErrWrongPassphrase
	case err != nil:
		return nil, fmt.Errorf("CA key %s: %w", filepath.Join(p.Dir, CAKeyFile), err)
	}
	if !publicKeysEqual(key.Public(), p.CA.PublicKey) {
		return nil, fmt.Errorf("CA key %s does not match %s", filepath.Join(p.Dir, CAKeyFile), filepath.Join(p.Dir, CACertFile))
	}
	p.key = key
	return key, nil
}

// Chain returns the CA followed by its issuers: what follows a leaf in a
// keystore's certificate chain.
func (p *PKI) Chain() []*x509.Certificate {
	return append([]*x509.Certificate{p.CA}, p.Parents...)
}

// TrustAnchor is the certificate truststores hold: the root when the chain
// up to it is known, else the CA itself.
func (p *PKI) TrustAnchor() *x509.Certificate {
	c := p.Chain()
	return c[len(c)-1]
}

// Lock takes the PKI directory's exclusive lock.
func (p *PKI) Lock() (unlock func() error, err error) { return fsx.Lock(p.Dir) }

func randomSerial() (*big.Int, error) {
	// 128 random bits, positive: far beyond the CA/B 64-bit minimum.
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ae, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	if ae.Equal(b) {
		return true
	}
	da, errA := x509.MarshalPKIXPublicKey(a)
	db, errB := x509.MarshalPKIXPublicKey(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}
