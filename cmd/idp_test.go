package cmd

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

// The external-IdP flow through the CLI, against an HTTPS discovery
// endpoint whose certificate is not the PKI's (--idp-ca): oauth init reads
// the endpoints, issue records the client's secret (0600, never printed)
// and the principal its sub claim yields, the broker and client configs
// point at the IdP with its CA as the trust, and acls names that principal.
func TestOAuthInitExternalIdP(t *testing.T) {
	var issuer string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/realms/kafka"+sasl.DiscoveryPath {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"jwks_uri":%q}`, issuer, issuer+"/protocol/openid-connect/token", issuer+"/protocol/openid-connect/certs")
	}))
	defer srv.Close()
	issuer = srv.URL + "/realms/kafka"
	dir := newTestPKI(t)
	work := t.TempDir()
	caFile := filepath.Join(work, "idp-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(work, "secret")
	secret := `Sec"re\t=1`
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Without --idp-ca the PKI's CA does not trust the server: refused.
	if _, stderr, code := run(t, "--dir", dir, "oauth", "init", "--issuer", issuer, "--sub-claim", "azp"); code == 0 || !strings.Contains(stderr, "certificate") {
		t.Fatalf("discovery trusting the PKI's CA only: exit %d %s", code, stderr)
	}
	if _, stderr, code := run(t, "--dir", dir, "oauth", "init", "--issuer", issuer, "--sub-claim", "preferred_username", "--idp-ca", caFile); code != 0 {
		t.Fatalf("oauth init: exit %d %s", code, stderr)
	}
	if _, stderr, code := run(t, "--dir", dir, "oauth", "init", "--issuer", issuer, "--sub-claim", "azp", "--idp-ca", caFile); code != 2 {
		t.Fatalf("a second oauth init without --force: exit %d %s, want 2", code, stderr)
	}
	if _, stderr, code := run(t, "--dir", dir, "issue", "kafka-1", "--role", "broker", "--sasl", "oauthbearer"); code != 0 {
		t.Fatalf("issue broker: exit %d %s", code, stderr)
	}
	if _, _, code := run(t, "--dir", dir, "issue", "orders", "--auth", "oauthbearer", "--client-id", "Orders-App"); code != 2 {
		t.Fatalf("issue without --client-secret-file: exit %d, want 2", code)
	}
	stdout, stderr, code := run(t, "--dir", dir, "issue", "orders", "--auth", "oauthbearer", "--client-id", "Orders-App", "--client-secret-file", secretFile)
	if code != 0 {
		t.Fatalf("issue client: exit %d %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "re\\t=1") {
		t.Errorf("issue printed the client secret:\n%s%s", stdout, stderr)
	}
	cdir := filepath.Join(dir, "certs", "orders")
	if b, _ := os.ReadFile(filepath.Join(cdir, "principal.txt")); string(b) != "User:service-account-orders-app\n" {
		t.Errorf("principal.txt %q, want Keycloak's lower-cased service-account user", b)
	}
	if fi, err := os.Stat(filepath.Join(cdir, sasl.ClientSecretFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("client-secret.txt: %v", err)
	}
	idpCA := filepath.Join(dir, "oauth", sasl.IdPCAFile)
	cp, _ := os.ReadFile(filepath.Join(cdir, "client.properties"))
	props := templates.ParseProperties(cp)
	if props["sasl.oauthbearer.token.endpoint.url"] != issuer+"/protocol/openid-connect/token" {
		t.Errorf("token endpoint %q", props["sasl.oauthbearer.token.endpoint.url"])
	}
	if j := props["sasl.jaas.config"]; !strings.Contains(j, `clientSecret="Sec\"re\\t=1"`) || !strings.Contains(j, `ssl.truststore.location="`+idpCA+`"`) {
		t.Errorf("sasl.jaas.config %q", j)
	}
	sp, _ := os.ReadFile(filepath.Join(dir, "certs", "kafka-1", "server.properties"))
	sprops := templates.ParseProperties(sp)
	for k, want := range map[string]string{
		"listener.name.sasl_ssl.sasl.oauthbearer.jwks.endpoint.url": issuer + "/protocol/openid-connect/certs",
		"listener.name.sasl_ssl.sasl.oauthbearer.expected.issuer":   issuer,
		"listener.name.sasl_ssl.sasl.oauthbearer.expected.audience": "kafka",
		"listener.name.sasl_ssl.sasl.oauthbearer.sub.claim.name":    "preferred_username",
	} {
		if sprops[k] != want {
			t.Errorf("%s=%q, want %q", k, sprops[k], want)
		}
	}
	if j := sprops["listener.name.sasl_ssl.oauthbearer.sasl.jaas.config"]; !strings.Contains(j, `ssl.truststore.location="`+idpCA+`"`) {
		t.Errorf("the broker's OAUTHBEARER JAAS does not trust the IdP's CA: %q", j)
	}
	if !strings.Contains(string(sp), "allowed.urls="+issuer+"/protocol/openid-connect/certs'") {
		t.Errorf("server.properties names no allow-list of exactly the JWKS URL")
	}
	if _, stderr, code := run(t, "--dir", dir, "token", "orders"); code != 2 || !strings.Contains(stderr, "identity provider") {
		t.Errorf("token for an IdP client: exit %d %s, want 2 naming the identity provider", code, stderr)
	}
	stdout, stderr, code = run(t, "--dir", dir, "acls", "orders", "--topic", "t", "--producer")
	if code != 0 || !strings.Contains(stdout, "--allow-principal User:service-account-orders-app ") {
		t.Errorf("acls orders: exit %d %s%s", code, stdout, stderr)
	}
}
