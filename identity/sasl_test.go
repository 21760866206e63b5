package identity_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

func saslPKI(t *testing.T) (*pki.Tx, *sasl.Issuer) {
	t.Helper()
	dir := t.TempDir()
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := sasl.InitIssuer(dir, sasl.IssuerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &pki.Tx{Dir: p.Dir, PKI: p, Index: &pki.Index{}}, iss
}

// A SASL client: principal.txt, the index record and the result hold its
// SASL principal; its secrets are 0600; Files lists what issue writes;
// client.properties logs in on the SASL_SSL listener; a renewal keeps all
// of it.
func TestIssueSASLClient(t *testing.T) {
	tx, iss := saslPKI(t)
	for _, tc := range []struct {
		auth   sasl.Auth
		secret string
	}{
		{sasl.ScramSHA512, sasl.ScramPasswordFile},
		{sasl.ScramSHA256, sasl.ScramPasswordFile},
		{sasl.OAuthBearer, sasl.TokenFile},
	} {
		t.Run(string(tc.auth), func(t *testing.T) {
			name := "app-" + string(tc.auth)
			o := identity.Options{Config: identity.Config{Bootstrap: "kafka-1:9095"}, SASL: identity.SASLOptions{Auth: tc.auth, Issuer: iss}}
			want, err := identity.Files(name, pki.RoleClient, "", o)
			if err != nil {
				t.Fatal(err)
			}
			res, err := identity.Issue(tx, pki.CertRequest{Name: name, Role: pki.RoleClient, Days: 30}, pki.KeySpec{Type: pki.ECDSA}, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Files, want) {
				t.Errorf("issue wrote %v\nFiles says %v", res.Files, want)
			}
			if res.Principal != "User:"+name || res.Auth != string(tc.auth) {
				t.Errorf("result principal %q auth %q", res.Principal, res.Auth)
			}
			rec, _ := tx.Index.Current(name)
			if rec.Principal != "User:"+name || rec.Auth != string(tc.auth) {
				t.Errorf("index record principal %q auth %q", rec.Principal, rec.Auth)
			}
			if b, _ := os.ReadFile(filepath.Join(res.Dir, identity.PrincipalFile)); string(b) != "User:"+name+"\n" {
				t.Errorf("principal.txt %q", b)
			}
			fi, err := os.Stat(filepath.Join(res.Dir, tc.secret))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v mode %v, want 0600", tc.secret, err, fi.Mode().Perm())
			}
			cp, _ := os.ReadFile(filepath.Join(res.Dir, "client.properties"))
			props := templates.ParseProperties(cp)
			if props["security.protocol"] != "SASL_SSL" || props["sasl.mechanism"] != tc.auth.Spec().Mechanism {
				t.Errorf("client.properties: security.protocol %q sasl.mechanism %q", props["security.protocol"], props["sasl.mechanism"])
			}
			if tc.auth.Spec().Scram {
				pw, _ := os.ReadFile(filepath.Join(res.Dir, sasl.ScramPasswordFile))
				if !strings.Contains(props["sasl.jaas.config"], `password="`+strings.TrimSpace(string(pw))+`"`) {
					t.Errorf("sasl.jaas.config %q does not carry the password file's password", props["sasl.jaas.config"])
				}
			} else if u := props["sasl.oauthbearer.token.endpoint.url"]; u != "file:"+filepath.ToSlash(filepath.Join(res.Dir, sasl.TokenFile)) && !strings.HasSuffix(u, "/"+name+"/"+sasl.TokenFile) {
				t.Errorf("token endpoint %q", u)
			}

			// Renewal keeps the SASL principal, the secret and the configs.
			before, _ := os.ReadFile(filepath.Join(res.Dir, tc.secret))
			cert, err := identity.LoadCert(res.Dir)
			if err != nil {
				t.Fatal(err)
			}
			key, err := identity.LoadKey(res.Dir)
			if err != nil {
				t.Fatal(err)
			}
			newCert, err := tx.Sign(pki.CertRequest{Name: name, Role: pki.RoleClient, RawSubject: cert.RawSubject, Days: 30, Key: key}, key.Public())
			if err != nil {
				t.Fatal(err)
			}
			re, err := identity.Reissue(res.Dir, identity.Material{Name: name, Role: pki.RoleClient, Key: key, Cert: newCert, CAChain: tx.PKI.Chain(), Trust: identity.TrustSet(tx.PKI)})
			if err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(filepath.Join(res.Dir, tc.secret))
			if re.Principal != "User:"+name || re.Auth != string(tc.auth) || string(after) != string(before) {
				t.Errorf("after renewal: principal %q auth %q, secret kept %v", re.Principal, re.Auth, string(after) == string(before))
			}
			if id, err := identity.Load(res.Dir, ""); err != nil || id.Auth != tc.auth || id.Principal != "User:"+name {
				t.Errorf("Load: %+v %v", id, err)
			}
		})
	}
}

