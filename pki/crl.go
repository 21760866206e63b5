package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	stdpem "encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// CRLFile is the certificate revocation list in the PKI directory, signed
// by the CA and rewritten by every revocation.
const CRLFile = "crl.pem"

// DefaultCRLDays is how long a CRL stays current (its nextUpdate): after
// that, relying parties that check it treat it as stale, so re-sign it
// (kafkatls revoke --crl) before then.
const DefaultCRLDays = 30

// CRLResult describes a written CRL.
type CRLResult struct {
	Path       string    `json:"path"`
	Number     string    `json:"number"`
	ThisUpdate time.Time `json:"thisUpdate"`
	NextUpdate time.Time `json:"nextUpdate"`
	Serials    []string  `json:"serials"` // revoked serials, lowercase hex
}

// CreateCRL returns a DER CRL signed by the CA listing every revoked
// certificate in idx. Serials are random 128-bit numbers, so listing one
// issued by a previous CA (during a rotation) cannot hit a certificate of
// this one.
func (p *PKI) CreateCRL(idx *Index, number *big.Int, now time.Time, validity time.Duration) ([]byte, error) {
	if validity <= 0 {
		validity = DefaultCRLDays * 24 * time.Hour
	}
	signer, err := p.Signer()
	if err != nil {
		return nil, err
	}
	var entries []x509.RevocationListEntry
	seen := map[string]bool{}
	for _, r := range idx.Records {
		if r.Status != StatusRevoked || seen[r.Serial] {
			continue
		}
		seen[r.Serial] = true
		serial, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("index record %s has a malformed serial %q", r.Name, r.Serial)
		}
		at := r.RevokedAt
		if at.IsZero() {
			at = now
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: at.UTC()})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].SerialNumber.Cmp(entries[j].SerialNumber) < 0 })
	tmpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now.UTC().Truncate(time.Second),
		NextUpdate:                now.Add(validity).UTC().Truncate(time.Second),
		RevokedCertificateEntries: entries,
	}
	if p.CA.KeyUsage != 0 && p.CA.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, fmt.Errorf("%w: the CA certificate %q lacks the cRLSign key usage", ErrCACannotSignCRL, p.CA.Subject)
	}
	if len(p.CA.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("%w: the CA certificate %q has no subject key identifier, which a CRL needs", ErrCACannotSignCRL, p.CA.Subject)
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.CA, signer)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return der, nil
}

// WriteCRL signs a new CRL for idx and writes it to DIR/crl.pem, with a CRL
// number one above the previous file's (1 for the first).
func (p *PKI) WriteCRL(idx *Index, now time.Time, validity time.Duration) (*CRLResult, error) {
	path := filepath.Join(p.Dir, CRLFile)
	number := big.NewInt(1)
	if prev, err := ReadCRL(path); err == nil && prev.Number != nil {
		number = new(big.Int).Add(prev.Number, big.NewInt(1))
	}
	der, err := p.CreateCRL(idx, number, now, validity)
	if err != nil {
		return nil, err
	}
	if err := fsx.WriteFile(path, stdpem.EncodeToMemory(&stdpem.Block{Type: "X509 CRL", Bytes: der}), fsx.PublicFile); err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, err
	}
	res := &CRLResult{Path: path, Number: crl.Number.String(), ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, Serials: []string{}}
	for _, e := range crl.RevokedCertificateEntries {
		res.Serials = append(res.Serials, hex.EncodeToString(e.SerialNumber.Bytes())) // as SerialHex and the index spell it
	}
	return res, nil
}

// ReadCRL parses a PEM (or DER) CRL file.
func ReadCRL(path string) (*x509.RevocationList, error) {
	b, err := fsx.ReadFileLimit(path, fsx.LimitStore)
	if err != nil {
		return nil, err
	}
	if blk, _ := stdpem.Decode(b); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s: PEM block %q is not an X509 CRL", path, blk.Type)
		}
		b = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return crl, nil
}

// ErrNotRevocable is returned by Revoke when name has no certificate left
// to revoke.
var ErrNotRevocable = errors.New("nothing to revoke")

// Revoke marks certificates of name revoked at now: the one with the given
// serial (lowercase hex) if serial is set, else every valid or superseded
// one (all certificates of the identity that still verify). It returns the
// records it revoked.
func (idx *Index) Revoke(name, serial string, now time.Time) ([]Record, error) {
	var out []Record
	known := false
	for i := range idx.Records {
		r := &idx.Records[i]
		if r.Name != name {
			continue
		}
		known = true
		if serial != "" && r.Serial != serial {
			continue
		}
		if r.Status != StatusValid && r.Status != StatusSuperseded && r.Status != StatusUnplaced {
			continue
		}
		r.Status = StatusRevoked
		r.RevokedAt = now.UTC().Truncate(time.Second)
		out = append(out, *r)
	}
	switch {
	case !known:
		return nil, fmt.Errorf("%w: no certificate named %q in the index", ErrNotRevocable, name)
	case len(out) == 0 && serial != "":
		return nil, fmt.Errorf("%w: %s has no valid, superseded or unplaced certificate with serial %s", ErrNotRevocable, name, serial)
	case len(out) == 0:
		return nil, fmt.Errorf("%w: every certificate of %s is already revoked or removed", ErrNotRevocable, name)
	}
	return out, nil
}

// WriteEngineCRL fetches the CRL of the engine that signs for this
// directory and writes it to DIR/crl.pem: with an engine, its CRL is the
// one that counts, and kafkatls only keeps a copy.
func (p *PKI) WriteEngineCRL() (*CRLResult, error) {
	e, err := p.Engine()
	if err != nil {
		return nil, err
	}
	crl, err := e.CRL(p.ctx())
	if err != nil {
		return nil, err
	}
	path := filepath.Join(p.Dir, CRLFile)
	if err := fsx.WriteFile(path, stdpem.EncodeToMemory(&stdpem.Block{Type: "X509 CRL", Bytes: crl.Raw}), fsx.PublicFile); err != nil {
		return nil, err
	}
	res := &CRLResult{Path: path, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, Serials: []string{}}
	if crl.Number != nil {
		res.Number = crl.Number.String()
	}
	for _, e := range crl.RevokedCertificateEntries {
		res.Serials = append(res.Serials, hex.EncodeToString(e.SerialNumber.Bytes()))
	}
	return res, nil
}
