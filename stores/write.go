// Package stores writes and reads Java keystores and truststores in the two
// formats Kafka, ZooKeeper and the JVM accept from files: JKS (the legacy
// Sun format, magic 0xFEEDFEED) and PKCS#12.
//
// JKS is written with github.com/pavlo-v-chernykh/keystore-go/v4 and PKCS#12
// with software.sslmate.com/src/go-pkcs12. Known limitations that follow
// from those libraries:
//
//   - A PKCS#12 keystore's private-key entry has no friendlyName, so Java
//     (keytool, Kafka) lists it under the alias "1". go-pkcs12 has no API to
//     name the key bag (go-pkcs12#34). Kafka and ZooKeeper do not care which
//     alias the single key entry has; JKS keystores carry the real alias.
//   - When reading a PKCS#12 store, aliases are not available (go-pkcs12 does
//     not expose friendlyName attributes), so [Entry.Alias] is empty for
//     PKCS#12 entries.
//   - keystore-go turns each password byte into one Java char, so only
//     printable ASCII passwords give the same result as Java. The writers
//     here reject anything else.
//
// Every store holds its private key under the store password (key password
// = store password): keytool insists on it for PKCS#12 and ZooKeeper
// requires it for both formats.
package stores

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// MinPasswordLen is the shortest store password accepted by the writers; it
// is keytool's own minimum.
const MinPasswordLen = 6

// Compat selects the PKCS12 encryption profile.
type Compat string

const (
	// Modern is go-pkcs12's Modern2023 profile: keys and certificates
	// encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), MAC
	// HMAC-SHA256. Readable by Java 8u301+, 11.0.12+, 12+ and OpenSSL 1.1.1+
	// (OpenSSL 3 without -legacy).
	Modern Compat = "modern"
	// Legacy is go-pkcs12's LegacyDES profile: PBE-SHA1-3DES for keys and
	// certificates and an HMAC-SHA1 MAC, for older Java (before
	// 8u301/11.0.12, which lack HmacPBESHA256). OpenSSL 3 still reads it
	// without -legacy. RC2 is deliberately never offered.
	Legacy Compat = "legacy"
)

// ParseCompat parses a PKCS12 compatibility profile name, case-insensitively.
func ParseCompat(s string) (Compat, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case string(Modern):
		return Modern, nil
	case string(Legacy):
		return Legacy, nil
	case "rc2", "legacyrc2", "legacy-rc2":
		return "", fmt.Errorf("jks: PKCS12 compatibility %q is not offered: RC2-encrypted PKCS12 cannot be read by OpenSSL 3 without -legacy and is rejected by FIPS JVMs; use %q (3DES, for old Java) or %q", s, Legacy, Modern)
	default:
		return "", fmt.Errorf("jks: unknown PKCS12 compatibility %q: allowed values are %q (AES-256, Java 8u301+/11.0.12+/12+) and %q (3DES + SHA1 MAC, older Java)", s, Modern, Legacy)
	}
}

func (c Compat) encoder() (*pkcs12.Encoder, error) {
	switch c {
	case Modern:
		return pkcs12.Modern2023, nil
	case Legacy:
		return pkcs12.LegacyDES, nil
	default:
		_, err := ParseCompat(string(c))
		return nil, err
	}
}

// TrustEntry is one trusted certificate of a truststore and its alias
// (typically "caroot").
type TrustEntry struct {
	Alias string
	Cert  *x509.Certificate
}

// checkPassword enforces the password rules shared by every writer.
func checkPassword(password string) error {
	if len(password) < MinPasswordLen {
		return fmt.Errorf("jks: store password must be at least %d characters (keytool's minimum), got %d", MinPasswordLen, len(password))
	}
	for i := 0; i < len(password); i++ {
		if c := password[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("jks: store password must be printable ASCII (byte %d is 0x%02x): Java and the keystore libraries encode other characters differently", i, c)
		}
	}
	return nil
}

// checkKeyChain verifies that chain is non-empty and that key is the
// private key of chain[0].
func checkKeyChain(key crypto.PrivateKey, chain []*x509.Certificate) error {
	if key == nil {
		return errors.New("jks: private key is nil")
	}
	if len(chain) == 0 {
		return errors.New("jks: certificate chain is empty (need [leaf, CA...])")
	}
	for i, c := range chain {
		if c == nil || len(c.Raw) == 0 {
			return fmt.Errorf("jks: certificate %d of the chain is empty", i)
		}
	}
	if !keyMatchesCert(key, chain[0]) {
		return errors.New("jks: private key does not belong to the first certificate of the chain")
	}
	return nil
}

