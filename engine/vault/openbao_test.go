package vault

// Tests against a real OpenBao server (bao server -dev): no mock of the
// engine anywhere. They skip under -short, skip locally without bao, and
// fail under CI=true without it (realpeer).

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

var testSubject = pki.SubjectDefaults{OrganizationalUnit: "kafka", Organization: "Acme Corp"}

// devEngine starts OpenBao and sets up mount pki, role kafka, with Setup
// and the root token.
func devEngine(t *testing.T) (*realpeer.OpenBaoDev, *Client) {
	t.Helper()
	d := realpeer.StartOpenBaoDev(t)
	c := clientFor(t, d, "pki", "kafka", d.Token)
	lines, err := c.Setup(context.Background(), SetupOptions{RootCN: "Acme Kafka Root", Subject: testSubject})
	if err != nil {
		t.Fatalf("Setup: %v (did %q)", err, lines)
	}
	return d, c
}

func clientFor(t *testing.T, d *realpeer.OpenBaoDev, mount, role, token string) *Client {
	t.Helper()
	c, err := New(Config{Address: d.Addr, Mount: mount, Role: role, Token: token, Timeout: 20 * time.Second, MinRetryWait: 50 * time.Millisecond, MaxRetryWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeRole writes role with the Kafka settings of RoleSettings, then the
// overrides (key=value) on top.
func writeRole(t *testing.T, d *realpeer.OpenBaoDev, mount, role string, overrides ...string) {
	t.Helper()
	settings := map[string]string{}
	var order []string
	for _, kv := range append(RoleSettings(SetupOptions{Subject: testSubject}), overrides...) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := settings[k]; !ok {
			order = append(order, k)
		}
		settings[k] = v
	}
	args := []string{"write", mount + "/roles/" + role}
	for _, k := range order {
		args = append(args, k+"="+settings[k])
	}
	d.Bao(t, args...)
}

func ecKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func brokerReq(name string) Request {
	return Request{Name: name, Role: pki.RoleBroker, Subject: testSubject.DN(name),
		SANs: pki.SANs{DNS: []string{name + ".kafka.example.com", "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1).To4()}}, Days: 30}
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
		if !strings.Contains(out, ": OK") {
			t.Fatalf("openssl %v: %s", args, out)
		}
	}
}

func TestOpenBaoSignBrokerAndClient(t *testing.T) {
	d, c := devEngine(t)
	ctx := context.Background()

	t.Run("broker EC key", func(t *testing.T) {
		req := brokerReq("broker-1")
		key := ecKey(t)
		is, err := c.Sign(ctx, req, key)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := principal.JavaName(is.Leaf.RawSubject); got != "CN=broker-1,OU=kafka,O=Acme Corp" {
			t.Errorf("subject as Java prints it: %q", got)
		}
		if !slices.Equal(is.Leaf.DNSNames, req.SANs.DNS) || len(is.Leaf.IPAddresses) != 1 {
			t.Errorf("SANs: %v %v", is.Leaf.DNSNames, is.Leaf.IPAddresses)
		}
		if len(is.Intermediates) != 0 || is.Root.Subject.CommonName != "Acme Kafka Root" {
			t.Errorf("chain: %d intermediates, root %q", len(is.Intermediates), is.Root.Subject)
		}
		if d := time.Until(is.Leaf.NotAfter); d < 29*24*time.Hour || d > 31*24*time.Hour {
			t.Errorf("validity ends in %s, asked 30 days", d)
		}
		if is.Serial() != pki.SerialHex(is.Leaf) || len(is.Fingerprint()) == 0 {
			t.Errorf("serial %q fingerprint %q", is.Serial(), is.Fingerprint())
		}
		opensslVerify(t, is, "sslserver", "sslclient")
	})

	t.Run("client RSA key with a name that is no host name", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		req := Request{Name: "Alice Smith", Role: pki.RoleClient, Subject: testSubject.DN("Alice Smith"), Days: 10}
		is, err := c.Sign(ctx, req, key)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := principal.JavaName(is.Leaf.RawSubject); got != "CN=Alice Smith,OU=kafka,O=Acme Corp" {
			t.Errorf("subject %q", got)
		}
		if len(is.Leaf.DNSNames) != 0 {
			t.Errorf("the CN leaked into the DNS SANs: %v", is.Leaf.DNSNames)
		}
		// One role for brokers and clients: the client also has serverAuth; said, not refused.
		if !slices.ContainsFunc(is.Warnings, func(w string) bool { return strings.Contains(w, "server_flag=false") }) {
			t.Errorf("no warning about serverAuth on a client: %q", is.Warnings)
		}
		opensslVerify(t, is, "sslclient")
	})

	t.Run("server role from a server-only Vault role (serverAuth is all it needs)", func(t *testing.T) {
		writeRole(t, d, "pki", "servers", "client_flag=false")
		req := brokerReq("idp")
		req.Role = pki.RoleServer
		is, err := clientFor(t, d, "pki", "servers", d.Token).Sign(ctx, req, ecKey(t))
		if err != nil {
			t.Fatalf("a server identity refused: %v", err)
		}
		opensslVerify(t, is, "sslserver")
	})
}

func TestOpenBaoRefusalsNameTheRoleSetting(t *testing.T) {
	d, _ := devEngine(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		overrides []string
		req       func() Request
		field     string
		setting   string // substring of MismatchError.Setting
	}{
		{name: "key_type=rsa with an EC key", overrides: []string{"key_type=rsa", "key_bits=2048"},
			field: "key type", setting: "key_type=any or ec (role r0 has key_type=rsa"},
		{name: "server_flag=false for a broker", overrides: []string{"server_flag=false"},
			field: "extended key usage", setting: "server_flag=true"},
		{name: "client_flag=false", overrides: []string{"client_flag=false"},
			field: "extended key usage", setting: "client_flag=true"},
		{name: "TTL capped by the role's max_ttl", overrides: []string{"ttl=24h", "max_ttl=48h"},
			field: "validity", setting: "max_ttl=720h (the role has max_ttl=48h0m0s)"},
		{name: "allowed_domains not covering a SAN", overrides: []string{"allow_any_name=false", "allowed_domains=other.example.com", "allow_subdomains=true", "allow_localhost=true"},
			req:   func() Request { r := brokerReq("b1"); r.Subject = testSubject.DN("b1.other.example.com"); return r },
			field: "SANs", setting: "allowed_domains covering the names (now [other.example.com]"},
		{name: "subject OU not set on the role", overrides: []string{"ou="},
			field: "subject", setting: "ou=kafka"},
		{name: "subject O differs on the role", overrides: []string{"organization=Other Inc"},
			field: "subject", setting: "organization=\"Acme Corp\""},
		{name: "subject attribute the engine cannot write",
			req:   func() Request { r := brokerReq("b1"); r.Subject = "CN=b1,OU=kafka,O=Acme Corp,DC=example"; return r },
			field: "subject", setting: "drop attribute DC from the subject"},
		{name: "IP SANs not allowed", overrides: []string{"allow_ip_sans=false"},
			field: "IP SANs", setting: "allow_ip_sans=true"},
		{name: "URI SAN not allowed",
			req: func() Request {
				r := brokerReq("b1")
				r.URIs = []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/kafka/b1"}}
				return r
			},
			field: "URI SANs", setting: "allowed_uri_sans covering [spiffe://example.com/kafka/b1]"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := "r" + string(rune('0'+i))
			if i >= 10 {
				t.Fatal("too many cases for one-character role names")
			}
			writeRole(t, d, "pki", role, tt.overrides...)
			c := clientFor(t, d, "pki", role, d.Token)
			req := brokerReq("b1")
			if tt.req != nil {
				req = tt.req()
			}
			is, err := c.Sign(ctx, req, ecKey(t))
			if err == nil {
				t.Fatalf("signed, want a refusal; subject %s SANs %v EKU %v", is.Leaf.Subject, is.Leaf.DNSNames, is.Leaf.ExtKeyUsage)
			}
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("error is not ErrMismatch: %v", err)
			}
			var found bool
			for _, m := range mismatches(err) {
				if m.Field == tt.field || strings.HasPrefix(m.Field, tt.field) {
					found = true
					if !strings.Contains(m.Setting, tt.setting) {
						t.Errorf("setting %q lacks %q", m.Setting, tt.setting)
					}
					if m.Role != "pki/roles/"+role || m.Probable {
						t.Errorf("role %q probable %v", m.Role, m.Probable)
					}
				}
			}
			if !found {
				t.Errorf("no mismatch on %q in: %v", tt.field, err)
			}
			t.Log(err)
		})
	}
}

// mismatches unpacks the MismatchErrors of a (joined) error.
func mismatches(err error) []*MismatchError {
	var out []*MismatchError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, mismatches(e)...)
		}
		return out
	}
	var m *MismatchError
	if errors.As(err, &m) {
		out = append(out, m)
	}
	return out
}

