package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// One key policy for every certificate the CA signs: a CSR's key is held
// to what issue generates.
func TestCheckPublicKey(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, _ := GenerateKey(KeySpec{Type: RSA})
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p256, _ := GenerateKey(KeySpec{Type: ECDSA})
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		pub  any
		want string // "" = accepted
	}{
		{"RSA-1024", &rsa1024.PublicKey, "RSA-1024 is under 2048 bits"},
		{"RSA-2048", rsa2048.Public(), ""},
		{"ECDSA P-224", &p224.PublicKey, "curve P-224"},
		{"ECDSA P-256", p256.Public(), ""},
		{"ECDSA P-521", &p521.PublicKey, ""},
		{"Ed25519", edPub, "ed25519.PublicKey keys are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPublicKey(tc.pub)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrWeakKey) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want ErrWeakKey saying %q", err, tc.want)
			}
		})
	}
	// Sign itself applies the policy, whoever calls it.
	p := newTestPKI(t, nil)
	if _, err := p.Sign(CertRequest{Name: "weak"}, &rsa1024.PublicKey, nil); !errors.Is(err, ErrWeakKey) {
		t.Errorf("Sign with RSA-1024: %v", err)
	}
	// And a CSR with such a key is refused before the CA is asked.
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: mustDN(t, "CN=weak")}, rsa1024)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	if _, err := CSRRequest(csr, "", RoleClient, nil, nil, 0); !errors.Is(err, ErrWeakKey) || !strings.Contains(err.Error(), "CSR public key") {
		t.Errorf("CSRRequest with RSA-1024: %v", err)
	}
}

// A CSR's URI and email SANs are kept, as its DNS and IP SANs are.
func TestCSRKeepsURIAndEmailSANs(t *testing.T) {
	p := newTestPKI(t, nil)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	spiffe, _ := url.Parse("spiffe://acme.example/ns/kafka/sa/app")
	der, err := CreateCSR(key, "CN=app", SANs{Emails: []string{"app@acme.example"}, URIs: []*url.URL{spiffe}})
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	req, err := CSRRequest(csr, "", RoleClient, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.SANs.String(); got != "email:app@acme.example, URI:spiffe://acme.example/ns/kafka/sa/app" {
		t.Errorf("request SANs %q", got)
	}
	cert, err := p.Sign(req, csr.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != spiffe.String() || len(cert.EmailAddresses) != 1 {
		t.Errorf("signed URIs %v emails %v", cert.URIs, cert.EmailAddresses)
	}
}
