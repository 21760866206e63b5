package inspect

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	stdpem "encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

const testPW = "kafkatls-Pass1"

// testPKI is a kafkatls PKI directory with a broker and a client issued
// through the real code paths.
func testPKI(t testing.TB) (*pki.PKI, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Subject: pki.SubjectDefaults{Organization: "Acme"}, Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	tx := &pki.Tx{Dir: dir, PKI: p, Index: &pki.Index{}}
	for _, req := range []pki.CertRequest{
		{Name: "kafka-1", Role: pki.RoleBroker, SANs: pki.DefaultServerSANs("kafka-1")},
		{Name: "client1", Role: pki.RoleClient},
	} {
		if _, err := identity.Issue(tx, req, pki.KeySpec{Type: pki.ECDSA}, identity.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Save(); err != nil {
		t.Fatal(err)
	}
	return p, dir
}

type certOpts struct {
	cn        string
	ca        bool
	notBefore time.Time
	notAfter  time.Time
	eku       []x509.ExtKeyUsage
	dns       []string
	ips       []net.IP
	key       crypto.Signer
}

type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func ecKey(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial int64 = 100

// mkCert makes a certificate signed by parent (self-signed when nil).
func mkCert(t testing.TB, o certOpts, parent *issued) *issued {
	t.Helper()
	key := o.key
	if key == nil {
		key = ecKey(t)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(200 * 24 * time.Hour)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: o.cn}, NotBefore: o.notBefore, NotAfter: o.notAfter,
		BasicConstraintsValid: true, IsCA: o.ca, ExtKeyUsage: o.eku, DNSNames: o.dns, IPAddresses: o.ips,
	}
	if o.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{c, key}
}

func pemOf(t testing.TB, items ...any) []byte {
	t.Helper()
	var out []byte
	for _, it := range items {
		switch v := it.(type) {
		case *x509.Certificate:
			out = append(out, stdpem.EncodeToMemory(&stdpem.Block{Type: "CERTIFICATE", Bytes: v.Raw})...)
		case crypto.Signer:
			der, err := x509.MarshalPKCS8PrivateKey(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, stdpem.EncodeToMemory(&stdpem.Block{Type: "PRIVATE KEY", Bytes: der})...)
		default:
			t.Fatalf("pemOf: %T", it)
		}
	}
	return out
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// lintData inspects data as file name and lints it.
func lintData(t testing.TB, name string, data []byte, o LintOptions) []Finding {
	t.Helper()
	r, err := Inspect(data, Options{Passwords: []Password{{Value: testPW, Source: "test", Explicit: true}}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r.File = name
	return Lint(r, o)
}

func checks(fs []Finding) map[string]Severity {
	out := map[string]Severity{}
	for _, f := range fs {
		if s, ok := out[f.Check]; !ok || sevRank(f.Severity) < sevRank(s) {
			out[f.Check] = f.Severity
		}
	}
	return out
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + string(f.Severity) + " " + f.Check + " [" + f.Entry + "] " + f.Message)
	}
	return b.String()
}

func bigOne() *big.Int { return big.NewInt(1) }
