package stores

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Format is a keystore file format.
type Format string

// The store formats Read and Detect recognise.
const (
	JKS    Format = "JKS"
	PKCS12 Format = "PKCS12"
)

// ErrWrongPassword is returned (wrapped) by Read when the store's integrity
// check fails with the given password.
var ErrWrongPassword = errors.New("the store password is wrong")

// Entry is one entry of a keystore: a private key with its certificate
// chain, or a trusted certificate.
type Entry struct {
	// Alias is the entry's alias. Empty for PKCS#12 entries: go-pkcs12 does
	// not expose friendlyName attributes.
	Alias string
	// PrivateKey is nil for trusted-certificate entries.
	PrivateKey crypto.PrivateKey
	// Chain is the certificate chain of a key entry, leaf first.
	Chain []*x509.Certificate
	// TrustedCert is the certificate of a trusted-certificate entry.
	TrustedCert *x509.Certificate
	// Created is the entry's creation time (JKS only; zero for PKCS#12).
	Created time.Time
}

// Store is the decoded content of a keystore or truststore.
type Store struct {
	Format  Format
	Entries []Entry
	// LegacyRC2 reports a PKCS#12 store that uses RC2 encryption, which
	// OpenSSL 3 cannot read without -legacy and FIPS JVMs reject.
	LegacyRC2 bool
}

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

// Detect tells the store format from the content (not the file name): JKS by
// its magic number 0xFEEDFEED, PKCS#12 by a DER PFX structure with version 3.
func Detect(data []byte) (Format, bool) {
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == jksMagic {
		return JKS, true
	}
	if _, ok := parsePFX(data); ok {
		return PKCS12, true
	}
	return "", false
}

// Read decodes a JKS or PKCS#12 store (format detected from the content).
// Private keys are decrypted with the store password. A wrong password gives
// an error wrapping ErrWrongPassword; malformed input gives an error, never a
// panic or an unbounded amount of work.
func Read(data []byte, password string) (s *Store, err error) {
	defer func() {
		// The decoding libraries were not written for hostile input; the
		// pre-checks below catch what is known (huge lengths, huge KDF
		// iteration counts), this catches the rest.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("jks: malformed keystore (decoder failed: %v)", r)
		}
	}()
	f, ok := Detect(data)
	if !ok {
		return nil, unknownFormat(data)
	}
	if f == JKS {
		return readJKS(data, password)
	}
	return readPKCS12(data, password)
}

func unknownFormat(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return errors.New("jks: keystore is empty")
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == jceksMagic:
		return errors.New("jks: JCEKS keystores are not supported (convert with keytool -importkeystore -deststoretype PKCS12)")
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return errors.New("jks: this is a PEM file, not a JKS or PKCS12 keystore")
	default:
		return errors.New("jks: not a JKS or PKCS12 keystore (no JKS magic number, no PKCS12 PFX structure)")
	}
}

func readJKS(data []byte, password string) (*Store, error) {
	if err := checkJKSStructure(data); err != nil {
		return nil, err
	}
	// Reading uses case-exact aliases: Load stores aliases as written in the
	// file, and without this option a lookup of a mixed-case alias (from a
	// non-Java writer) would be lowercased and miss. (Writers never use it.)
	ks := keystore.New(keystore.WithOrderedAliases(), keystore.WithCaseExactAliases())
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		// The structure was checked above, so what remains is the keyed
		// integrity digest: the password does not match (or the file was
		// altered).
		return nil, fmt.Errorf("jks: %w: JKS integrity check failed (or the file was modified): %v", ErrWrongPassword, err)
	}
	s := &Store{Format: JKS}
	for _, alias := range ks.Aliases() {
		switch {
		case ks.IsPrivateKeyEntry(alias):
			pke, err := ks.GetPrivateKeyEntry(alias, []byte(password))
			if err != nil {
				return nil, fmt.Errorf("jks: cannot decrypt the key of entry %q with the store password (key password must equal store password): %v", alias, err)
			}
			key, err := x509.ParsePKCS8PrivateKey(pke.PrivateKey)
			if err != nil {
				return nil, fmt.Errorf("jks: private key of entry %q: %w", alias, err)
			}
			e := Entry{Alias: alias, PrivateKey: key, Created: pke.CreationTime}
			for i, c := range pke.CertificateChain {
				cert, err := parseJKSCert(c)
				if err != nil {
					return nil, fmt.Errorf("jks: entry %q, certificate %d: %w", alias, i, err)
				}
				e.Chain = append(e.Chain, cert)
			}
			s.Entries = append(s.Entries, e)
		case ks.IsTrustedCertificateEntry(alias):
			tce, err := ks.GetTrustedCertificateEntry(alias)
			if err != nil {
				return nil, fmt.Errorf("jks: entry %q: %w", alias, err)
			}
			cert, err := parseJKSCert(tce.Certificate)
			if err != nil {
				return nil, fmt.Errorf("jks: entry %q: %w", alias, err)
			}
			s.Entries = append(s.Entries, Entry{Alias: alias, TrustedCert: cert, Created: tce.CreationTime})
		}
	}
	return s, nil
}

