package stepca

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/engine/certdiff"
	"github.com/kafkatls/kafkatls/engine/enginecert"
	"github.com/kafkatls/kafkatls/pki"
)

// Request describes the leaf to sign, as pki.CertRequest does, with the
// subject already resolved (pki.PKI.SubjectDN) and URI SANs.
type Request struct {
	Name    string   // the identity's name, for messages
	Role    pki.Role // decides the extended key usages required
	Subject string   // RFC 4514 DN, e.g. "CN=broker-1,OU=kafka,O=Acme"
	SANs    pki.SANs
	URIs    []*url.URL // added to SANs.URIs
	Days    int        // validity in days, at least 1
}

// uris is SANs.URIs plus URIs, without duplicates.
func (r Request) uris() []*url.URL {
	var out []*url.URL
	seen := map[string]bool{}
	for _, u := range append(append([]*url.URL{}, r.SANs.URIs...), r.URIs...) {
		if u != nil && !seen[u.String()] {
			seen[u.String()] = true
			out = append(out, u)
		}
	}
	return out
}

// FromCertRequest converts a pki.CertRequest whose subject is resolved
// (subject: p.SubjectDN(req)) and whose Days is set.
func FromCertRequest(req pki.CertRequest, subject string) Request {
	return Request{Name: req.Name, Role: req.Role, Subject: subject, SANs: req.SANs, Days: req.Days}
}

// Issued is what step-ca signed: the leaf, then the chain up to the root
// of Config.Root, each checked against the request.
type Issued struct {
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate // leaf's issuer first; empty when the root signs leaves
	Root          *x509.Certificate
	// Warnings are kafkatls notes that did not warrant a refusal (a client
	// certificate that also has serverAuth).
	Warnings []string
}

// Serial is the leaf serial as the local index writes it (lowercase hex).
func (i *Issued) Serial() string { return pki.SerialHex(i.Leaf) }

// Fingerprint is the leaf's SHA-256 fingerprint as the local index writes it.
func (i *Issued) Fingerprint() string { return pki.Fingerprint(i.Leaf) }

// ErrIncompleteChain is wrapped when step-ca's chain does not end at the
// configured root.
var ErrIncompleteChain = errors.New("engine CA chain does not end at the configured root")

const signPath = "/1.0/sign"

// CSR makes the PKCS#10 request Sign sends: req's subject byte for byte (as
// principal.ParseDN encodes it) and its SANs, signed by key.
func CSR(req Request, key crypto.Signer) ([]byte, error) {
	return enginecert.CSR(req.Subject, enginecert.Names{DNS: req.SANs.DNS, IPs: req.SANs.IPs, Emails: req.SANs.Emails, URIs: req.uris()}, key)
}

// Sign has step-ca sign a CSR for key (POST /1.0/sign with a one-time
// token; the key never leaves) and checks the result against req. A
// refusal or a difference from req is a *MismatchError naming the ca.json
// setting; a refused token is a *PermissionError; a wrong password a
// *PasswordError. When step-ca signed a certificate that kafkatls refuses
// (a difference from req, a chain not ending at the root), the error comes
// with the Issued, Leaf set: step-ca holds that certificate, and the
// caller records its serial to revoke it.
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
// builds it from the CSR plus any extra names). step-ca refuses a CSR
// whose SANs differ from req's (the token carries req's).
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

// tokenSANs are the SANs the token authorizes, as step-ca splits them
// (DNS names, IPs, emails, URIs as strings).
func tokenSANs(req Request) []string {
	var out []string
	out = append(out, req.SANs.DNS...)
	out = append(out, certdiff.IPStrings(req.SANs.IPs)...)
	out = append(out, req.SANs.Emails...)
	out = append(out, certdiff.URIStrings(req.uris())...)
	return out
}

type signAnswer struct {
	Crt       string   `json:"crt"`
	CA        string   `json:"ca"`
	CertChain []string `json:"certChain"`
}