func TestIssueSASLRefusals(t *testing.T) {
	tx, _ := saslPKI(t)
	for _, tc := range []struct {
		name string
		role pki.Role
		o    identity.SASLOptions
		is   error
	}{
		{"oauth-client-without-issuer", pki.RoleClient, identity.SASLOptions{Auth: sasl.OAuthBearer}, identity.ErrNeedsIssuer},
		{"oauth-broker-without-issuer", pki.RoleBroker, identity.SASLOptions{Mechanisms: []sasl.Auth{sasl.OAuthBearer}}, identity.ErrNeedsIssuer},
		{"scram-broker", pki.RoleBroker, identity.SASLOptions{Auth: sasl.ScramSHA512}, nil},
		{"bad-scram-password", pki.RoleClient, identity.SASLOptions{Auth: sasl.ScramSHA512, ScramPassword: "has,comma1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identity.Issue(tx, pki.CertRequest{Name: tc.name, Role: tc.role, SANs: pki.DefaultServerSANs(tc.name), Days: 30},
				pki.KeySpec{Type: pki.ECDSA}, identity.Options{SASL: tc.o})
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("Issue: %v, want an error (%v)", err, tc.is)
			}
			if _, err := os.Stat(identity.Dir(tx.Dir, tc.name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused identity left its directory: %v", err)
			}
			for _, r := range tx.Index.Records {
				if r.Name == tc.name {
					t.Errorf("refused before signing, yet the index has %s (%s)", r.Name, r.Status)
				}
			}
		})
	}
}

