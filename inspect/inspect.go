// Package inspect reads any certificate or store file kafkatls may meet —
// JKS, PKCS12, PEM (certificates, keys, CSRs, CRLs) and DER — telling the
// format from the content, not the name, and describes it: entries and
// aliases, chains, subjects as Java prints them, SANs, key usages, keys,
// validity, fingerprints and the Kafka principal. Lint (lint.go) checks
// what it read against what Kafka needs. Input is treated as hostile: every
// file gives a report or a one-line error, never a panic or a hang.
package inspect

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	stdpem "encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/stores"
)

// MaxFileSize is the largest file inspect reads (a JDK cacerts is ~200 KB).
const MaxFileSize = 32 << 20

// Format is how a file is encoded.
type Format string

// Formats.
const (
	FormatJKS    Format = "JKS"
	FormatPKCS12 Format = "PKCS12"
	FormatPEM    Format = "PEM"
	FormatDER    Format = "DER"
)

// Entry types.
const (
	EntryKey          = "PrivateKeyEntry"     // a key with its certificate chain (keystores, PEM key + certificates)
	EntryTrusted      = "trustedCertEntry"    // a trust anchor of a truststore
	EntryCert         = "certificate"         // a certificate on its own (PEM/DER; PKCS12 bag without Java's trusted attribute)
	EntryPrivateKey   = "privateKey"          // a key without certificate
	EntryEncryptedKey = "encryptedPrivateKey" // a key that was not decrypted
	EntryCSR          = "certificateRequest"
	EntryCRL          = "crl"
)

// ErrUnknownFormat is wrapped by Inspect when the content is none of the
// formats it knows (lint skips such files in a directory).
var ErrUnknownFormat = errors.New("not a keystore, truststore, PEM or DER certificate file")

// ErrWrongPassword is wrapped when an explicitly given password does not
// open the store.
var ErrWrongPassword = errors.New("wrong store password")

// ErrPasswordRequired: a PKCS12 store needs its password, and none given
// (or found next to it) opened it.
var ErrPasswordRequired = errors.New("the PKCS12 store is password protected: its password is needed")

// ErrIsDirectory: inspect was given a directory (lint walks directories).
var ErrIsDirectory = errors.New("is a directory")

// Password is a candidate store password and where it came from.
type Password struct {
	Value  string
	Source string // "--password-file FILE", "password file next to it", ...
	// Explicit passwords must open the store: a mismatch is an error.
	// Others (a sibling password file) are tried and skipped.
	Explicit bool
}

// Options control Inspect.
type Options struct {
	Passwords []Password
}

// Report describes one file.
type Report struct {
	File           string   `json:"file"`
	Format         Format   `json:"format"`
	Size           int      `json:"size"`
	Integrity      string   `json:"integrity,omitempty"` // JKS/PKCS12: verified, not verified, no MAC
	PasswordSource string   `json:"passwordSource,omitempty"`
	MAC            string   `json:"mac,omitempty"`
	CertEncryption string   `json:"certEncryption,omitempty"`
	KeyEncryption  string   `json:"keyEncryption,omitempty"`
	LegacyRC2      bool     `json:"legacyRC2,omitempty"`
	Entries        []Entry  `json:"entries"`
	Notes          []string `json:"notes,omitempty"`

	// PKCS12: go-pkcs12 found a certificate without Java's trusted
	// attribute in a store without a key (its certificates may be unlisted).
	p12NotTrusted bool
}