func parseJKSCert(c keystore.Certificate) (*x509.Certificate, error) {
	if c.Type != "X.509" && c.Type != "X509" {
		return nil, fmt.Errorf("unsupported certificate type %q", c.Type)
	}
	return x509.ParseCertificate(c.Content)
}

func readPKCS12(data []byte, password string) (*Store, error) {
	info, err := scanPKCS12(data)
	if err != nil {
		return nil, err
	}
	s := &Store{Format: PKCS12, LegacyRC2: info.rc2}
	if !info.hasMAC && password != "" {
		// A password-less PKCS#12 (no MAC, no encryption) loads in Java with
		// any password; go-pkcs12 wants the empty one.
		password = ""
	}
	key, leaf, cas, chainErr := pkcs12.DecodeChain(data, password)
	if chainErr == nil {
		chain := orderChain(key, append([]*x509.Certificate{leaf}, cas...))
		s.Entries = []Entry{{PrivateKey: key, Chain: chain}}
		return s, nil
	}
	if errors.Is(chainErr, pkcs12.ErrIncorrectPassword) {
		return nil, fmt.Errorf("jks: %w: PKCS12 MAC check failed", ErrWrongPassword)
	}
	certs, trustErr := pkcs12.DecodeTrustStore(data, password)
	if trustErr != nil {
		if errors.Is(trustErr, pkcs12.ErrIncorrectPassword) {
			return nil, fmt.Errorf("jks: %w: PKCS12 MAC check failed", ErrWrongPassword)
		}
		return nil, fmt.Errorf("jks: PKCS12 store is neither a keystore with one private key (%v) nor a Java truststore (%v)", chainErr, trustErr)
	}
	for _, c := range certs {
		s.Entries = append(s.Entries, Entry{TrustedCert: c})
	}
	return s, nil
}

// orderChain moves the certificate that matches key to the front (a PKCS#12
// writer may list the CA first); the others keep their order.
func orderChain(key crypto.PrivateKey, chain []*x509.Certificate) []*x509.Certificate {
	for i, c := range chain {
		if keyMatchesCert(key, c) {
			if i == 0 {
				return chain
			}
			out := []*x509.Certificate{c}
			out = append(out, chain[:i]...)
			return append(out, chain[i+1:]...)
		}
	}
	return chain
}

// KeyPair returns the store's single private-key entry as a tls.Certificate
// (chain leaf first, Leaf set), for serving or dialing TLS from a store file.
func (s *Store) KeyPair() (tls.Certificate, error) {
	var keys []*Entry
	for i := range s.Entries {
		if s.Entries[i].PrivateKey != nil {
			keys = append(keys, &s.Entries[i])
		}
	}
	switch len(keys) {
	case 0:
		return tls.Certificate{}, errors.New("jks: store has no private-key entry (is it a truststore?)")
	case 1:
	default:
		aliases := make([]string, len(keys))
		for i, k := range keys {
			aliases[i] = fmt.Sprintf("%q", k.Alias)
		}
		return tls.Certificate{}, fmt.Errorf("jks: store has %d private-key entries (%s); exactly one is needed", len(keys), strings.Join(aliases, ", "))
	}
	e := keys[0]
	if len(e.Chain) == 0 {
		return tls.Certificate{}, fmt.Errorf("jks: private-key entry %q has no certificate", e.Alias)
	}
	if !keyMatchesCert(e.PrivateKey, e.Chain[0]) {
		return tls.Certificate{}, fmt.Errorf("jks: private key of entry %q does not match its certificate", e.Alias)
	}
	pair := tls.Certificate{PrivateKey: e.PrivateKey, Leaf: e.Chain[0]}
	for _, c := range e.Chain {
		pair.Certificate = append(pair.Certificate, c.Raw)
	}
	return pair, nil
}

// asn1Unmarshal is asn1.Unmarshal that rejects trailing data.
func asn1Unmarshal(in []byte, out any) error {
	rest, err := asn1.Unmarshal(in, out)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}
