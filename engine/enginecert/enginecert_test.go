package enginecert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestMismatch(t *testing.T) {
	for _, tc := range []struct {
		name                                string
		field, want, got, setting, probably string
		out                                 string
	}{
		{"difference", "subject", "CN=a,O=b", "CN=a", "ou=b", "", "R: subject: asked CN=a,O=b, got CN=a; set ou=b"},
		{"refusal", "key type", "", "rsa only", "key_type=any", "", "R: key type refused: rsa only; set key_type=any"},
		{"guess", "SANs", "", "not allowed", "allowed_domains", "probably", "R: SANs refused: not allowed; probably set allowed_domains"},
		{"nothing to set", "validity", "30 days", "until x", "nothing on the role: ask fewer days", "probably", "R: validity: asked 30 days, got until x; nothing on the role: ask fewer days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mismatch("R", tc.field, tc.want, tc.got, tc.setting, tc.probably); got != tc.out {
				t.Errorf("got  %q\nwant %q", got, tc.out)
			}
		})
	}
}

// TestChain: a leaf under an intermediate under a root is found link by
// link, verifies, and the root alone is self-signed.
func TestChain(t *testing.T) {
	mk := func(cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool) (*x509.Certificate, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	root, rk := mk("root", nil, nil, true)
	inter, ik := mk("inter", root, rk, true)
	leaf, _ := mk("leaf", inter, ik, false)
	pool := []*x509.Certificate{root, inter}
	if FindParent(leaf, pool) != inter || FindParent(inter, pool) != root || FindParent(root, pool) != nil {
		t.Error("FindParent does not follow leaf -> inter -> root")
	}
	if !SelfSigned(root) || SelfSigned(inter) {
		t.Error("SelfSigned")
	}
	if err := VerifyChain(leaf, []*x509.Certificate{inter}, root); err != nil {
		t.Errorf("VerifyChain: %v", err)
	}
	if err := VerifyChain(leaf, nil, root); err == nil {
		t.Error("VerifyChain without the intermediate passed")
	}
	var b []byte
	for _, c := range []*x509.Certificate{leaf, inter} {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1}})...)
	if certs, err := ParsePEMCerts(b); err != nil || len(certs) != 2 || !certs[1].Equal(inter) {
		t.Errorf("ParsePEMCerts: %d, %v", len(certs), err)
	}
	if _, err := ParsePEMCerts([]byte(strings.Repeat("x", MaxPEM+1))); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ParsePEMCerts over the limit: %v", err)
	}
}

func TestSubjectOfKeepsOrderAndJavaName(t *testing.T) {
	s, err := ParseSubject(`CN=Bob\, Jr.,OU=kafka,O=Acme`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Java != `CN=Bob\, Jr.,OU=kafka,O=Acme` || s.Name.CommonName != "Bob, Jr." || len(s.Types) != 3 {
		t.Errorf("%+v", s)
	}
}

// TestSignAll: every job runs, results keep the jobs' order, and no more
// than parallel run at once.
func TestSignAll(t *testing.T) {
	var inFlight, most atomic.Int32
	jobs := []int{0, 1, 2, 3, 4, 5, 6, 7}
	out, errs := SignAll(context.Background(), jobs, 3, func(_ context.Context, j int) (int, error) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		return j * 10, nil
	})
	for i := range jobs {
		if out[i] != i*10 || errs[i] != nil {
			t.Errorf("job %d: %d, %v", i, out[i], errs[i])
		}
	}
	if most.Load() > 3 {
		t.Errorf("%d in flight, want at most 3", most.Load())
	}
}