// Entry is one entry of a store or one object of a PEM/DER file.
type Entry struct {
	Alias string `json:"alias,omitempty"`
	Type  string `json:"type"`
	// PEM block type, for PEM files.
	PEMType    string     `json:"pemType,omitempty"`
	Created    time.Time  `json:"created,omitzero"`
	Key        *KeyInfo   `json:"key,omitempty"`
	KeyMatches *bool      `json:"keyMatchesCertificate,omitempty"`
	Chain      []CertInfo `json:"chain,omitempty"`
	CSR        *CSRInfo   `json:"csr,omitempty"`
	CRL        *CRLInfo   `json:"crl,omitempty"`
	Note       string     `json:"note,omitempty"`

	certs   []*x509.Certificate
	key     crypto.PrivateKey
	csr     *x509.CertificateRequest
	crl     *x509.RevocationList
	trusted bool // PKCS12: carries Java's trusted-certificate attribute
	// PKCS12: whether the certificate carries Java's trusted attribute is
	// not known (go-pkcs12 does not expose it).
	trustUnknown bool
	keyForm      string
	pbes2Key     bool
}

// KeyInfo describes a key.
type KeyInfo struct {
	Type       string `json:"type"`
	Bits       int    `json:"bits,omitempty"`
	Curve      string `json:"curve,omitempty"`
	Encryption string `json:"encryption,omitempty"`
	Form       string `json:"form,omitempty"` // PEM: PKCS#8, PKCS#1, SEC1, encrypted PKCS#8
}

// CertInfo describes a certificate.
type CertInfo struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Principal          string    `json:"principal"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"notBefore"`
	NotAfter           time.Time `json:"notAfter"`
	SANs               []string  `json:"sans,omitempty"`
	EKU                []string  `json:"eku,omitempty"`
	KeyUsage           []string  `json:"keyUsage,omitempty"`
	CA                 bool      `json:"ca"`
	SelfSigned         bool      `json:"selfSigned"`
	Key                KeyInfo   `json:"key"`
	SignatureAlgorithm string    `json:"signatureAlgorithm"`
	SHA256             string    `json:"sha256"`
}

// CSRInfo describes a certificate request.
type CSRInfo struct {
	Subject        string   `json:"subject"`
	Principal      string   `json:"principal"`
	SANs           []string `json:"sans,omitempty"`
	Key            KeyInfo  `json:"key"`
	SignatureValid bool     `json:"signatureValid"`
}

// CRLInfo describes a revocation list.
type CRLInfo struct {
	Issuer     string    `json:"issuer"`
	Number     string    `json:"number,omitempty"`
	ThisUpdate time.Time `json:"thisUpdate"`
	NextUpdate time.Time `json:"nextUpdate,omitzero"`
	Revoked    []string  `json:"revoked"`
}

