// Package lifecycle keeps a kafkatls PKI alive over time: it renews an
// identity's certificate in place (same key, same password, same configs,
// so Kafka can reload the store without a restart), revokes certificates
// into a CRL, and rotates the CA in three stages that never leave a client
// or broker untrusted:
//
//	start    new CA; every truststore trusts the old AND the new CA
//	reissue  every certificate re-issued from the new CA
//	finish   the old CA dropped from every truststore
//
// Between stages the stores are rolled out and reloaded (ReloadCommands
// prints the kafka-configs commands that make brokers reload them).
package lifecycle

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/stores"
)

// PreviousDir holds the outgoing CA during a rotation.
const PreviousDir = pki.PreviousCADir

// ErrNoRotation is returned by Reissue and Finish outside a rotation.
var ErrNoRotation = errors.New("no CA rotation in progress")

// Sentinels for states the caller can fix; the CLI adds how.
var (
	// ErrRevoked: the identity was revoked, and a revoked identity is not
	// renewed (it needs a new certificate and its grants again).
	ErrRevoked = errors.New("was revoked: a revoked identity is not renewed")
	// ErrNoCertificate: the index has no current certificate of that name.
	ErrNoCertificate = errors.New("no current certificate")
	// ErrUnreadableIdentity: the identity's directory lost or damaged its
	// certificate.
	ErrUnreadableIdentity = errors.New("the identity's certificate cannot be read")
	// ErrExternalKey: the identity was signed from a CSR; its key is held
	// by the requester, so it cannot be re-keyed here.
	ErrExternalKey = errors.New("was signed from a CSR: its key is held by the requester")
	// ErrRotationInProgress: a rotation already has its new CA.
	ErrRotationInProgress = errors.New("a CA rotation is already in progress with its new CA")
	// ErrStragglers: identities are still signed by the previous CA.
	ErrStragglers = errors.New("still signed by the previous CA")
	// ErrSerialNeverReturned: an engine request's answer was lost, and
	// reconciliation (pki.Tx.Reconcile) has not found its certificate.
	ErrSerialNeverReturned = errors.New("the engine never returned the serial")
)

// Identity is an issued identity that has a directory.
type Identity struct {
	Name    string   `json:"name"`
	Role    pki.Role `json:"role"`
	Dir     string   `json:"dir"`
	Serial  string   `json:"serial"`
	OnNewCA bool     `json:"onCurrentCA"`
}

// CAInfo describes a CA certificate.
type CAInfo struct {
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
	SHA256   string    `json:"sha256"`
	Key      string    `json:"key"`
}

func caInfo(c *x509.Certificate) CAInfo {
	s, err := principal.JavaName(c.RawSubject)
	if err != nil {
		s = c.Subject.String()
	}
	return CAInfo{Subject: s, NotAfter: c.NotAfter.UTC(), SHA256: pki.Fingerprint(c), Key: pki.KeySpecOf(c.PublicKey).String()}
}

// InProgress reports whether a CA rotation was started and not finished.
func InProgress(pkiDir string) bool {
	return fsx.Exists(filepath.Join(pkiDir, PreviousDir, "ca.crt"))
}

// PreviousCA returns the outgoing CA of a rotation in progress.
func PreviousCA(pkiDir string) (*x509.Certificate, error) {
	b, err := fsx.ReadFileLimit(filepath.Join(pkiDir, PreviousDir, "ca.crt"), fsx.LimitPEM)
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(pkiDir, PreviousDir, "ca.crt"), err)
	}
	return certs[0], nil
}

// previousAnchor is the trust anchor of the outgoing CA: the root of its
// chain when it was an imported intermediate.
func previousAnchor(pkiDir string, ca *x509.Certificate) *x509.Certificate {
	if b, err := fsx.ReadFileLimit(filepath.Join(pkiDir, PreviousDir, filepath.Base(pki.CAChainFile)), fsx.LimitPEM); err == nil {
		if chain, err := pem.DecodeCerts(b); err == nil {
			return chain[len(chain)-1]
		}
	}
	return ca
}

