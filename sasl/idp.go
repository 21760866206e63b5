package sasl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// IdPFile holds the settings of an external OAuth/OIDC identity provider
// (Keycloak, or any provider with client credentials), under DIR/oauth/.
// With it, OAUTHBEARER clients get their tokens from the IdP's token
// endpoint and brokers validate them against its JWKS over HTTPS; the
// local issuer (IssuerFile) is not used.
const IdPFile = "idp.json"

// IdPCAFile is a copy of the CA certificate(s) that sign the IdP's HTTPS
// certificate when it is not the PKI's own CA (--idp-ca), under DIR/oauth/.
const IdPCAFile = "idp-ca.pem"

// ClientSecretFile is an external-IdP client's secret, in its directory
// (0600).
const ClientSecretFile = "client-secret.txt"

// DiscoveryPath is where an OIDC issuer publishes its metadata (OpenID
// Connect Discovery 1.0, section 4).
const DiscoveryPath = "/.well-known/openid-configuration"

// MaxDiscovery bounds the discovery document read from the network;
// Keycloak's is about 7 KiB.
const MaxDiscovery = 256 << 10

// Sub claims kafkatls can predict a client's principal from. Keycloak puts
// the service-account user's UUID in sub for the client-credentials grant,
// which no one can write an ACL for in advance; azp (the authorized party)
// is the client id, preferred_username is service-account-<client id>.
const (
	ClaimAzp               = "azp"
	ClaimClientID          = "client_id"
	ClaimPreferredUsername = "preferred_username"
)

// DefaultSubClaim is the claim kafkatls picks unless told: the client id,
// the name the operator chose and wrote in the IdP.
const DefaultSubClaim = ClaimAzp

// IdP is an external identity provider as brokers and clients use it.
type IdP struct {
	Issuer   string `json:"issuer"`    // expected iss (sasl.oauthbearer.expected.issuer)
	TokenURL string `json:"token_url"` // clients' sasl.oauthbearer.token.endpoint.url
	JWKSURL  string `json:"jwks_url"`  // brokers' sasl.oauthbearer.jwks.endpoint.url
	Audience string `json:"audience"`  // expected aud (sasl.oauthbearer.expected.audience)
	SubClaim string `json:"sub_claim"` // sasl.oauthbearer.sub.claim.name
	// CAFile is the PEM file brokers and clients trust the IdP's HTTPS
	// with: IdPCAFile when --idp-ca was given, empty for the PKI's own CA
	// (each identity's ca.crt then).
	CAFile string `json:"ca_file,omitempty"`
}

// IdPError names an invalid IdP setting.
type IdPError struct{ Field, Msg string }

func (e *IdPError) Error() string { return "identity provider " + e.Field + ": " + e.Msg }

// ErrNoIdP: the PKI directory has no external identity provider.
var ErrNoIdP = errors.New("has no external identity provider")

// Principal is the principal name (without "User:") Kafka sees for a
// client whose client id is clientID under the IdP's sub claim. Keycloak
// lower-cases user names, so its service-account user name is too.
func (p *IdP) Principal(clientID string) string {
	if p.SubClaim == ClaimPreferredUsername {
		return "service-account-" + strings.ToLower(clientID)
	}
	return clientID
}

// Check validates the settings: HTTPS URLs Kafka can be given as they are,
// a sub claim kafkatls can predict the principal of, and an issuer and
// audience Kafka reads as one list item.
func (p *IdP) Check() error {
	for _, f := range []struct{ field, v string }{{"issuer", p.Issuer}, {"token URL", p.TokenURL}, {"JWKS URL", p.JWKSURL}} {
		if err := checkHTTPS(f.field, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, v string }{{"issuer", p.Issuer}, {"audience", p.Audience}} {
		if f.v == "" || strings.TrimSpace(f.v) != f.v || strings.ContainsAny(f.v, ",\"\\") {
			return &IdPError{Field: f.field, Msg: fmt.Sprintf("%q: non-empty, no surrounding spaces, commas, quotes or backslashes (Kafka reads the expected value as a list)", f.v)}
		}
	}
	switch p.SubClaim {
	case ClaimAzp, ClaimClientID, ClaimPreferredUsername:
	default:
		return &IdPError{Field: "sub claim", Msg: fmt.Sprintf("%q: want azp, client_id or preferred_username (Keycloak's sub is the service account's UUID, which no ACL can name in advance)", p.SubClaim)}
	}
	return nil
}

func checkHTTPS(field, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return &IdPError{Field: field, Msg: fmt.Sprintf("%q: want an https:// URL with a host, no query, fragment or user", v)}
	}
	for _, r := range v {
		if r <= 0x20 || r == 0x7f || r == ',' || r == '"' || r == '\\' {
			return &IdPError{Field: field, Msg: fmt.Sprintf("%q: contains a space, comma, quote, backslash or control character (the allow-list is a comma list)", v)}
		}
	}
	return nil
}

// Discovery is the part of an OIDC discovery document kafkatls uses.
type Discovery struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	JWKSURI       string `json:"jwks_uri"`
}

// ParseDiscovery reads a discovery document (at most MaxDiscovery bytes)
// and checks it belongs to issuer: the issuer it names must be the one
// asked for, exactly (OIDC Discovery 4.3), and both endpoints HTTPS.
func ParseDiscovery(r io.Reader, issuer string) (*Discovery, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDiscovery+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxDiscovery {
		return nil, &IdPError{Field: "discovery document", Msg: fmt.Sprintf("larger than %d bytes", MaxDiscovery)}
	}
	var d Discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, &IdPError{Field: "discovery document", Msg: "not JSON: " + err.Error()}
	}
	if d.Issuer != issuer {
		return nil, &IdPError{Field: "discovery document", Msg: fmt.Sprintf("names issuer %q, not %q (tokens would carry that iss)", d.Issuer, issuer)}
	}
	if err := checkHTTPS("token_endpoint", d.TokenEndpoint); err != nil {
		return nil, err
	}
	if err := checkHTTPS("jwks_uri", d.JWKSURI); err != nil {
		return nil, err
	}
	return &d, nil
}