// File reads and inspects path. Besides opts.Passwords it tries the
// password file kafkatls writes next to its stores ("password", and
// "truststore.password" for bundle truststores).
func File(path string, opts Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s %w: inspect reads files", path, ErrIsDirectory)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, larger than any certificate store (limit %d)", path, st.Size(), MaxFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	opts.Passwords = append(opts.Passwords, SiblingPasswords(path)...)
	r, err := Inspect(data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.File = path
	return r, nil
}

// SiblingPasswords returns the passwords kafkatls wrote next to path.
func SiblingPasswords(path string) []Password {
	dir := filepath.Dir(path)
	var out []Password
	names := []string{"password"}
	if strings.HasPrefix(strings.ToLower(filepath.Base(path)), "truststore") {
		names = append(names, "truststore.password")
	}
	for _, n := range names {
		// A password file that cannot be read is lint DIR's to report.
		if pw, err := readPassword(filepath.Join(dir, n)); err == nil {
			out = append(out, Password{Value: pw, Source: filepath.Join(dir, n)})
		}
	}
	return out
}

// Inspect describes data. It never panics: a decoder failure on malformed
// input becomes an error.
func Inspect(data []byte, opts Options) (r *Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("malformed input (decoder failed: %v)", p)
		}
	}()
	if len(data) == 0 {
		return nil, errors.New("the file is empty")
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%d bytes is larger than any certificate store (limit %d)", len(data), MaxFileSize)
	}
	r = &Report{Size: len(data), Entries: []Entry{}}
	switch Detect(data) {
	case FormatJKS:
		r.Format = FormatJKS
		err = inspectJKS(r, data, opts)
	case FormatPKCS12:
		r.Format = FormatPKCS12
		err = inspectP12(r, data, opts)
	case FormatPEM:
		r.Format = FormatPEM
		err = inspectPEM(r, data, opts)
	case FormatDER:
		r.Format = FormatDER
		err = inspectDER(r, data)
	default:
		if len(data) >= 4 && binary.BigEndian.Uint32(data) == 0xCECECECE {
			return nil, errors.New("JCEKS keystores are not supported: convert with keytool -importkeystore -deststoretype PKCS12")
		}
		return nil, fmt.Errorf("%w (no JKS magic, no PKCS12 structure, no PEM block, not DER)", ErrUnknownFormat)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Detect tells the format of data from its content: "" if unknown.
func Detect(data []byte) Format {
	if f, ok := stores.Detect(data); ok {
		if f == stores.JKS {
			return FormatJKS
		}
		return FormatPKCS12
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		if b, _ := stdpem.Decode(data); b != nil {
			return FormatPEM
		}
	}
	if len(data) > 1 && data[0] == 0x30 {
		var raw asn1.RawValue
		if _, err := asn1.Unmarshal(data, &raw); err == nil && raw.IsCompound {
			return FormatDER
		}
	}
	return ""
}

func inspectJKS(r *Report, data []byte, opts Options) error {
	var notes []string
	for _, pw := range opts.Passwords {
		st, err := stores.Read(data, pw.Value)
		if err == nil {
			r.Integrity, r.PasswordSource = "verified", pw.Source
			r.Entries = storeEntries(st)
			return nil
		}
		if errors.Is(err, stores.ErrWrongPassword) {
			if pw.Explicit {
				return fmt.Errorf("%w: the JKS integrity check fails with the password from %s (check it, or leave it out to list the certificates unverified)", ErrWrongPassword, pw.Source)
			}
			notes = append(notes, "the password in "+pw.Source+" does not open this store")
			continue
		}
		notes = append(notes, strings.TrimPrefix(err.Error(), "jks: "))
		break
	}
	raw, err := stores.ReadUnverified(data)
	if err != nil {
		return err
	}
	r.Integrity = "not verified (no password)"
	if len(opts.Passwords) == 0 {
		notes = append(notes, "no password given: certificates are listed without checking the store's integrity and keys are not decrypted (give --password-file or --password-env)")
	}
	r.Notes = append(r.Notes, notes...)
	for _, e := range raw {
		en := Entry{Alias: e.Alias, Created: e.Created, certs: e.Certs}
		if e.IsKey {
			en.Type = EntryKey
			en.Note = "key not decrypted"
			if len(e.Certs) > 0 {
				ki := keyInfo(e.Certs[0].PublicKey)
				en.Key = &ki
			}
		} else {
			en.Type = EntryTrusted
			en.trusted = true
		}
		en.Chain = certInfos(e.Certs)
		r.Entries = append(r.Entries, en)
	}
	return nil
}

func storeEntries(st *stores.Store) []Entry {
	out := []Entry{}
	for _, e := range st.Entries {
		en := Entry{Alias: e.Alias, Created: e.Created}
		if e.PrivateKey != nil {
			en.Type, en.key, en.certs = EntryKey, e.PrivateKey, e.Chain
			if s, ok := e.PrivateKey.(crypto.Signer); ok {
				ki := keyInfo(s.Public())
				en.Key = &ki
				if len(e.Chain) > 0 {
					m := keyMatches(s, e.Chain[0])
					en.KeyMatches = &m
				}
			}
		} else {
			en.Type, en.certs, en.trusted = EntryTrusted, []*x509.Certificate{e.TrustedCert}, true
		}
		en.Chain = certInfos(en.certs)
		out = append(out, en)
	}
	return out
}

func inspectP12(r *Report, data []byte, opts Options) error {
	// What the file tells without its password (nothing is decrypted here).
	meta, serr := scanP12(data)
	r.MAC, r.CertEncryption, r.KeyEncryption, r.LegacyRC2 = meta.mac, meta.certEncryption, meta.keyEncryption, meta.rc2
	if meta.macIterations > 0 {
		r.MAC = fmt.Sprintf("%s, %d iterations", meta.mac, meta.macIterations)
	}
	candidates := append(append([]Password{}, opts.Passwords...), Password{Value: "", Source: "empty password"})
	var notes []string
	for _, pw := range candidates {
		// go-pkcs12, through stores.Read, checks the MAC and decrypts; stores.Read
		// first bounds the file's iteration counts.
		st, err := stores.Read(data, pw.Value)
		if errors.Is(err, stores.ErrWrongPassword) {
			if pw.Explicit {
				return fmt.Errorf("%w: the PKCS12 MAC check fails with the password from %s", ErrWrongPassword, pw.Source)
			}
			if pw.Source != "empty password" {
				notes = append(notes, "the password in "+pw.Source+" does not open this store")
			}
			continue
		}
		// go-pkcs12's DecodeTrustStore fails this way only after the MAC
		// verified and the certificates decrypted.
		notTrusted := err != nil && strings.Contains(err.Error(), msgNotTrusted)
		if err != nil && !notTrusted {
			return errors.New(strings.TrimPrefix(err.Error(), "jks: "))
		}
		r.PasswordSource = pw.Source
		r.Integrity = "verified"
		if !meta.hasMAC {
			r.Integrity = "no MAC (password-less PKCS12)"
		}
		if st != nil {
			r.LegacyRC2 = r.LegacyRC2 || st.LegacyRC2
		}
		r.Notes = append(r.Notes, notes...)
		if serr != nil {
			r.Notes = append(r.Notes, "unencrypted structure not fully read: "+serr.Error())
		}
		if notTrusted {
			r.p12NotTrusted = true
			r.Entries = clearCertEntries(meta)
			if meta.encryptedSafes > 0 || meta.otherSafes > 0 {
				r.Notes = append(r.Notes, "certificates not listed: one lacks Java's trusted-certificate attribute, and go-pkcs12 decodes only Java truststores (every certificate marked trusted) and keystores with one private key")
			}
			return nil
		}
		password := pw.Value
		if !meta.hasMAC {
			password = "" // as stores.Read: a password-less file opens with any password
		}
		var key any
		for _, e := range st.Entries {
			if e.PrivateKey != nil {
				key = e.PrivateKey
			}
		}
		at := certAttributes(data, password, meta, key)
		r.Entries = p12Entries(st, meta, &at)
		return nil
	}
	// Explicit passwords returned above; only sibling files were tried.
	if len(notes) > 0 {
		return fmt.Errorf("%w (%s)", ErrPasswordRequired, strings.Join(notes, "; "))
	}
	return ErrPasswordRequired
}

const noteNotTrusted = "no Java trusted-certificate attribute (OID 2.16.840.1.113894.746875.1.1): Java ignores this certificate"

// clearCertEntries lists the certificates of unencrypted safes (a
// password-less file) when go-pkcs12 gives none.
func clearCertEntries(m p12Meta) []Entry {
	out := []Entry{}
	for _, b := range m.bags {
		if b.kind != "cert" {
			continue
		}
		c, err := x509.ParseCertificate(b.certDER)
		if err != nil {
			continue
		}
		en := Entry{Type: EntryTrusted, Alias: b.friendlyName, certs: []*x509.Certificate{c}, trusted: b.trusted}
		if !b.trusted {
			en.Type, en.Note = EntryCert, noteNotTrusted
		}
		en.Chain = certInfos(en.certs)
		out = append(out, en)
	}
	return out
}

// p12Entries groups what go-pkcs12 decoded into entries as Java's
// PKCS12KeyStore does: the key with its certificate and the chain above
// it; certificates with Java's trusted attribute as trusted entries; the
// rest as plain certificates (Java ignores them). Aliases and attributes
// come from at, as far as they are known.
func p12Entries(st *stores.Store, m p12Meta, at *p12Attrs) []Entry {
	out := []Entry{}
	var certs []*x509.Certificate
	var keyEntry *stores.Entry
	for i := range st.Entries {
		e := &st.Entries[i]
		if e.PrivateKey != nil {
			keyEntry = e
			certs = append(certs, e.Chain...)
		} else if e.TrustedCert != nil {
			certs = append(certs, e.TrustedCert)
		}
	}
	used := make([]bool, len(certs))
	if keyEntry != nil {
		en := Entry{Type: EntryKey, key: keyEntry.PrivateKey}
		var kb *p12Bag
		if kbs := m.keyBags(); len(kbs) == 1 {
			kb = &kbs[0]
		}
		if kb != nil && kb.hasName {
			en.Alias = kb.friendlyName
		}
		signer, _ := keyEntry.PrivateKey.(crypto.Signer)
		if len(certs) > 0 {
			// stores.Read puts the certificate of the key first; if none is,
			// the one sharing the key bag's localKeyId is the leaf.
			leaf := 0
			if (signer == nil || !keyMatches(signer, certs[0])) && kb != nil && len(kb.localKeyID) > 0 {
				for j, c := range certs {
					if at.hasLocalKeyID(c, kb.localKeyID) {
						leaf = j
						break
					}
				}
			}
			used[leaf] = true
			en.certs = []*x509.Certificate{certs[leaf]}
			a, known, ok := at.take(certs[leaf], true)
			if !ok {
				a, known, _ = at.take(certs[leaf], false)
			}
			if en.Alias == "" && known && a.hasName {
				en.Alias = a.friendlyName
			}
			// Follow issuers among the certificates not known to be trusted entries.
			for cur := certs[leaf]; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
				next := -1
				for j, c := range certs {
					if !used[j] && bytes.Equal(c.RawSubject, cur.RawIssuer) && at.canTake(c, true) {
						next = j
						break
					}
				}
				if next < 0 {
					break
				}
				at.take(certs[next], true)
				used[next] = true
				cur = certs[next]
				en.certs = append(en.certs, cur)
			}
		}
		if signer != nil {
			ki := keyInfo(signer.Public())
			ki.Encryption = m.keyEncryption
			if kb != nil {
				ki.Encryption = kb.keyEncrypted
			}
			en.Key = &ki
			if len(en.certs) > 0 {
				km := keyMatches(signer, en.certs[0])
				en.KeyMatches = &km
			}
		}
		en.Chain = certInfos(en.certs)
		if en.Alias == "" {
			if kb != nil {
				en.Note = "no friendlyName: Java lists it under a generated alias (\"1\")"
			} else {
				en.Note = "alias not readable: go-pkcs12 does not expose friendlyName of encrypted key bags"
			}
		}
		out = append(out, en)
	}
	for j, c := range certs {
		if used[j] {
			continue
		}
		en := Entry{Type: EntryTrusted, certs: []*x509.Certificate{c}, trusted: true}
		a, known, _ := at.take(c, false)
		switch {
		case known && keyEntry == nil, known && a.trusted:
			en.Alias = a.friendlyName
		case keyEntry == nil:
			// go-pkcs12's DecodeTrustStore: every certificate carries Java's trusted attribute.
			en.Note = noteAliasUnreadable
		case known:
			en.Type, en.trusted, en.Alias, en.Note = EntryCert, false, a.friendlyName, noteNotTrusted
		case at.javaTrusted:
			en.Note = noteAliasUnreadable + "; taken as a trusted entry: go-pkcs12 reports Java's trusted-certificate attribute in this store, not which certificate carries it"
		default:
			en.Type, en.trusted, en.trustUnknown = EntryCert, false, true
			en.Note = "alias and Java trusted-certificate attribute not readable: go-pkcs12 does not expose the attributes of encrypted certificate bags"
		}
		en.Chain = certInfos(en.certs)
		out = append(out, en)
	}
	return out
}