// Identities lists the current identities of the index that have a
// directory, sorted by name, and whether each is signed by the current CA.
func Identities(p *pki.PKI, idx *pki.Index) []Identity {
	seen := map[string]bool{}
	var out []Identity
	for i := len(idx.Records) - 1; i >= 0; i-- {
		r := idx.Records[i]
		if r.Status != pki.StatusValid || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		dir := identity.Dir(p.Dir, r.Name)
		if !fsx.Exists(dir) {
			continue
		}
		id := Identity{Name: r.Name, Role: r.Role, Dir: dir, Serial: r.Serial}
		if c, err := readCert(filepath.Join(dir, identity.CertPEM)); err == nil {
			id.OnNewCA = c.CheckSignatureFrom(p.CA) == nil
		}
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := fsx.ReadFileLimit(path, fsx.LimitPEM)
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs[0], nil
}

// RenewOptions control a renewal.
type RenewOptions struct {
	// Rekey generates a new key (same type and size) instead of keeping it.
	Rekey bool
	// Days is the validity; 0 is the PKI's default.
	Days int
}

// Renew issues a new certificate for name from the current CA with the
// same subject, SANs and role, keeping its key (unless Rekey), password,
// store formats and configs, and marks the old record superseded. The new
// serial is reserved in the index before signing (tx.Reserve).
func Renew(tx *pki.Tx, name string, o RenewOptions) (*identity.Result, error) {
	p, idx := tx.PKI, tx.Index
	rec, ok := idx.Current(name)
	if !ok {
		for _, r := range idx.Records {
			if r.Name == name && r.Status == pki.StatusRevoked {
				return nil, fmt.Errorf("%s %w", name, ErrRevoked)
			}
		}
		for _, r := range idx.Records {
			if r.Name == name && r.Status == pki.StatusUnplaced {
				return nil, &UnplacedError{Name: name, Serial: r.Serial}
			}
		}
		return nil, fmt.Errorf("%w named %q in %s", ErrNoCertificate, name, p.Dir)
	}
	dir := identity.Dir(p.Dir, name)
	old, err := identity.LoadCert(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadableIdentity, err)
	}
	// Before the CA signs anything: the directory is safe to rewrite and
	// the password file agrees with the stores and configs (a refusal
	// after signing would leave a certificate out of the index).
	if err := identity.CheckReissue(dir, !rec.ExternalKey); err != nil {
		return nil, fmt.Errorf("renew %s: %w", name, err)
	}
	var m identity.Material
	pub := old.PublicKey
	if rec.ExternalKey {
		if o.Rekey {
			return nil, fmt.Errorf("%s %w; a new key needs a new CSR", name, ErrExternalKey)
		}
	} else {
		key, err := identity.LoadKey(dir)
		if err != nil {
			return nil, err
		}
		if o.Rekey {
			spec, err := pki.KeySpecOf(key.Public()).Normalize()
			if err != nil {
				spec = p.Settings.Key
			}
			if key, err = pki.GenerateKey(spec); err != nil {
				return nil, err
			}
		}
		m.Key, pub = key, key.Public()
	}
	req := pki.CertRequest{
		Name: name, Role: rec.Role, Subject: rec.Subject, RawSubject: old.RawSubject,
		SANs: pki.SANs{DNS: old.DNSNames, IPs: old.IPAddresses, Emails: old.EmailAddresses, URIs: old.URIs}, Days: o.Days,
		ExternalKey: rec.ExternalKey, Key: m.Key,
	}
	cert, err := tx.Sign(req, pub)
	if err != nil {
		return nil, err
	}
	m.Name, m.Role, m.Cert, m.CAChain, m.Trust = name, rec.Role, cert, p.Chain(), identity.TrustSet(p)
	res, err := identity.Reissue(dir, m)
	if err != nil {
		return nil, err
	}
	idx.Settle(identity.WithAuth(pki.NewRecord(name, rec.Role, cert, rec.ExternalKey), res))
	return res, nil
}

// RevokeResult is what Revoke did.
type RevokeResult struct {
	Revoked []pki.Record   `json:"revoked"`
	CRL     *pki.CRLResult `json:"crl"` // nil when the engine publishes none (Warnings says so)
	// Warnings: the engine revoked, but publishes no CRL to copy, or its
	// CRL could not be fetched (crl.pem does not list the revocation yet).
	Warnings []string `json:"warnings,omitempty"`
}