func (c *Client) sign(ctx context.Context, req Request, csrDER []byte, pub crypto.PublicKey) (*Issued, error) {
	want, err := parseSubject(req.Subject)
	if err != nil {
		return nil, err
	}
	if want.Name.CommonName == "" {
		return nil, fmt.Errorf("subject %q has no CN: step-ca's token names the CN as its subject", req.Subject)
	}
	// Decrypt the key before the clock starts: a wrong password is not a
	// step-ca answer.
	if _, err := c.providerKey(ctx); err != nil {
		return nil, err
	}
	csrPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	sans := tokenSANs(req)
	start := time.Now()
	b, err := c.do(ctx, "POST", signPath, func() (any, error) {
		ott, err := c.token(ctx, signPath, want.Name.CommonName, sans)
		if err != nil {
			return nil, err
		}
		return map[string]any{"csr": csrPEM, "ott": ott, "notAfter": fmt.Sprintf("%dh", req.Days*24)}, nil
	})
	if err != nil {
		err = c.classify("sign", signPath, err)
		var ee *EngineError
		if errors.As(err, &ee) && (ee.Status == 403 || ee.Status == 400) {
			return nil, c.diagnoseRefusal(ctx, req, ee)
		}
		if errors.As(err, &ee) && ee.Status == 500 && strings.Contains(strings.ToLower(ee.Message), "template") {
			return nil, c.mismatch("template", "", ee.Message, "options.x509.template of the provisioner to valid JSON once rendered (step-ca's log shows the rendered text)", false)
		}
		return nil, err
	}
	var ans signAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, &EngineError{Op: "sign", Path: signPath, Status: 200, Message: "unparsable answer: " + err.Error()}
	}
	leafs, err := parsePEMCerts([]byte(ans.Crt))
	if err != nil {
		return nil, &EngineError{Op: "sign", Path: signPath, Status: 200, Message: "crt: " + err.Error()}
	}
	var pool []*x509.Certificate
	for _, s := range append([]string{ans.CA}, ans.CertChain...) {
		if s == "" {
			continue
		}
		certs, err := parsePEMCerts([]byte(s))
		if err != nil {
			return nil, &EngineError{Op: "sign", Path: signPath, Status: 200, Message: "certChain: " + err.Error()}
		}
		pool = append(pool, certs...)
	}
	// From here step-ca has signed: a refusal returns the Issued too, so
	// the caller records the serial of a certificate step-ca holds.
	issued := &Issued{Leaf: leafs[0]}
	if err := c.buildChain(issued, pool); err != nil {
		return issued, err
	}
	if err := c.check(req, pub, want, start, issued); err != nil {
		return issued, err
	}
	return issued, nil
}

// classify turns a do error into PermissionError or EngineError.
func (c *Client) classify(op, path string, err error) error {
	var se *statusError
	if errors.As(err, &se) {
		if se.Status == 401 {
			return &PermissionError{Op: op, Path: path, Provisioner: c.cfg.Provisioner, Status: se.Status, Message: se.Message}
		}
		return &EngineError{Op: op, Path: path, Status: se.Status, Message: se.Message}
	}
	var pe *PasswordError
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) {
		return err
	}
	return &EngineError{Op: op, Path: path, Err: err}
}

// buildChain fills Intermediates and Root from pool, ending at a root of
// Config.Root.
func (c *Client) buildChain(issued *Issued, pool []*x509.Certificate) error {
	cur := issued.Leaf
	var inter []*x509.Certificate
	for range 10 {
		if r := findParent(cur, c.roots); r != nil {
			issued.Intermediates, issued.Root = inter, r
			return verifyChain(issued)
		}
		parent := findParent(cur, pool)
		if parent == nil {
			return fmt.Errorf("%w: no certificate in step-ca's chain or in %s signed %q; is %s the root of this CA (step ca root)?",
				ErrIncompleteChain, c.cfg.Root, cur.Subject, c.cfg.Root)
		}
		if selfSigned(parent) {
			return fmt.Errorf("%w: step-ca's chain ends at root %q, which is not in %s", ErrIncompleteChain, parent.Subject, c.cfg.Root)
		}
		inter = append(inter, parent)
		cur = parent
	}
	return fmt.Errorf("%w: more than 10 certificates in the chain", ErrIncompleteChain)
}

// verifyChain runs Go's path validation over what was assembled.
func verifyChain(i *Issued) error {
	if err := enginecert.VerifyChain(i.Leaf, i.Intermediates, i.Root); err != nil {
		return fmt.Errorf("%w: step-ca's leaf does not verify against its own chain: %v", ErrEngine, err)
	}
	return nil
}

// The certificate helpers every engine client shares (engine/enginecert),
// under the names this package's call sites use.
var (
	parsePEMCerts = enginecert.ParsePEMCerts
	parseSubject  = enginecert.ParseSubject
	subjectOf     = enginecert.SubjectOf
	findParent    = enginecert.FindParent
	selfSigned    = enginecert.SelfSigned
)

// subject is a parsed requested DN.
type subject = enginecert.Subject

// Job is one Sign call for SignAll.
type Job struct {
	Req Request
	Key crypto.Signer
}

// SignAll signs jobs with at most parallel requests in flight (a bundle
// signs a cluster's worth of identities at once without flooding step-ca).
// Results and errors are indexed like jobs.
func (c *Client) SignAll(ctx context.Context, jobs []Job, parallel int) ([]*Issued, []error) {
	return enginecert.SignAll(ctx, jobs, parallel, func(ctx context.Context, j Job) (*Issued, error) { return c.Sign(ctx, j.Req, j.Key) })
}
