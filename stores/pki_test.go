package stores

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Test PKI: a CA and leaves signed by it, built with crypto/x509 only.

const testPassword = "kafkatls-Pass1"

type keyKind string

const (
	kindRSA   keyKind = "rsa2048"
	kindECDSA keyKind = "ecdsaP256"
)

var keyKinds = []keyKind{kindRSA, kindECDSA}

func newKey(t testing.TB, kind keyKind) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch kind {
	case kindRSA:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case kindECDSA:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newCA(t testing.TB, cn string, kind keyKind) *testCA {
	t.Helper()
	key := newKey(t, kind)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"kafkatls tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

type leafSpec struct {
	subject pkix.Name
	dns     []string
	ips     []net.IP
	eku     []x509.ExtKeyUsage
}

// issue returns a key and the chain [leaf, CA].
func (ca *testCA) issue(t testing.TB, kind keyKind, spec leafSpec) (crypto.Signer, []*x509.Certificate) {
	t.Helper()
	key := newKey(t, kind)
	ku := x509.KeyUsageDigitalSignature
	if kind == kindRSA {
		ku |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		Subject:               spec.subject,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              spec.dns,
		IPAddresses:           spec.ips,
		ExtKeyUsage:           spec.eku,
		KeyUsage:              ku,
		BasicConstraintsValid: true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, []*x509.Certificate{leaf, ca.cert}
}

var (
	brokerSpec = leafSpec{
		subject: pkix.Name{CommonName: "broker-1", OrganizationalUnit: []string{"Brokers"}, Organization: []string{"Example Corp"}},
		dns:     []string{"localhost"},
		ips:     []net.IP{net.IPv4(127, 0, 0, 1)},
		eku:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	clientSpec = leafSpec{
		subject: pkix.Name{CommonName: "client-1", OrganizationalUnit: []string{"Clients"}, Organization: []string{"Example Corp"}, Country: []string{"US"}},
		eku:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	// clientPrincipal is what Java's X500Principal.getName() prints for
	// clientSpec's subject (RDNs in reverse DER order, no spaces).
	clientPrincipal = "CN=client-1,OU=Clients,O=Example Corp,C=US"
)

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemKey(t testing.TB, k crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// storeKind is one of the store encodings this package writes.
type storeKind struct {
	name   string
	format Format
	compat Compat // PKCS12 only
}

var storeKinds = []storeKind{
	{"jks", JKS, ""},
	{"p12-modern", PKCS12, Modern},
	{"p12-legacy", PKCS12, Legacy},
}

func (k storeKind) keystore(t testing.TB, alias string, key crypto.PrivateKey, chain []*x509.Certificate, password string) []byte {
	t.Helper()
	var (
		b   []byte
		err error
	)
	if k.format == JKS {
		b, err = JKSKeystore(alias, key, chain, password, time.Now())
	} else {
		b, err = PKCS12Keystore(key, chain, password, k.compat)
	}
	if err != nil {
		t.Fatalf("%s keystore: %v", k.name, err)
	}
	return b
}

func (k storeKind) truststore(t testing.TB, entries []TrustEntry, password string) []byte {
	t.Helper()
	var (
		b   []byte
		err error
	)
	if k.format == JKS {
		b, err = JKSTruststore(entries, password, time.Now())
	} else {
		b, err = PKCS12Truststore(entries, password, k.compat)
	}
	if err != nil {
		t.Fatalf("%s truststore: %v", k.name, err)
	}
	return b
}

func (k storeKind) ext() string {
	if k.format == JKS {
		return ".jks"
	}
	return ".p12"
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readFile reads and decodes a store file, failing the test on error.
func readFile(t testing.TB, path, password string) *Store {
	t.Helper()
	s, err := Read(mustRead(t, path), password)
	if err != nil {
		t.Fatalf("Read %s: %v", path, err)
	}
	return s
}
