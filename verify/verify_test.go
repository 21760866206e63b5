package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/testbroker"
)

func newBundle(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	spec := &bundle.Spec{
		CA:          bundle.CASpec{KeyType: "ecdsa", Org: "Acme"},
		Brokers:     []bundle.Node{{Name: "kafka-1"}},
		Controllers: []bundle.Node{{Name: "controller-1"}},
		Clients:     []bundle.Client{{Name: "client1"}, {Name: "client2", Subject: `CN=Tkac\, Adam,OU=ITZ,O=Acme`}},
	}
	if _, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBundlePasses(t *testing.T) {
	dir := newBundle(t)
	rep, err := Bundle(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	accepted, refused := 0, 0
	for _, c := range rep.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
		switch c.Result {
		case "accepted":
			accepted++
			if c.TLSVersion == "" || !strings.HasPrefix(c.Principal, "User:CN=") {
				t.Errorf("accepted check lacks TLS version or principal: %+v", c)
			}
		case "refused":
			refused++
			if c.Diagnosis == "" {
				t.Errorf("refusal without diagnosis: %+v", c)
			}
		}
		if c.Identity == "client2" && c.Result == "accepted" && c.Principal != `User:CN=Tkac\, Adam,OU=ITZ,O=Acme` {
			t.Errorf("client2 principal %q", c.Principal)
		}
	}
	// 2 servers × 4 identities × 3 formats accepted; 2 × 6 must-fail cases refused.
	if accepted != 24 || refused != 12 || !rep.Passed {
		t.Fatalf("accepted %d refused %d passed %v", accepted, refused, rep.Passed)
	}
}

func TestBundleWithMappingRules(t *testing.T) {
	dir := newBundle(t)
	rep, err := Bundle(context.Background(), Options{Dir: dir, Rules: `RULE:^CN=([^,]+),.*$/$1/L,DEFAULT`})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Identity == "client1" && c.Result == "accepted" && c.Principal != "User:client1" {
			t.Errorf("mapped principal %q, want User:client1", c.Principal)
		}
	}
	if !rep.Passed {
		t.Fatal("verify with mapping rules failed")
	}
}

// A truststore swapped for one holding another CA must be caught, in the
// format it was swapped in only.
func TestBundleCatchesForeignTruststore(t *testing.T) {
	dir := newBundle(t)
	cdir := identity.Dir(dir, "client1")
	pw, _ := os.ReadFile(filepath.Join(cdir, "password"))
	foreign := selfSigned(t, "Foreign CA", true)
	ts, err := stores.PKCS12Truststore([]stores.TrustEntry{{Alias: "caroot", Cert: foreign.Leaf}}, strings.TrimSpace(string(pw)), stores.Modern)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cdir, "truststore.p12"), ts, 0o644)
	rep, err := Bundle(context.Background(), Options{Dir: dir, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed {
		t.Fatal("verify passed with a foreign truststore")
	}
	named := false
	for _, c := range rep.Checks {
		// The consistency check names the truststore before any handshake.
		if c.Result == "inconsistent" {
			named = named || (c.Identity == "client1" && c.Store == "truststore.p12" && strings.Contains(c.Diagnosis, "trusts none of the CAs in"))
			continue
		}
		bad := c.Identity == "client1" && c.Store == "PKCS12"
		if bad == c.OK {
			t.Errorf("unexpected outcome: %+v", c)
		}
		if bad && !strings.Contains(c.Diagnosis, "not signed by a CA in this truststore") {
			t.Errorf("diagnosis %q", c.Diagnosis)
		}
	}
	if !named {
		t.Error("the consistency check does not name client1's truststore.p12")
	}
}

func selfSigned(t *testing.T, cn string, ca bool) tls.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: true, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: c}
}

