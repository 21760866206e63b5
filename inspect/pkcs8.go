package inspect

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/youmark/pkcs8"
)

// Encrypted PKCS#8 keys (PEM "ENCRYPTED PRIVATE KEY") are decrypted by
// github.com/youmark/pkcs8, as kafkatls's pem package does. That library
// trusts the parameters it reads, so pkcs8Decryptable first checks, from
// the unencrypted AlgorithmIdentifier, that the scheme is one it handles
// and that the work is bounded.

// maxPEMKeyIterations bounds the PBKDF2 work of decrypting one PEM key with
// one password (the limit Java applies to PKCS#12).
const maxPEMKeyIterations = 5_000_000

// pkcs8Decryptable returns "" when youmark/pkcs8 can decrypt a key encrypted
// with alg within bounded work, else why not.
func pkcs8Decryptable(alg pkix.AlgorithmIdentifier) string {
	if !alg.Algorithm.Equal(oidPBES2) {
		return "only PBES2 keys are decrypted here; convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc"
	}
	var p pbes2Params
	if unmarshalAll(alg.Parameters.FullBytes, &p) != nil {
		return "malformed PBES2 parameters"
	}
	var keyLen, ivLen int
	switch {
	case p.Scheme.Algorithm.Equal(oidAES128CBC):
		keyLen, ivLen = 16, 16
	case p.Scheme.Algorithm.Equal(oidAES192CBC):
		keyLen, ivLen = 24, 16
	case p.Scheme.Algorithm.Equal(oidAES256CBC):
		keyLen, ivLen = 32, 16
	case p.Scheme.Algorithm.Equal(oidDESEDE3CBC):
		keyLen, ivLen = 24, 8
	default:
		return fmt.Sprintf("PBES2 cipher %s is not supported", cipherName(p.Scheme.Algorithm))
	}
	var iv []byte
	if unmarshalAll(p.Scheme.Parameters.FullBytes, &iv) != nil || len(iv) != ivLen {
		return "malformed PBES2 IV"
	}
	if !p.Kdf.Algorithm.Equal(oidPBKDF2) {
		return fmt.Sprintf("PBES2 key derivation %s is not supported", p.Kdf.Algorithm)
	}
	var kp pbkdf2Params
	if unmarshalAll(p.Kdf.Parameters.FullBytes, &kp) != nil || kp.Salt.Tag != asn1.TagOctetString {
		return "malformed PBKDF2 parameters"
	}
	sha1 := len(kp.Prf.Algorithm) == 0 || kp.Prf.Algorithm.Equal(oidHMACSHA1)
	if !sha1 && !kp.Prf.Algorithm.Equal(oidHMACSHA256) {
		return fmt.Sprintf("PBKDF2 with %s is not supported (HMAC-SHA1 and HMAC-SHA256 are)", prfName(kp.Prf.Algorithm))
	}
	if kp.KeyLength != 0 && (kp.KeyLength != keyLen || !sha1) {
		return fmt.Sprintf("PBKDF2 key length %d is not supported with this cipher and PRF", kp.KeyLength)
	}
	if kp.Iterations < 1 || kp.Iterations > maxPEMKeyIterations {
		return fmt.Sprintf("PBKDF2 with %d iterations (1 to %d are read)", kp.Iterations, maxPEMKeyIterations)
	}
	return ""
}

// decryptPKCS8 decrypts an encrypted PKCS#8 key with youmark/pkcs8; a
// decoder panic becomes an error.
func decryptPKCS8(der []byte, password string) (key any, err error) {
	defer func() {
		if p := recover(); p != nil {
			key, err = nil, fmt.Errorf("malformed encrypted key (decoder failed: %v)", p)
		}
	}()
	return pkcs8.ParsePKCS8PrivateKey(der, []byte(password))
}