// Revoke marks name's certificates revoked (one serial, or all that still
// verify) and rewrites DIR/crl.pem. An empty name only re-signs the CRL.
// Unplaced certificates (signed by an interrupted run, never placed) are
// revoked with the rest.
//
// With an engine, when it revokes some of name's certificates and fails on
// others, Revoke returns the result (what was revoked, recorded in tx's
// index; the others at their earlier status) with a *PartialRevokeError:
// the transaction must then be committed, as RevokeUpdate does, so the
// index records the revocations the engine made (it never undoes them).
func Revoke(tx *pki.Tx, name, serial string, crlValidity time.Duration) (*RevokeResult, error) {
	p, idx := tx.PKI, tx.Index
	res := &RevokeResult{Revoked: []pki.Record{}}
	now := time.Now()
	var partial *PartialRevokeError
	if name != "" {
		if serial != "" {
			serial = matchSerial(idx, name, serial)
		}
		earlier := map[string]pki.Record{}
		for _, r := range idx.Records {
			if r.Name == name && r.Serial != "" {
				earlier[r.Serial] = r
			}
		}
		recs, err := idx.Revoke(name, serial, now)
		if err != nil {
			return nil, err
		}
		if p.External() {
			var failed []RevokeFailure
			if recs, failed, err = revokeAtEngine(p, idx, recs); err != nil {
				if errors.Is(err, ErrSerialNeverReturned) && tx.ReconcileErr != nil {
					err = fmt.Errorf("%w (this run's reconciliation failed: %v)", err, tx.ReconcileErr)
				}
				return nil, err
			}
			if len(failed) > 0 {
				// The engine did not revoke these: back to what they were.
				for i := range idx.Records {
					r := &idx.Records[i]
					for _, f := range failed {
						if e, ok := earlier[f.Serial]; ok && r.Name == name && r.Serial == f.Serial {
							r.Status, r.RevokedAt = e.Status, e.RevokedAt
						}
					}
				}
				partial = &PartialRevokeError{Name: name, Failed: failed}
				for _, r := range recs {
					partial.Revoked = append(partial.Revoked, r.Serial)
				}
			}
		}
		res.Revoked = recs
	}
	res, err := revokeCRL(p, idx, res, now, crlValidity)
	if err != nil {
		return nil, err
	}
	if partial != nil {
		return res, partial
	}
	return res, nil
}

// revokeCRL writes DIR/crl.pem after Revoke marked res.Revoked: the
// engine's copy, or the local CA's.
func revokeCRL(p *pki.PKI, idx *pki.Index, res *RevokeResult, now time.Time, crlValidity time.Duration) (*RevokeResult, error) {
	if p.External() {
		crl, err := p.WriteEngineCRL()
		switch {
		case err != nil && len(res.Revoked) > 0 && errors.Is(err, pki.ErrEngineNoCRL):
			// Revoked at the engine: the index must say so, CRL or not.
			res.Warnings = append(res.Warnings, err.Error())
			return res, nil
		case err != nil && len(res.Revoked) > 0:
			// Revoked at the engine, which will never un-revoke it: the
			// index must say so whatever the CRL fetch did (a network
			// fault, a timeout), or the transaction would drop the record
			// of a revocation that happened.
			res.Warnings = append(res.Warnings, fmt.Sprintf("revoked at the engine, but its CRL could not be fetched (%v): %s does not list it yet; "+
				"refresh it with `kafkatls revoke --crl` once the engine answers", err, filepath.Join(p.Dir, pki.CRLFile)))
			return res, nil
		case err != nil:
			return nil, err
		}
		res.CRL = crl
		return res, nil
	}
	crl, err := p.WriteCRL(idx, now, crlValidity)
	if err != nil {
		return nil, err
	}
	res.CRL = crl
	return res, nil
}

