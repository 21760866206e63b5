package sasl_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/sasl"
)

// FetchToken sends the client id and secret as Kafka does (Basic, not
// URL-encoded) and refuses an answer larger than sasl.MaxTokenResponse or
// without access_token; FetchJWKS refuses one larger than MaxJWKS.
func TestFetchTokenAndJWKS(t *testing.T) {
	const id, secret = "orders-app", `p%a:ss"w=rd`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		switch r.URL.Path {
		case "/token":
			if u != id || p != secret || r.FormValue("grant_type") != "client_credentials" {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			w.Write([]byte(`{"access_token":"a.b.c"}`))
		case "/empty":
			w.Write([]byte(`{"token_type":"Bearer"}`))
		case "/huge", "/hugejwks":
			w.Write([]byte(`{"keys":[],"x":"` + strings.Repeat("a", sasl.MaxTokenResponse) + `"}`))
		}
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	ctx := context.Background()
	c := sasl.ClientCredentials{ID: id, Secret: secret}
	if tok, err := sasl.FetchToken(ctx, srv.URL+"/token", c, "", roots, 5*time.Second); err != nil || tok != "a.b.c" {
		t.Fatalf("sasl.FetchToken = %q, %v", tok, err)
	}
	var ee *sasl.EndpointError
	_, err := sasl.FetchToken(ctx, srv.URL+"/token", sasl.ClientCredentials{ID: id, Secret: "other"}, "", roots, 5*time.Second)
	if !errors.As(err, &ee) || ee.Status != http.StatusUnauthorized || ee.Code != "invalid_client" || strings.Contains(err.Error(), "other") {
		t.Fatalf("wrong secret: %v", err)
	}
	var ie *sasl.IdPError
	for _, path := range []string{"/empty", "/huge"} {
		if _, err := sasl.FetchToken(ctx, srv.URL+path, c, "", roots, 5*time.Second); !errors.As(err, &ie) || ie.Field != "token endpoint answer" {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if _, err := sasl.FetchJWKS(ctx, srv.URL+"/hugejwks", roots, 5*time.Second); !errors.As(err, &ie) || ie.Field != "JWKS" {
		t.Fatalf("huge JWKS: %v", err)
	}
}
