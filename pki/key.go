package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
)

// KeyType is the public-key algorithm of a generated key.
type KeyType string

// Supported key types. Ed25519 is deliberately absent: Java 11-era brokers
// and several librdkafka builds do not negotiate it.
const (
	RSA   KeyType = "rsa"
	ECDSA KeyType = "ecdsa"
)

// KeySpec selects the type and size of a key to generate.
type KeySpec struct {
	Type KeyType `json:"type"`
	Size int     `json:"size"`
}

// DefaultKeySpec is RSA-2048: the most conservative choice across old JVMs,
// OpenSSL builds and FIPS providers.
var DefaultKeySpec = KeySpec{Type: RSA, Size: 2048}

// MinRSABits is the smallest RSA modulus kafkatls generates or signs for.
const MinRSABits = 2048

// ErrWeakKey is wrapped by CheckPublicKey's refusals.
var ErrWeakKey = errors.New("key refused")

// CheckPublicKey is the key policy for every certificate the CA signs,
// whether kafkatls made the key (issue, renew) or a requester did (sign):
// RSA of at least MinRSABits, or ECDSA on P-256, P-384 or P-521. Other
// types (Ed25519, DSA) are refused: Java 11-era brokers and several
// librdkafka builds do not negotiate them.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < MinRSABits {
			return fmt.Errorf("%w: RSA-%d is under %d bits (use RSA-2048 or larger, or ECDSA P-256)", ErrWeakKey, n, MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s is not one of P-256, P-384, P-521", ErrWeakKey, k.Curve.Params().Name)
	}
	return fmt.Errorf("%w: %T keys are not supported (use RSA-2048 or larger, or ECDSA P-256)", ErrWeakKey, pub)
}

// Normalize fills a zero size with the default for the type and checks the
// combination, naming the offending value on error.
func (s KeySpec) Normalize() (KeySpec, error) {
	s.Type = KeyType(strings.ToLower(string(s.Type)))
	if s.Type == "" {
		s.Type = RSA
	}
	switch s.Type {
	case RSA:
		if s.Size == 0 {
			s.Size = 2048
		}
		switch s.Size {
		case 2048, 3072, 4096:
		default:
			if s.Size < MinRSABits {
				return s, invalid(FieldKeySize, fmt.Sprint(s.Size), "key size %d: RSA keys under %d bits are refused (use 2048, 3072 or 4096)", s.Size, MinRSABits)
			}
			return s, invalid(FieldKeySize, fmt.Sprint(s.Size), "key size %d: RSA key size must be 2048, 3072 or 4096", s.Size)
		}
	case ECDSA:
		if s.Size == 0 {
			s.Size = 256
		}
		if s.Size != 256 && s.Size != 384 {
			return s, invalid(FieldKeySize, fmt.Sprint(s.Size), "key size %d: ECDSA key size must be 256 (P-256) or 384 (P-384)", s.Size)
		}
	default:
		return s, invalid(FieldKeyType, string(s.Type), "key type %q: must be rsa or ecdsa", s.Type)
	}
	return s, nil
}

func (s KeySpec) String() string {
	if s.Type == ECDSA {
		return fmt.Sprintf("ECDSA P-%d", s.Size)
	}
	return fmt.Sprintf("RSA-%d", s.Size)
}

// GenerateKey creates a new private key.
func GenerateKey(s KeySpec) (crypto.Signer, error) {
	s, err := s.Normalize()
	if err != nil {
		return nil, err
	}
	if s.Type == ECDSA {
		curve := elliptic.P256()
		if s.Size == 384 {
			curve = elliptic.P384()
		}
		return ecdsa.GenerateKey(curve, rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, s.Size)
}

// KeySpecOf describes an existing public key.
func KeySpecOf(pub crypto.PublicKey) KeySpec {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return KeySpec{Type: RSA, Size: k.N.BitLen()}
	case *ecdsa.PublicKey:
		return KeySpec{Type: ECDSA, Size: k.Curve.Params().BitSize}
	}
	return KeySpec{Type: KeyType(fmt.Sprintf("%T", pub))}
}