// revokeAtEngine revokes recs (marked revoked in idx) at the engine that
// signed them, each with the engine's revocation time. A request whose
// serial the engine never told (the run died while it signed) cannot be
// revoked by serial: it goes back to unplaced, and the error says how to
// find it at the engine.
//
// Each certificate is asked for on its own: those the engine refused (a
// network fault, a 5xx) are returned as failed, for Revoke to put back,
// unless it revoked none, which is an error (nothing happened at the
// engine, and the transaction can be dropped).
func revokeAtEngine(p *pki.PKI, idx *pki.Index, recs []pki.Record) ([]pki.Record, []RevokeFailure, error) {
	e, err := p.Engine()
	if err != nil {
		return nil, nil, err
	}
	var out []pki.Record
	var failed []RevokeFailure
	var unknown []string
	for _, r := range recs {
		if r.Serial == "" {
			unknown = append(unknown, "key sha256 "+r.EngineKey)
			idx.SetEngineRequestStatus(r.EngineKey, pki.StatusUnplaced)
			continue
		}
		serial, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, nil, fmt.Errorf("index record %s has a malformed serial %q", r.Name, r.Serial)
		}
		at, err := e.Revoke(p.EngineContext(), serial)
		if err != nil {
			failed = append(failed, RevokeFailure{Serial: r.Serial, Err: err})
			continue
		}
		idx.SetRevokedAt(r.Serial, at)
		r.RevokedAt = at
		out = append(out, r)
	}
	if len(out) == 0 && len(failed) > 0 {
		var errs []error
		for _, f := range failed {
			errs = append(errs, fmt.Errorf("revoke %s serial %s: %w", recs[0].Name, f.Serial, f.Err))
		}
		return nil, nil, errors.Join(errs...)
	}
	if len(unknown) > 0 && len(out) == 0 {
		return nil, nil, fmt.Errorf("%w: %w of %s's unplaced request (%s): reconciliation with the engine has not found its certificate (or the engine cannot list what it signed, as step-ca): find it in the engine's own records and revoke it there", pki.ErrNotRevocable, ErrSerialNeverReturned, recs[0].Name, strings.Join(unknown, ", "))
	}
	return out, failed, nil
}

// RevokeFailure is a certificate the engine did not revoke, and why.
type RevokeFailure struct {
	Serial string
	Err    error
}

// PartialRevokeError: the engine revoked some of Name's certificates
// (Revoked, recorded in the index) and failed on others (Failed, kept at
// their earlier status). Re-running the revoke retries only those.
type PartialRevokeError struct {
	Name    string
	Revoked []string
	Failed  []RevokeFailure
}

func (e *PartialRevokeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "revoke %s: the engine revoked serial %s (recorded in the index) but not", e.Name, strings.Join(e.Revoked, ", "))
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " serial %s: %v", f.Serial, f.Err)
	}
	fmt.Fprintf(&b, "; run `kafkatls revoke %s` again to revoke the rest (what is revoked is not asked again)", e.Name)
	return b.String()
}

// Unwrap returns the engine's errors, for errors.Is/As.
func (e *PartialRevokeError) Unwrap() []error {
	var out []error
	for _, f := range e.Failed {
		out = append(out, f.Err)
	}
	return out
}

// RevokeUpdate runs Revoke in a transaction of dir. A partial revocation
// (*PartialRevokeError) is committed, so the index records what the
// engine revoked, and then returned with the result.
func RevokeUpdate(ctx context.Context, dir string, o pki.UpdateOptions, name, serial string, crlValidity time.Duration) (*RevokeResult, error) {
	var res *RevokeResult
	var partial *PartialRevokeError
	err := pki.Update(ctx, dir, o, func(tx *pki.Tx) error {
		var err error
		res, err = Revoke(tx, name, serial, crlValidity)
		if errors.As(err, &partial) {
			return nil // commit what the engine did
		}
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case partial != nil:
		return res, partial
	}
	return res, nil
}

// matchSerial maps a serial as a person types it (openssl's uppercase,
// colons, 0x, leading zeros) to the index's spelling for name.
func matchSerial(idx *pki.Index, name, serial string) string {
	clean := strings.NewReplacer(":", "", " ", "").Replace(strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(serial, "0x"), "0X")))
	want, ok := new(big.Int).SetString(clean, 16)
	if !ok {
		return clean
	}
	for _, r := range idx.Records {
		if got, ok := new(big.Int).SetString(r.Serial, 16); ok && r.Name == name && got.Cmp(want) == 0 {
			return r.Serial
		}
	}
	return clean
}

// StartOptions configure a new CA.
type StartOptions struct {
	CN   string
	Days int
	// Key is the new CA's key; zero keeps the PKI's key type and size.
	Key pki.KeySpec
	// Passphrase must be given (and decrypt the current CA key) when the
	// CA key is encrypted; the new key is encrypted with it too.
	Passphrase []byte
	// ImportCert and ImportKey adopt an existing CA as the new one.
	ImportCert, ImportKey []byte
}

