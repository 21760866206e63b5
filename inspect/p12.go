package inspect

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kafkatls/kafkatls/stores"
)

// PKCS#12 metadata. This file does no cryptography and parses no PKCS#12
// structure itself: stores.ScanPKCS12 reads what is in the clear (the
// same scan that bounds iteration counts before go-pkcs12 runs), and every
// MAC check, key derivation and decryption is go-pkcs12's (through
// stores.Read, and ToPEM below). What this file adds is the description: the
// MAC and encryption algorithms as a person reads them, and the bag
// attributes — friendlyName (the alias Java shows), localKeyId and Java's
// trusted-certificate attribute — matched to what go-pkcs12 decoded.

var (
	oidPBESHA3DES   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBESHA2DES   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBESHARC2128 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBESHARC240  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBESHARC4128 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBESHARC440  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}
	oidPBES2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidPBMAC1       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidHMACSHA1     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidSHA1         = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Messages of go-pkcs12 that inspect acts on.
const (
	// DecodeTrustStore: a certificate bag lacks Java's trusted attribute.
	msgNotTrusted = "pkcs12: trust store contains a certificate that is not marked as trusted"
	// Notes for what go-pkcs12 does not expose.
	noteAliasUnreadable = "alias not readable: go-pkcs12 does not expose friendlyName of encrypted certificate bags"
)

// p12Bag is one bag of an unencrypted safe.
type p12Bag struct {
	kind         string // "key", "cert", "other"
	friendlyName string
	hasName      bool
	localKeyID   []byte
	trusted      bool
	otherAttr    bool   // an attribute go-pkcs12's ToPEM does not know
	certDER      []byte // certificate bags: the X.509 certificate
	keyEncrypted string // key bags: the encryption ("none" for a plain keyBag)
	bagOID       string
}

// p12Meta is what a PKCS#12 file tells without its password.
type p12Meta struct {
	hasMAC         bool
	mac            string
	macIterations  int
	certEncryption string
	keyEncryption  string
	rc2            bool
	safes          int      // content infos in the authenticated safe
	encryptedSafes int      // of which password-encrypted (EncryptedData)
	otherSafes     int      // of which neither Data nor EncryptedData
	bags           []p12Bag // bags of the unencrypted (Data) safes
}

type encryptedPKI struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	Kdf    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	Prf        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	Cost      int
	BlockSize int
	Parallel  int
	KeyLength int `asn1:"optional"`
}

type pbmac1Params struct {
	Kdf pkix.AlgorithmIdentifier
	Mac pkix.AlgorithmIdentifier
}

func unmarshalAll(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}

// scanP12 describes the unencrypted structure of a PKCS#12 file, as
// stores.ScanPKCS12 reads it. It needs no password and decrypts nothing;
// what it cannot parse is reported as an error after whatever was read.
func scanP12(data []byte) (p12Meta, error) {
	s, err := stores.ScanPKCS12(data)
	m := p12Meta{hasMAC: s.HasMAC, mac: "none", safes: s.Safes, encryptedSafes: len(s.EncryptedSafes), otherSafes: s.OtherSafes}
	switch {
	case s.MACParsed:
		m.mac, m.macIterations = macName(s.MACAlgorithm, s.MACIterations)
	case s.HasMAC:
		m.mac = "malformed MAC data"
	}
	for i, alg := range s.EncryptedSafes {
		desc, rc2 := describeAlg(alg)
		m.rc2 = m.rc2 || rc2
		if i == 0 {
			m.certEncryption = desc
		}
	}
	for _, b := range s.Bags {
		bag := p12Bag{kind: string(b.Kind), friendlyName: b.FriendlyName, hasName: b.HasName, localKeyID: b.LocalKeyID,
			trusted: b.JavaTrusted, otherAttr: b.OtherAttr, certDER: b.CertDER, bagOID: b.OID.String()}
		if b.Kind == stores.BagKey {
			bag.keyEncrypted = "none"
			if b.KeyAlgorithm != nil {
				desc, rc2 := describeAlg(*b.KeyAlgorithm)
				m.rc2 = m.rc2 || rc2
				bag.keyEncrypted = desc
				if m.keyEncryption == "" {
					m.keyEncryption = desc
				}
			}
		}
		m.bags = append(m.bags, bag)
	}
	return m, err
}

// keyBags returns the key bags of the unencrypted safes.
func (m *p12Meta) keyBags() []p12Bag {
	var out []p12Bag
	for _, b := range m.bags {
		if b.kind == "key" {
			out = append(out, b)
		}
	}
	return out
}

