package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/principal"
)

// previousDir holds the outgoing CA during a rotation (lifecycle.PreviousDir):
// CA material like the rest.
const previousDir = "ca/previous"

// caMaterial are the files and directories that belong to a CA, in the
// order an earlier CA's are listed: what Init never replaces without Force.
var caMaterial = []string{CAKeyFile, CACertFile, CAChainFile, TrustFile, indexFile, CRLFile, previousDir}

// ErrIncompleteCA means the directory holds part of a CA: its key without
// its certificate. It is not ErrNoCA: nothing may create a CA over it.
var ErrIncompleteCA = errors.New("incomplete CA")

// ExistingCAError is Init's refusal to touch an earlier CA without Force.
// For a complete CA initialised with the same settings, Differences is
// empty and Same reports true: the caller may treat that as success.
type ExistingCAError struct {
	Dir string
	// CA is the earlier CA certificate, nil when ca/ca.crt is missing or
	// unreadable.
	CA *x509.Certificate
	// Present lists the CA files found, relative to Dir.
	Present []string
	// HasCert and HasKey say whether ca/ca.crt and ca/ca.key exist.
	HasCert, HasKey bool
	// Differences says how the requested settings differ from the CA's,
	// for a complete CA.
	Differences []string
	// Identities are the names of the valid certificates in the index.
	Identities []string
	// Engine is the engine that signs for the directory, if one does: its
	// CA is complete without a key.
	Engine *EngineSettings
}

// complete says the directory holds a whole CA: a certificate and its
// key, or a certificate and the engine that holds the key.
func (e *ExistingCAError) complete() bool { return e.HasCert && (e.HasKey || e.Engine != nil) }

// Same reports whether the directory holds a complete CA made with the
// settings Init was given.
func (e *ExistingCAError) Same() bool { return e.complete() && len(e.Differences) == 0 }

func (e *ExistingCAError) Error() string {
	switch {
	case e.Same():
		return fmt.Sprintf("%s is already initialised: CA %s, sha256 %s", e.Dir, caName(e.CA), Fingerprint(e.CA))
	case e.complete():
		return fmt.Sprintf("%s already holds a CA (%s, sha256 %s) with other settings: %s. Nothing was changed; to keep using it, initialise it with its own settings or not at all",
			e.Dir, caName(e.CA), fingerprintOrNone(e.CA), strings.Join(e.Differences, "; "))
	case e.HasKey:
		return fmt.Sprintf("%s holds a CA key (%s) but no CA certificate (%s). Nothing was changed. "+
			"Restore %s from a backup (it is checked against the key before anything is signed)%s",
			e.Dir, CAKeyFile, CACertFile, CACertFile, restoreHint(e.Dir))
	case e.HasCert:
		return fmt.Sprintf("%s holds a CA certificate (%s, %s) but not its key (%s). Nothing was changed. Restore %s from a backup",
			e.Dir, CACertFile, caName(e.CA), CAKeyFile, CAKeyFile)
	default:
		return fmt.Sprintf("%s holds no CA (%s and %s are missing) but still holds an earlier CA's %s. Nothing was changed. Restore %s and %s from a backup",
			e.Dir, CACertFile, CAKeyFile, strings.Join(e.Present, ", "), CACertFile, CAKeyFile)
	}
}

// Is makes every refusal errors.Is(err, ErrCAExists): the directory holds
// CA material that only a forced init may move aside.
func (e *ExistingCAError) Is(target error) bool { return target == ErrCAExists && !e.Same() }

// Orphans says what replacing the CA would cost: "its N identities" (or
// "every identity it signed" when the index lists none).
func (e *ExistingCAError) Orphans() string {
	if n := len(e.Identities); n > 0 {
		return identities(n)
	}
	return "every identity it signed"
}

func identities(n int) string {
	if n == 1 {
		return "its 1 identity"
	}
	return fmt.Sprintf("its %d identities", n)
}