// StartResult is what Start did.
type StartResult struct {
	New      CAInfo   `json:"new"`
	Previous CAInfo   `json:"previous"`
	Trust    int      `json:"trustAnchors"`
	Updated  []string `json:"updated"` // identities whose truststores now trust both CAs
	Bundle   bool     `json:"bundleTruststores"`
	// Resumed: the rotation was already started; truststores were checked.
	Resumed bool `json:"resumed,omitempty"`
}

var generation = regexp.MustCompile(`^(.*) G(\d+)$`)

// NextCN names the CA after cn: "X" → "X G2", "X G2" → "X G3".
func NextCN(cn string) string {
	if m := generation.FindStringSubmatch(cn); m != nil {
		n, _ := strconv.Atoi(m[2])
		return fmt.Sprintf("%s G%d", m[1], n+1)
	}
	if cn == "" {
		cn = "kafkatls CA"
	}
	return cn + " G2"
}

// Start creates the new CA, keeps the old one under ca/previous/, and
// makes every truststore (identities, bundle, DIR/ca.crt) trust both.
// tx.PKI becomes the new CA.
func Start(tx *pki.Tx, o StartOptions) (*StartResult, error) {
	np, res, err := start(tx.PKI, tx.Index, o)
	if np != nil {
		tx.PKI = np
	}
	return res, err
}

// engineRotation refuses a CA rotation step in a directory an engine
// signs for: the engine holds the CA, so its CA is rotated there, and
// this directory then takes the new chain (init --force) and has its
// identities issued again.
func engineRotation(p *pki.PKI) error {
	return fmt.Errorf("CA rotation: %w (%s): the CA is rotated at the engine, not by kafkatls", pki.ErrEngineSigns, *p.Settings.Engine)
}

func start(p *pki.PKI, idx *pki.Index, o StartOptions) (*pki.PKI, *StartResult, error) {
	if p.External() {
		return nil, nil, engineRotation(p)
	}
	if InProgress(p.Dir) {
		// Started before (perhaps interrupted): make sure every truststore
		// trusts both CAs, and change nothing else.
		if o.CN != "" || o.Days != 0 || o.Key.Type != "" || o.ImportCert != nil {
			return nil, nil, fmt.Errorf("%w: a new CA name, validity, key or import does not apply", ErrRotationInProgress)
		}
		old, err := PreviousCA(p.Dir)
		if err != nil {
			return nil, nil, err
		}
		trust := dedup([]*x509.Certificate{p.TrustAnchor(), previousAnchor(p.Dir, old)})
		if err := fsx.WriteFile(filepath.Join(p.Dir, pki.TrustFile), pem.EncodeCerts(trust...), fsx.PublicFile); err != nil {
			return nil, nil, err
		}
		res := &StartResult{New: caInfo(p.CA), Previous: caInfo(old), Trust: len(trust), Resumed: true}
		res.Updated, res.Bundle, err = rewriteAllTrust(p, idx, trust)
		return p, res, err
	}
	if p.Settings.CAKeyEncrypted && len(o.Passphrase) == 0 {
		return nil, nil, fmt.Errorf("%w (the new CA key is encrypted with it too)", pki.ErrCAKeyEncrypted)
	}
	// Prove the operator holds the current CA key before replacing it.
	if _, err := p.Signer(); err != nil {
		return nil, nil, err
	}
	oldAnchor := p.TrustAnchor()
	oldCA := p.CA
	key := o.Key
	if key.Type == "" {
		key = p.Settings.Key
	}
	key, err := key.Normalize()
	if err != nil {
		return nil, nil, err
	}
	cn := o.CN
	if cn == "" {
		cn = NextCN(oldCA.Subject.CommonName)
	}
	// Move the current CA aside; put it back if the new one fails.
	prev := filepath.Join(p.Dir, PreviousDir)
	if err := fsx.MkdirPrivate(prev); err != nil {
		return nil, nil, err
	}
	var moved []string
	// undo puts the moved CA files back; a file it cannot put back is named
	// in the error, so nobody has to guess where the CA went.
	undo := func(cause error) error {
		errs := []error{cause}
		for _, f := range moved {
			from := filepath.Join(prev, filepath.Base(f))
			if err := os.Rename(from, filepath.Join(p.Dir, f)); err != nil {
				errs = append(errs, fmt.Errorf("restoring %s failed (it is kept at %s): %w", f, from, err))
			}
		}
		if len(errs) == 1 {
			os.Remove(prev) // empty again; a failure leaves an empty directory only
		}
		return errors.Join(errs...)
	}
	for _, f := range []string{pki.CACertFile, pki.CAKeyFile, pki.CAChainFile} {
		if !fsx.Exists(filepath.Join(p.Dir, f)) {
			continue
		}
		fsx.Fault("move CA aside " + filepath.Base(f))
		if err := os.Rename(filepath.Join(p.Dir, f), filepath.Join(prev, filepath.Base(f))); err != nil {
			return nil, nil, undo(err)
		}
		moved = append(moved, f)
	}
	np, err := pki.Init(pki.InitOptions{
		Dir: p.Dir, CN: cn, Subject: p.Settings.Subject, Key: key, Days: o.Days, Passphrase: o.Passphrase,
		ImportCert: o.ImportCert, ImportKey: o.ImportKey, LeafDays: p.Settings.LeafDays, Locked: true, Successor: true,
	})
	if err != nil {
		return nil, nil, undo(fmt.Errorf("new CA: %w", err))
	}
	trust := dedup([]*x509.Certificate{np.TrustAnchor(), oldAnchor})
	if err := fsx.WriteFile(filepath.Join(p.Dir, pki.TrustFile), pem.EncodeCerts(trust...), fsx.PublicFile); err != nil {
		return nil, nil, err
	}
	res := &StartResult{New: caInfo(np.CA), Previous: caInfo(oldCA), Trust: len(trust), Updated: []string{}}
	updated, bundleDone, err := rewriteAllTrust(np, idx, trust)
	res.Updated, res.Bundle = updated, bundleDone
	if err != nil {
		return np, res, err
	}
	return np, res, nil
}

