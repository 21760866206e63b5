// Package enginecert holds what every CA engine client (engine/vault,
// engine/stepca) does with certificates apart from talking to its engine:
// the CSR it sends (the key stays on this host), the requested subject as
// Java prints it (what Kafka maps to a principal), the chain from the
// returned leaf up to a root, PEM parsing with a size bound, bounded
// parallel signing, and the wording of a mismatch. It imports no pki type,
// so the clients keep their own Request and error types; one copy of the
// logic serves both.
package enginecert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/kafkatls/kafkatls/principal"
)

// Names are the subject alternative names a CSR asks for.
type Names struct {
	DNS    []string
	IPs    []net.IP
	Emails []string
	URIs   []*url.URL
}

// CSR makes the PKCS#10 request an engine signs: the subject dn byte for
// byte (as principal.ParseDN encodes it) and names, signed by key.
func CSR(dn string, names Names, key crypto.Signer) ([]byte, error) {
	raw, err := principal.ParseDN(dn)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	return x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		RawSubject: raw, DNSNames: names.DNS, IPAddresses: names.IPs,
		EmailAddresses: names.Emails, URIs: names.URIs,
	}, key)
}

// Subject is a parsed distinguished name.
type Subject struct {
	Java  string // as Java's X500Principal.getName() prints it
	Name  pkix.Name
	Types []asn1.ObjectIdentifier // attribute types, in order
}

// ParseSubject parses an RFC 4514 DN as kafkatls encodes it.
func ParseSubject(dn string) (Subject, error) {
	raw, err := principal.ParseDN(dn)
	if err != nil {
		return Subject{}, fmt.Errorf("subject: %w", err)
	}
	return SubjectOf(raw)
}

// SubjectOf parses a DER subject (a certificate's RawSubject).
func SubjectOf(raw []byte) (Subject, error) {
	java, err := principal.JavaName(raw)
	if err != nil {
		return Subject{}, err
	}
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return Subject{}, fmt.Errorf("subject: %w", err)
	}
	s := Subject{Java: java}
	s.Name.FillFromRDNSequence(&rdns)
	for _, rdn := range rdns {
		for _, atv := range rdn {
			s.Types = append(s.Types, atv.Type)
		}
	}
	return s, nil
}

// KeyTypeName names a public key's type as engines do: "ec", "rsa", "ed25519".
func KeyTypeName(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return "ec"
	case *rsa.PublicKey:
		return "rsa"
	case ed25519.PublicKey:
		return "ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// FindParent returns the certificate of pool that signed child, or nil.
func FindParent(child *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if p.Equal(child) || !bytes.Equal(child.RawIssuer, p.RawSubject) {
			continue
		}
		if child.CheckSignatureFrom(p) == nil {
			return p
		}
	}
	return nil
}

// SelfSigned reports whether c is a root: issued by itself, and its
// signature verifies with its own key.
func SelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// VerifyChain runs Go's path validation over a chain an engine returned,
// so a certificate that would fail in a TLS stack is caught before it is
// written anywhere.
func VerifyChain(leaf *x509.Certificate, intermediates []*x509.Certificate, root *x509.Certificate) error {
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, c := range intermediates {
		inters.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// MaxPEM bounds any PEM an engine sends (a chain of a few certificates).
const MaxPEM = 1 << 20

// ParsePEMCerts parses the CERTIFICATE blocks of b (at most MaxPEM
// bytes), skipping others; no certificate is an error.
func ParsePEMCerts(b []byte) ([]*x509.Certificate, error) {
	if len(b) > MaxPEM {
		return nil, fmt.Errorf("PEM larger than %d bytes", MaxPEM)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// SignAll runs sign over jobs with at most parallel calls in flight (a
// bundle signs a cluster's worth of identities at once without flooding
// the engine). Results and errors are indexed like jobs; jobs not started
// when ctx ends get its error.
func SignAll[J, R any](ctx context.Context, jobs []J, parallel int, sign func(context.Context, J) (R, error)) ([]R, []error) {
	if parallel < 1 {
		parallel = 1
	}
	out, errs := make([]R, len(jobs)), make([]error, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			out[i], errs[i] = sign(ctx, j)
		}()
	}
	wg.Wait()
	return out, errs
}

// Mismatch words what an engine changed or refused, for the clients'
// MismatchError: "WHO: FIELD: asked WANT, got GOT; set SETTING", or
// "WHO: FIELD refused: GOT; ..." when want is empty. A setting starting
// with "nothing" is printed as is (nothing on the engine's side can fix
// it); probably, when not empty, says why the setting is a guess.
func Mismatch(who, field, want, got, setting, probably string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", who, field)
	if want != "" {
		fmt.Fprintf(&b, ": asked %s, got %s", want, got)
	} else if got != "" {
		fmt.Fprintf(&b, " refused: %s", got)
	}
	switch {
	case strings.HasPrefix(setting, "nothing"):
		fmt.Fprintf(&b, "; %s", setting)
	case setting != "" && probably != "":
		fmt.Fprintf(&b, "; %s set %s", probably, setting)
	case setting != "":
		fmt.Fprintf(&b, "; set %s", setting)
	}
	return b.String()
}
