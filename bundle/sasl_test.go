package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

func saslSpec() *Spec {
	return &Spec{
		CA:      CASpec{CN: "Test CA", KeyType: "ecdsa"},
		SASL:    SASLSpec{Mechanisms: []string{"scram-sha-512", "oauthbearer"}, Port: 9096},
		Brokers: []Node{{Name: "kafka-1"}},
		Clients: []Client{
			{Name: "alice", Auth: "scram-sha-512", Grants: []kafkaacl.Grant{{Topic: "orders", Producer: true}}},
			{Name: "bob", Auth: "oauthbearer", Grants: []kafkaacl.Grant{{Topic: "orders", Consumer: true, Group: "g"}}},
			{Name: "carol"},
		},
		Defaults: Defaults{Formats: []string{"p12", "pem"}},
	}
}

func props(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return templates.ParseProperties(b)
}

func TestBundleSASL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s := saslSpec()
	if _, err := Run(t.Context(), s, Options{Dir: dir}); !errors.Is(err, identity.ErrNeedsIssuer) {
		t.Fatalf("OAUTHBEARER without a token issuer: %v, want ErrNeedsIssuer", err)
	}
	if _, err := sasl.InitIssuer(dir, sasl.IssuerOptions{}); err != nil {
		t.Fatal(err)
	}
	before := hashTree(t, dir)
	dry := run(t, dir, s, func(o *Options) { o.DryRun = true })
	run(t, dir, s, nil)
	tree := hashTree(t, dir)
	var written []string
	for f := range tree {
		if _, ok := before[f]; !ok {
			written = append(written, f)
		}
	}
	slices.Sort(written)
	if got := previewedFiles(dry.Plan.Preview); !reflect.DeepEqual(got, written) {
		t.Errorf("dry-run preview:\n %v\nthe run wrote:\n %v", got, written)
	}

	// The broker: a SASL_SSL listener on sasl.port with both mechanisms.
	bp := props(t, filepath.Join(dir, "certs/kafka-1/server.properties"))
	if bp["listener.name.sasl_ssl.sasl.enabled.mechanisms"] != "SCRAM-SHA-512,OAUTHBEARER" ||
		bp["advertised.listeners"] != "SSL://kafka-1:9093,SASL_SSL://kafka-1:9096" ||
		!strings.HasSuffix(bp["listener.name.sasl_ssl.sasl.oauthbearer.jwks.endpoint.url"], "/"+sasl.OAuthDir+"/"+sasl.JWKSFile) {
		t.Errorf("broker SASL settings: %v", bp)
	}
	// SASL clients bootstrap on the SASL_SSL listener, mTLS ones on SSL.
	for name, want := range map[string]string{"alice": "kafka-1:9096", "bob": "kafka-1:9096", "carol": "kafka-1:9093"} {
		if got := props(t, filepath.Join(dir, "certs", name, "client.properties"))["bootstrap.servers"]; got != want {
			t.Errorf("%s: bootstrap.servers %q, want %q", name, got, want)
		}
	}
	// Principals: acls.sh grants the SASL principals.
	acls, _ := os.ReadFile(filepath.Join(dir, ACLScript))
	for _, p := range []string{"--allow-principal User:alice", "--allow-principal User:bob"} {
		if !strings.Contains(string(acls), p) {
			t.Errorf("acls.sh lacks %q", p)
		}
	}
	// scram.sh: alice only, her password file, no password.
	script, err := os.ReadFile(filepath.Join(dir, ScramScript))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "certs/alice", sasl.ScramPasswordFile))
	if !strings.Contains(string(script), "alter SCRAM-SHA-512 'alice'") || strings.Contains(string(script), "'bob'") ||
		strings.Contains(string(script), strings.TrimSpace(string(pw))) {
		t.Errorf("scram.sh:\n%s", script)
	}

	// Kubernetes Secrets carry the SASL secrets too.
	run(t, dir, s, func(o *Options) { o.Export = []string{"k8s"} })
	for name, key := range map[string]string{"alice": sasl.ScramPasswordFile, "bob": sasl.TokenFile} {
		b, err := os.ReadFile(filepath.Join(dir, k8sFile(name)))
		if err != nil || !strings.Contains(string(b), "\n  "+key+": ") {
			t.Errorf("%s's Secret has no %s: %v\n%s", name, key, err, b)
		}
	}
	tree = hashTree(t, dir)

	// A re-run changes nothing: the SCRAM password and the token are kept.
	run(t, dir, s, func(o *Options) { o.Export = []string{"k8s"} })
	if d := diffTree(tree, hashTree(t, dir)); len(d) > 0 {
		t.Errorf("a re-run changed %v", d)
	}

	// alice moves to mutual TLS: her identity is rewritten, her principal is her certificate's.
	s.Clients[0].Auth = ""
	res := run(t, dir, s, nil)
	var reason string
	for _, st := range res.Plan.Steps {
		if st.Name == "alice" {
			reason = st.Reason
		}
	}
	if !strings.Contains(reason, "auth scram-sha-512 → mtls") {
		t.Errorf("alice's step reason %q", reason)
	}
	if p, _ := os.ReadFile(filepath.Join(dir, "certs/alice", identity.PrincipalFile)); string(p) != "User:CN=alice\n" {
		t.Errorf("alice's principal after moving to mTLS: %q", p)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs/alice", sasl.ScramPasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("alice on mTLS kept her SCRAM password file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ScramScript)); strings.Contains(string(b), "alice") || !strings.Contains(string(b), "no SCRAM identities") {
		t.Errorf("scram.sh with no SCRAM client left:\n%s", b)
	}
}