// Discover fetches issuer's discovery document over HTTPS, trusting only
// roots (the PKI's CA or the IdP's CA file), within timeout.
func Discover(ctx context.Context, issuer string, roots *x509.CertPool, timeout time.Duration) (*Discovery, error) {
	if err := checkHTTPS("issuer", issuer); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := strings.TrimSuffix(issuer, "/") + DiscoveryPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	// No redirect is followed: the document must be at the issuer's own URL.
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery %s: HTTP %s", u, resp.Status)
	}
	d, err := ParseDiscovery(resp.Body, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", u, err)
	}
	return d, nil
}

// InitIdP records the IdP of pkiDir (DIR/oauth/idp.json); caPEM, when not
// empty, is the CA the IdP's HTTPS certificate chains to, copied to
// IdPCAFile. An existing IdP is replaced only with force.
func InitIdP(pkiDir string, p IdP, caPEM []byte, force bool) (*IdP, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	dir := IssuerDir(pkiDir)
	if old, err := OpenIdP(pkiDir); err == nil && !force {
		return nil, fmt.Errorf("%s already has an identity provider (%s): %w", pkiDir, old.Issuer, ErrIssuerExists)
	} else if err != nil && !errors.Is(err, ErrNoIdP) {
		return nil, err
	}
	if err := fsx.MkdirPrivate(dir); err != nil {
		return nil, err
	}
	p.CAFile = ""
	if len(caPEM) > 0 {
		abs, err := filepath.Abs(filepath.Join(dir, IdPCAFile))
		if err != nil {
			return nil, err
		}
		if err := fsx.WriteFile(abs, caPEM, fsx.PublicFile); err != nil {
			return nil, err
		}
		p.CAFile = abs
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsx.WriteFile(filepath.Join(dir, IdPFile), append(b, '\n'), fsx.PublicFile); err != nil {
		return nil, err
	}
	return &p, nil
}

// OpenIdP reads the IdP of pkiDir; ErrNoIdP if it has none.
func OpenIdP(pkiDir string) (*IdP, error) {
	path := filepath.Join(IssuerDir(pkiDir), IdPFile)
	b, err := fsx.ReadFileLimit(path, maxIssuerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %w", pkiDir, ErrNoIdP)
	}
	if err != nil {
		return nil, err
	}
	var p IdP
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// ClientCredentials is an external-IdP client's id and secret.
type ClientCredentials struct {
	ID     string
	Secret string
}

// Check refuses an id or secret that cannot be written into JAAS and
// kcat.conf or that would change meaning on the way (surrounding spaces,
// control characters, kcat's escapes).
func (c ClientCredentials) Check() error {
	for _, f := range []struct{ field, v string }{{"client id", c.ID}, {"client secret", c.Secret}} {
		if f.v == "" || strings.TrimSpace(f.v) != f.v {
			return &IdPError{Field: f.field, Msg: "empty or surrounded by spaces"}
		}
		if strings.IndexFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return &IdPError{Field: f.field, Msg: "contains a control character"}
		}
		if strings.Contains(f.v, `\:`) || strings.Contains(f.v, `\=`) {
			return &IdPError{Field: f.field, Msg: `contains "\:" or "\=", which kcat's config-file reader (kcat.conf) rewrites`}
		}
	}
	return nil
}

// IdPClientJAAS is an external-IdP client's sasl.jaas.config: its client
// id and secret for the client-credentials grant, and the PEM truststore
// Kafka's token-endpoint HTTPS client trusts the IdP with (Kafka builds
// that client from the JAAS options' ssl.* settings, JaasOptionsUtils).
func IdPClientJAAS(c ClientCredentials, caPEMFile string) (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(OAuthBearerLoginModule + " required")
	for _, o := range [][2]string{{"clientId", c.ID}, {"clientSecret", c.Secret}, {"ssl.truststore.type", "PEM"}, {"ssl.truststore.location", caPEMFile}} {
		q, err := JAASQuote(o[0], o[1])
		if err != nil {
			return "", err
		}
		b.WriteString(" " + o[0] + "=" + q)
	}
	b.WriteString(";")
	return b.String(), nil
}

// BrokerLoginSub is the sub of the unsecured token a broker's own
// OAUTHBEARER login makes (see IdPServerJAAS); no client ever sees it.
const BrokerLoginSub = "kafka-broker-unused"

// IdPServerJAAS is a broker's OAUTHBEARER sasl.jaas.config with an
// external IdP: the truststore Kafka's JWKS HTTPS client trusts the IdP
// with (the JAAS options' ssl.* settings, as for the client). Any option
// also makes the broker's own login (the default, unsecured login callback
// handler, which with no options makes no token) build a token at startup,
// and without a sub claim it fails the broker ("No principal name in JWT
// claim: sub"): unsecuredLoginStringClaim_sub gives it one. That token is
// never sent (the broker does not log in on this listener); inter-broker
// traffic stays on the mTLS listener.
func IdPServerJAAS(caPEMFile string) (string, error) {
	q, err := JAASQuote("ssl.truststore.location", caPEMFile)
	if err != nil {
		return "", err
	}
	return OAuthBearerLoginModule + ` required ssl.truststore.type="PEM" ssl.truststore.location=` + q +
		` unsecuredLoginStringClaim_sub="` + BrokerLoginSub + `";`, nil
}