// keyMatchesCert reports whether key is the private half of cert's public key.
func keyMatchesCert(key crypto.PrivateKey, cert *x509.Certificate) bool {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return false
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

func checkTrustEntries(entries []TrustEntry) error {
	if len(entries) == 0 {
		return errors.New("jks: a truststore needs at least one certificate")
	}
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if e.Cert == nil || len(e.Cert.Raw) == 0 {
			return fmt.Errorf("jks: trust entry %d (%q) has no certificate", i, e.Alias)
		}
		a := strings.ToLower(e.Alias)
		if a == "" {
			return fmt.Errorf("jks: trust entry %d has an empty alias", i)
		}
		if seen[a] {
			return fmt.Errorf("jks: duplicate truststore alias %q (Java aliases are case-insensitive)", e.Alias)
		}
		seen[a] = true
	}
	return nil
}

func newJKS() keystore.KeyStore {
	// Never WithCaseExactAliases: Java lowercases aliases when it looks
	// them up, so a mixed-case alias in the file would not be found.
	return keystore.New(keystore.WithOrderedAliases(), keystore.WithMinPasswordLen(MinPasswordLen))
}

func creationTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func x509Cert(c *x509.Certificate) keystore.Certificate {
	return keystore.Certificate{Type: "X.509", Content: c.Raw}
}

// JKSKeystore returns a JKS keystore holding one PrivateKeyEntry under the
// lowercased alias, with the certificate chain [leaf, CA...] and the key
// (PKCS#8) protected by the store password. A zero created means now.
func JKSKeystore(alias string, key crypto.PrivateKey, chain []*x509.Certificate, password string, created time.Time) ([]byte, error) {
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	alias = strings.ToLower(alias)
	if alias == "" {
		return nil, errors.New("jks: keystore alias is empty")
	}
	if err := checkKeyChain(key, chain); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("jks: encode private key as PKCS#8: %w", err)
	}
	entry := keystore.PrivateKeyEntry{CreationTime: creationTime(created), PrivateKey: der}
	for _, c := range chain {
		entry.CertificateChain = append(entry.CertificateChain, x509Cert(c))
	}
	ks := newJKS()
	if err := ks.SetPrivateKeyEntry(alias, entry, []byte(password)); err != nil {
		return nil, fmt.Errorf("jks: add key entry %q: %w", alias, err)
	}
	return storeJKS(ks, password)
}

// JKSTruststore returns a JKS truststore with one trustedCertEntry per
// entry (aliases lowercased, as Java stores them).
func JKSTruststore(entries []TrustEntry, password string, created time.Time) ([]byte, error) {
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	if err := checkTrustEntries(entries); err != nil {
		return nil, err
	}
	ks := newJKS()
	at := creationTime(created)
	for _, e := range entries {
		err := ks.SetTrustedCertificateEntry(strings.ToLower(e.Alias), keystore.TrustedCertificateEntry{
			CreationTime: at,
			Certificate:  x509Cert(e.Cert),
		})
		if err != nil {
			return nil, fmt.Errorf("jks: add trusted certificate %q: %w", e.Alias, err)
		}
	}
	return storeJKS(ks, password)
}

func storeJKS(ks keystore.KeyStore, password string) ([]byte, error) {
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		return nil, fmt.Errorf("jks: write JKS: %w", err)
	}
	return buf.Bytes(), nil
}

// PKCS12Keystore returns a PKCS#12 keystore holding the key and the chain
// [leaf, CA...], encrypted with the profile c. Java lists the key entry
// under the alias "1" (go-pkcs12 cannot set a friendlyName on the key bag).
func PKCS12Keystore(key crypto.PrivateKey, chain []*x509.Certificate, password string, c Compat) ([]byte, error) {
	enc, err := c.encoder()
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	if err := checkKeyChain(key, chain); err != nil {
		return nil, err
	}
	out, err := enc.Encode(key, chain[0], chain[1:], password)
	if err != nil {
		return nil, fmt.Errorf("jks: write PKCS12 keystore: %w", err)
	}
	return out, nil
}

// PKCS12Truststore returns a PKCS#12 truststore whose certificates carry
// the friendlyName (alias, lowercased) and Java's trusted-certificate
// attribute (OID 2.16.840.1.113894.746875.1.1), without which Java ignores
// them.
func PKCS12Truststore(entries []TrustEntry, password string, c Compat) ([]byte, error) {
	enc, err := c.encoder()
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	if err := checkTrustEntries(entries); err != nil {
		return nil, err
	}
	tes := make([]pkcs12.TrustStoreEntry, len(entries))
	for i, e := range entries {
		tes[i] = pkcs12.TrustStoreEntry{Cert: e.Cert, FriendlyName: strings.ToLower(e.Alias)}
	}
	out, err := enc.EncodeTrustStoreEntries(tes, password)
	if err != nil {
		return nil, fmt.Errorf("jks: write PKCS12 truststore: %w", err)
	}
	return out, nil
}
