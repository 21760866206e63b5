package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/sasl"
)

// maxCAFile bounds the PEM trust file read for the IdP's HTTPS.
const maxCAFile = 1 << 20

// jwtAlgs are the signature algorithms a token may carry (Kafka's
// validator accepts these families).
var jwtAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}

// idpOf is the external IdP an OAUTHBEARER identity gets its tokens from:
// one with a client id (identity.ClientIDFile) in a PKI directory (two up)
// that has an idp.json; nil for a kafkatls-minted token's identity.
func idpOf(clientDir string) (*sasl.IdP, error) {
	if _, err := os.Lstat(filepath.Join(clientDir, identity.ClientIDFile)); err != nil {
		return nil, nil
	}
	return sasl.OpenIdP(filepath.Dir(filepath.Dir(clientDir)))
}

// idpToken gets the identity's token from the IdP as Kafka's login
// handler would (client-credentials grant, trusting the file its
// generated JAAS line names) and checks it as the broker will: time,
// issuer, audience, the configured sub claim and the principal it makes,
// and its signature against the IdP's JWKS fetched with the same trust.
// Each failure is one finding naming the URL, file, claim or values.
func idpToken(ctx context.Context, rep *RemoteReport, o RemoteOptions, id *identity.Identity, p *sasl.IdP) (string, bool) {
	fail := func(step, msg, fix string) (string, bool) {
		rep.add(Finding{Step: step, Message: msg, Fix: fix})
		return "", false
	}
	reissue := fmt.Sprintf("re-issue it with the client's id and secret: kafkatls issue %s --auth oauthbearer --client-id ID --client-secret-file FILE --force", id.Name)
	creds, err := identity.Client(id.Dir)
	if err != nil {
		return fail("credential", fmt.Sprintf("cannot read %s or %s: %v", identity.ClientIDFile, sasl.ClientSecretFile, err), reissue)
	}
	caFile := p.CAFile
	if caFile == "" {
		caFile = filepath.Join(id.Dir, identity.CAPEM)
	}
	roots := x509.NewCertPool()
	if b, err := fsx.ReadFileLimit(caFile, maxCAFile); err != nil {
		return fail("token endpoint", fmt.Sprintf("cannot read %s, the CA file the client trusts the identity provider with: %v", caFile, err),
			"kafkatls oauth init --issuer "+p.Issuer+" --idp-ca FILE --force (the CA the IdP's HTTPS certificate chains to)")
	} else if !roots.AppendCertsFromPEM(b) {
		return fail("token endpoint", fmt.Sprintf("%s holds no PEM certificate", caFile), "kafkatls oauth init --issuer "+p.Issuer+" --idp-ca FILE --force")
	}
	tok, err := sasl.FetchToken(ctx, p.TokenURL, creds, "", roots, o.Timeout)
	if err != nil {
		f := endpointFailure("token endpoint", p.TokenURL, caFile, err)
		var ee *sasl.EndpointError
		if errors.As(err, &ee) && (ee.Status == http.StatusUnauthorized || ee.Code == "invalid_client" || ee.Code == "unauthorized_client") {
			f.Message = fmt.Sprintf("the identity provider refused client %q (%v): wrong client id or secret, or the client has no service account (client-credentials grant)", creds.ID, err)
			f.Fix = fmt.Sprintf("check the client in the IdP (confidential, service accounts enabled), then %s", reissue)
		}
		rep.add(f)
		return "", false
	}
	rep.add(Finding{Step: "token endpoint", OK: true, Message: fmt.Sprintf("client %q got a token from %s (client-credentials grant, trusting %s)", creds.ID, p.TokenURL, caFile)})

	jt, err := jwt.ParseSigned(tok, jwtAlgs)
	if err != nil {
		return fail("token", fmt.Sprintf("the token from %s is not a signed JWT: %v", p.TokenURL, err), "the IdP must issue JWT access tokens (Keycloak does by default)")
	}
	var c jwt.Claims
	var all map[string]any
	if err := jt.UnsafeClaimsWithoutVerification(&c, &all); err != nil {
		return fail("token", fmt.Sprintf("the token's claims: %v", err), "")
	}
	switch msg, skew := timeProblem(&c, time.Now()); {
	case skew:
		return fail("token", msg, "synchronize the clocks of the IdP, the brokers and this machine (NTP)")
	case c.Expiry == nil:
		return fail("token", msg, "the IdP must put exp in its access tokens")
	case msg != "":
		return fail("token", msg+" as issued: the IdP's clock is behind this one, or its access token lifespan is zero",
			"synchronize the clocks (NTP); check the client's access token lifespan in the IdP")
	}
	if c.Issuer != p.Issuer {
		return fail("token", fmt.Sprintf("claim mismatch: the token's iss is %q, but idp.json (the brokers' expected.issuer) expects %q", c.Issuer, p.Issuer),
			"kafkatls oauth init --issuer "+c.Issuer+" --force if that is the realm's issuer (the issuer URL as the clients reach it), then regenerate the broker configs")
	}
	if !c.Audience.Contains(p.Audience) {
		return fail("token", fmt.Sprintf("claim mismatch: the token's aud is %q, but idp.json (the brokers' expected.audience) expects %q", []string(c.Audience), p.Audience),
			fmt.Sprintf("add an audience mapper for %q to the client in the IdP (Keycloak: client scopes, dedicated scope, Audience), or kafkatls oauth init --audience with one of the token's", p.Audience))
	}
	sub, _ := all[p.SubClaim].(string)
	if sub == "" {
		return fail("token", fmt.Sprintf("claim mismatch: the token has no %s claim, which the brokers take the principal from (sasl.oauthbearer.sub.claim.name=%s)", p.SubClaim, p.SubClaim),
			fmt.Sprintf("make the IdP put %s in the client's access tokens (Keycloak: a mapper in the client's dedicated scope), or kafkatls oauth init --sub-claim with a claim it has", p.SubClaim))
	}
	if got := "User:" + sub; got != rep.Principal {
		return fail("token", fmt.Sprintf("claim mismatch: the token's %s is %q, so the broker sees %s, but principal.txt says %s: ACLs granted to one do not apply to the other", p.SubClaim, sub, got, rep.Principal),
			fmt.Sprintf("grant the ACLs to %s, or re-issue with the client id the IdP knows: kafkatls issue %s --auth oauthbearer --client-id ID --client-secret-file FILE --force", got, id.Name))
	}
	set, err := sasl.FetchJWKS(ctx, p.JWKSURL, roots, o.Timeout)
	if err != nil {
		rep.add(endpointFailure("JWKS", p.JWKSURL, caFile, err))
		return "", false
	}
	kid := jt.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) == 0 {
		return fail("token", fmt.Sprintf("the token is signed by key %q, which is not in the JWKS at %s", kid, p.JWKSURL),
			"the token endpoint and the JWKS must be the same realm's: check token_url and jwks_url in idp.json (kafkatls oauth init --force)")
	}
	if !slices.ContainsFunc(keys, func(k jose.JSONWebKey) bool { return jt.Claims(k.Key, &jwt.Claims{}) == nil }) {
		return fail("token", fmt.Sprintf("the token's signature does not verify with key %q of %s", kid, p.JWKSURL), "the token endpoint and the JWKS must be the same realm's")
	}
	rep.add(Finding{Step: "token", OK: true, Message: fmt.Sprintf("%s %s, iss %q, aud %q, expires %s; signed by key %q of %s",
		p.SubClaim, sub, c.Issuer, []string(c.Audience), c.Expiry.Time().UTC().Format(time.RFC3339), kid, p.JWKSURL)})
	return tok, true
}