// tokenWith creates a token with the given policy text.
func tokenWith(t *testing.T, d *realpeer.OpenBaoDev, name, policy string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".hcl")
	if err := os.WriteFile(f, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Bao(t, "policy", "write", name, f)
	return strings.TrimSpace(d.Bao(t, "token", "create", "-policy="+name, "-field=token"))
}

func TestOpenBaoPolicyAndPermissions(t *testing.T) {
	d, _ := devEngine(t)
	ctx := context.Background()
	tok := tokenWith(t, d, "kafkatls", Policy("pki", "kafka"))
	c := clientFor(t, d, "pki", "kafka", tok)

	is, err := c.Sign(ctx, brokerReq("broker-2"), ecKey(t))
	if err != nil {
		t.Fatalf("sign with the documented policy: %v", err)
	}
	if _, err := c.ReadRole(ctx); err != nil {
		t.Errorf("read role with the documented policy: %v", err)
	}
	if _, err := c.Revoke(ctx, is.Leaf.SerialNumber); err != nil {
		t.Errorf("revoke with the documented policy: %v", err)
	}
	if _, err := c.CRL(ctx); err != nil {
		t.Errorf("CRL with the documented policy: %v", err)
	}
	if certs, complete, err := c.Unknown(ctx, func(string) bool { return false }, time.Now().Add(-time.Minute), 0); err != nil || !complete || !holds(certs, is.Leaf) {
		t.Errorf("list and read the certificates with the documented policy: %d read, complete %v, %v", len(certs), complete, err)
	}
	if _, err := c.Setup(ctx, SetupOptions{}); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("Setup with the signing token: %v, want permission denied", err)
	}

	t.Run("wrong token", func(t *testing.T) {
		_, err := clientFor(t, d, "pki", "kafka", "s.not-a-token").Sign(ctx, brokerReq("b"), ecKey(t))
		var pe *PermissionError
		if !errors.As(err, &pe) || !errors.Is(err, ErrPermissionDenied) {
			t.Fatalf("got %v, want a PermissionError", err)
		}
		if pe.Path != "pki/sign/kafka" || pe.Capability != "update" || !strings.Contains(err.Error(), `path "pki/sign/kafka"`) {
			t.Errorf("error %q", err)
		}
	})
	t.Run("unknown role", func(t *testing.T) {
		_, err := clientFor(t, d, "pki", "nosuch", d.Token).Sign(ctx, brokerReq("b"), ecKey(t))
		var ee *EngineError
		if !errors.As(err, &ee) || ee.Status != 400 || !strings.Contains(err.Error(), "unknown role: nosuch") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		short := strings.TrimSpace(d.Bao(t, "token", "create", "-policy=kafkatls", "-ttl=1s", "-explicit-max-ttl=1s", "-field=token"))
		deadline := time.Now().Add(10 * time.Second)
		var err error
		for time.Now().Before(deadline) {
			if _, err = clientFor(t, d, "pki", "kafka", short).Sign(ctx, brokerReq("b"), ecKey(t)); err != nil {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if !errors.Is(err, ErrPermissionDenied) {
			t.Fatalf("expired token: %v, want permission denied", err)
		}
	})
	t.Run("role unreadable: the setting is a guess, said so", func(t *testing.T) {
		writeRole(t, d, "pki", "capped", "ttl=24h", "max_ttl=48h")
		signOnly := tokenWith(t, d, "signonly", `path "pki/sign/capped" { capabilities = ["update"] }`)
		_, err := clientFor(t, d, "pki", "capped", signOnly).Sign(ctx, brokerReq("b"), ecKey(t))
		ms := mismatches(err)
		if len(ms) != 1 || ms[0].Field != "validity" || !ms[0].Probable || !strings.Contains(ms[0].Setting, "max_ttl=720h on the role, or the mount's max_lease_ttl") {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(err.Error(), "probably (the token may not read the role)") {
			t.Errorf("error %q", err)
		}
	})
}

func TestOpenBaoRevokeShowsInCRL(t *testing.T) {
	_, c := devEngine(t)
	ctx := context.Background()
	keep, err := c.Sign(ctx, brokerReq("keep"), ecKey(t))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := c.Sign(ctx, brokerReq("gone"), ecKey(t))
	if err != nil {
		t.Fatal(err)
	}
	at, err := c.Revoke(ctx, gone.Leaf.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(at) > time.Minute || time.Until(at) > time.Minute {
		t.Errorf("revocation time %s", at)
	}
	if _, err := c.Revoke(ctx, gone.Leaf.SerialNumber); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	crl, err := c.CRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !Revoked(crl, gone.Leaf.SerialNumber) {
		t.Errorf("revoked serial %s not in the engine's CRL", gone.Serial())
	}
	if Revoked(crl, keep.Leaf.SerialNumber) {
		t.Errorf("serial %s in the CRL but not revoked", keep.Serial())
	}
	// openssl agrees: verify with the CRL fails for the revoked leaf only.
	openssl := realpeer.Need(t, "openssl")[0]
	dir := t.TempDir()
	root, crlf := filepath.Join(dir, "root.pem"), filepath.Join(dir, "crl.pem")
	writePEM(t, root, gone.Root)
	if err := os.WriteFile(crlf, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		is      *Issued
		revoked bool
	}{{keep, false}, {gone, true}} {
		leaf := filepath.Join(dir, tc.is.Serial()+".pem")
		writePEM(t, leaf, tc.is.Leaf)
		out, err := realpeer.RunErr(openssl, "verify", "-crl_check", "-CAfile", root, "-CRLfile", crlf, leaf)
		if tc.revoked != (err != nil) || tc.revoked && !strings.Contains(out, "revoked") {
			t.Errorf("openssl verify -crl_check of %s (revoked %v): %v\n%s", tc.is.Serial(), tc.revoked, err, out)
		}
	}
	if _, err := c.Revoke(ctx, big1()); !errors.Is(err, ErrEngine) {
		t.Errorf("revoking an unknown serial: %v", err)
	}
}

func TestOpenBaoIntermediateMount(t *testing.T) {
	d, _ := devEngine(t) // mount pki holds the root
	ctx := context.Background()
	dir := t.TempDir()
	d.Bao(t, "secrets", "enable", "-path=pki-int", "-max-lease-ttl=43800h", "pki")
	csr := d.Bao(t, "write", "-field=csr", "pki-int/intermediate/generate/internal", "common_name=Acme Kafka Issuing CA", "key_type=ec", "key_bits=256")
	csrFile := filepath.Join(dir, "int.csr")
	if err := os.WriteFile(csrFile, []byte(csr), 0o600); err != nil {
		t.Fatal(err)
	}
	intPEM := d.Bao(t, "write", "-field=certificate", "pki/root/sign-intermediate", "csr=@"+csrFile, "format=pem", "ttl=43800h")
	rootPEM := d.Bao(t, "read", "-field=certificate", "pki/cert/ca")

	t.Run("chain imported with its root", func(t *testing.T) {
		chain := filepath.Join(dir, "chain.pem")
		if err := os.WriteFile(chain, []byte(strings.TrimSpace(intPEM)+"\n"+strings.TrimSpace(rootPEM)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		d.Bao(t, "write", "pki-int/intermediate/set-signed", "certificate=@"+chain)
		writeRole(t, d, "pki-int", "kafka")
		c := clientFor(t, d, "pki-int", "kafka", d.Token)
		is, err := c.Sign(ctx, brokerReq("broker-3"), ecKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(is.Intermediates) != 1 || is.Intermediates[0].Subject.CommonName != "Acme Kafka Issuing CA" || is.Root.Subject.CommonName != "Acme Kafka Root" {
			t.Fatalf("chain: intermediates %v root %q", is.Intermediates, is.Root.Subject)
		}
		opensslVerify(t, is, "sslserver", "sslclient")
	})

	t.Run("intermediate imported alone: no root to trust", func(t *testing.T) {
		d.Bao(t, "secrets", "enable", "-path=pki-int2", "-max-lease-ttl=43800h", "pki")
		csr := d.Bao(t, "write", "-field=csr", "pki-int2/intermediate/generate/internal", "common_name=Lonely Issuing CA", "key_type=ec", "key_bits=256")
		f := filepath.Join(dir, "int2.csr")
		if err := os.WriteFile(f, []byte(csr), 0o600); err != nil {
			t.Fatal(err)
		}
		cert := d.Bao(t, "write", "-field=certificate", "pki/root/sign-intermediate", "csr=@"+f, "format=pem", "ttl=43800h")
		cf := filepath.Join(dir, "int2.pem")
		if err := os.WriteFile(cf, []byte(cert), 0o600); err != nil {
			t.Fatal(err)
		}
		d.Bao(t, "write", "pki-int2/intermediate/set-signed", "certificate=@"+cf)
		writeRole(t, d, "pki-int2", "kafka")
		_, err := clientFor(t, d, "pki-int2", "kafka", d.Token).Sign(ctx, brokerReq("broker-4"), ecKey(t))
		if !errors.Is(err, ErrIncompleteChain) || !strings.Contains(err.Error(), "pki-int2/intermediate/set-signed") {
			t.Fatalf("got %v, want ErrIncompleteChain naming the import", err)
		}
	})
}

func TestOpenBaoConcurrentSigning(t *testing.T) {
	_, c := devEngine(t)
	jobs := make([]Job, 8)
	for i := range jobs {
		jobs[i] = Job{Req: brokerReq("broker-" + string(rune('a'+i))), Key: ecKey(t)}
	}
	out, errs := c.SignAll(context.Background(), jobs, 8)
	seen := map[string]bool{}
	for i := range jobs {
		if errs[i] != nil {
			t.Fatalf("job %d: %v", i, errs[i])
		}
		if seen[out[i].Serial()] {
			t.Errorf("serial %s issued twice", out[i].Serial())
		}
		seen[out[i].Serial()] = true
		if out[i].Leaf.Subject.CommonName != jobs[i].Req.Name {
			t.Errorf("job %d got the certificate of %q", i, out[i].Leaf.Subject.CommonName)
		}
	}
}

// TestOpenBaoRetryAndRedirect puts a front in the way of the real server:
// first 503s (an engine restarting; the client retries with backoff), then a
// 307 to the real address, as a Vault performance standby answers when it
// does not forward.
func TestOpenBaoRetryAndRedirect(t *testing.T) {
	d, _ := devEngine(t)
	target, _ := url.Parse(d.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)

	t.Run("5xx then success", func(t *testing.T) {
		var hits atomic.Int32
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) <= 2 {
				http.Error(w, `{"errors":["Vault is sealed"]}`, http.StatusServiceUnavailable)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer front.Close()
		c, err := New(Config{Address: front.URL, Token: d.Token, MaxRetries: 3, MinRetryWait: 10 * time.Millisecond, MaxRetryWait: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Sign(context.Background(), brokerReq("retry"), ecKey(t)); err != nil {
			t.Fatalf("after two 503s: %v", err)
		}
		if hits.Load() < 3 {
			t.Errorf("%d requests reached the front, want the two 503s retried", hits.Load())
		}
	})
	t.Run("5xx beyond the retries", func(t *testing.T) {
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"errors":["Vault is sealed"]}`, http.StatusServiceUnavailable)
		}))
		defer front.Close()
		c, _ := New(Config{Address: front.URL, Token: d.Token, MaxRetries: 1, MinRetryWait: 10 * time.Millisecond, MaxRetryWait: 20 * time.Millisecond})
		_, err := c.Sign(context.Background(), brokerReq("retry"), ecKey(t))
		var ee *EngineError
		if !errors.As(err, &ee) || ee.Status != 503 || !strings.Contains(err.Error(), "sealed") {
			t.Fatalf("got %v, want an EngineError with HTTP 503", err)
		}
	})
	t.Run("standby redirect", func(t *testing.T) {
		var redirected atomic.Int32
		standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redirected.Add(1)
			http.Redirect(w, r, d.Addr+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}))
		defer standby.Close()
		c, _ := New(Config{Address: standby.URL, Token: d.Token})
		is, err := c.Sign(context.Background(), brokerReq("via-standby"), ecKey(t))
		if err != nil {
			t.Fatalf("through a redirecting standby: %v", err)
		}
		if redirected.Load() == 0 || is.Leaf.Subject.CommonName != "via-standby" {
			t.Errorf("redirects %d, leaf %q", redirected.Load(), is.Leaf.Subject)
		}
	})
}

// TestOpenBaoSetupCommandsMatchSetup runs the printed bao commands on a
// fresh mount and compares the role with the one Setup wrote.
func TestOpenBaoSetupCommandsMatchSetup(t *testing.T) {
	d, c := devEngine(t)
	ctx := context.Background()
	cfg := Config{Mount: "pki-cli", Role: "kafka"}
	for _, line := range SetupCommands(cfg, SetupOptions{RootCN: "CLI Root", Subject: testSubject}, d.Bin) {
		out, err := runShell(d, line)
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	}
	viaSetup, err := c.ReadRole(ctx)
	if err != nil {
		t.Fatal(err)
	}
	viaCLI, err := clientFor(t, d, "pki-cli", "kafka", d.Token).ReadRole(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := roleString(viaSetup), roleString(viaCLI); a != b {
		t.Errorf("roles differ:\nSetup: %s\nCLI:   %s", a, b)
	}
	if _, err := clientFor(t, d, "pki-cli", "kafka", d.Token).Sign(ctx, brokerReq("cli-broker"), ecKey(t)); err != nil {
		t.Errorf("signing with the CLI-made role: %v", err)
	}
	// Setup again is harmless: it finds the mount and CA and rewrites the role.
	lines, err := c.Setup(ctx, SetupOptions{RootCN: "Acme Kafka Root", Subject: testSubject})
	if err != nil || !strings.Contains(lines[0], "already enabled") || !strings.Contains(lines[1], "has CA") {
		t.Errorf("second Setup: %v %q", err, lines)
	}
}

func roleString(r *RoleInfo) string {
	b := strings.Builder{}
	b.WriteString(strings.Join([]string{r.KeyType, strings.Join(r.OU, "|"), strings.Join(r.Organization, "|"), strings.Join(r.CNValidations, "|")}, ";"))
	for _, f := range []bool{r.ServerFlag, r.ClientFlag, r.UseCSRSANs, r.UseCSRCommonName, r.AllowAnyName, r.EnforceHostnames, r.AllowIPSANs, r.NoStore} {
		if f {
			b.WriteString(";t")
		} else {
			b.WriteString(";f")
		}
	}
	b.WriteString(";" + r.MaxTTL().String())
	return b.String()
}

// runShell runs one printed command line through sh, as an operator would
// paste it, against d.
func runShell(d *realpeer.OpenBaoDev, line string) (string, error) {
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+d.Addr, "VAULT_TOKEN="+d.Token, "BAO_ADDR="+d.Addr, "BAO_TOKEN="+d.Token)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func big1() *big.Int { return big.NewInt(0x7eadbeef) }

// TestOpenBaoHTTPSAndNamespace: the engine's HTTPS certificate is verified
// against the configured CA (VAULT_CACERT), never skipped, and requests go
// to the configured namespace (VAULT_NAMESPACE).
func TestOpenBaoHTTPSAndNamespace(t *testing.T) {
	d := realpeer.StartOpenBaoDevTLS(t)
	ctx := context.Background()
	d.Bao(t, "namespace", "create", "team")
	env := map[string]string{EnvAddr: d.Addr, EnvCACert: d.CACert, EnvNamespace: "team", EnvToken: d.Token}
	cfg := ConfigFromEnv(func(k string) string { return env[k] })
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Setup(ctx, SetupOptions{RootCN: "Team Root", Subject: testSubject}); err != nil {
		t.Fatalf("Setup in namespace team over HTTPS: %v", err)
	}
	is, err := c.Sign(ctx, brokerReq("tls-broker"), ecKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if is.Root.Subject.CommonName != "Team Root" {
		t.Errorf("root %q", is.Root.Subject)
	}
	// The mount lives in the namespace only.
	if out, err := d.BaoErr(d.Token, "read", "pki/roles/kafka"); err == nil {
		t.Errorf("role found outside namespace team:\n%s", out)
	}
	t.Run("without the CA the engine's certificate is refused", func(t *testing.T) {
		t.Setenv("VAULT_SKIP_VERIFY", "true")
		t.Setenv("VAULT_CACERT", "")
		noCA := cfg
		noCA.CACert = ""
		noCA.MaxRetries = -1
		c, err := New(noCA)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Sign(ctx, brokerReq("tls-broker"), ecKey(t))
		var ee *EngineError
		if !errors.As(err, &ee) || ee.Status != 0 || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("got %v, want a TLS verification error", err)
		}
	})
}

// TestOpenBaoMountCapsValidity: with no max_ttl on the role, the mount's
// max_lease_ttl caps the validity; the error names the mount tuning.
func TestOpenBaoMountCapsValidity(t *testing.T) {
	d := realpeer.StartOpenBaoDev(t)
	d.Bao(t, "secrets", "enable", "-path=pki-short", "-max-lease-ttl=8760h", "pki")
	d.Bao(t, "write", "pki-short/root/generate/internal", "common_name=Short Root", "ttl=8760h")
	d.Bao(t, "secrets", "tune", "-max-lease-ttl=48h", "pki-short")
	writeRole(t, d, "pki-short", "kafka", "ttl=24h", "max_ttl=0")
	_, err := clientFor(t, d, "pki-short", "kafka", d.Token).Sign(context.Background(), brokerReq("b1"), ecKey(t))
	ms := mismatches(err)
	if len(ms) != 1 || ms[0].Field != "validity" || ms[0].Probable ||
		ms[0].Setting != "the mount's max_lease_ttl (bao secrets tune -max-lease-ttl=720h pki-short)" {
		t.Fatalf("got %v", err)
	}
}

// TestOpenBaoStandby signs through a real standby of a Raft cluster: the
// standby forwards (or redirects, followed by the client) to the active node.
func TestOpenBaoStandby(t *testing.T) {
	cl := realpeer.StartOpenBaoCluster(t, 2)
	active, standby := cl.Nodes[0], cl.Nodes[1]
	ctx := context.Background()
	if _, err := clientFor(t, active, "pki", "kafka", active.Token).Setup(ctx, SetupOptions{RootCN: "Raft Root", Subject: testSubject}); err != nil {
		t.Fatal(err)
	}
	c := clientFor(t, standby, "pki", "kafka", standby.Token)
	// The standby serves reads from its eventually consistent copy: wait
	// until the role written on the active node has reached it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := c.ReadRole(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("role not visible on the standby after 30 s: %v", err)
		}
	}
	is, err := c.Sign(ctx, brokerReq("via-raft-standby"), ecKey(t))
	if err != nil {
		t.Fatalf("sign through the standby %s: %v", standby.Addr, err)
	}
	if is.Root.Subject.CommonName != "Raft Root" {
		t.Errorf("root %q", is.Root.Subject)
	}
	// Likewise the new certificate's record, before revoking it there.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := standby.BaoErr(standby.Token, "read", "pki/cert/"+SerialColons(is.Leaf.SerialNumber)); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("certificate %s not visible on the standby after 30 s", is.Serial())
		}
	}
	if _, err := c.Revoke(ctx, is.Leaf.SerialNumber); err != nil {
		t.Fatalf("revoke through the standby: %v", err)
	}
	// The CRL is rebuilt on the active node and reaches the standby later.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		crl, err := c.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if Revoked(crl, is.Leaf.SerialNumber) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serial %s not in the CRL read through the standby after 30 s", is.Serial())
		}
	}
}

// TestOpenBaoSignCSRFromOpenSSL: a host keeps its key and sends an openssl
// CSR; the engine signs it, and a subject the engine cannot reproduce (the
// RDN order openssl -subj writes by default) is refused with the reason.
func TestOpenBaoSignCSRFromOpenSSL(t *testing.T) {
	_, c := devEngine(t)
	openssl := realpeer.Need(t, "openssl")[0]
	tests := []struct {
		name, subj, setting string
	}{
		{name: "subject in the engine's order", subj: "/O=Acme Corp/OU=kafka/CN=host-1"},
		{name: "subject in openssl's usual order", subj: "/CN=host-1/OU=kafka/O=Acme Corp", setting: "nothing on the role: the engine writes the attributes in its own order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			csrFile := filepath.Join(dir, "host.csr")
			realpeer.Run(t, openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
				"-keyout", filepath.Join(dir, "host.key"), "-subj", tt.subj, "-addext", "subjectAltName=DNS:host-1.example.com", "-out", csrFile)
			b, err := os.ReadFile(csrFile)
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(b)
			csr, err := x509.ParseCertificateRequest(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			cr, err := pki.CSRRequest(csr, "", pki.RoleBroker, nil, nil, 20)
			if err != nil {
				t.Fatal(err)
			}
			is, err := c.SignCSR(context.Background(), FromCertRequest(cr, cr.Subject), csr)
			if tt.setting == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := principal.JavaName(is.Leaf.RawSubject); got != cr.Subject {
					t.Errorf("subject %q, CSR's %q", got, cr.Subject)
				}
				opensslVerify(t, is, "sslserver", "sslclient")
				return
			}
			ms := mismatches(err)
			if len(ms) != 1 || ms[0].Field != "subject (the Kafka principal)" || !strings.Contains(ms[0].Setting, tt.setting) {
				t.Fatalf("got %v", err)
			}
			t.Log(err)
		})
	}
}

// holds reports whether certs holds c.
func holds(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// TestOpenBaoUnknown: Unknown reads the certificates the index does not
// name (not those it does), skips on OpenBao's dated listing those that
// started long before the requests sought, and says when a limit cut the
// reading short.
func TestOpenBaoUnknown(t *testing.T) {
	_, c := devEngine(t)
	ctx := context.Background()
	a, err := c.Sign(ctx, brokerReq("broker-1"), ecKey(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Sign(ctx, brokerReq("broker-2"), ecKey(t))
	if err != nil {
		t.Fatal(err)
	}
	knowA := func(s string) bool { return s == a.Serial() }
	for _, tc := range []struct {
		name         string
		since        time.Time
		limit        int
		wantB        bool
		wantComplete bool
	}{
		{"unknown ones read, known ones not", time.Now().Add(-time.Minute), 0, true, true},
		{"no time given: all read", time.Time{}, 0, true, true},
		{"started long before the requests: skipped", time.Now().Add(2 * NotBeforeSlack), 0, false, true},
		{"limit: one read, incomplete", time.Time{}, 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, complete, err := c.Unknown(ctx, knowA, tc.since, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if holds(certs, a.Leaf) {
				t.Errorf("a certificate the index names was read")
			}
			if tc.limit > 0 {
				// Which one is read first depends on notBefore seconds.
				if len(certs) != tc.limit || complete {
					t.Errorf("read %d with limit %d, complete %v", len(certs), tc.limit, complete)
				}
				return
			}
			if holds(certs, b.Leaf) != tc.wantB || complete != tc.wantComplete {
				t.Errorf("read %d (holds the unknown leaf: %v), complete %v; want %v, %v", len(certs), holds(certs, b.Leaf), complete, tc.wantB, tc.wantComplete)
			}
		})
	}
}