func TestBadSASLSpecs(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		mod        func(s *Spec)
	}{
		{"unknown mechanism", "sasl.mechanisms", func(s *Spec) { s.SASL.Mechanisms = []string{"plain"} }},
		{"mtls as a mechanism", "not a SASL mechanism", func(s *Spec) { s.SASL.Mechanisms = []string{"mtls"} }},
		{"auth not enabled", `client "bob": auth oauthbearer, but sasl.mechanisms`, func(s *Spec) { s.SASL.Mechanisms = []string{"scram-sha-512"} }},
		{"unknown auth", `client "carol": auth`, func(s *Spec) { s.Clients[2].Auth = "kerberos" }},
		{"scram password for oauth", "scramPassword is for", func(s *Spec) { s.Clients[1].ScramPassword = Password{File: "x"} }},
		{"port clash", "also the SASL_SSL listener's", func(s *Spec) { s.Brokers[0].Port = 9096 }},
		{"no brokers", "the spec lists none", func(s *Spec) { s.Brokers = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := saslSpec()
			tc.mod(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

// A PKI directory with an external IdP: bundle refuses OAUTHBEARER
// identities rather than minting local tokens the brokers would not accept.
func TestBundleSASLRefusesExternalIdP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sasl.InitIssuer(dir, sasl.IssuerOptions{}); err != nil {
		t.Fatal(err)
	}
	iss := "https://kc.example.com/realms/kafka"
	if _, err := sasl.InitIdP(dir, sasl.IdP{Issuer: iss, TokenURL: iss + "/token", JWKSURL: iss + "/certs", Audience: "kafka", SubClaim: sasl.ClaimAzp}, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(t.Context(), saslSpec(), Options{Dir: dir}); !errors.Is(err, ErrIdPNotInBundle) {
		t.Fatalf("bundle with an external IdP: %v, want ErrIdPNotInBundle", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs", "bob")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused bundle wrote bob: %v", err)
	}
}

// TestBundleInitIssuer: with Options.InitIssuer a bundle whose clients use
// OAUTHBEARER creates the local token issuer when the directory has none;
// a dry run writes nothing and lists its files; the token the run minted
// verifies against the JWKS the brokers read; a second run keeps it.
func TestBundleInitIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s := saslSpec()
	init := func(o *Options) { o.InitIssuer = true }
	dry := run(t, dir, s, func(o *Options) { init(o); o.DryRun = true })
	if !dry.Plan.CreateIssuer || !slices.Contains(dry.Plan.Preview.Files, "oauth/jwks.json") {
		t.Fatalf("dry run: createIssuer %v, files %v", dry.Plan.CreateIssuer, dry.Plan.Preview.Files)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dry run wrote %s: %v", dir, err)
	}
	res := run(t, dir, s, init)
	if !res.Plan.CreateIssuer {
		t.Error("the run does not report the issuer it created")
	}
	iss, err := sasl.OpenIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := props(t, filepath.Join(dir, "certs/kafka-1/server.properties"))
	jwks, _ := sasl.FileURL(iss.JWKSPath())
	if got := p["listener.name.sasl_ssl.sasl.oauthbearer.jwks.endpoint.url"]; got != jwks {
		t.Errorf("broker JWKS URL %q, want %q", got, jwks)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "certs/bob/token.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(strings.TrimSpace(string(tok)), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	set, err := iss.KeySet()
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %v: %v", set, err)
	}
	if _, err := jws.Verify(set.Keys[0]); err != nil {
		t.Errorf("bob's token does not verify against the created issuer's JWKS: %v", err)
	}
	again := run(t, dir, s, init)
	if again.Plan.CreateIssuer {
		t.Error("a second run created the issuer again")
	}
	if iss2, err := sasl.OpenIssuer(dir); err != nil || iss2.Settings.KeyID != iss.Settings.KeyID {
		t.Errorf("the issuer changed on the second run: %v", err)
	}
}