// WriteToken replaces an OAUTHBEARER identity's token, 0600, and refuses
// any other identity.
func TestWriteToken(t *testing.T) {
	tx, iss := saslPKI(t)
	for _, a := range []sasl.Auth{sasl.OAuthBearer, sasl.ScramSHA512} {
		if _, err := identity.Issue(tx, pki.CertRequest{Name: string(a), Role: pki.RoleClient, Days: 30}, pki.KeySpec{Type: pki.ECDSA},
			identity.Options{SASL: identity.SASLOptions{Auth: a, Issuer: iss}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(identity.Dir(tx.Dir, "oauthbearer"), sasl.TokenFile)
	before, _ := os.ReadFile(path)
	tok, got, err := identity.WriteToken(tx.Dir, "oauthbearer", iss, sasl.TokenOptions{Scope: []string{"s"}})
	if err != nil || got != path || tok.Subject != "oauthbearer" {
		t.Fatalf("WriteToken: %v %q %+v", err, got, tok)
	}
	after, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(after) == string(before) || strings.TrimSpace(string(after)) != tok.JWT || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file not replaced with the new token at 0600 (mode %v)", fi.Mode().Perm())
	}
	if _, _, err := identity.WriteToken(tx.Dir, "scram-sha-512", iss, sasl.TokenOptions{}); !errors.Is(err, identity.ErrNotOAuth) {
		t.Errorf("token for a SCRAM identity: %v", err)
	}
	if _, _, err := identity.WriteToken(tx.Dir, "nobody", iss, sasl.TokenOptions{}); !errors.Is(err, identity.ErrNotIssued) {
		t.Errorf("token for a missing identity: %v", err)
	}
}

// An OAUTHBEARER client of an external IdP: no token, its client id and
// secret in its directory (secret 0600, nowhere else but the 0600 configs),
// the principal its sub claim yields, the token endpoint and the IdP's
// trust in client.properties; a renewal keeps all of it.
func TestIssueIdPClient(t *testing.T) {
	for _, tc := range []struct{ claim, want string }{
		{sasl.ClaimAzp, "User:Orders-App"},
		{sasl.ClaimPreferredUsername, "User:service-account-orders-app"},
	} {
		t.Run(tc.claim, func(t *testing.T) {
			tx, _ := saslPKI(t)
			idp := &sasl.IdP{Issuer: "https://kc.example.com/realms/kafka", TokenURL: "https://kc.example.com/realms/kafka/protocol/openid-connect/token",
				JWKSURL: "https://kc.example.com/realms/kafka/protocol/openid-connect/certs", Audience: "kafka", SubClaim: tc.claim}
			secret := `s"e\cret=1`
			o := identity.Options{Config: identity.Config{Bootstrap: "kafka-1:9095"}, SASL: identity.SASLOptions{Auth: sasl.OAuthBearer, IdP: idp,
				Client: sasl.ClientCredentials{ID: "Orders-App", Secret: secret}}}
			name := "orders"
			want, err := identity.Files(name, pki.RoleClient, "", o)
			if err != nil {
				t.Fatal(err)
			}
			res, err := identity.Issue(tx, pki.CertRequest{Name: name, Role: pki.RoleClient, Days: 30}, pki.KeySpec{Type: pki.ECDSA}, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Files, want) {
				t.Errorf("issue wrote %v\nFiles says %v", res.Files, want)
			}
			if res.Principal != tc.want {
				t.Errorf("principal %q, want %q", res.Principal, tc.want)
			}
			// What acls and renewals read back: the recorded principal, not User:NAME.
			if got, err := identity.DirSASLPrincipal(res.Dir, sasl.OAuthBearer, name); err != nil || got != tc.want {
				t.Errorf("DirSASLPrincipal = %q, %v; want %q", got, err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(res.Dir, sasl.TokenFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an external-IdP client has a %s: %v", sasl.TokenFile, err)
			}
			fi, err := os.Stat(filepath.Join(res.Dir, sasl.ClientSecretFile))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v, want mode 0600", sasl.ClientSecretFile, err)
			}
			if b, _ := os.ReadFile(filepath.Join(res.Dir, sasl.ClientSecretFile)); string(b) != secret+"\n" {
				t.Errorf("client-secret.txt %q", b)
			}
			entries, _ := os.ReadDir(res.Dir)
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(res.Dir, e.Name()))
				fi, _ := e.Info()
				if strings.Contains(string(b), "e\\cret=1") || strings.Contains(string(b), `e\\\\cret=1`) {
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("%s holds the client secret and is mode %v", e.Name(), fi.Mode().Perm())
					}
				}
			}
			cp, _ := os.ReadFile(filepath.Join(res.Dir, "client.properties"))
			props := templates.ParseProperties(cp)
			if props["sasl.oauthbearer.token.endpoint.url"] != idp.TokenURL {
				t.Errorf("token endpoint %q", props["sasl.oauthbearer.token.endpoint.url"])
			}
			jaas, _ := sasl.IdPClientJAAS(o.SASL.Client, filepath.ToSlash(filepath.Join(res.Dir, identity.CAPEM)))
			if props["sasl.jaas.config"] != jaas {
				t.Errorf("sasl.jaas.config %q\nwant %q", props["sasl.jaas.config"], jaas)
			}
			if !strings.Contains(string(cp), "allowed.urls="+idp.TokenURL+"'") {
				t.Errorf("client.properties names no allow-list of exactly the token URL")
			}

			// Renewal (truststore refresh path) keeps the principal and secret.
			cert, _ := identity.LoadCert(res.Dir)
			key, _ := identity.LoadKey(res.Dir)
			newCert, err := tx.Sign(pki.CertRequest{Name: name, Role: pki.RoleClient, RawSubject: cert.RawSubject, Days: 30, Key: key}, key.Public())
			if err != nil {
				t.Fatal(err)
			}
			re, err := identity.Reissue(res.Dir, identity.Material{Name: name, Role: pki.RoleClient, Key: key, Cert: newCert, CAChain: tx.PKI.Chain(), Trust: identity.TrustSet(tx.PKI)})
			if err != nil {
				t.Fatal(err)
			}
			if re.Principal != tc.want {
				t.Errorf("after renewal: principal %q, want %q", re.Principal, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(res.Dir, sasl.ClientSecretFile)); string(b) != secret+"\n" {
				t.Errorf("after renewal: client-secret.txt %q", b)
			}
		})
	}
	t.Run("no secret", func(t *testing.T) {
		tx, _ := saslPKI(t)
		idp := &sasl.IdP{SubClaim: sasl.ClaimAzp}
		_, err := identity.Issue(tx, pki.CertRequest{Name: "x", Role: pki.RoleClient, Days: 30}, pki.KeySpec{Type: pki.ECDSA},
			identity.Options{SASL: identity.SASLOptions{Auth: sasl.OAuthBearer, IdP: idp, Client: sasl.ClientCredentials{ID: "x"}}})
		if !errors.Is(err, identity.ErrNeedsClient) {
			t.Fatalf("err %v, want ErrNeedsClient", err)
		}
		if _, err := os.Stat(identity.Dir(tx.Dir, "x")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused issue left a directory: %v", err)
		}
	})
}