// endpointFailure diagnoses a failed request to an IdP endpoint: a
// certificate that does not chain to caFile, a name or address that cannot
// be reached, or an HTTP error.
func endpointFailure(step, u, caFile string, err error) Finding {
	f := Finding{Step: step, Message: fmt.Sprintf("%s: %v", u, err)}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ee *sasl.EndpointError
	switch {
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		f.Message = fmt.Sprintf("the identity provider at %s is not trusted with %s: %v", u, caFile, err)
		f.Fix = fmt.Sprintf("the IdP's HTTPS certificate must chain to a CA in %s and name its host: issue it from this PKI (kafkatls issue IDP --role server --dns HOST), or give its CA: kafkatls oauth init --idp-ca FILE --force", caFile)
	case errors.As(err, &ee):
		f.Message = fmt.Sprintf("the identity provider answered %v", err)
		f.Fix = "check the URL in idp.json (kafkatls oauth init --issuer ... --force reads it from the discovery document)"
	case isTimeout(err):
		f.Message = fmt.Sprintf("cannot reach the identity provider at %s: timed out (%v)", u, err)
		f.Fix = "check the URL in idp.json, a firewall or proxy between here and the IdP"
	default:
		f.Message = fmt.Sprintf("cannot reach the identity provider at %s: %v", u, err)
		f.Fix = "check the URL in idp.json and that the IdP is running and listening there"
	}
	return f
}