func inspectPEM(r *Report, data []byte, opts Options) error {
	var certs []*x509.Certificate
	var keyEntry *Entry
	rest := data
	blocks := 0
	for len(rest) > 0 {
		var b *stdpem.Block
		b, rest = stdpem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) > 0 && blocks == 0 {
				return fmt.Errorf("%w: text with a PEM header that does not decode", ErrUnknownFormat)
			}
			break
		}
		blocks++
		switch b.Type {
		case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			der := b.Bytes
			if b.Type == "TRUSTED CERTIFICATE" {
				// OpenSSL's trusted form: the certificate followed by its trust settings.
				var raw asn1.RawValue
				if _, err := asn1.Unmarshal(der, &raw); err == nil {
					der = raw.FullBytes
				}
				r.Notes = append(r.Notes, "TRUSTED CERTIFICATE is OpenSSL's private form (trust settings appended); Java and Kafka read only CERTIFICATE blocks")
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("PEM block %d (%s) does not parse: %v", blocks, b.Type, err))
				continue
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			en, err := pemKey(b, opts)
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("PEM block %d (%s): %v", blocks, b.Type, err))
				continue
			}
			if keyEntry == nil {
				keyEntry = &en
			} else {
				r.Entries = append(r.Entries, en)
			}
		case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			csr, err := x509.ParseCertificateRequest(b.Bytes)
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("PEM block %d (%s) does not parse: %v", blocks, b.Type, err))
				continue
			}
			r.Entries = append(r.Entries, csrEntry(csr, b.Type))
		case "X509 CRL":
			crl, err := x509.ParseRevocationList(b.Bytes)
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("PEM block %d (%s) does not parse: %v", blocks, b.Type, err))
				continue
			}
			r.Entries = append(r.Entries, crlEntry(crl, b.Type))
		case "PKCS7":
			r.Notes = append(r.Notes, "PKCS7 blocks are not read: extract the certificates with openssl pkcs7 -print_certs")
		default:
			r.Notes = append(r.Notes, fmt.Sprintf("PEM block %d of type %q ignored", blocks, b.Type))
		}
	}
	if keyEntry != nil && len(certs) > 0 {
		// A key followed by its chain: Kafka's PEM keystore (ssl.keystore.type=PEM).
		keyEntry.Type = EntryKey
		if keyEntry.key == nil {
			keyEntry.Type = EntryEncryptedKey
		}
		keyEntry.certs = certs
		keyEntry.Chain = certInfos(certs)
		if s, ok := keyEntry.key.(crypto.Signer); ok {
			m := keyMatches(s, certs[0])
			keyEntry.KeyMatches = &m
		}
		r.Entries = append([]Entry{*keyEntry}, r.Entries...)
	} else {
		var ce []Entry
		for _, c := range certs {
			ce = append(ce, Entry{Type: EntryCert, PEMType: "CERTIFICATE", certs: []*x509.Certificate{c}, Chain: certInfos([]*x509.Certificate{c})})
		}
		if keyEntry != nil {
			ce = append([]Entry{*keyEntry}, ce...)
		}
		r.Entries = append(ce, r.Entries...)
	}
	if len(r.Entries) == 0 {
		if len(r.Notes) > 0 {
			return errors.New(r.Notes[len(r.Notes)-1])
		}
		return errors.New("no certificate, key, CSR or CRL in this PEM file")
	}
	return nil
}

