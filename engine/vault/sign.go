package vault

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/kafkatls/kafkatls/engine/enginecert"
	"github.com/kafkatls/kafkatls/pki"
)

// Request describes the leaf to sign, as pki.CertRequest does, with the
// subject already resolved (pki.PKI.SubjectDN) and URI SANs, which Vault
// roles can carry.
type Request struct {
	Name    string   // the identity's name, for messages
	Role    pki.Role // decides the extended key usages required
	Subject string   // RFC 4514 DN, e.g. "CN=broker-1,OU=kafka,O=Acme"
	SANs    pki.SANs
	URIs    []*url.URL
	Days    int // validity in days, at least 1
}

// FromCertRequest converts a pki.CertRequest whose subject is resolved
// (subject: p.SubjectDN(req)) and whose Days is set.
func FromCertRequest(req pki.CertRequest, subject string) Request {
	return Request{Name: req.Name, Role: req.Role, Subject: subject, SANs: req.SANs, Days: req.Days}
}

// Issued is what the engine signed: the leaf, then the chain up to a
// self-signed root, each checked against the request.
type Issued struct {
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate // leaf's issuer first; empty when the root signs leaves
	Root          *x509.Certificate
	// Warnings are the engine's warnings and kafkatls notes that did not
	// warrant a refusal (a client certificate that also has serverAuth).
	Warnings []string
	// Resent: the request was sent again after an attempt that reached a
	// node (a 5xx, a connection cut mid-request, a standby's 412, 429 or
	// redirect), so the engine may hold another certificate for the same
	// key, which reconciliation (Unknown) finds.
	Resent bool
}

// Serial is the leaf serial as the local index writes it (lowercase hex).
func (i *Issued) Serial() string { return pki.SerialHex(i.Leaf) }

// Fingerprint is the leaf's SHA-256 fingerprint as the local index writes it.
func (i *Issued) Fingerprint() string { return pki.Fingerprint(i.Leaf) }

// ErrIncompleteChain is wrapped when the engine's chain does not reach a
// self-signed root: an intermediate mount imported without its root.
var ErrIncompleteChain = errors.New("engine CA chain does not end at a root")

func (c *Client) signPath() string { return c.cfg.Mount + "/sign/" + c.cfg.Role }

// CSR makes the PKCS#10 request Sign sends: req's subject byte for byte (as
// principal.ParseDN encodes it) and its SANs, signed by key.
func CSR(req Request, key crypto.Signer) ([]byte, error) {
	return enginecert.CSR(req.Subject, enginecert.Names{DNS: req.SANs.DNS, IPs: req.SANs.IPs, Emails: req.SANs.Emails, URIs: req.URIs}, key)
}

// Sign has the engine sign a CSR for key (POST /v1/MOUNT/sign/ROLE; the key
// never leaves) and checks the result against req. A refusal or a
// difference from req is a *MismatchError naming the role setting; a 403 is
// a *PermissionError. When the engine signed a certificate that kafkatls
// refuses, the error comes with the Issued, Leaf set: the engine holds
// that certificate, and the caller records its serial to revoke it.
func (c *Client) Sign(ctx context.Context, req Request, key crypto.Signer) (*Issued, error) {
	if err := checkRequest(&req); err != nil {
		return nil, err
	}
	csrDER, err := CSR(req, key)
	if err != nil {
		return nil, err
	}
	return c.sign(ctx, req, csrDER, key.Public())
}

// SignCSR is Sign for a host that keeps its key and sent a CSR: the CSR is
// passed on as is (its signature checked first) and the result checked
// against req, which says what the certificate must hold (pki.CSRRequest
// builds it from the CSR plus any extra names).
func (c *Client) SignCSR(ctx context.Context, req Request, csr *x509.CertificateRequest) (*Issued, error) {
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR signature does not verify: %w", err)
	}
	if err := checkRequest(&req); err != nil {
		return nil, err
	}
	return c.sign(ctx, req, csr.Raw, csr.PublicKey)
}

func checkRequest(req *Request) (err error) {
	req.Role, err = pki.CheckEngineRequest(req.Days, req.Role)
	return err
}

