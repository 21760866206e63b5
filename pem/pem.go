// Package pem reads and writes the PEM files kafkatls produces and accepts:
// unencrypted PKCS#8 keys (what Kafka's ssl.keystore.type=PEM and librdkafka
// load), certificate chains, CSRs, and encrypted PKCS#8 (PBES2) for the CA
// key at rest.
package pem

import (
	"crypto"
	"crypto/x509"
	stdpem "encoding/pem"
	"errors"
	"fmt"

	"github.com/youmark/pkcs8"
)

// Block types.
const (
	TypeCertificate         = "CERTIFICATE"
	TypePrivateKey          = "PRIVATE KEY"
	TypeEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
	TypeCSR                 = "CERTIFICATE REQUEST"
)

// ErrPassphraseRequired is returned when a key is encrypted and no
// passphrase was supplied.
var ErrPassphraseRequired = errors.New("the private key is encrypted: a passphrase is required")

// ErrWrongPassphrase is returned when an encrypted key does not decrypt.
var ErrWrongPassphrase = errors.New("wrong passphrase for the encrypted private key")

// EncodeCerts returns the PEM encoding of certs in order.
func EncodeCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, stdpem.EncodeToMemory(&stdpem.Block{Type: TypeCertificate, Bytes: c.Raw})...)
	}
	return out
}

// EncodeKey returns the key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
// Kafka (PEM store type) and librdkafka read this form; Java 17 cannot read
// PBES2-encrypted PEM keys, so keys for clients stay unencrypted on disk
// with mode 0600.
func EncodeKey(key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return stdpem.EncodeToMemory(&stdpem.Block{Type: TypePrivateKey, Bytes: der}), nil
}

// EncodeEncryptedKey returns the key as PBES2 (AES-256-CBC, PBKDF2-SHA256)
// encrypted PKCS#8 PEM, readable by `openssl pkey`.
func EncodeEncryptedKey(key crypto.PrivateKey, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("empty passphrase")
	}
	der, err := pkcs8.MarshalPrivateKey(key, passphrase, &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize: 16, IterationCount: 600000, HMACHash: crypto.SHA256,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return stdpem.EncodeToMemory(&stdpem.Block{Type: TypeEncryptedPrivateKey, Bytes: der}), nil
}

// DecodeCerts parses every CERTIFICATE block in data, in order.
func DecodeCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *stdpem.Block
		b, data = stdpem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != TypeCertificate {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// IsEncryptedKey reports whether data holds an encrypted private key.
func IsEncryptedKey(data []byte) bool {
	for {
		var b *stdpem.Block
		b, data = stdpem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == TypeEncryptedPrivateKey || b.Headers["Proc-Type"] != "" {
			return true
		}
	}
}

// DecodeKey parses the first private key in data: PKCS#8 ("PRIVATE KEY"),
// PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or encrypted PKCS#8
// (decrypted with passphrase, which is called only when needed).
func DecodeKey(data []byte, passphrase func() ([]byte, error)) (crypto.Signer, error) {
	for {
		var b *stdpem.Block
		b, data = stdpem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key block found")
		}
		var key any
		var err error
		switch b.Type {
		case TypePrivateKey, "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if b.Headers["Proc-Type"] != "" {
				return nil, errors.New("legacy OpenSSL-encrypted PEM key (Proc-Type header) is not supported: convert it with `openssl pkcs8 -topk8`")
			}
			key, err = parsePlainKey(b)
		case TypeEncryptedPrivateKey:
			if passphrase == nil {
				return nil, ErrPassphraseRequired
			}
			pw, perr := passphrase()
			if perr != nil {
				return nil, perr
			}
			if len(pw) == 0 {
				return nil, ErrPassphraseRequired
			}
			key, err = pkcs8.ParsePKCS8PrivateKey(b.Bytes, pw)
			if err != nil {
				return nil, ErrWrongPassphrase
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", b.Type, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return s, nil
	}
}

// KeyForm names the encoding of an unencrypted private key block type:
// "PKCS#8" (PRIVATE KEY), "PKCS#1" (RSA PRIVATE KEY), "SEC1" (EC PRIVATE
// KEY), or "" for any other type.
func KeyForm(blockType string) string {
	switch blockType {
	case TypePrivateKey:
		return "PKCS#8"
	case "RSA PRIVATE KEY":
		return "PKCS#1"
	case "EC PRIVATE KEY":
		return "SEC1"
	}
	return ""
}

// ParseKeyBlock parses an unencrypted private key block of any type
// KeyForm names. It does not check for legacy Proc-Type encryption.
func ParseKeyBlock(b *stdpem.Block) (crypto.Signer, error) {
	key, err := parsePlainKey(b)
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return s, nil
}

func parsePlainKey(b *stdpem.Block) (any, error) {
	switch KeyForm(b.Type) {
	case "PKCS#8":
		return x509.ParsePKCS8PrivateKey(b.Bytes)
	case "PKCS#1":
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	case "SEC1":
		return x509.ParseECPrivateKey(b.Bytes)
	}
	return nil, fmt.Errorf("%s is not an unencrypted private key", b.Type)
}

// DecodeCSR parses the first CERTIFICATE REQUEST (or NEW CERTIFICATE
// REQUEST, as keytool writes) block in data, or DER if data is not PEM.
func DecodeCSR(data []byte) (*x509.CertificateRequest, error) {
	rest := data
	for {
		var b *stdpem.Block
		b, rest = stdpem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == TypeCSR || b.Type == "NEW CERTIFICATE REQUEST" {
			return x509.ParseCertificateRequest(b.Bytes)
		}
	}
	csr, err := x509.ParseCertificateRequest(data)
	if err != nil {
		return nil, errors.New("no PEM CERTIFICATE REQUEST block found and the input is not a DER CSR")
	}
	return csr, nil
}

// EncodeCSR returns the PEM encoding of a DER CSR.
func EncodeCSR(der []byte) []byte {
	return stdpem.EncodeToMemory(&stdpem.Block{Type: TypeCSR, Bytes: der})
}