// startBroker runs the test broker with kafka-1's stores from disk.
func startBroker(t *testing.T, dir string, acls *testbroker.ACLs, cert *tls.Certificate) *testbroker.Broker {
	t.Helper()
	id, err := identity.Load(identity.Dir(dir, "kafka-1"), pki.RoleBroker)
	if err != nil {
		t.Fatal(err)
	}
	st := id.Stores[0]
	if cert != nil {
		st.Cert = *cert
	}
	b, err := testbroker.Start(testbroker.Config{Certificate: st.Cert, ClientCAs: st.Roots, ACLs: acls, Topics: []string{"orders"},
		Principal: func(c *x509.Certificate) (string, error) { return principal.Mapped(c, nil) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func remote(t *testing.T, o RemoteOptions) *RemoteReport {
	t.Helper()
	o.Timeout = 5 * time.Second
	rep, err := Remote(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func failing(rep *RemoteReport) *Finding {
	for i := range rep.Findings {
		if !rep.Findings[i].OK {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestRemoteDiagnoses(t *testing.T) {
	dir := newBundle(t)
	acls := testbroker.NewACLs(testbroker.ACL{Principal: "User:CN=client1,O=Acme", Resource: testbroker.Topic, Name: "orders", Operation: "Describe"})
	b := startBroker(t, dir, acls, nil)
	_, port, _ := strings.Cut(b.Addr(), ":")

	ok := remote(t, RemoteOptions{Bootstrap: "localhost:" + port, ClientDir: identity.Dir(dir, "client1"), Topic: "orders"})
	if !ok.Passed || ok.TLSVersion == "" || len(ok.ServerChain) == 0 || ok.Principal != "User:CN=client1,O=Acme" {
		t.Fatalf("good client: %+v", ok)
	}

	tests := []struct {
		name     string
		o        RemoteOptions
		step     string
		msg, fix string
	}{
		{"not authorized", RemoteOptions{Bootstrap: b.Addr(), ClientDir: identity.Dir(dir, "client2"), Topic: "orders"},
			"topic orders", "not authorized to describe topic", `kafka-acls.sh --bootstrap-server`},
		{"hostname", RemoteOptions{Bootstrap: b.Addr(), ServerName: "kafka.example.com", ClientDir: identity.Dir(dir, "client1")},
			"hostname", `not "kafka.example.com"`, "--dns kafka.example.com"},
		{"nothing listening", RemoteOptions{Bootstrap: "127.0.0.1:1", ClientDir: identity.Dir(dir, "client1")},
			"connect", "cannot connect", "listeners"},
		{"config password", RemoteOptions{Bootstrap: b.Addr(), ClientDir: identity.Dir(dir, "client3")},
			"config client.properties", "ssl.keystore.password does not open keystore.p12", "kafkatls lint"},
	}
	// client3: client1's directory with a client.properties whose
	// keystore password no longer opens the keystore.
	c3 := identity.Dir(dir, "client3")
	if err := os.CopyFS(c3, os.DirFS(identity.Dir(dir, "client1"))); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(c3, "client.properties")
	b3, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte(strings.Replace(string(b3), "ssl.keystore.password=", "ssl.keystore.password=x", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		rep := remote(t, tt.o)
		f := failing(rep)
		if rep.Passed || f == nil || f.Step != tt.step || !strings.Contains(f.Message, tt.msg) || !strings.Contains(f.Fix, tt.fix) {
			t.Errorf("%s: passed=%v failing=%+v", tt.name, rep.Passed, f)
		}
	}
}

func TestRemoteForeignBrokerCA(t *testing.T) {
	dir := newBundle(t)
	foreign := selfSigned(t, "rogue-broker", false)
	b := startBroker(t, dir, nil, &foreign)
	rep := remote(t, RemoteOptions{Bootstrap: b.Addr(), ServerName: "localhost", ClientDir: identity.Dir(dir, "client1")})
	f := failing(rep)
	if f == nil || f.Step != "broker certificate" || !strings.Contains(f.Message, `issued by "CN=rogue-broker"`) {
		t.Fatalf("failing finding %+v", f)
	}
}

func TestRemotePlaintextListener(t *testing.T) {
	dir := newBundle(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep := remote(t, RemoteOptions{Bootstrap: c.ListenAddrs()[0], ClientDir: identity.Dir(dir, "client1")})
	f := failing(rep)
	if f == nil || f.Step != "TLS handshake" || !strings.Contains(f.Message, "PLAINTEXT") {
		t.Fatalf("failing finding %+v", f)
	}
}

func TestRemoteBrokerRejectsClientCA(t *testing.T) {
	dir := newBundle(t)
	other := newBundle(t) // a second PKI: its client is unknown to our broker
	b := startBroker(t, dir, nil, nil)
	rep := remote(t, RemoteOptions{Bootstrap: b.Addr(), ServerName: "localhost", ClientDir: identity.Dir(other, "client1")})
	f := failing(rep)
	if f == nil {
		t.Fatalf("a client from another CA passed: %+v", rep)
	}
	// Our own broker certificate is from another CA too, so the client stops there first.
	if f.Step != "broker certificate" {
		t.Fatalf("failing finding %+v", f)
	}
}

// TestBundleCatchesInconsistentConfigs: a config whose password does not
// open the store it names, or a password file that opens none, fails
// verify with lint's own message; before, verify passed (it opened the
// stores with the password file and never read the configs).
func TestBundleCatchesInconsistentConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"client.properties", "client.properties", "ssl.keystore.password=", "ssl.keystore.password=x", "ssl.keystore.password does not open keystore.p12"},
		{"server.properties", "server.properties", "ssl.truststore.password=", "ssl.truststore.password=x", "ssl.truststore.password does not open truststore.p12"},
		{"kcat.conf", "kcat.conf", "ssl.key.location=", "ssl.key.location=/nowhere/", "ssl.key.location names tls.key"},
		{"bundle truststore.password", "truststore.password", "", "x", "the password file does not open truststore.jks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newBundle(t)
			who, idDir := "client1", filepath.Join(dir, "certs", "client1")
			switch tc.file {
			case "server.properties":
				who, idDir = "kafka-1", filepath.Join(dir, "certs", "kafka-1")
			case "truststore.password":
				who, idDir = "bundle", dir
			}
			path := filepath.Join(idDir, tc.file)
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(b), tc.old) {
				t.Fatalf("%s: %v, or no %q", path, err, tc.old)
			}
			if tc.name == "kcat.conf" {
				// kcat.conf names files by absolute path; point the key elsewhere and remove it here.
				os.Remove(filepath.Join(idDir, "tls.key"))
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(b), tc.old, tc.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := Bundle(context.Background(), Options{Dir: dir, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Passed {
				t.Fatal("verify passes")
			}
			var lintMsgs []string
			for _, f := range inspect.CheckIdentity(idDir) {
				if f.Severity == inspect.SevError {
					lintMsgs = append(lintMsgs, f.Message)
				}
			}
			found := false
			for _, c := range rep.Checks {
				if c.Identity == who && c.Result == "inconsistent" && strings.Contains(c.Diagnosis, tc.want) {
					found = true
					if !slices.Contains(lintMsgs, c.Diagnosis) {
						t.Errorf("verify says %q, lint says %q", c.Diagnosis, lintMsgs)
					}
				}
			}
			if !found {
				t.Errorf("no inconsistent check for %s saying %q", who, tc.want)
			}
		})
	}
}

// newSASLBundle is a bundle with a SASL_SSL listener: alice logs in with
// SCRAM-SHA-512, bob with a kafkatls-minted token, carol with mutual TLS.
func newSASLBundle(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sasl.InitIssuer(dir, sasl.IssuerOptions{}); err != nil {
		t.Fatal(err)
	}
	spec := &bundle.Spec{
		CA:      bundle.CASpec{KeyType: "ecdsa", Org: "Acme"},
		SASL:    bundle.SASLSpec{Mechanisms: []string{"scram-sha-512", "oauthbearer"}},
		Brokers: []bundle.Node{{Name: "kafka-1"}},
		Clients: []bundle.Client{{Name: "alice", Auth: "scram-sha-512"}, {Name: "bob", Auth: "oauthbearer"}, {Name: "carol"}},
	}
	if _, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startSASLBroker runs the test broker with kafka-1's stores and a SASL_SSL
// listener for the bundle's identities; mod may change its SASL settings.
func startSASLBroker(t *testing.T, dir string, mod func(*testbroker.SASLConfig)) *testbroker.Broker {
	t.Helper()
	ids, err := identity.LoadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc, _, err := BrokerSASL(dir, nil, ids)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(sc)
	}
	id, err := identity.Load(identity.Dir(dir, "kafka-1"), pki.RoleBroker)
	if err != nil {
		t.Fatal(err)
	}
	b, err := testbroker.Start(testbroker.Config{Certificate: id.Stores[0].Cert, ClientCAs: id.Stores[0].Roots, SASL: sc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestRemoteSASL(t *testing.T) {
	dir := newSASLBundle(t)
	b := startSASLBroker(t, dir, nil)
	for _, n := range []string{"alice", "bob"} {
		rep := remote(t, RemoteOptions{Bootstrap: b.SASLAddr(), ServerName: "localhost", ClientDir: identity.Dir(dir, n)})
		if !rep.Passed || rep.Principal != "User:"+n || !strings.HasPrefix(rep.Store, "SASL ") {
			t.Fatalf("%s: %+v", n, rep)
		}
	}
	wrongPW := startSASLBroker(t, dir, func(c *testbroker.SASLConfig) { c.Users["alice"] = "another-password" })
	otherAud := startSASLBroker(t, dir, func(c *testbroker.SASLConfig) { c.OAuth.Audience = "other-audience" })
	oauthOnly := startSASLBroker(t, dir, func(c *testbroker.SASLConfig) { c.Mechanisms = []string{"OAUTHBEARER"} })
	// dave: bob's directory with a token that expired an hour ago.
	dave := identity.Dir(dir, "dave")
	if err := os.CopyFS(dave, os.DirFS(identity.Dir(dir, "bob"))); err != nil {
		t.Fatal(err)
	}
	iss, err := sasl.OpenIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := iss.Mint("dave", sasl.TokenOptions{TTL: time.Minute, Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dave, sasl.TokenFile), []byte(expired.JWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// withToken copies bob's directory as NAME with another token in it.
	withToken := func(name string, mint func() (*sasl.Token, error)) {
		t.Helper()
		d := identity.Dir(dir, name)
		if err := os.CopyFS(d, os.DirFS(identity.Dir(dir, "bob"))); err != nil {
			t.Fatal(err)
		}
		tok, err := mint()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, sasl.TokenFile), []byte(tok.JWT+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withToken("future", func() (*sasl.Token, error) {
		return iss.Mint("future", sasl.TokenOptions{Now: time.Now().Add(time.Hour)})
	})
	withToken("otheraud", func() (*sasl.Token, error) {
		return iss.WithAudience("elsewhere").Mint("otheraud", sasl.TokenOptions{})
	})
	withToken("foreign", func() (*sasl.Token, error) {
		other, err := sasl.InitIssuer(t.TempDir(), sasl.IssuerOptions{})
		if err != nil {
			return nil, err
		}
		return other.Mint("foreign", sasl.TokenOptions{})
	})
	for _, tc := range []struct {
		name, bootstrap, client string
		step, msg, fix          string
	}{
		{"scram credential differs on the broker", wrongPW.SASLAddr(), "alice", "SASL SCRAM-SHA-512", `has no SCRAM-SHA-512 credential for "alice", or one with another password`, "scram.sh alter"},
		{"broker expects another audience", otherAud.SASLAddr(), "bob", "SASL OAUTHBEARER", "the broker refused the token", "expected.issuer/expected.audience"},
		{"mechanism not enabled", oauthOnly.SASLAddr(), "alice", "SASL SCRAM-SHA-512", "does not enable SCRAM-SHA-512", "sasl.enabled.mechanisms"},
		{"expired token file", b.SASLAddr(), "dave", "token", "the token expired at", "kafkatls token dave"},
		{"token from the future: clock skew", b.SASLAddr(), "future", "token", "clock skew between the issuer and here", "synchronize the clocks"},
		{"token for another audience", b.SASLAddr(), "otheraud", "token", `the token's aud is ["elsewhere"], but the brokers kafkatls configured expect "kafka"`, "kafkatls token otheraud"},
		{"token signed by another issuer's key", b.SASLAddr(), "foreign", "token", "another issuer's key, or one rotated out", "kafkatls token foreign"},
		{"the mTLS listener dialled", b.Addr(), "alice", "SASL SCRAM-SHA-512", "it is an SSL (mutual TLS) listener, not SASL_SSL", "SASL_SSL port"},
		{"unreachable", "127.0.0.1:1", "alice", "connect", "cannot connect", "listeners"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := remote(t, RemoteOptions{Bootstrap: tc.bootstrap, ServerName: "localhost", ClientDir: identity.Dir(dir, tc.client)})
			f := failing(rep)
			if rep.Passed || f == nil || f.Step != tc.step || !strings.Contains(f.Message, tc.msg) || !strings.Contains(f.Fix, tc.fix) {
				t.Fatalf("passed=%v failing=%+v\nall: %+v", rep.Passed, f, rep.Findings)
			}
		})
	}
}

func TestBundleSASLIdentities(t *testing.T) {
	dir := newSASLBundle(t)
	run := func(t *testing.T) map[string]Check {
		t.Helper()
		rep, err := Bundle(context.Background(), Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Check{}
		for _, c := range rep.Checks {
			if strings.HasPrefix(c.Store, "SASL ") || c.Role == "probe" {
				out[c.Identity] = c
			}
		}
		return out
	}
	got := run(t)
	for _, tc := range []struct {
		name, identity, result, want string
	}{
		{"scram identity logs in with its password file", "alice", "accepted", "User:alice"},
		{"oauthbearer identity logs in with its token file", "bob", "accepted", "User:bob"},
		{"wrong SCRAM password refused", "wrong SCRAM password", "refused", `wrong password for user "alice"`},
		{"expired token refused", "expired token", "refused", "the token expired at"},
		{"token signed by another key refused", "token signed by another key", "refused", "which is not in the JWKS"},
		{"wrong audience refused", "wrong audience", "refused", `does not include the "kafka" the broker expects`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := got[tc.identity]
			if !ok {
				t.Fatalf("no SASL check for %s; have %v", tc.identity, got)
			}
			detail := c.Principal
			if c.Result == "refused" {
				detail = c.Diagnosis
			}
			if !c.OK || c.Result != tc.result || !strings.Contains(detail, tc.want) {
				t.Fatalf("check %+v: want %s with %q", c, tc.result, tc.want)
			}
		})
	}
	t.Run("an expired token file is diagnosed", func(t *testing.T) {
		iss, err := sasl.OpenIssuer(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := identity.WriteToken(dir, "bob", iss, sasl.TokenOptions{TTL: time.Minute, Now: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		c := run(t)["bob"]
		if c.OK || c.Result != "refused" || !strings.Contains(c.Diagnosis, "the token expired at") || !strings.Contains(c.Diagnosis, "kafkatls token") {
			t.Fatalf("check %+v: want a failed check saying the token expired", c)
		}
	})
}