func (c *Client) sign(ctx context.Context, req Request, csrDER []byte, pub crypto.PublicKey) (*Issued, error) {
	want, err := parseSubject(req.Subject)
	if err != nil {
		return nil, err
	}
	if want.Name.CommonName == "" {
		return nil, fmt.Errorf("subject %q has no CN: the engine requires one", req.Subject)
	}
	data := map[string]any{
		"csr":         string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})),
		"common_name": want.Name.CommonName,
		// Vault adds the CN to the DNS SANs unless told not to; a Kafka
		// client CN like "alice" is no host name.
		"exclude_cn_from_sans": true,
		"ttl":                  fmt.Sprintf("%dh", req.Days*24),
		"format":               "pem",
	}
	// With use_csr_sans=true (what docs/engines.md asks) the role takes the
	// SANs from the CSR and ignores these; with false it takes these.
	if names := append(append([]string{}, req.SANs.DNS...), req.SANs.Emails...); len(names) > 0 {
		data["alt_names"] = strings.Join(names, ",")
	}
	if len(req.SANs.IPs) > 0 {
		ips := make([]string, len(req.SANs.IPs))
		for i, ip := range req.SANs.IPs {
			ips[i] = ip.String()
		}
		data["ip_sans"] = strings.Join(ips, ",")
	}
	if len(req.URIs) > 0 {
		uris := make([]string, len(req.URIs))
		for i, u := range req.URIs {
			uris[i] = u.String()
		}
		data["uri_sans"] = strings.Join(uris, ",")
	}
	start := time.Now()
	path := c.signPath()
	var s *vaultapi.Secret
	resent, err := c.retryResent(ctx, func() (err error) {
		s, err = c.api.Logical().WriteWithContext(ctx, path, data)
		return err
	})
	if err != nil {
		err = classify("sign", path, "update", err)
		var ee *EngineError
		if errors.As(err, &ee) && ee.Status == 400 {
			if m := c.diagnoseRefusal(ctx, req, pub, ee.Messages); m != nil {
				return nil, m
			}
		}
		return nil, err
	}
	if s == nil || s.Data == nil {
		return nil, &EngineError{Op: "sign", Path: path, Status: 200, Messages: []string{"empty answer"}}
	}
	leaf, err := certField(s.Data, "certificate")
	if err != nil {
		return nil, &EngineError{Op: "sign", Path: path, Status: 200, Messages: []string{err.Error()}}
	}
	var pool []*x509.Certificate
	if ic, err := certField(s.Data, "issuing_ca"); err == nil {
		pool = append(pool, ic)
	}
	if list, ok := s.Data["ca_chain"].([]any); ok {
		for _, v := range list {
			if str, ok := v.(string); ok {
				certs, err := parsePEMCerts([]byte(str))
				if err != nil {
					return nil, &EngineError{Op: "sign", Path: path, Status: 200, Messages: []string{"ca_chain: " + err.Error()}}
				}
				pool = append(pool, certs...)
			}
		}
	}
	issued := &Issued{Leaf: leaf, Resent: resent}
	for _, w := range s.Warnings {
		issued.Warnings = append(issued.Warnings, "engine: "+w)
	}
	// From here the engine has signed: a refusal returns the Issued too,
	// so the caller records the serial of a certificate the engine holds.
	if err := c.buildChain(ctx, issued, pool); err != nil {
		return issued, err
	}
	if err := c.check(ctx, req, pub, want, start, issued); err != nil {
		return issued, err
	}
	return issued, nil
}

// buildChain fills Intermediates and Root from pool, fetching the mount's
// CA chain when pool does not reach a self-signed root.
func (c *Client) buildChain(ctx context.Context, issued *Issued, pool []*x509.Certificate) error {
	fetched := false
	cur := issued.Leaf
	var inter []*x509.Certificate
	for range 10 {
		parent := findParent(cur, pool)
		if parent == nil && !fetched {
			fetched = true
			chain, err := c.CAChain(ctx)
			if err != nil {
				return err
			}
			pool = append(pool, chain...)
			parent = findParent(cur, pool)
		}
		if parent == nil {
			return fmt.Errorf("%w: no certificate in the engine's chain signed %q; import the whole chain into mount %s (intermediate, then root: bao write %s/intermediate/set-signed certificate=@chain.pem)",
				ErrIncompleteChain, cur.Subject, c.cfg.Mount, c.cfg.Mount)
		}
		if selfSigned(parent) {
			issued.Intermediates, issued.Root = inter, parent
			return verifyChain(issued)
		}
		inter = append(inter, parent)
		cur = parent
	}
	return fmt.Errorf("%w: more than 10 certificates in the chain", ErrIncompleteChain)
}

// verifyChain runs Go's path validation over what was assembled.
func verifyChain(i *Issued) error {
	if err := enginecert.VerifyChain(i.Leaf, i.Intermediates, i.Root); err != nil {
		return fmt.Errorf("%w: the engine's leaf does not verify against its own chain: %v", ErrEngine, err)
	}
	return nil
}

func certField(data map[string]any, field string) (*x509.Certificate, error) {
	s, ok := data[field].(string)
	if !ok || s == "" {
		return nil, fmt.Errorf("no %s in the answer", field)
	}
	certs, err := parsePEMCerts([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return certs[0], nil
}

// The certificate helpers every engine client shares (engine/enginecert),
// under the names this package's call sites use.
var (
	parsePEMCerts = enginecert.ParsePEMCerts
	parseSubject  = enginecert.ParseSubject
	subjectOf     = enginecert.SubjectOf
	keyTypeName   = enginecert.KeyTypeName
	findParent    = enginecert.FindParent
	selfSigned    = enginecert.SelfSigned
)

// subject is a parsed requested DN.
type subject = enginecert.Subject

// maxPEM bounds any PEM the engine sends.
const maxPEM = enginecert.MaxPEM

// Job is one Sign call for SignAll.
type Job struct {
	Req Request
	Key crypto.Signer
}

// SignAll signs jobs with at most parallel requests in flight (a bundle
// signs a cluster's worth of identities at once without flooding the
// engine). Results and errors are indexed like jobs.
func (c *Client) SignAll(ctx context.Context, jobs []Job, parallel int) ([]*Issued, []error) {
	return enginecert.SignAll(ctx, jobs, parallel, func(ctx context.Context, j Job) (*Issued, error) { return c.Sign(ctx, j.Req, j.Key) })
}
