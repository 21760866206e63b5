package stores

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// The decoding libraries trust the lengths and iteration counts they read:
// keystore-go allocates whatever a JKS length field says (up to 4 GiB per
// field) and go-pkcs12 runs as many KDF iterations as the file asks for. The
// checks here look only at the unauthenticated framing, before the libraries
// do the real decoding, so that hostile or corrupted files fail fast.

// maxIterations is the largest KDF/MAC iteration count accepted; it is the
// limit Java's PKCS12KeyStore applies (MAX_ITERATION_COUNT).
const maxIterations = 5_000_000

// checkJKSStructure walks the JKS framing (magic, version, entries,
// certificates, trailing SHA-1 digest) and fails if any length runs past the
// end of data.
func checkJKSStructure(data []byte) error {
	_, err := ReadUnverified(data)
	return err
}

// PKCS#12 framing, as far as it is readable without the password.
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
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes asn1.RawValue `asn1:"optional"`
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

type pfxPBEParams struct {
	Salt       []byte
	Iterations int
}

type pfxPBES2Params struct {
	Kdf, Scheme pkix.AlgorithmIdentifier
}

type pfxPBKDF2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	Prf        pkix.AlgorithmIdentifier `asn1:"optional"`
}

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidPKCS12PBE     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // PBE-SHA1-* family
	oidPBESHA1RC2128 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBESHA1RC240  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBMAC1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

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

type pfxInfo struct {
	hasMAC bool
	rc2    bool
}

// scanPKCS12 reads the PKCS#12 parts that are not encrypted: it reports RC2
// use and a MAC, and rejects iteration counts above maxIterations. Parts it
// cannot parse are left for go-pkcs12 to report.
func scanPKCS12(data []byte) (pfxInfo, error) {
	var info pfxInfo
	p, ok := parsePFX(data)
	if !ok {
		return info, errors.New("jks: not a PKCS12 store")
	}
	if len(p.MacData.FullBytes) > 0 {
		info.hasMAC = true
		var md pfxMacData
		if asn1Unmarshal(p.MacData.FullBytes, &md) == nil {
			iter := md.Iterations
			if md.Mac.Algorithm.Algorithm.Equal(oidPBMAC1) {
				iter = pbmac1Iterations(md.Mac.Algorithm)
			}
			if err := checkIterations("MAC", iter); err != nil {
				return info, err
			}
		}
	}
	if !p.AuthSafe.ContentType.Equal(oidData) {
		return info, nil
	}
	var authSafe []byte
	var cis []pfxContentInfo
	if asn1Unmarshal(p.AuthSafe.Content.Bytes, &authSafe) != nil || asn1Unmarshal(authSafe, &cis) != nil {
		return info, nil
	}
	for _, ci := range cis {
		switch {
		case ci.ContentType.Equal(oidEncryptedData):
			var ed pfxEncryptedData
			if asn1Unmarshal(ci.Content.Bytes, &ed) == nil {
				if err := info.checkCipher("certificate encryption", ed.Info.Algorithm); err != nil {
					return info, err
				}
			}
		case ci.ContentType.Equal(oidData):
			var raw []byte
			var bags []pfxSafeBag
			if asn1Unmarshal(ci.Content.Bytes, &raw) != nil || asn1Unmarshal(raw, &bags) != nil {
				continue
			}
			for _, bag := range bags {
				if !bag.ID.Equal(oidShroudedKey) {
					continue
				}
				var ek pfxEncryptedKey
				if asn1Unmarshal(bag.Value.Bytes, &ek) == nil {
					if err := info.checkCipher("key encryption", ek.Algorithm); err != nil {
						return info, err
					}
				}
			}
		}
	}
	return info, nil
}

func (info *pfxInfo) checkCipher(what string, alg pkix.AlgorithmIdentifier) error {
	oid := alg.Algorithm
	switch {
	case oid.Equal(oidPBESHA1RC2128) || oid.Equal(oidPBESHA1RC240):
		info.rc2 = true
	}
	switch {
	case len(oid) == len(oidPKCS12PBE)+1 && oid[:len(oidPKCS12PBE)].Equal(oidPKCS12PBE):
		var params pfxPBEParams
		if asn1Unmarshal(alg.Parameters.FullBytes, &params) == nil {
			return checkIterations(what, params.Iterations)
		}
	case oid.Equal(oidPBES2):
		var params pfxPBES2Params
		if asn1Unmarshal(alg.Parameters.FullBytes, &params) == nil && params.Kdf.Algorithm.Equal(oidPBKDF2) {
			var kdf pfxPBKDF2Params
			if asn1Unmarshal(params.Kdf.Parameters.FullBytes, &kdf) == nil {
				return checkIterations(what, kdf.Iterations)
			}
		}
	}
	return nil
}

func pbmac1Iterations(alg pkix.AlgorithmIdentifier) int {
	var params struct{ Kdf, Mac pkix.AlgorithmIdentifier }
	var kdf pfxPBKDF2Params
	if asn1Unmarshal(alg.Parameters.FullBytes, &params) == nil && asn1Unmarshal(params.Kdf.Parameters.FullBytes, &kdf) == nil {
		return kdf.Iterations
	}
	return 0
}

func checkIterations(what string, n int) error {
	if n > maxIterations {
		return fmt.Errorf("jks: PKCS12 %s asks for %d key-derivation iterations, more than the %d Java accepts; refusing to read it", what, n, maxIterations)
	}
	return nil
}
