package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// TestSignOpenSSLCSR: a CSR made by openssl keeps every SAN it asks for,
// URI and email included (sign used to drop the URI), and a CSR with an
// RSA-1024 key is refused as issue would refuse it, writing nothing.
func TestSignOpenSSLCSR(t *testing.T) {
	realpeer.Need(t, "openssl")
	dir := newPKI(t)
	at := func(f string) string { return filepath.Join(dir, f) }

	realpeer.Run(t, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", at("app.key"), "-out", at("app.csr"),
		"-subj", "/CN=app/O=Acme", "-addext", "subjectAltName=DNS:app.internal,URI:spiffe://acme.example/ns/kafka/sa/app,email:app@acme.example")
	ok(t, dir, "sign", "app.csr", "--out", "app-chain.pem")
	text := realpeer.Run(t, "openssl", "x509", "-in", at("kafka-pki/certs/app/tls.crt"), "-noout", "-ext", "subjectAltName")
	for _, want := range []string{"DNS:app.internal", "URI:spiffe://acme.example/ns/kafka/sa/app", "email:app@acme.example"} {
		if !strings.Contains(text, want) {
			t.Errorf("signed certificate lacks %s:\n%s", want, text)
		}
	}
	// The chain verifies with OpenSSL against the PKI's trust anchor.
	realpeer.Run(t, "openssl", "verify", "-CAfile", at("kafka-pki/ca.crt"), "-purpose", "sslclient", at("kafka-pki/certs/app/tls.crt"))

	realpeer.Run(t, "openssl", "req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", at("weak.key"), "-out", at("weak.csr"), "-subj", "/CN=weak")
	r := kt(t, dir, "sign", "weak.csr")
	if r.code != 1 || !strings.Contains(r.stderr, "RSA-1024 is under 2048 bits") {
		t.Errorf("sign RSA-1024 CSR: exit %d\n%s", r.code, r.stderr)
	}
	if out := ok(t, dir, "list"); strings.Contains(out, "weak") {
		t.Errorf("the refused CSR is in the index:\n%s", out)
	}
}