func macName(alg pkix.AlgorithmIdentifier, iterations int) (string, int) {
	oid := alg.Algorithm
	switch {
	case oid.Equal(oidSHA1):
		return "HmacPBESHA1", iterations
	case oid.Equal(oidSHA256):
		return "HmacPBESHA256", iterations
	case oid.Equal(oidSHA384):
		return "HmacPBESHA384", iterations
	case oid.Equal(oidSHA512):
		return "HmacPBESHA512", iterations
	case oid.Equal(oidPBMAC1):
		var p pbmac1Params
		if unmarshalAll(alg.Parameters.FullBytes, &p) != nil {
			return "PBMAC1 (malformed parameters)", 0
		}
		name := "PBMAC1 " + prfName(p.Mac.Algorithm)
		var kp pbkdf2Params
		if p.Kdf.Algorithm.Equal(oidPBKDF2) && unmarshalAll(p.Kdf.Parameters.FullBytes, &kp) == nil {
			return name + " (PBKDF2-" + prfName(kp.Prf.Algorithm) + ")", kp.Iterations
		}
		return name, 0
	}
	return oid.String(), iterations
}

// describeAlg names a password-based encryption algorithm as a person
// reads it, from its (unencrypted) AlgorithmIdentifier; rc2 reports the
// legacy RC2 schemes.
func describeAlg(alg pkix.AlgorithmIdentifier) (desc string, rc2 bool) {
	oid := alg.Algorithm
	switch {
	case oid.Equal(oidPBESHA3DES):
		return "PBE-SHA1-3DES" + pbeIter(alg), false
	case oid.Equal(oidPBESHA2DES):
		return "PBE-SHA1-2DES" + pbeIter(alg), false
	case oid.Equal(oidPBESHARC2128):
		return "PBE-SHA1-RC2-128 (legacy)" + pbeIter(alg), true
	case oid.Equal(oidPBESHARC240):
		return "PBE-SHA1-RC2-40 (legacy)" + pbeIter(alg), true
	case oid.Equal(oidPBESHARC4128), oid.Equal(oidPBESHARC440):
		return "PBE-SHA1-RC4 (legacy)" + pbeIter(alg), false
	case oid.Equal(oidPBES2):
		var p pbes2Params
		if unmarshalAll(alg.Parameters.FullBytes, &p) != nil {
			return "PBES2 (malformed parameters)", false
		}
		kdf := p.Kdf.Algorithm.String()
		switch {
		case p.Kdf.Algorithm.Equal(oidPBKDF2):
			var kp pbkdf2Params
			if unmarshalAll(p.Kdf.Parameters.FullBytes, &kp) == nil {
				kdf = fmt.Sprintf("PBKDF2-%s, %d iterations", prfName(kp.Prf.Algorithm), kp.Iterations)
			}
		case p.Kdf.Algorithm.Equal(oidScrypt):
			kdf = "scrypt"
			var sp scryptParams
			if unmarshalAll(p.Kdf.Parameters.FullBytes, &sp) == nil {
				kdf = fmt.Sprintf("scrypt N=%d r=%d p=%d", sp.Cost, sp.BlockSize, sp.Parallel)
			}
		}
		return fmt.Sprintf("PBES2 %s (%s)", cipherName(p.Scheme.Algorithm), kdf), false
	}
	return oid.String(), false
}

func cipherName(oid asn1.ObjectIdentifier) string {
	switch {
	case oid.Equal(oidAES128CBC):
		return "AES-128-CBC"
	case oid.Equal(oidAES192CBC):
		return "AES-192-CBC"
	case oid.Equal(oidAES256CBC):
		return "AES-256-CBC"
	case oid.Equal(oidDESEDE3CBC):
		return "3DES-CBC"
	}
	return oid.String()
}

func pbeIter(alg pkix.AlgorithmIdentifier) string {
	var p pbeParams
	if unmarshalAll(alg.Parameters.FullBytes, &p) == nil {
		return fmt.Sprintf(", %d iterations", p.Iterations)
	}
	return ""
}

func prfName(oid asn1.ObjectIdentifier) string {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACSHA1):
		return "HMAC-SHA1"
	case oid.Equal(oidHMACSHA224):
		return "HMAC-SHA224"
	case oid.Equal(oidHMACSHA256):
		return "HMAC-SHA256"
	case oid.Equal(oidHMACSHA384):
		return "HMAC-SHA384"
	case oid.Equal(oidHMACSHA512):
		return "HMAC-SHA512"
	}
	return oid.String()
}

// certAttrs are the attributes of one certificate bag.
type certAttrs struct {
	friendlyName string
	hasName      bool
	localKeyID   []byte
	trusted      bool
}