func dedup(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, o := range out {
			dup = dup || o.Equal(c)
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// rewriteAllTrust rewrites every identity's truststores and the bundle
// truststores to hold exactly trust.
func rewriteAllTrust(p *pki.PKI, idx *pki.Index, trust []*x509.Certificate) ([]string, bool, error) {
	updated := []string{}
	for _, id := range Identities(p, idx) {
		if _, err := identity.RewriteTruststores(id.Dir, trust); err != nil {
			return updated, false, fmt.Errorf("%s: %w", id.Name, err)
		}
		updated = append(updated, id.Name)
	}
	done, err := rewriteBundleTrust(p.Dir, trust)
	return updated, done, err
}

// rewriteBundleTrust rewrites the bundle-level truststores, if the
// directory has them.
func rewriteBundleTrust(dir string, trust []*x509.Certificate) (bool, error) {
	pwb, err := fsx.ReadFileLimit(filepath.Join(dir, bundle.TruststorePassword), fsx.LimitSecret)
	if err != nil {
		return false, nil
	}
	pw := strings.TrimRight(string(pwb), "\r\n")
	entries := identity.TrustEntries(trust)
	wrote := false
	for _, name := range []string{bundle.TruststoreJKS, bundle.TruststoreP12} {
		path := filepath.Join(dir, name)
		if !fsx.Exists(path) {
			continue
		}
		var data []byte
		if name == bundle.TruststoreJKS {
			data, err = stores.JKSTruststore(entries, pw, time.Now().UTC().Truncate(time.Second))
		} else {
			data, err = stores.PKCS12Truststore(entries, pw, stores.Modern)
		}
		if err != nil {
			return wrote, fmt.Errorf("%s: %w", path, err)
		}
		if err := fsx.WriteFile(path, data, fsx.PublicFile); err != nil {
			return wrote, err
		}
		wrote = true
	}
	return wrote, nil
}

// Reissue re-issues every identity still signed by the previous CA from
// the new one (keystores then chain to the new CA; truststores keep both
// CAs). It is resumable: identities already on the new CA are skipped.
// The index is saved after each identity, so it always matches the
// directories.
func Reissue(tx *pki.Tx, o RenewOptions) ([]*identity.Result, error) {
	p, idx := tx.PKI, tx.Index
	if p.External() {
		return nil, engineRotation(p)
	}
	if !InProgress(p.Dir) {
		return nil, fmt.Errorf("%w: nothing to reissue from a new CA", ErrNoRotation)
	}
	var out []*identity.Result
	for _, id := range Identities(p, idx) {
		if id.OnNewCA {
			continue
		}
		res, err := Renew(tx, id.Name, o)
		if err != nil {
			return out, fmt.Errorf("%s: %w", id.Name, err)
		}
		if err := tx.Save(); err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// FinishResult is what Finish did.
type FinishResult struct {
	CA         CAInfo   `json:"ca"`
	Dropped    CAInfo   `json:"dropped"`
	Updated    []string `json:"updated"`
	Bundle     bool     `json:"bundleTruststores"`
	Retired    string   `json:"retiredTo"`
	Stragglers []string `json:"stillOnPreviousCA,omitempty"`
}

// Finish drops the previous CA from every truststore and DIR/ca.crt, and
// moves it to ca/retired-<time>/. It refuses while identities are still
// signed by the previous CA (they would stop being trusted) unless force.
func Finish(tx *pki.Tx, force bool) (*FinishResult, error) {
	p, idx := tx.PKI, tx.Index
	if p.External() {
		return nil, engineRotation(p)
	}
	if !InProgress(p.Dir) {
		return nil, fmt.Errorf("%w: nothing to finish", ErrNoRotation)
	}
	old, err := PreviousCA(p.Dir)
	if err != nil {
		return nil, err
	}
	var stragglers []string
	for _, id := range Identities(p, idx) {
		if !id.OnNewCA {
			stragglers = append(stragglers, id.Name)
		}
	}
	if len(stragglers) > 0 && !force {
		return nil, fmt.Errorf("%d identit%s %w (%s): finishing now would make everyone reject them",
			len(stragglers), map[bool]string{true: "y is", false: "ies are"}[len(stragglers) == 1], ErrStragglers, strings.Join(stragglers, ", "))
	}
	trust := []*x509.Certificate{p.TrustAnchor()}
	if err := fsx.WriteFile(filepath.Join(p.Dir, pki.TrustFile), pem.EncodeCerts(trust...), fsx.PublicFile); err != nil {
		return nil, err
	}
	res := &FinishResult{CA: caInfo(p.CA), Dropped: caInfo(old), Stragglers: stragglers}
	res.Updated, res.Bundle, err = rewriteAllTrust(p, idx, trust)
	if err != nil {
		return res, err
	}
	retired := filepath.Join(p.Dir, pki.CADir, "retired-"+time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Rename(filepath.Join(p.Dir, PreviousDir), retired); err != nil {
		return res, err
	}
	res.Retired = retired
	return res, nil
}

// Status describes where a rotation stands.
type Status struct {
	Phase      string     `json:"phase"` // none, started, reissued
	CA         CAInfo     `json:"ca"`
	Previous   *CAInfo    `json:"previous,omitempty"`
	Identities []Identity `json:"identities"`
	Pending    []string   `json:"pending"` // identities still on the previous CA
	Next       string     `json:"next"`
}

// GetStatus reports the rotation state of a PKI directory.
func GetStatus(p *pki.PKI, idx *pki.Index) Status {
	s := Status{Phase: "none", CA: caInfo(p.CA), Identities: Identities(p, idx), Pending: []string{}}
	if s.Identities == nil {
		s.Identities = []Identity{}
	}
	for _, id := range s.Identities {
		if !id.OnNewCA {
			s.Pending = append(s.Pending, id.Name)
		}
	}
	if !InProgress(p.Dir) {
		s.Next = "kafkatls ca rotate start (when the CA nears expiry or is compromised)"
		return s
	}
	if old, err := PreviousCA(p.Dir); err == nil {
		ci := caInfo(old)
		s.Previous = &ci
	}
	if len(s.Pending) > 0 {
		s.Phase = "started"
		s.Next = "roll out the truststores (both CAs) everywhere and reload them, then: kafkatls ca rotate reissue"
	} else {
		s.Phase = "reissued"
		s.Next = "roll out the keystores (new CA) everywhere and reload them, then: kafkatls ca rotate finish"
	}
	return s
}

// UnplacedError is renew's refusal of a name whose only certificate was
// signed by an interrupted run and never placed: there is no identity
// directory to renew. It is errors.Is ErrNoCertificate.
type UnplacedError struct {
	Name   string
	Serial string // the unplaced certificate's serial (hex)
}

func (e *UnplacedError) Error() string {
	return fmt.Sprintf("%s has no identity in place, only a certificate an interrupted run signed and never placed (serial %s, unplaced)", e.Name, e.Serial)
}

// Is makes errors.Is(err, ErrNoCertificate) true.
func (e *UnplacedError) Is(target error) bool { return target == ErrNoCertificate }
