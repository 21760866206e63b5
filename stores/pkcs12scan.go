package stores

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// The PKCS#12 structure that is in the clear, read without the password:
// the MAC algorithm and iteration count, the encryption algorithm of each
// encrypted safe, and the bags of unencrypted safes (in practice the
// shrouded key bag, or everything in a password-less file) with their
// attributes. No cryptography happens here: every MAC check, key
// derivation and decryption is go-pkcs12's. Read uses the scan to bound
// iteration counts before go-pkcs12 runs them (guard.go); inspect uses it
// to describe a file (aliases, Java's trusted attribute, algorithms).

// PKCS#12 object identifiers of the structure.
var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKey     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidSafeContentsBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509CertType    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidMSCSPName       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 17, 1}
	// OIDJavaTrusted is Java's trusted-certificate attribute: a PKCS12
	// truststore certificate without it is ignored by Java.
	OIDJavaTrusted = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
)

// maxBagDepth bounds nested SafeContents bags.
const maxBagDepth = 4

type pfxPDU struct {
	Version  int
	AuthSafe pfxContentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type pfxContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type pfxMacData struct {
	Mac struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type pfxSafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pfxBagAttribute `asn1:"set,optional"`
}

type pfxBagAttribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type pfxCertBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type pfxEncryptedData struct {
	Version int
	Info    struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     asn1.RawValue `asn1:"tag:0,optional"`
	}
}

type pfxEncryptedKey struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

// BagKind is what a PKCS#12 bag holds.
type BagKind string

// Bag kinds.
const (
	BagKey   BagKind = "key"  // keyBag or pkcs8ShroudedKeyBag
	BagCert  BagKind = "cert" // certBag with an X.509 certificate
	BagOther BagKind = "other"
)

// PKCS12Bag is one bag of an unencrypted safe.
type PKCS12Bag struct {
	Kind         BagKind
	OID          asn1.ObjectIdentifier
	FriendlyName string // the alias Java shows
	HasName      bool
	LocalKeyID   []byte
	JavaTrusted  bool // carries OIDJavaTrusted
	// OtherAttr: an attribute besides friendlyName, localKeyId and the
	// Microsoft CSP name (Java's trusted attribute counts).
	OtherAttr bool
	CertDER   []byte // BagCert: the certificate
	// KeyAlgorithm is a shrouded key bag's encryption; nil for a plain keyBag.
	KeyAlgorithm *pkix.AlgorithmIdentifier
}

// PKCS12Structure is what a PKCS#12 file tells without its password.
type PKCS12Structure struct {
	HasMAC bool
	// MACAlgorithm is the MAC's digest (or PBMAC1) algorithm, set when
	// the MAC data parsed (MACParsed).
	MACAlgorithm  pkix.AlgorithmIdentifier
	MACIterations int // PBMAC1: the PBKDF2 count
	MACParsed     bool
	Safes         int // content infos in the authenticated safe
	// EncryptedSafes are the encryption algorithms of the
	// password-encrypted (EncryptedData) safes, in file order.
	EncryptedSafes []pkix.AlgorithmIdentifier
	OtherSafes     int         // safes neither Data nor EncryptedData
	Bags           []PKCS12Bag // bags of the unencrypted (Data) safes
}

// KeyBags returns the key bags of the unencrypted safes.
func (s *PKCS12Structure) KeyBags() []PKCS12Bag {
	var out []PKCS12Bag
	for _, b := range s.Bags {
		if b.Kind == BagKey {
			out = append(out, b)
		}
	}
	return out
}

// parsePFX parses the outer PFX structure; ok means DER, version 3.
func parsePFX(data []byte) (pfxPDU, bool) {
	var p pfxPDU
	if len(data) == 0 || data[0] != 0x30 { // SEQUENCE
		return p, false
	}
	if err := asn1Unmarshal(data, &p); err != nil || p.Version != 3 || len(p.AuthSafe.ContentType) == 0 {
		return p, false
	}
	return p, true
}