// p12Attrs are the certificate-bag attributes inspect could learn, per
// certificate DER in bag order (a certificate may be in several bags: Java
// writes a CA once in a key's chain and once as a trusted entry).
type p12Attrs struct {
	byCert map[string][]certAttrs
	// javaTrusted: go-pkcs12 refused an attribute of an encrypted bag,
	// and it was Java's trusted-certificate attribute — some certificate
	// of the file carries it (which one, go-pkcs12 does not say).
	javaTrusted bool
}

// take removes and returns the attributes of a bag holding c; with
// untrustedOnly, only of a bag without Java's trusted attribute. known is
// false when no bag's attributes are known for c (it can be used); ok is
// false when only trusted bags remain for an untrustedOnly take.
func (at *p12Attrs) take(c *x509.Certificate, untrustedOnly bool) (a certAttrs, known, ok bool) {
	k := string(c.Raw)
	list := at.byCert[k]
	for i, x := range list {
		if untrustedOnly && x.trusted {
			continue
		}
		at.byCert[k] = append(list[:i:i], list[i+1:]...)
		return x, true, true
	}
	if len(list) > 0 {
		return certAttrs{}, true, false
	}
	return certAttrs{}, false, true
}

// canTake reports whether take would succeed, without taking.
func (at *p12Attrs) canTake(c *x509.Certificate, untrustedOnly bool) bool {
	list := at.byCert[string(c.Raw)]
	for _, x := range list {
		if !untrustedOnly || !x.trusted {
			return true
		}
	}
	return len(list) == 0
}

// hasLocalKeyID reports whether a bag holding c carries localKeyId id.
func (at *p12Attrs) hasLocalKeyID(c *x509.Certificate, id []byte) bool {
	for _, x := range at.byCert[string(c.Raw)] {
		if bytes.Equal(x.localKeyID, id) {
			return true
		}
	}
	return false
}

// certAttributes collects the attributes of the certificate bags: those of
// unencrypted safes from the structure, those of encrypted safes from
// go-pkcs12's ToPEM, which decrypts them (it is deprecated, but the only
// public go-pkcs12 API that returns bag attributes). ToPEM reads only files
// of exactly two safes, knows only the friendlyName, localKeyId and
// Microsoft CSP attributes, and converts only RSA and ECDSA keys; it is not
// called when it would fail for one of these reasons anyway. The file's
// iteration counts were bounded by stores.Read before this runs.
func certAttributes(data []byte, password string, m p12Meta, key any) p12Attrs {
	at := p12Attrs{byCert: map[string][]certAttrs{}}
	for _, b := range m.bags {
		if b.kind == "cert" {
			k := string(b.certDER)
			at.byCert[k] = append(at.byCert[k], certAttrs{friendlyName: b.friendlyName, hasName: b.hasName, localKeyID: b.localKeyID, trusted: b.trusted})
		}
	}
	if m.encryptedSafes == 0 && m.otherSafes == 0 {
		return at // every bag is in the clear
	}
	if m.safes != 2 || m.otherSafes != 0 {
		return at
	}
	for _, b := range m.bags {
		if b.otherAttr || b.keyEncrypted == "none" || (b.kind != "key" && b.kind != "cert") {
			return at
		}
	}
	switch key.(type) {
	case nil, *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return at
	}
	blocks, err := toPEM(data, password)
	if err != nil {
		// ToPEM fails on the first attribute it does not know, naming it.
		at.javaTrusted = strings.Contains(err.Error(), "unknown attribute with OID "+stores.OIDJavaTrusted.String())
		return at
	}
	// ToPEM returns every bag, the unencrypted ones too, in file order.
	cert := map[string][]certAttrs{}
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		ca := certAttrs{}
		ca.friendlyName, ca.hasName = b.Headers["friendlyName"]
		if id, ok := b.Headers["localKeyId"]; ok {
			ca.localKeyID, _ = hex.DecodeString(id)
		}
		cert[string(b.Bytes)] = append(cert[string(b.Bytes)], ca)
	}
	at.byCert = cert
	return at
}

// toPEM is go-pkcs12's ToPEM with a decoder panic turned into an error.
func toPEM(data []byte, password string) (blocks []*pem.Block, err error) {
	defer func() {
		if p := recover(); p != nil {
			blocks, err = nil, fmt.Errorf("pkcs12: decoder failed: %v", p)
		}
	}()
	//lint:ignore SA1019 deprecated, but the only public go-pkcs12 API that returns bag attributes
	return pkcs12.ToPEM(data, password)
}
