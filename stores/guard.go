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

// PKCS#12 algorithm parameters the guard reads iteration counts from.
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
	oidPKCS12PBE     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // PBE-SHA1-* family
	oidPBESHA1RC2128 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBESHA1RC240  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBMAC1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

type pfxInfo struct {
	hasMAC bool
	rc2    bool
}

// scanPKCS12 checks the structure ScanPKCS12 reads, in file order, as
// go-pkcs12 will use it: it reports RC2 use and a MAC, and rejects
// iteration counts above maxIterations. Parts it cannot parse are left for
// go-pkcs12 to report; the algorithms of every part that parses are
// checked, wherever the part is.
func scanPKCS12(data []byte) (pfxInfo, error) {
	var info pfxInfo
	if _, ok := parsePFX(data); !ok {
		return info, errors.New("jks: not a PKCS12 store")
	}
	s, _ := ScanPKCS12(data)
	info.hasMAC = s.HasMAC
	if s.MACParsed {
		if err := checkIterations("MAC", s.MACIterations); err != nil {
			return info, err
		}
	}
	for _, alg := range s.EncryptedSafes {
		if err := info.checkCipher("certificate encryption", alg); err != nil {
			return info, err
		}
	}
	for _, b := range s.Bags {
		if b.KeyAlgorithm != nil {
			if err := info.checkCipher("key encryption", *b.KeyAlgorithm); err != nil {
				return info, err
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