// restoreHint offers the trust file as the missing CA certificate when it
// provably is: one certificate whose public key is the (unencrypted) CA
// key's. An encrypted key cannot be checked, so nothing is offered then.
func restoreHint(dir string) string {
	b, err := fsx.ReadFileLimit(filepath.Join(dir, TrustFile), fsx.LimitPEM)
	if err != nil {
		return ""
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil || len(certs) != 1 {
		return ""
	}
	kb, err := fsx.ReadFileLimit(filepath.Join(dir, CAKeyFile), fsx.LimitPEM)
	if err != nil {
		return ""
	}
	key, err := pem.DecodeKey(kb, nil)
	if err != nil || !publicKeysEqual(key.Public(), certs[0].PublicKey) {
		return ""
	}
	return fmt.Sprintf(" — %s holds the certificate of this key: `cp %s %s` restores it",
		filepath.Join(dir, TrustFile), filepath.Join(dir, TrustFile), filepath.Join(dir, CACertFile))
}

func caName(c *x509.Certificate) string {
	if c == nil {
		return "unreadable"
	}
	if n, err := principal.JavaName(c.RawSubject); err == nil {
		return n
	}
	return c.Subject.String()
}

func fingerprintOrNone(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	return Fingerprint(c)
}

// Replaced is what an Init with Force moved aside.
type Replaced struct {
	// Dir is the ca/replaced-<time>/ directory, which mirrors the PKI
	// directory's layout: moving its content back restores the old CA.
	Dir string
	// Files are the moved files, relative to the PKI directory.
	Files []string
	// CA is the replaced CA certificate, nil if there was none.
	CA *x509.Certificate
	// Orphaned are the names of the identities the replaced CA had
	// issued and that were still valid: truststores that trust only the
	// new CA refuse them.
	Orphaned []string
	// Engine is the engine the replaced directory's settings named, nil
	// for a local CA (or unreadable settings): an engine's CA is rotated
	// at the engine, never by a CA rotation in the directory.
	Engine *EngineSettings
}

// earlierCA is what findEarlierCA found of a CA in a directory.
type earlierCA struct {
	present         []string
	hasCert, hasKey bool
	cert            *x509.Certificate
	valid           []string
}

// findEarlierCA looks for any CA material in dir; nil if there is none.
// An index without settled records is not material: nothing refers to a
// CA when it holds only the pending reservations of a run that died before
// its CA was placed (recovery drops those), or the unplaced certificates an
// engine signed for such a run (kept: the engine holds them).
func findEarlierCA(dir string) (*earlierCA, error) {
	e := &earlierCA{}
	for _, f := range caMaterial {
		if !fsx.Exists(filepath.Join(dir, f)) {
			continue
		}
		if f == indexFile {
			idx, err := LoadIndex(dir)
			if err == nil && !slices.ContainsFunc(idx.Records, func(r Record) bool {
				return r.Status != StatusPending && !(r.Status == StatusUnplaced && r.EngineKey != "")
			}) {
				continue
			}
			if err == nil {
				for _, r := range idx.Records {
					if r.Status == StatusValid {
						e.valid = append(e.valid, r.Name)
					}
				}
			}
		}
		e.present = append(e.present, f)
	}
	if len(e.present) == 0 {
		return nil, nil
	}
	e.hasCert = fsx.Exists(filepath.Join(dir, CACertFile))
	e.hasKey = fsx.Exists(filepath.Join(dir, CAKeyFile))
	if b, err := fsx.ReadFileLimit(filepath.Join(dir, CACertFile), fsx.LimitPEM); err == nil {
		if certs, err := pem.DecodeCerts(b); err == nil {
			e.cert = certs[0]
		}
	}
	return e, nil
}

// refusal is the error Init returns for e when not forced; o is normalized.
func (e *earlierCA) refusal(o InitOptions) *ExistingCAError {
	err := &ExistingCAError{Dir: o.Dir, CA: e.cert, Present: e.present, HasCert: e.hasCert, HasKey: e.hasKey, Identities: e.valid}
	if s, serr := loadSettings(o.Dir); serr == nil {
		err.Engine = s.Engine
	}
	if err.complete() {
		err.Differences = e.differences(o)
	}
	return err
}

// differences says how o (normalized) differs from the existing CA and
// the directory's settings, in words that name the setting.
func (e *earlierCA) differences(o InitOptions) []string {
	if e.cert == nil {
		return []string{fmt.Sprintf("%s does not hold a readable certificate", CACertFile)}
	}
	s, err := loadSettings(o.Dir)
	if err != nil {
		return []string{fmt.Sprintf("its settings cannot be read (%v)", err)}
	}
	var d []string
	differ := func(what, has, asked string) {
		if has != asked {
			d = append(d, fmt.Sprintf("%s is %s, not %s", what, has, asked))
		}
	}
	signer := func(es *EngineSettings) string {
		if es == nil {
			return "a local CA"
		}
		return "engine " + es.String()
	}
	differ("what signs", signer(s.Engine), signer(o.Engine))
	if s.Engine != nil || o.Engine != nil {
		if o.Engine != nil && len(o.EngineChain) > 0 && !o.EngineChain[0].Equal(e.cert) {
			differ("the CA", fmt.Sprintf("%s (sha256 %s)", caName(e.cert), Fingerprint(e.cert)),
				fmt.Sprintf("the engine's %s (sha256 %s)", caName(o.EngineChain[0]), Fingerprint(o.EngineChain[0])))
		}
		differ("the subject default for issued certificates", s.Subject.DN("NAME"), o.Subject.DN("NAME"))
		differ("the leaf validity", fmt.Sprintf("%d days", s.LeafDays), fmt.Sprintf("%d days", o.LeafDays))
		differ("the key type of issued certificates", s.Key.String(), o.Key.String())
		return d
	}
	if o.ImportCert != nil {
		certs, err := pem.DecodeCerts(o.ImportCert)
		if err != nil || !certs[0].Equal(e.cert) {
			asked := "another certificate"
			if err == nil {
				asked = fmt.Sprintf("%s (sha256 %s)", caName(certs[0]), Fingerprint(certs[0]))
			}
			differ("the CA", fmt.Sprintf("%s (sha256 %s)", caName(e.cert), Fingerprint(e.cert)), asked)
		}
	} else {
		if raw, err := principal.ParseDN(o.Subject.DN(o.CN)); err != nil || !bytes.Equal(raw, e.cert.RawSubject) {
			differ("the CA subject", caName(e.cert), o.Subject.DN(o.CN))
		}
		differ("the key", KeySpecOf(e.cert.PublicKey).String(), o.Key.String())
		days := int(math.Round(e.cert.NotAfter.Sub(e.cert.NotBefore.Add(5*time.Minute)).Hours() / 24))
		differ("the CA validity", fmt.Sprintf("%d days", days), fmt.Sprintf("%d days", o.Days))
	}
	differ("the subject default for issued certificates", s.Subject.DN("NAME"), o.Subject.DN("NAME"))
	differ("the leaf validity", fmt.Sprintf("%d days", s.LeafDays), fmt.Sprintf("%d days", o.LeafDays))
	switch asked := len(o.Passphrase) > 0; {
	case s.CAKeyEncrypted && !asked:
		d = append(d, "the CA key is encrypted at rest and no passphrase was given")
	case !s.CAKeyEncrypted && asked:
		d = append(d, "the CA key is not encrypted and a passphrase was given")
	case asked:
		// Same settings must mean the same passphrase too: init does not
		// change it, and "already initialised" must not suggest it did.
		if b, err := fsx.ReadFileLimit(filepath.Join(o.Dir, CAKeyFile), fsx.LimitPEM); err == nil {
			if _, err := pem.DecodeKey(b, func() ([]byte, error) { return o.Passphrase, nil }); err != nil {
				d = append(d, "the CA key does not decrypt with the passphrase given (init never changes a passphrase)")
			}
		}
	}
	return d
}

// moveAside moves every file of e (and the settings) into a new
// ca/replaced-<time>/ that mirrors the directory's layout, undoing the
// moves if one fails, and makes the renames durable.
func (e *earlierCA) moveAside(dir string) (*Replaced, error) {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	aside := filepath.Join(dir, CADir, "replaced-"+stamp)
	for i := 2; fsx.Exists(aside); i++ {
		aside = filepath.Join(dir, CADir, fmt.Sprintf("replaced-%s-%d", stamp, i))
	}
	for _, d := range []string{aside, filepath.Join(aside, CADir)} {
		if err := fsx.MkdirPrivate(d); err != nil {
			return nil, err
		}
	}
	r := &Replaced{Dir: aside, CA: e.cert, Orphaned: e.valid}
	if s, err := loadSettings(dir); err == nil {
		r.Engine = s.Engine
	}
	files := append([]string{}, e.present...)
	if fsx.Exists(filepath.Join(dir, settingsFile)) {
		files = append(files, settingsFile)
	}
	for _, f := range files {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(aside, f)); err != nil {
			for _, m := range r.Files {
				os.Rename(filepath.Join(aside, m), filepath.Join(dir, m))
			}
			return nil, fmt.Errorf("move the old CA aside: %w", err)
		}
		r.Files = append(r.Files, f)
	}
	if err := fsx.SyncPaths([]string{dir, filepath.Join(dir, CADir), aside, filepath.Join(aside, CADir)}); err != nil {
		return nil, err
	}
	return r, nil
}

// incompleteCA is Open's error for a directory whose CA key is there but
// whose certificate is not: it must not send anyone to a plain init.
func incompleteCA(dir string) error {
	return fmt.Errorf("%w in %s: the CA key %s is there but the CA certificate %s is missing; restore %s from a backup "+
		"(it is checked against the key before anything is signed)%s. A new CA is never created over the key",
		ErrIncompleteCA, dir, filepath.Join(dir, CAKeyFile), filepath.Join(dir, CACertFile), filepath.Join(dir, CACertFile), restoreHint(dir))
}

// missingKey is Signer's error when the CA certificate has no key beside it.
func missingKey(dir string) error {
	return fmt.Errorf("%w: %s is missing; restore it from a backup: nothing can be signed without it",
		ErrMissingCAKey, filepath.Join(dir, CAKeyFile))
}

// ErrMissingCAKey means the CA certificate is there but its key is not.
var ErrMissingCAKey = errors.New("the CA key is missing")
