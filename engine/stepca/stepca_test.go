package stepca

// Tests against a real step-ca (the smallstep server, built by .ci/run):
// no mock of the CA anywhere. They skip under -short, skip locally without
// step-ca, and fail under CI=true without it (realpeer).

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

var testSubject = pki.SubjectDefaults{OrganizationalUnit: "kafka", Organization: "Acme Corp"}

const testPassword = "correct horse battery staple"

// testClaims allow up to 90 days, as a Kafka provisioner would.
var testClaims = Claims{MinTLSCertDuration: "5m", MaxTLSCertDuration: "2160h", DefaultTLSCertDuration: "720h"}

// provisioner makes a provisioner with GenerateProvisioner (fewer PBKDF2
// rounds: this is a test), then applies edit to the JSON object.
func provisioner(t *testing.T, name string, opts ProvisionerOptions, edit func(map[string]any)) json.RawMessage {
	t.Helper()
	opts.PBES2Count = 10000
	b, err := GenerateProvisioner(name, []byte(testPassword), opts)
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	return b
}

func clientFor(t *testing.T, s *realpeer.StepCA, prov, password string) *Client {
	t.Helper()
	c, err := New(Config{URL: s.URL, Root: s.RootFile, Provisioner: prov, Password: []byte(password),
		Timeout: 30 * time.Second, MinRetryWait: 50 * time.Millisecond, MaxRetryWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ecKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func brokerReq(name string) Request {
	return Request{Name: name, Role: pki.RoleBroker, Subject: testSubject.DN(name),
		SANs: pki.SANs{DNS: []string{name + ".kafka.example.com", "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1).To4()}}, Days: 30}
}

func clientReq(name string) Request {
	return Request{Name: name, Role: pki.RoleClient, Subject: testSubject.DN(name), Days: 30}
}

func writePEM(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// opensslVerify checks the leaf with openssl against the root, the
// intermediates untrusted, for each TLS purpose the role needs.
func opensslVerify(t *testing.T, is *Issued, purposes ...string) {
	t.Helper()
	openssl := realpeer.Need(t, "openssl")[0]
	dir := t.TempDir()
	root, inter, leaf := filepath.Join(dir, "root.pem"), filepath.Join(dir, "intermediates.pem"), filepath.Join(dir, "leaf.pem")
	writePEM(t, root, is.Root)
	writePEM(t, leaf, is.Leaf)
	for _, p := range purposes {
		args := []string{"verify", "-purpose", p, "-CAfile", root}
		if len(is.Intermediates) > 0 {
			writePEM(t, inter, is.Intermediates...)
			args = append(args, "-untrusted", inter)
		}
		out := realpeer.Run(t, openssl, append(args, leaf)...)
		if !strings.Contains(out, "OK") {
			t.Fatalf("openssl verify -purpose %s: %s", p, out)
		}
	}
}

func mismatchOf(t *testing.T, err error, field string) *MismatchError {
	t.Helper()
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("want ErrMismatch (%s), got %v", field, err)
	}
	var all []*MismatchError
	var walk func(error)
	walk = func(e error) {
		if m, ok := e.(*MismatchError); ok {
			all = append(all, m)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	for _, m := range all {
		if strings.HasPrefix(m.Field, field) {
			return m
		}
	}
	t.Fatalf("no MismatchError on %q in %v", field, err)
	return nil
}

// TestStepCA runs against one step-ca with three provisioners: "kafka"
// (the Kafka template, both EKUs), "kafka-clients" (client-only template)
// and "plain" (step-ca's default template).
func TestStepCA(t *testing.T) {
	s := realpeer.StartStepCA(t, realpeer.StepCAConfig{Provisioners: []json.RawMessage{
		provisioner(t, "kafka", ProvisionerOptions{Claims: testClaims}, nil),
		provisioner(t, "kafka-clients", ProvisionerOptions{ClientOnly: true, Claims: testClaims}, nil),
		provisioner(t, "plain", ProvisionerOptions{Claims: testClaims}, func(m map[string]any) { delete(m, "options") }),
		provisioner(t, "broken", ProvisionerOptions{Claims: testClaims}, func(m map[string]any) {
			m["options"] = map[string]any{"x509": map[string]any{"template": `{"subject": {{ toJson .Subject }},, }`}}
		}),
	}})
	ctx := context.Background()
	brokers := clientFor(t, s, "kafka", testPassword)
	clients := clientFor(t, s, "kafka-clients", testPassword)

	t.Run("sign", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			c        *Client
			req      Request
			key      crypto.Signer
			ekus     []x509.ExtKeyUsage
			purposes []string
		}{
			{"broker EC", brokers, brokerReq("broker-1"), ecKey(t), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, []string{"sslserver", "sslclient"}},
			{"broker RSA", brokers, brokerReq("broker-2"), rsaKey(t), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, []string{"sslserver", "sslclient"}},
			{"client EC", clients, clientReq("alice"), ecKey(t), []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, []string{"sslclient"}},
			{"client RSA with a DN needing escapes", clients, Request{Name: "bob", Role: pki.RoleClient, Subject: `CN=Bob\, Jr.,OU=kafka,O=Acme Corp,C=DE`, Days: 7}, rsaKey(t), []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, []string{"sslclient"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				is, err := tc.c.Sign(ctx, tc.req, tc.key)
				if err != nil {
					t.Fatalf("Sign: %v\nstep-ca log:\n%s", err, s.Log())
				}
				if !is.Root.Equal(s.Root) || len(is.Intermediates) != 1 || !is.Intermediates[0].Equal(s.Intermediate) {
					t.Fatalf("chain: root %q, intermediates %d", is.Root.Subject, len(is.Intermediates))
				}
				wantRaw, _ := principal.ParseDN(tc.req.Subject)
				if string(is.Leaf.RawSubject) != string(wantRaw) {
					got, _ := principal.JavaName(is.Leaf.RawSubject)
					t.Errorf("subject %q, want the CSR's %q byte for byte", got, tc.req.Subject)
				}
				if !slices.Equal(is.Leaf.ExtKeyUsage, tc.ekus) {
					t.Errorf("EKUs %v, want %v", is.Leaf.ExtKeyUsage, tc.ekus)
				}
				if !slices.Equal(is.Leaf.DNSNames, tc.req.SANs.DNS) || len(is.Leaf.IPAddresses) != len(tc.req.SANs.IPs) {
					t.Errorf("SANs %v %v, want %v %v", is.Leaf.DNSNames, is.Leaf.IPAddresses, tc.req.SANs.DNS, tc.req.SANs.IPs)
				}
				if d := time.Until(is.Leaf.NotAfter) - time.Duration(tc.req.Days)*24*time.Hour; d > time.Hour || d < -time.Hour {
					t.Errorf("NotAfter %s is not %d days from now", is.Leaf.NotAfter, tc.req.Days)
				}
				if len(is.Warnings) != 0 {
					t.Errorf("warnings: %v", is.Warnings)
				}
				opensslVerify(t, is, tc.purposes...)
			})
		}
	})

	t.Run("client from the broker provisioner warns about serverAuth", func(t *testing.T) {
		is, err := brokers.Sign(ctx, clientReq("carol"), ecKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(is.Warnings) != 1 || !strings.Contains(is.Warnings[0], "serverAuth") {
			t.Fatalf("warnings %v, want one about serverAuth", is.Warnings)
		}
	})

	t.Run("broker from the client-only provisioner", func(t *testing.T) {
		_, err := clients.Sign(ctx, brokerReq("broker-3"), ecKey(t))
		m := mismatchOf(t, err, "extended key usage")
		if !strings.Contains(m.Setting, `"serverAuth", "clientAuth"`) {
			t.Fatalf("setting %q does not name the template's extKeyUsage", m.Setting)
		}
	})

	t.Run("default template changes subject and SANs", func(t *testing.T) {
		plain := clientFor(t, s, "plain", testPassword)
		_, err := plain.Sign(ctx, brokerReq("broker-4"), ecKey(t))
		m := mismatchOf(t, err, "subject")
		if m.Want != "CN=broker-4,OU=kafka,O=Acme Corp" || m.Got != "CN=broker-4" || !strings.Contains(m.Setting, "rawSubject") {
			t.Fatalf("subject mismatch %+v", m)
		}
		_, err = plain.Sign(ctx, clientReq("dave"), ecKey(t))
		m = mismatchOf(t, err, "DNS SANs")
		if !strings.Contains(m.Got, "extra dave") || !strings.Contains(m.Setting, ".Insecure.CR") {
			t.Fatalf("DNS SAN mismatch %+v", m)
		}
	})

	t.Run("concurrent signings get unique serials", func(t *testing.T) {
		var jobs []Job
		for i := range 8 {
			r := brokerReq("b" + string(rune('a'+i)))
			jobs = append(jobs, Job{Req: r, Key: ecKey(t)})
		}
		out, errs := brokers.SignAll(ctx, jobs, 8)
		seen := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("job %d: %v", i, err)
			}
			if seen[out[i].Serial()] {
				t.Fatalf("serial %s issued twice", out[i].Serial())
			}
			seen[out[i].Serial()] = true
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Run("wrong password", func(t *testing.T) {
			c := clientFor(t, s, "kafka", "not the password")
			_, err := c.Sign(ctx, brokerReq("broker-5"), ecKey(t))
			var pe *PasswordError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPassword) || pe.Provisioner != "kafka" {
				t.Fatalf("want *PasswordError, got %v", err)
			}
			if strings.Contains(err.Error(), "not the password") {
				t.Fatal("the error shows the password")
			}
		})
		t.Run("validity over maxTLSCertDuration", func(t *testing.T) {
			req := brokerReq("broker-6")
			req.Days = 365
			_, err := brokers.Sign(ctx, req, ecKey(t))
			m := mismatchOf(t, err, "validity")
			if !strings.Contains(m.Setting, "claims.maxTLSCertDuration") || !strings.Contains(m.Setting, "8760h") {
				t.Fatalf("setting %q does not name claims.maxTLSCertDuration", m.Setting)
			}
		})
		t.Run("template that renders to invalid JSON", func(t *testing.T) {
			c := clientFor(t, s, "broken", testPassword)
			c.cfg.MaxRetries = 0 // a 500: no point waiting on retries of a template error
			_, err := c.Sign(ctx, brokerReq("broker-t"), ecKey(t))
			m := mismatchOf(t, err, "template")
			if !strings.Contains(m.Setting, "options.x509.template") {
				t.Fatalf("setting %q", m.Setting)
			}
		})
		t.Run("unknown provisioner", func(t *testing.T) {
			c := clientFor(t, s, "nope", testPassword)
			_, err := c.Sign(ctx, brokerReq("broker-7"), ecKey(t))
			var ee *EngineError
			if !errors.As(err, &ee) || !strings.Contains(ee.Message, `no JWK provisioner named "nope"`) || !strings.Contains(ee.Message, "kafka-clients") {
				t.Fatalf("want EngineError listing the provisioners, got %v", err)
			}
		})
		t.Run("token signed by another key", func(t *testing.T) {
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			jwk := jose.JSONWebKey{Key: other, Algorithm: "ES256", KeyID: "not-the-provisioners"}
			b, _ := json.Marshal(jwk)
			f := filepath.Join(t.TempDir(), "key.json")
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := New(Config{URL: s.URL, Root: s.RootFile, Provisioner: "kafka", Password: []byte("x"), KeyFile: f})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Sign(ctx, brokerReq("broker-8"), ecKey(t))
			var pe *PermissionError
			if !errors.As(err, &pe) || pe.Status != 401 {
				t.Fatalf("want *PermissionError 401, got %v", err)
			}
		})
		t.Run("HTTPS not trusted without the right root", func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "other-root.pem")
			k := ecKey(t)
			tmpl := &x509.Certificate{SerialNumber: s.Root.SerialNumber, Subject: s.Root.Subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
			if err != nil {
				t.Fatal(err)
			}
			c2, _ := x509.ParseCertificate(der)
			writePEM(t, f, c2)
			c, err := New(Config{URL: s.URL, Root: f, Provisioner: "kafka", Password: []byte(testPassword), MaxRetries: 3, MinRetryWait: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Sign(ctx, brokerReq("broker-9"), ecKey(t))
			var ee *EngineError
			if !errors.As(err, &ee) || ee.Status != 0 || !isTLSTrustError(err) {
				t.Fatalf("want a TLS trust EngineError, got %v", err)
			}
		})
	})

	t.Run("revoke and CRL", func(t *testing.T) {
		revoked, err := brokers.Sign(ctx, brokerReq("broker-r"), ecKey(t))
		if err != nil {
			t.Fatal(err)
		}
		kept, err := brokers.Sign(ctx, brokerReq("broker-k"), ecKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := brokers.Revoke(ctx, revoked.Leaf.SerialNumber, ReasonKeyCompromise, "test"); err != nil {
			t.Fatalf("Revoke: %v\nlog:\n%s", err, s.Log())
		}
		err = brokers.Revoke(ctx, revoked.Leaf.SerialNumber, ReasonKeyCompromise, "again")
		var ee *EngineError
		if !errors.As(err, &ee) || !strings.Contains(ee.Message, "already revoked") {
			t.Fatalf("revoking twice: want an EngineError saying already revoked, got %v", err)
		}
		crl, err := brokers.CRL(ctx, revoked.Intermediates[0])
		if err != nil {
			t.Fatalf("CRL: %v", err)
		}
		if !Revoked(crl, revoked.Leaf.SerialNumber) {
			t.Fatalf("revoked serial %s not in the CRL (%d entries)", revoked.Serial(), len(crl.RevokedCertificateEntries))
		}
		if Revoked(crl, kept.Leaf.SerialNumber) {
			t.Fatalf("serial %s in the CRL, never revoked", kept.Serial())
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(revoked.Leaf.SerialNumber) == 0 && e.ReasonCode != ReasonKeyCompromise {
				t.Errorf("reason code %d, want %d", e.ReasonCode, ReasonKeyCompromise)
			}
		}
		// The CRL is signed by the intermediate, not the root.
		if _, err := brokers.CRL(ctx, s.Root); !errors.Is(err, ErrEngine) {
			t.Fatalf("CRL checked against the root: want ErrEngine, got %v", err)
		}
	})

	t.Run("SignCSR keeps a foreign CSR's subject order and multi-valued RDN", func(t *testing.T) {
		// openssl -subj /CN=.../OU=.../O=... order (CN first in the DER,
		// Java prints it last) and a CN+UID RDN: a principal the default
		// template could never produce.
		raw, err := principal.ParseDN(`O=Acme Corp,OU=kafka,CN=erin+UID=e42`)
		if err != nil {
			t.Fatal(err)
		}
		key := ecKey(t)
		u, _ := url.Parse("spiffe://acme/kafka/erin")
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: raw, URIs: []*url.URL{u}}, key)
		if err != nil {
			t.Fatal(err)
		}
		csr, _ := x509.ParseCertificateRequest(der)
		cr, err := pki.CSRRequest(csr, "", pki.RoleClient, nil, nil, 30)
		if err != nil {
			t.Fatal(err)
		}
		is, err := clients.SignCSR(ctx, FromCertRequest(cr, cr.Subject), csr)
		if err != nil {
			t.Fatalf("SignCSR: %v\nlog:\n%s", err, s.Log())
		}
		if string(is.Leaf.RawSubject) != string(raw) {
			got, _ := principal.JavaName(is.Leaf.RawSubject)
			t.Fatalf("subject %q, want the CSR's %q byte for byte", got, cr.Subject)
		}
		if len(is.Leaf.URIs) != 1 || is.Leaf.URIs[0].String() != u.String() {
			t.Fatalf("URIs %v", is.Leaf.URIs)
		}
	})

	t.Run("retries a 5xx with a fresh one-time token", func(t *testing.T) {
		// A front that lets the first sign reach step-ca (which signs and
		// records the token) but answers 502: resending the same token
		// would be refused as a replay.
		target, _ := url.Parse(s.URL)
		pool := x509.NewCertPool()
		pool.AddCert(s.Root)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		var signs atomic.Int32
		front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == signPath && signs.Add(1) == 1 {
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r)
				if rec.Code != 201 && rec.Code != 200 {
					t.Errorf("first sign through the front: step-ca answered %d", rec.Code)
				}
				http.Error(w, `{"status":502,"message":"bad gateway"}`, http.StatusBadGateway)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		front.StartTLS()
		defer front.Close()
		roots := filepath.Join(t.TempDir(), "roots.pem")
		writePEM(t, roots, s.Root, front.Certificate())
		mk := func(retries int) *Client {
			c, err := New(Config{URL: front.URL, Root: roots, Provisioner: "kafka", Password: []byte(testPassword),
				MaxRetries: retries, MinRetryWait: 10 * time.Millisecond, MaxRetryWait: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if _, err := mk(2).Sign(ctx, brokerReq("broker-retry"), ecKey(t)); err != nil {
			t.Fatalf("Sign through a front failing once: %v", err)
		}
		if n := signs.Load(); n != 2 {
			t.Fatalf("%d sign requests, want 2 (one retry)", n)
		}
		signs.Store(0)
		_, err := mk(-1).Sign(ctx, brokerReq("broker-noretry"), ecKey(t))
		var ee *EngineError
		if !errors.As(err, &ee) || ee.Status != http.StatusBadGateway || signs.Load() != 1 {
			t.Fatalf("MaxRetries<0: want one request and EngineError 502, got %d requests, %v", signs.Load(), err)
		}
	})

	t.Run("preflight", func(t *testing.T) {
		if err := brokers.Preflight(ctx, 90); err != nil {
			t.Fatalf("kafka provisioner, 90 days: %v", err)
		}
		mismatchOf(t, brokers.Preflight(ctx, 365), "validity")
		err := clientFor(t, s, "plain", testPassword).Preflight(ctx, 30)
		mismatchOf(t, err, "subject")
		mismatchOf(t, err, "SANs")
		if err := clientFor(t, s, "kafka", "wrong").Preflight(ctx, 30); !errors.Is(err, ErrPassword) {
			t.Fatalf("wrong password: %v", err)
		}
	})

	t.Run("roots from the CA", func(t *testing.T) {
		roots, err := brokers.RootsFromCA(ctx)
		if err != nil || len(roots) != 1 || !roots[0].Equal(s.Root) {
			t.Fatalf("RootsFromCA: %v %d", err, len(roots))
		}
	})
}

// TestStepCAPolicy: an authority x509 policy that allows only the cluster's
// names refuses a SAN outside it, with a typed error naming the policy.
func TestStepCAPolicy(t *testing.T) {
	policy := json.RawMessage(`{"x509": {"allow": {"dns": ["*.kafka.example.com", "localhost", "broker-1"], "ip": ["127.0.0.0/8"]}}}`)
	s := realpeer.StartStepCA(t, realpeer.StepCAConfig{Policy: policy, Provisioners: []json.RawMessage{
		provisioner(t, "kafka", ProvisionerOptions{Claims: testClaims}, nil),
	}})
	c := clientFor(t, s, "kafka", testPassword)
	ctx := context.Background()
	if _, err := c.Sign(ctx, brokerReq("broker-1"), ecKey(t)); err != nil {
		t.Fatalf("names inside the policy: %v\nlog:\n%s", err, s.Log())
	}
	req := brokerReq("broker-1")
	req.SANs.DNS = append(req.SANs.DNS, "evil.example.org")
	_, err := c.Sign(ctx, req, ecKey(t))
	m := mismatchOf(t, err, "SANs")
	if !strings.Contains(m.Setting, "authority.policy.x509.allow") || !strings.Contains(m.Setting, "evil.example.org") {
		t.Fatalf("setting %q does not name the policy and the name", m.Setting)
	}
}