// ScanPKCS12 reads the unencrypted structure of a PKCS#12 file in file
// order. It needs no password and decrypts nothing. What it cannot parse
// is reported as an error (the first), with everything else it could read
// returned: a safe that does not parse is skipped, and within a safe the
// bags before the one that does not parse are kept.
func ScanPKCS12(data []byte) (PKCS12Structure, error) {
	var s PKCS12Structure
	var p pfxPDU
	if err := asn1Unmarshal(data, &p); err != nil {
		return s, fmt.Errorf("PKCS12 structure: %v", err)
	}
	if p.Version != 3 {
		return s, fmt.Errorf("PKCS12 version %d (only 3 exists)", p.Version)
	}
	if len(p.MacData.FullBytes) > 0 {
		s.HasMAC = true
		var md pfxMacData
		if asn1Unmarshal(p.MacData.FullBytes, &md) == nil {
			s.MACParsed, s.MACAlgorithm, s.MACIterations = true, md.Mac.Algorithm, md.Iterations
			if md.Mac.Algorithm.Algorithm.Equal(oidPBMAC1) {
				s.MACIterations = pbmac1Iterations(md.Mac.Algorithm)
			}
		}
	}
	if !p.AuthSafe.ContentType.Equal(oidData) {
		return s, errors.New("PKCS12 with public-key integrity (not password-based) is not supported")
	}
	var authSafe []byte
	if err := asn1Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return s, fmt.Errorf("PKCS12 authenticated safe: %v", err)
	}
	var cis []pfxContentInfo
	if err := asn1Unmarshal(authSafe, &cis); err != nil {
		return s, fmt.Errorf("PKCS12 authenticated safe: %v", err)
	}
	s.Safes = len(cis)
	// A safe that does not parse does not stop the scan: the guard must
	// see every algorithm a more lenient decoder might still run.
	var errs []error
	for _, ci := range cis {
		switch {
		case ci.ContentType.Equal(oidData):
			var contents []byte
			if err := asn1Unmarshal(ci.Content.Bytes, &contents); err != nil {
				errs = append(errs, fmt.Errorf("PKCS12 safe contents: %v", err))
				continue
			}
			if err := s.safeContents(contents, 0); err != nil {
				errs = append(errs, err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed pfxEncryptedData
			if err := asn1Unmarshal(ci.Content.Bytes, &ed); err != nil {
				errs = append(errs, fmt.Errorf("PKCS12 encrypted safe: %v", err))
				continue
			}
			s.EncryptedSafes = append(s.EncryptedSafes, ed.Info.Algorithm)
		default:
			s.OtherSafes++
		}
	}
	if len(errs) > 0 {
		return s, errs[0]
	}
	return s, nil
}

func (s *PKCS12Structure) safeContents(der []byte, depth int) error {
	if depth > maxBagDepth {
		return errors.New("PKCS12 bags nested too deeply")
	}
	var bags []pfxSafeBag
	if err := asn1Unmarshal(der, &bags); err != nil {
		return fmt.Errorf("PKCS12 bags: %v", err)
	}
	for _, b := range bags {
		bag := PKCS12Bag{Kind: BagOther, OID: b.ID}
		for _, a := range b.Attributes {
			switch {
			case a.ID.Equal(oidFriendlyName):
				var raw asn1.RawValue
				if _, err := asn1.Unmarshal(a.Values.Bytes, &raw); err == nil && raw.Tag == asn1.TagBMPString {
					bag.FriendlyName, bag.HasName = decodeBMP(raw.Bytes), true
				}
			case a.ID.Equal(oidLocalKeyID):
				var id []byte
				if _, err := asn1.Unmarshal(a.Values.Bytes, &id); err == nil {
					bag.LocalKeyID = id
				}
			case a.ID.Equal(OIDJavaTrusted):
				bag.JavaTrusted, bag.OtherAttr = true, true
			case a.ID.Equal(oidMSCSPName):
			default:
				bag.OtherAttr = true
			}
		}
		switch {
		case b.ID.Equal(oidCertBag):
			var cb pfxCertBag
			if err := asn1Unmarshal(b.Value.Bytes, &cb); err != nil {
				return fmt.Errorf("PKCS12 certificate bag: %v", err)
			}
			if cb.ID.Equal(oidX509CertType) {
				bag.Kind, bag.CertDER = BagCert, cb.Data
			}
		case b.ID.Equal(oidKeyBag):
			bag.Kind = BagKey
		case b.ID.Equal(oidShroudedKey):
			bag.Kind = BagKey
			var ek pfxEncryptedKey
			if err := asn1Unmarshal(b.Value.Bytes, &ek); err != nil {
				return fmt.Errorf("PKCS12 shrouded key bag: %v", err)
			}
			bag.KeyAlgorithm = &ek.Algorithm
		case b.ID.Equal(oidSafeContentsBag):
			if err := s.safeContents(b.Value.Bytes, depth+1); err != nil {
				return err
			}
			continue
		}
		s.Bags = append(s.Bags, bag)
	}
	return nil
}

func decodeBMP(b []byte) string {
	if len(b)%2 != 0 {
		b = b[:len(b)-1]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return strings.TrimRight(string(utf16.Decode(u)), "\x00")
}
