package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/testbroker"
)

// fakeIdP is an HTTPS identity provider with a token endpoint (the
// client-credentials grant as Keycloak answers it, client id and secret
// in a Basic Authorization header as Kafka sends them) and a JWKS.
type fakeIdP struct {
	srv    *httptest.Server
	issuer string
	key    jose.JSONWebKey // in the JWKS
	other  jose.JSONWebKey // not in it
	// clients: client id -> secret and the claims its tokens carry.
	clients map[string]fakeClient
}

type fakeClient struct {
	secret  string
	foreign bool // signed with the key that is not in the JWKS
	claims  func(now time.Time) map[string]any
}

func newKey(t *testing.T, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
}

func startIdP(t *testing.T) *fakeIdP {
	t.Helper()
	f := &fakeIdP{key: newKey(t, "realm-key"), other: newKey(t, "other-key"), clients: map[string]fakeClient{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, secret, ok := r.BasicAuth()
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Has("client_secret") || r.PostForm.Has("scope") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_request","error_description":"not as Kafka sends it"}`))
			return
		}
		c, known := f.clients[id]
		if !ok || !known || c.secret != secret {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`))
			return
		}
		key := f.key
		if c.foreign {
			key = f.other
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.KeyID))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		tok, err := jwt.Signed(signer).Claims(c.claims(time.Now())).Serialize()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
	})
	mux.HandleFunc("GET /certs", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{f.key.Public()}})
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + "/realms/kafka"
	return f
}

// settings are the idp.json oauth init would write for f.
func (f *fakeIdP) settings() sasl.IdP {
	return sasl.IdP{Issuer: f.issuer, TokenURL: f.srv.URL + "/token", JWKSURL: f.srv.URL + "/certs", Audience: "kafka", SubClaim: sasl.ClaimAzp}
}

// claims are a Keycloak service account's: sub a UUID, azp the client id.
func (f *fakeIdP) claims(azp string, mod func(now time.Time, c map[string]any)) func(time.Time) map[string]any {
	return func(now time.Time) map[string]any {
		c := map[string]any{"iss": f.issuer, "aud": []string{"kafka", "account"}, "sub": azp, "azp": azp,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "preferred_username": "service-account-" + azp}
		if mod != nil {
			mod(now, c)
		}
		return c
	}
}

// An external-IdP client (client-id.txt, client-secret.txt): verify
// --bootstrap gets its token from the IdP as Kafka would, checks it
// (trust, client credentials, time, iss, aud, sub claim, principal,
// signature against the JWKS) and logs in with it; each failure is named.
func TestRemoteSASLExternalIdP(t *testing.T) {
	idp := startIdP(t)
	dir := newSASLBundle(t)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.srv.Certificate().Raw})
	setIdP := func(p sasl.IdP, ca []byte) {
		t.Helper()
		if _, err := sasl.InitIdP(dir, p, ca, true); err != nil {
			t.Fatal(err)
		}
	}
	const secret = `s3cr"et\=`
	// client copies bob's directory as an IdP client NAME with secret.
	client := func(name, secret string, c fakeClient) {
		t.Helper()
		d := identity.Dir(dir, name)
		if err := os.CopyFS(d, os.DirFS(identity.Dir(dir, "bob"))); err != nil {
			t.Fatal(err)
		}
		for f, v := range map[string]string{identity.ClientIDFile: name, sasl.ClientSecretFile: secret, identity.PrincipalFile: "User:" + name} {
			if err := os.WriteFile(filepath.Join(d, f), []byte(v+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		idp.clients[name] = c
	}
	client("orders", secret, fakeClient{secret: secret, claims: idp.claims("orders", nil)})
	client("wrongsecret", "not-the-secret", fakeClient{secret: secret, claims: idp.claims("wrongsecret", nil)})
	client("noazp", secret, fakeClient{secret: secret, claims: idp.claims("noazp", func(_ time.Time, c map[string]any) { delete(c, "azp") })})
	client("otheriss", secret, fakeClient{secret: secret, claims: idp.claims("otheriss", func(_ time.Time, c map[string]any) { c["iss"] = "https://elsewhere/realms/x" })})
	client("otheraud", secret, fakeClient{secret: secret, claims: idp.claims("otheraud", func(_ time.Time, c map[string]any) { c["aud"] = "account" })})
	client("renamed", secret, fakeClient{secret: secret, claims: idp.claims("Renamed-App", nil)})
	client("expired", secret, fakeClient{secret: secret, claims: idp.claims("expired", func(now time.Time, c map[string]any) {
		c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	})})
	client("future", secret, fakeClient{secret: secret, claims: idp.claims("future", func(now time.Time, c map[string]any) {
		c["iat"], c["nbf"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(time.Hour).Unix(), now.Add(2*time.Hour).Unix()
	})})
	client("foreign", secret, fakeClient{secret: secret, foreign: true, claims: idp.claims("foreign", nil)})

	// The test broker validates as a broker configured for the IdP would
	// (principal from sub, which the fake IdP sets to the client id).
	realm := &testbroker.OAuthConfig{JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{idp.key.Public()}}, Issuer: idp.issuer, Audience: "kafka"}
	b := startSASLBroker(t, dir, func(c *testbroker.SASLConfig) { c.OAuth = realm })
	stale := startSASLBroker(t, dir, func(c *testbroker.SASLConfig) {
		c.OAuth = &testbroker.OAuthConfig{JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{idp.other.Public()}}, Issuer: idp.issuer, Audience: "kafka"}
	})

	good := idp.settings()
	unreachable := good
	unreachable.TokenURL = "https://127.0.0.1:1/token"
	for _, tc := range []struct {
		name, client, bootstrap string
		idp                     sasl.IdP
		ca                      []byte // nil: the PKI's CA (each identity's ca.crt)
		step, msg, fix          string // step "": passes
	}{
		{name: "passes", client: "orders", idp: good, ca: caPEM},
		{"token endpoint unreachable", "orders", "", unreachable, caPEM, "token endpoint", "cannot reach the identity provider at https://127.0.0.1:1/token", "IdP is running"},
		{"IdP certificate not from the trusted CA", "orders", "", good, nil, "token endpoint", "is not trusted with " + filepath.Join(identity.Dir(dir, "orders"), identity.CAPEM), "must chain to a CA in"},
		{"wrong client secret", "wrongsecret", "", good, caPEM, "token endpoint", `refused client "wrongsecret"`, "--client-secret-file FILE --force"},
		{"token without the sub claim", "noazp", "", good, caPEM, "token", "the token has no azp claim", "--sub-claim"},
		{"another issuer", "otheriss", "", good, caPEM, "token", `the token's iss is "https://elsewhere/realms/x", but idp.json (the brokers' expected.issuer) expects "` + idp.issuer + `"`, "oauth init --issuer"},
		{"another audience", "otheraud", "", good, caPEM, "token", `the token's aud is ["account"], but idp.json (the brokers' expected.audience) expects "kafka"`, "audience mapper"},
		{"principal differs from principal.txt", "renamed", "", good, caPEM, "token", `the token's azp is "Renamed-App", so the broker sees User:Renamed-App, but principal.txt says User:renamed`, "grant the ACLs to User:Renamed-App"},
		{"expired as issued", "expired", "", good, caPEM, "token", "the token expired at", "synchronize the clocks"},
		{"clock skew", "future", "", good, caPEM, "token", "clock skew between the issuer and here", "synchronize the clocks"},
		{"signed by a key not in the JWKS", "foreign", "", good, caPEM, "token", `signed by key "other-key", which is not in the JWKS at ` + good.JWKSURL, "same realm"},
		{"broker validates against other keys", "orders", stale.SASLAddr(), good, caPEM, "SASL OAUTHBEARER", "the broker refused the identity provider's token", "jwks.endpoint.url=" + good.JWKSURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setIdP(tc.idp, tc.ca)
			bs := tc.bootstrap
			if bs == "" {
				bs = b.SASLAddr()
			}
			rep := remote(t, RemoteOptions{Bootstrap: bs, ServerName: "localhost", ClientDir: identity.Dir(dir, tc.client)})
			out, _ := json.Marshal(rep)
			if strings.Contains(string(out), secret) || strings.Contains(string(out), "not-the-secret") {
				t.Fatalf("the client secret is in the report: %s", out)
			}
			f := failing(rep)
			if tc.step == "" {
				if !rep.Passed || rep.Principal != "User:"+tc.client {
					t.Fatalf("want a pass as User:%s: %+v", tc.client, rep)
				}
				return
			}
			if rep.Passed || f == nil || f.Step != tc.step || !strings.Contains(f.Message, tc.msg) || !strings.Contains(f.Fix, tc.fix) {
				t.Fatalf("passed=%v failing=%+v\nall: %+v", rep.Passed, f, rep.Findings)
			}
		})
	}
}
