package sasl_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/sasl"
)

const kcIssuer = "https://kc.example.com:8443/realms/kafka"

func discoveryDoc(issuer string) string {
	return fmt.Sprintf(`{"issuer":%q,"token_endpoint":%q,"jwks_uri":%q,"grant_types_supported":["client_credentials"]}`,
		issuer, issuer+"/protocol/openid-connect/token", issuer+"/protocol/openid-connect/certs")
}

func TestParseDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string // want: "" ok, else a substring of the error
	}{
		{"keycloak", discoveryDoc(kcIssuer), ""},
		{"other issuer", discoveryDoc("https://evil.example.com/realms/kafka"), `names issuer "https://evil.example.com/realms/kafka"`},
		{"trailing slash differs", discoveryDoc(kcIssuer + "/"), "names issuer"},
		{"http token endpoint", `{"issuer":"` + kcIssuer + `","token_endpoint":"http://kc/t","jwks_uri":"https://kc/c"}`, "token_endpoint"},
		{"no jwks", `{"issuer":"` + kcIssuer + `","token_endpoint":"https://kc/t"}`, "jwks_uri"},
		{"not json", `<html>`, "not JSON"},
		{"too large", `{"issuer":"` + kcIssuer + `","x":"` + strings.Repeat("a", sasl.MaxDiscovery) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := sasl.ParseDiscovery(strings.NewReader(tc.doc), kcIssuer)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.JWKSURI != kcIssuer+"/protocol/openid-connect/certs" || d.TokenEndpoint != kcIssuer+"/protocol/openid-connect/token" {
					t.Errorf("got %+v", d)
				}
				return
			}
			var ie *sasl.IdPError
			if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want an IdPError with %q", err, tc.want)
			}
		})
	}
}

