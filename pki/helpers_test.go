package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/kafkatls/kafkatls/principal"
)

var randReader = rand.Reader

func bigOne() *big.Int { return big.NewInt(1) }

func mustDN(t *testing.T, s string) []byte {
	t.Helper()
	der, err := principal.ParseDN(s)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func encodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func encodeKey(t *testing.T, k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