func pemKey(b *stdpem.Block, opts Options) (Entry, error) {
	en := Entry{Type: EntryPrivateKey, PEMType: b.Type}
	legacyType := map[string]string{"RSA PRIVATE KEY": "RSA", "EC PRIVATE KEY": "ECDSA"}[b.Type]
	if legacyType != "" && b.Headers["Proc-Type"] != "" {
		en.Type, en.keyForm = EntryEncryptedKey, "legacy OpenSSL encryption (Proc-Type)"
		en.Key = &KeyInfo{Type: legacyType, Form: en.keyForm, Encryption: b.Headers["DEK-Info"]}
		en.Note = "legacy OpenSSL-encrypted key: Kafka and Java cannot read it (convert with openssl pkcs8 -topk8)"
		return en, nil
	}
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		en.keyForm = pem.KeyForm(b.Type)
		key, err = pem.ParseKeyBlock(b)
	case "ENCRYPTED PRIVATE KEY":
		en.Type, en.keyForm = EntryEncryptedKey, "encrypted PKCS#8"
		var ek encryptedPKI
		if uerr := unmarshalAll(b.Bytes, &ek); uerr != nil {
			return en, fmt.Errorf("malformed encrypted key: %v", uerr)
		}
		desc, _ := describeAlg(ek.Algorithm)
		en.pbes2Key = ek.Algorithm.Algorithm.Equal(oidPBES2)
		en.Key = &KeyInfo{Type: "unknown", Form: en.keyForm, Encryption: desc}
		en.Note = "encrypted with " + desc
		if why := pkcs8Decryptable(ek.Algorithm); why != "" {
			en.Note += " (not decrypted: " + why + ")"
			return en, nil
		}
		for _, pw := range opts.Passwords {
			if pw.Value == "" {
				continue
			}
			if k, derr := decryptPKCS8(b.Bytes, pw.Value); derr == nil {
				key = k
				en.Type = EntryPrivateKey
				en.Note = "decrypted with the password from " + pw.Source
				break
			}
		}
		if key == nil {
			if len(opts.Passwords) == 0 {
				en.Note += " (give its passphrase with --password-file or --password-env to read it)"
			}
			return en, nil
		}
	}
	if err != nil {
		return en, fmt.Errorf("does not parse: %v", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return en, fmt.Errorf("unsupported key type %T", key)
	}
	en.key = s
	ki := keyInfo(s.Public())
	ki.Form = en.keyForm
	if en.Key != nil {
		ki.Encryption = en.Key.Encryption
	}
	en.Key = &ki
	return en, nil
}