// Discover reads the document over HTTPS trusting only the given roots,
// and follows no redirect.
func TestDiscover(t *testing.T) {
	var issuer string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/realms/kafka" + sasl.DiscoveryPath:
			fmt.Fprint(w, discoveryDoc(issuer))
		case "/realms/moved" + sasl.DiscoveryPath:
			http.Redirect(w, r, "/realms/kafka"+sasl.DiscoveryPath, http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	issuer = srv.URL + "/realms/kafka"
	trusted := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ctx := context.Background()
	t.Run("trusted", func(t *testing.T) {
		d, err := sasl.Discover(ctx, issuer, trusted, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if d.JWKSURI != issuer+"/protocol/openid-connect/certs" {
			t.Errorf("jwks_uri %q", d.JWKSURI)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		_, err := sasl.Discover(ctx, issuer, nil, 10*time.Second) // nil: the system roots, which do not hold httptest's CA
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err %v, want a certificate error", err)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		_, err := sasl.Discover(ctx, srv.URL+"/realms/moved", trusted, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "302") {
			t.Fatalf("err %v, want HTTP 302", err)
		}
	})
	t.Run("http issuer", func(t *testing.T) {
		_, err := sasl.Discover(ctx, "http://kc.example.com/realms/kafka", trusted, 10*time.Second)
		var ie *sasl.IdPError
		if !errors.As(err, &ie) || ie.Field != "issuer" {
			t.Fatalf("err %v, want an IdPError on issuer", err)
		}
	})
}

func validIdP() sasl.IdP {
	return sasl.IdP{Issuer: kcIssuer, TokenURL: kcIssuer + "/protocol/openid-connect/token",
		JWKSURL: kcIssuer + "/protocol/openid-connect/certs", Audience: "kafka", SubClaim: sasl.ClaimAzp}
}

func TestIdPCheckAndPrincipal(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		mut         func(p *sasl.IdP)
	}{
		{"valid", "", func(*sasl.IdP) {}},
		{"sub is a UUID in Keycloak", "sub claim", func(p *sasl.IdP) { p.SubClaim = "sub" }},
		{"http jwks", "JWKS URL", func(p *sasl.IdP) { p.JWKSURL = "http://kc/certs" }},
		{"comma in token URL", "token URL", func(p *sasl.IdP) { p.TokenURL = "https://kc/t,https://evil/t" }},
		{"audience list", "audience", func(p *sasl.IdP) { p.Audience = "kafka,other" }},
		{"empty audience", "audience", func(p *sasl.IdP) { p.Audience = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validIdP()
			tc.mut(&p)
			err := p.Check()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ie *sasl.IdPError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("err %v, want an IdPError on %s", err, tc.field)
			}
		})
	}
	for _, tc := range []struct{ claim, id, want string }{
		{sasl.ClaimAzp, "Orders-App", "Orders-App"},
		{sasl.ClaimClientID, "orders-app", "orders-app"},
		// Keycloak lower-cases user names, the service account's too.
		{sasl.ClaimPreferredUsername, "Orders-App", "service-account-orders-app"},
	} {
		t.Run("principal/"+tc.claim, func(t *testing.T) {
			p := validIdP()
			p.SubClaim = tc.claim
			if got := p.Principal(tc.id); got != tc.want {
				t.Errorf("Principal(%q) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
}

func TestInitIdP(t *testing.T) {
	dir := t.TempDir()
	if _, err := sasl.OpenIdP(dir); !errors.Is(err, sasl.ErrNoIdP) {
		t.Fatalf("OpenIdP of an empty dir: %v, want ErrNoIdP", err)
	}
	p := validIdP()
	if _, err := sasl.InitIdP(dir, p, nil, false); err != nil {
		t.Fatal(err)
	}
	got, err := sasl.OpenIdP(dir)
	if err != nil {
		t.Fatal(err)
	}
	if *got != p {
		t.Errorf("OpenIdP = %+v, want %+v", *got, p)
	}
	p2 := p
	p2.SubClaim = sasl.ClaimPreferredUsername
	if _, err := sasl.InitIdP(dir, p2, nil, false); !errors.Is(err, sasl.ErrIssuerExists) {
		t.Fatalf("a second InitIdP without force: %v, want ErrIssuerExists", err)
	}
	if got, _ := sasl.OpenIdP(dir); got.SubClaim != sasl.ClaimAzp {
		t.Fatalf("the refused InitIdP changed idp.json: %+v", got)
	}
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	saved, err := sasl.InitIdP(dir, p2, ca, true)
	if err != nil {
		t.Fatal(err)
	}
	if saved.CAFile != filepath.Join(sasl.IssuerDir(dir), sasl.IdPCAFile) {
		t.Errorf("CAFile %q", saved.CAFile)
	}
	if b, err := os.ReadFile(saved.CAFile); err != nil || string(b) != string(ca) {
		t.Errorf("idp-ca.pem: %q, %v", b, err)
	}
	bad := p
	bad.SubClaim = "sub"
	if _, err := sasl.InitIdP(t.TempDir(), bad, nil, false); err == nil {
		t.Fatal("InitIdP accepted sub claim sub")
	}
}

// The client secret goes into sasl.jaas.config JAAS-quoted, so that Kafka's
// JAAS parser gives it back byte for byte.
func TestIdPClientJAAS(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"plain", "5ecr3t", true},
		{"quotes and backslashes", `a"b\c=d;e`, true},
		{"newline", "a\nb", false},
		{"kcat rewrites it", `a\=b`, false},
		{"surrounding space", " a", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jaas, err := sasl.IdPClientJAAS(sasl.ClientCredentials{ID: "orders-app", Secret: tc.secret}, "/pki/certs/orders-app/ca.crt")
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted secret %q: %s", tc.secret, jaas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q, _ := sasl.JAASQuote("clientSecret", tc.secret)
			want := sasl.OAuthBearerLoginModule + ` required clientId="orders-app" clientSecret=` + q +
				` ssl.truststore.type="PEM" ssl.truststore.location="/pki/certs/orders-app/ca.crt";`
			if jaas != want {
				t.Errorf("got  %s\nwant %s", jaas, want)
			}
		})
	}
	got, err := sasl.IdPServerJAAS("/etc/kafka/ca.crt")
	if err != nil || got != sasl.OAuthBearerLoginModule+` required ssl.truststore.type="PEM" ssl.truststore.location="/etc/kafka/ca.crt" unsecuredLoginStringClaim_sub="kafka-broker-unused";` {
		t.Errorf("IdPServerJAAS = %q, %v", got, err)
	}
}
