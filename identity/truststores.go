package identity

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
)

// This file holds the helpers that renewal and CA rotation need on top of
// Write: the PKI directory's trust set, rebuilding an entity's truststores
// in place, and re-issuing an entity directory while keeping its password
// and configs byte for byte.

// TrustSet returns the certificates every truststore should hold: the
// contents of DIR/ca.crt (during a CA rotation the new and the previous
// trust anchor), always including the CA's own trust anchor (first when
// ca.crt lacks it). Duplicates are dropped.
func TrustSet(p *pki.PKI) []*x509.Certificate {
	if t := p.StagedTrust(); t != nil {
		return slices.Clone(t) // the CA's files are staged, not yet in place
	}
	anchor := p.TrustAnchor()
	var out []*x509.Certificate
	if b, err := fsx.ReadFileLimit(filepath.Join(p.Dir, pki.TrustFile), fsx.LimitPEM); err == nil {
		if certs, err := pem.DecodeCerts(b); err == nil {
			out = certs
		}
	}
	out = dedupCerts(out)
	for _, c := range out {
		if c.Equal(anchor) {
			return out
		}
	}
	return append([]*x509.Certificate{anchor}, out...)
}

func dedupCerts(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, o := range out {
			if o.Equal(c) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// TrustEntries names trust certificates as Write does: caroot, caroot-2, ...
func TrustEntries(trust []*x509.Certificate) []stores.TrustEntry {
	out := make([]stores.TrustEntry, len(trust))
	for i, c := range trust {
		alias := TrustAlias
		if i > 0 {
			alias = fmt.Sprintf("%s-%d", TrustAlias, i+1)
		}
		out[i] = stores.TrustEntry{Alias: alias, Cert: c}
	}
	return out
}

// DirFormats reports the store formats present in an entity directory.
func DirFormats(dir string) []string {
	var out []string
	if fsx.Exists(filepath.Join(dir, KeystoreJKS)) || fsx.Exists(filepath.Join(dir, TruststoreJKS)) {
		out = append(out, FormatJKS)
	}
	if fsx.Exists(filepath.Join(dir, KeystoreP12)) || fsx.Exists(filepath.Join(dir, TruststoreP12)) {
		out = append(out, FormatP12)
	}
	if fsx.Exists(filepath.Join(dir, KeyPEM)) || fsx.Exists(filepath.Join(dir, KeystorePEM)) {
		out = append(out, FormatPEM)
	}
	return out
}

// DER encodings of the encryption OIDs that tell the two PKCS12 profiles
// apart: PBES2 (Modern2023) and pbeWithSHAAnd3-KeyTripleDES-CBC (LegacyDES).
var (
	oidPBES2DER   = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d}
	oidSHA3DESDER = []byte{0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03}
)

// DirCompat returns the PKCS12 profile an entity directory's .p12 files
// were written with (Modern when there are none or it cannot tell).
func DirCompat(dir string) stores.Compat {
	for _, name := range []string{KeystoreP12, TruststoreP12} {
		b, err := readFile(dir, name)
		if err != nil {
			continue
		}
		switch {
		case bytes.Contains(b, oidPBES2DER):
			return stores.Modern
		case bytes.Contains(b, oidSHA3DESDER):
			return stores.Legacy
		}
	}
	return stores.Modern
}

// LoadKey returns an entity's private key: tls.key if present, else the
// key entry of keystore.p12 or keystore.jks, opened with the entity's
// password.
func LoadKey(dir string) (crypto.Signer, error) {
	b, err := readFile(dir, KeyPEM)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		k, err := pem.DecodeKey(b, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, KeyPEM), err)
		}
		return k, nil
	}
	for _, name := range []string{KeystoreP12, KeystoreJKS} {
		b, err := readFile(dir, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pw, err := ReadPassword(dir)
		if err != nil {
			return nil, err
		}
		st, err := stores.Read(b, pw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		pair, err := st.KeyPair()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		s, ok := pair.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported private key type %T", filepath.Join(dir, name), pair.PrivateKey)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s holds no private key (no %s, %s or %s)", dir, KeyPEM, KeystoreP12, KeystoreJKS)
}

// RewriteTruststores rebuilds the truststores of an entity directory
// (truststore.jks and truststore.p12, whichever exist) and its ca.crt so
// they hold exactly trust, with the entity's own password and PKCS12
// profile. Keys, keystores and configs are untouched, and so are store
// paths and passwords: a broker reloads the new truststore with
// kafka-configs without a restart. It returns the files whose content
// changed (ca.crt is compared by content; stores always change because
// they carry a creation time and fresh salts, unless their certificates
// already equal trust).
func RewriteTruststores(dir string, trust []*x509.Certificate) ([]string, error) {
	if len(trust) == 0 {
		return nil, errors.New("no trust anchor to write")
	}
	// Links are refused before anything is written.
	for _, path := range []string{dir, filepath.Join(dir, CAPEM), filepath.Join(dir, TruststoreJKS), filepath.Join(dir, TruststoreP12)} {
		if err := fsx.CheckNotSymlink(path); err != nil {
			return nil, err
		}
	}
	var changed []string
	caPEM := pem.EncodeCerts(trust...)
	old, err := readFile(dir, CAPEM)
	var link *fsx.SymlinkError
	if errors.As(err, &link) {
		return nil, err
	}
	if err != nil || !bytes.Equal(old, caPEM) {
		if err := fsx.WriteFile(filepath.Join(dir, CAPEM), caPEM, fsx.PublicFile); err != nil {
			return changed, err
		}
		changed = append(changed, CAPEM)
	}
	storeNames := []string{}
	for _, name := range []string{TruststoreJKS, TruststoreP12} {
		if fsx.Exists(filepath.Join(dir, name)) {
			storeNames = append(storeNames, name)
		}
	}
	if len(storeNames) == 0 {
		return changed, nil
	}
	password, err := ReadPassword(dir)
	if err != nil {
		return changed, err
	}
	entries := TrustEntries(trust)
	for _, name := range storeNames {
		path := filepath.Join(dir, name)
		old, err := readFile(dir, name)
		if errors.As(err, &link) {
			return changed, err // a link is refused, not replaced
		}
		if err == nil {
			if st, err := stores.Read(old, password); err == nil && SameTrust(st, trust) {
				continue
			}
		}
		var data []byte
		if name == TruststoreJKS {
			data, err = stores.JKSTruststore(entries, password, time.Now().UTC().Truncate(time.Second))
		} else {
			data, err = stores.PKCS12Truststore(entries, password, DirCompat(dir))
		}
		if err != nil {
			return changed, fmt.Errorf("%s: %w", path, err)
		}
		if err := fsx.WriteFile(path, data, fsx.PublicFile); err != nil {
			return changed, err
		}
		changed = append(changed, name)
	}
	return changed, nil
}

// SameTrust reports whether a store's trusted certificates are exactly
// trust, in order.
func SameTrust(st *stores.Store, trust []*x509.Certificate) bool {
	if len(st.Entries) != len(trust) {
		return false
	}
	for i, e := range st.Entries {
		if e.TrustedCert == nil || !e.TrustedCert.Equal(trust[i]) {
			return false
		}
	}
	return true
}

// storeFiles are the files Reissue regenerates; every other file of the
// directory (configs, extra files the user put there) is carried over.
var storeFiles = map[string]bool{
	KeystoreJKS: true, TruststoreJKS: true, KeystoreP12: true, TruststoreP12: true, KeyPEM: true, CertPEM: true,
	ChainPEM: true, CAPEM: true, KeystorePEM: true, PasswordFile: true, PrincipalFile: true,
}

// Reissue replaces the certificate (and the key, if m.Key changed) of an
// existing entity directory, atomically as Write does, keeping the
// directory's store formats, PKCS12 profile and password, and copying every
// other file — server.properties, client.properties and the other configs —
// byte for byte: store paths and passwords do not change, so the configs
// stay valid and Kafka can reload the stores in place. m.Key nil re-issues
// a certificate signed from a CSR (certificate files only).
func Reissue(dir string, m Material) (*Result, error) {
	if err := ValidateName(m.Name); err != nil {
		return nil, err
	}
	if !fsx.Exists(dir) {
		return nil, fmt.Errorf("%s %w: the certificate of %s was never issued", dir, ErrNotIssued, m.Name)
	}
	if err := CheckReissue(dir, false); err != nil {
		return nil, err
	}
	formats := DirFormats(dir)
	var password string
	if m.Key != nil {
		pw, err := ReadPassword(dir)
		if err != nil {
			return nil, err
		}
		if err := pki.ValidatePassword(pw); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, PasswordFile), err)
		}
		password = pw
	}
	subject, err := principal.JavaName(m.Cert.RawSubject)
	if err != nil {
		return nil, fmt.Errorf("subject of %s: %w", m.Name, err)
	}
	auth, err := DirAuth(dir)
	if err != nil {
		return nil, err
	}
	principal := principal.User(subject)
	if auth.Spec().SASL() { // a SASL identity keeps its principal
		if principal, err = DirSASLPrincipal(dir, auth, m.Name); err != nil {
			return nil, err
		}
	}
	files, p12, err := m.files(formats, DirCompat(dir), password)
	if err != nil {
		return nil, err
	}
	defer p12.wait()
	files = append(files, file{PrincipalFile, []byte(principal + "\n"), fsx.PublicFile})
	if m.Key != nil {
		files = append(files, file{PasswordFile, []byte(password + "\n"), fsx.PrivateFile})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if storeFiles[e.Name()] {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		data, err := readFile(dir, e.Name()) // a link or a non-file is refused, never skipped
		if err != nil {
			return nil, err
		}
		files = append(files, file{e.Name(), data, info.Mode().Perm()})
	}
	if err := writeDir(dir, files, p12, true); err != nil {
		return nil, err
	}
	res := m.result(dir, subject, principal, formats, files)
	if auth != sasl.MTLS {
		res.Auth = string(auth)
	}
	return res, nil
}
