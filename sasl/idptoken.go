package sasl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxTokenResponse bounds a token endpoint's answer read from the network;
// Keycloak's, with a refresh-less access token, is a few KiB.
const MaxTokenResponse = 1 << 20

// MaxJWKS bounds a JWKS read from the network; a realm's is a few KiB.
const MaxJWKS = 1 << 20

// EndpointError is an IdP endpoint's answer other than 200 OK: for the
// token endpoint, Code and Description are the OAuth error (RFC 6749
// section 5.2: invalid_client, unauthorized_client, invalid_scope...).
type EndpointError struct {
	URL         string
	Status      int
	Code        string
	Description string
}

func (e *EndpointError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// httpClient trusts only roots and follows no redirect: Kafka is given
// the URLs themselves (and allow-lists them exactly).
func httpClient(roots *x509.CertPool) (*http.Client, func()) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, tr.CloseIdleConnections
}

// readLimited reads at most limit bytes of what, refusing more.
func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &IdPError{Field: what, Msg: fmt.Sprintf("larger than %d bytes", limit)}
	}
	return b, nil
}

// FetchToken obtains an access token for c from tokenURL as Kafka's
// OAuthBearerLoginCallbackHandler does (HttpAccessTokenRetriever, and
// ClientCredentialsJwtRetriever since 4.1): a POST of the form
// grant_type=client_credentials (&scope=SCOPE when one is configured), the
// client id and secret in an HTTP Basic Authorization header, not
// URL-encoded (sasl.oauthbearer.header.urlencode defaults to false), and
// the access_token of the JSON answer. Only roots are trusted. Neither the
// secret nor the token appears in an error.
func FetchToken(ctx context.Context, tokenURL string, c ClientCredentials, scope string, roots *x509.CertPool, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	form := "grant_type=client_credentials"
	if s := strings.TrimSpace(scope); s != "" {
		form += "&scope=" + url.QueryEscape(s)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.ID, c.Secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	hc, done := httpClient(roots)
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, MaxTokenResponse, "token endpoint answer")
	if err != nil {
		return "", fmt.Errorf("%s: %w", tokenURL, err)
	}
	var ans struct {
		AccessToken      string `json:"access_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	jerr := json.Unmarshal(b, &ans)
	if resp.StatusCode != http.StatusOK {
		return "", &EndpointError{URL: tokenURL, Status: resp.StatusCode, Code: ans.Error, Description: ans.ErrorDescription}
	}
	if jerr != nil {
		return "", fmt.Errorf("%s: %w", tokenURL, &IdPError{Field: "token endpoint answer", Msg: "not JSON: " + jerr.Error()})
	}
	if ans.AccessToken == "" {
		return "", fmt.Errorf("%s: %w", tokenURL, &IdPError{Field: "token endpoint answer", Msg: "no access_token"})
	}
	return ans.AccessToken, nil
}

// FetchJWKS reads the IdP's key set from jwksURL, trusting only roots, as
// a broker's validator does.
func FetchJWKS(ctx context.Context, jwksURL string, roots *x509.CertPool, timeout time.Duration) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	hc, done := httpClient(roots)
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &EndpointError{URL: jwksURL, Status: resp.StatusCode}
	}
	b, err := readLimited(resp.Body, MaxJWKS, "JWKS")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", jwksURL, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", jwksURL, &IdPError{Field: "JWKS", Msg: "not a JSON Web Key Set: " + err.Error()})
	}
	return &set, nil
}