func csrEntry(csr *x509.CertificateRequest, pemType string) Entry {
	subject := javaName(csr.RawSubject, csr.Subject)
	info := &CSRInfo{Subject: subject, Principal: principal.User(subject), SANs: sanStrings(csr.DNSNames, csr.IPAddresses, csr.EmailAddresses, csr.URIs),
		Key: keyInfo(csr.PublicKey), SignatureValid: csr.CheckSignature() == nil}
	return Entry{Type: EntryCSR, PEMType: pemType, CSR: info, csr: csr}
}

func crlEntry(crl *x509.RevocationList, pemType string) Entry {
	info := &CRLInfo{Issuer: javaName(crl.RawIssuer, crl.Issuer), ThisUpdate: crl.ThisUpdate.UTC(), NextUpdate: crl.NextUpdate.UTC(), Revoked: []string{}}
	if crl.Number != nil {
		info.Number = crl.Number.String()
	}
	for _, e := range crl.RevokedCertificateEntries {
		info.Revoked = append(info.Revoked, hex.EncodeToString(e.SerialNumber.Bytes()))
	}
	return Entry{Type: EntryCRL, PEMType: pemType, CRL: info, crl: crl}
}

func inspectDER(r *Report, data []byte) error {
	if c, err := x509.ParseCertificate(data); err == nil {
		r.Entries = append(r.Entries, Entry{Type: EntryCert, certs: []*x509.Certificate{c}, Chain: certInfos([]*x509.Certificate{c})})
		return nil
	}
	if cs, err := x509.ParseCertificates(data); err == nil && len(cs) > 1 {
		for _, c := range cs {
			r.Entries = append(r.Entries, Entry{Type: EntryCert, certs: []*x509.Certificate{c}, Chain: certInfos([]*x509.Certificate{c})})
		}
		return nil
	}
	if csr, err := x509.ParseCertificateRequest(data); err == nil {
		r.Entries = append(r.Entries, csrEntry(csr, ""))
		return nil
	}
	for _, p := range []struct {
		form  string
		parse func([]byte) (any, error)
	}{
		{"PKCS#8", x509.ParsePKCS8PrivateKey},
		{"PKCS#1", func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) }},
		{"SEC1", func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) }},
	} {
		if k, err := p.parse(data); err == nil {
			if s, ok := k.(crypto.Signer); ok {
				ki := keyInfo(s.Public())
				ki.Form = p.form
				r.Entries = append(r.Entries, Entry{Type: EntryPrivateKey, Key: &ki, key: s, keyForm: p.form})
				return nil
			}
		}
	}
	if crl, err := x509.ParseRevocationList(data); err == nil {
		r.Entries = append(r.Entries, crlEntry(crl, ""))
		return nil
	}
	var ek encryptedPKI
	if unmarshalAll(data, &ek) == nil && len(ek.Algorithm.Algorithm) > 0 && len(ek.Data) > 0 {
		desc, _ := describeAlg(ek.Algorithm)
		r.Entries = append(r.Entries, Entry{Type: EntryEncryptedKey, Key: &KeyInfo{Type: "unknown", Form: "encrypted PKCS#8", Encryption: desc},
			Note: "encrypted with " + desc, pbes2Key: ek.Algorithm.Algorithm.Equal(oidPBES2), keyForm: "encrypted PKCS#8"})
		return nil
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Rest        asn1.RawValue `asn1:"optional,explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(data, &ci); err == nil && ci.ContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}) {
		return errors.New("PKCS#7 (.p7b) files are not read: extract the certificates with openssl pkcs7 -inform DER -print_certs")
	}
	return fmt.Errorf("%w: DER data that is not a certificate, CSR, private key or CRL", ErrUnknownFormat)
}

// --- descriptions ---

func javaName(raw []byte, fallback pkix.Name) string {
	if n, err := principal.JavaName(raw); err == nil {
		return n
	}
	return fallback.String()
}

func certInfos(certs []*x509.Certificate) []CertInfo {
	out := make([]CertInfo, 0, len(certs))
	for _, c := range certs {
		out = append(out, certInfo(c))
	}
	return out
}

func certInfo(c *x509.Certificate) CertInfo {
	subject := javaName(c.RawSubject, c.Subject)
	ci := CertInfo{
		Subject: subject, Issuer: javaName(c.RawIssuer, c.Issuer), Principal: principal.User(subject),
		Serial: pki.SerialHex(c), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		SANs: sanStrings(c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs), EKU: ekuNames(c), KeyUsage: kuNames(c.KeyUsage),
		CA: c.BasicConstraintsValid && c.IsCA, SelfSigned: selfSigned(c), Key: keyInfo(c.PublicKey),
		SignatureAlgorithm: c.SignatureAlgorithm.String(), SHA256: pki.Fingerprint(c),
	}
	return ci
}

// selfSigned reports whether c is signed by its own key (with no CA
// constraint: keytool's self-signed leaves carry no BasicConstraints).
// SHA-1 self-signatures, which Go will not verify, count by name.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// EndEntities returns the certificates a principal is computed for: the
// leaf of each key entry, else every certificate that is not a CA, else
// every certificate.
func (r *Report) EndEntities() []*x509.Certificate {
	var out []*x509.Certificate
	for _, e := range r.Entries {
		if (e.Type == EntryKey || e.Type == EntryEncryptedKey) && len(e.certs) > 0 {
			out = append(out, e.certs[0])
		}
	}
	if len(out) > 0 {
		return out
	}
	var all []*x509.Certificate
	for _, e := range r.Entries {
		for _, c := range e.certs {
			all = append(all, c)
			if !(c.BasicConstraintsValid && c.IsCA) {
				out = append(out, c)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	return all
}
