package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/sasl"
)

// remoteSASL checks a SASL identity against a real broker's SASL_SSL
// listener: its credential file locally (for a token: expiry, clock,
// issuer, audience and key against the PKI's issuer), the TLS handshake
// and broker certificate, then a SASL login, ApiVersions and Metadata,
// each failure with a diagnosis: TLS, unreachable, authentication failed
// (wrong password or no credential; token refused), wrong listener.
func remoteSASL(ctx context.Context, rep *RemoteReport, o RemoteOptions, id *identity.Identity, st identity.Store) {
	a := id.Auth.Spec()
	rep.Store = "SASL " + a.Mechanism
	rep.Principal = id.Principal
	if rep.Principal == "" {
		rep.Principal = sasl.Principal(id.Auth, id.Name, "")
	}
	var idp *sasl.IdP
	if a.OAuth {
		var err error
		if idp, err = idpOf(o.ClientDir); err != nil {
			rep.add(Finding{Step: "credential", Message: fmt.Sprintf("%s has a client id but its identity provider cannot be read: %v", id.Name, err),
				Fix: "kafkatls oauth init --issuer URL --sub-claim CLAIM --force"})
			return
		}
	}
	var secret string
	var err error
	if a.OAuth && idp != nil {
		var ok bool
		if secret, ok = idpToken(ctx, rep, o, id, idp); !ok {
			return
		}
	} else if secret, err = credential(id); err != nil {
		file := sasl.ScramPasswordFile
		fix := "re-issue it: kafkatls issue " + id.Name + " --auth " + string(id.Auth) + " --force"
		if a.OAuth {
			file, fix = sasl.TokenFile, "mint one: kafkatls token "+id.Name
		}
		rep.add(Finding{Step: "credential", Message: fmt.Sprintf("cannot read %s: %v", file, err), Fix: fix})
		return
	}
	if a.OAuth && idp == nil && !tokenChecks(rep, o.ClientDir, id, secret) {
		return
	}
	if a.Scram {
		rep.add(Finding{Step: "credential", OK: true, Message: fmt.Sprintf("%s password for %s read from %s", a.Mechanism, id.Name, sasl.ScramPasswordFile)})
	}
	if !configChecks(rep, o.ClientDir) {
		return
	}
	o.sasl = true
	if !tlsProbe(ctx, rep, o, st) {
		return
	}
	s := &session{addr: o.Bootstrap, serverName: o.ServerName, mech: mechanism(id.Auth, id.Name, secret),
		tlsConf: &tls.Config{RootCAs: st.Roots, MinVersion: tls.VersionTLS12}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.Bootstrap), kgo.Dialer(s.dial), kgo.SASL(s.mech), kgo.RetryTimeout(o.Timeout/2), kgo.RequestRetries(0))
	if err != nil {
		rep.add(Finding{Step: "Kafka", Message: err.Error()})
		return
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(cctx, cl); err != nil {
		rep.add(saslFailure(err, o, id, idp))
		return
	}
	rep.add(Finding{Step: "SASL " + a.Mechanism, OK: true, Message: "authenticated as " + rep.Principal})
	kafkaMetadata(cctx, rep, o, cl)
}

// saslFailure turns a failed SASL login into a diagnosis.
func saslFailure(err error, o RemoteOptions, id *identity.Identity, idp *sasl.IdP) Finding {
	a := id.Auth.Spec()
	f := Finding{Step: "SASL " + a.Mechanism, Message: err.Error()}
	var fe *kgo.ErrFirstReadEOF
	switch {
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		f.Message = fmt.Sprintf("the listener at %s does not enable %s", o.Bootstrap, a.Mechanism)
		f.Fix = fmt.Sprintf("add %s to listener.name.sasl_ssl.sasl.enabled.mechanisms (kafkatls issue BROKER --role broker --sasl %s), or dial the listener that has it", a.Mechanism, id.Auth)
	case errors.Is(err, kerr.SaslAuthenticationFailed) && a.Scram:
		f.Message = fmt.Sprintf("authentication failed: the broker has no %s credential for %q, or one with another password (%v)", a.Mechanism, id.Name, err)
		f.Fix = fmt.Sprintf("create or update it from %s: sh scram.sh alter (or kafka-configs --alter --entity-type users --entity-name %s --add-config-file FILE); a credential for the other SCRAM hash does not count",
			filepath.Join(o.ClientDir, sasl.ScramPasswordFile), id.Name)
	case errors.Is(err, kerr.SaslAuthenticationFailed) && a.OAuth && idp != nil:
		// What the broker is configured with cannot be seen from here.
		f.Message = fmt.Sprintf("the broker refused the identity provider's token (%v); it is valid here against %s, so the broker checks it against something else", err, idp.JWKSURL)
		f.Fix = fmt.Sprintf("on the broker: listener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.jwks.endpoint.url=%s with a truststore (JAAS ssl.truststore.*) the IdP's certificate chains to, "+
			"expected.issuer=%s, expected.audience=%s, sub.claim.name=%s, a right clock, and KAFKA_OPTS allow-listing the JWKS URL exactly (see the generated server.properties); the broker log names the reason",
			idp.JWKSURL, idp.Issuer, idp.Audience, idp.SubClaim)
	case errors.Is(err, kerr.SaslAuthenticationFailed) && a.OAuth:
		f.Message = fmt.Sprintf("the broker refused the token (%v); it is valid here, so the broker checks it against something else", err)
		f.Fix = "on the broker: listener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.jwks.endpoint.url must be this PKI's oauth/jwks.json, " +
			"expected.issuer/expected.audience must match the token's (kafkatls oauth init --issuer/--audience), its clock must be right, " +
			"and KAFKA_OPTS must allow-list the JWKS URL exactly (see the comment in the generated server.properties); the broker log names the reason"
	case strings.Contains(err.Error(), "remote error: tls:"):
		// TLS 1.3: the refusal of the (empty) client certificate comes
		// after the client's handshake has completed.
		f.Message = fmt.Sprintf("%s refused the connection without a client certificate (%v): it is an SSL (mutual TLS) listener, not SASL_SSL", o.Bootstrap, err)
		f.Fix = fmt.Sprintf("dial the brokers' SASL_SSL port (default %d; listeners= in server.properties)", sasl.DefaultPort)
	case errors.Is(err, kerr.IllegalSaslState), errors.As(err, &fe):
		f.Message = fmt.Sprintf("%s closed the connection at the SASL handshake: it is not a SASL_SSL listener (an SSL listener expects a client certificate and no SASL)", o.Bootstrap)
		f.Fix = fmt.Sprintf("dial the brokers' SASL_SSL port (default %d; listeners= in server.properties)", sasl.DefaultPort)
	default:
		f.Message = clientDiagnosis(err, o.ServerName)
	}
	return f
}

// tokenChecks looks at the identity's JWT as the broker will: expiry and
// not-before against this machine's clock, and issuer, audience and key
// against the PKI's token issuer (two directories up), when there is one.
func tokenChecks(rep *RemoteReport, clientDir string, id *identity.Identity, token string) bool {
	fail := func(msg, fix string) bool {
		rep.add(Finding{Step: "token", Message: msg, Fix: fix})
		return false
	}
	tok, err := jwt.ParseSigned(token, jwtAlgs)
	if err != nil {
		return fail(fmt.Sprintf("%s is not a signed JWT: %v", sasl.TokenFile, err), "mint one: kafkatls token "+id.Name)
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return fail(fmt.Sprintf("%s: %v", sasl.TokenFile, err), "mint one: kafkatls token "+id.Name)
	}
	switch msg, skew := timeProblem(&c, time.Now()); {
	case skew:
		return fail(msg, "synchronize the clocks (NTP), or mint the token again")
	case msg != "":
		return fail(msg, "mint a new one: kafkatls token "+id.Name+" (clients re-read the file; schedule it before each expiry)")
	}
	if c.Subject == "" {
		return fail("the token has no sub claim: Kafka refuses it", "mint one: kafkatls token "+id.Name)
	}
	if p := "User:" + c.Subject; rep.Principal != "" && p != rep.Principal {
		rep.add(Finding{Step: "token", OK: true, Warning: true, Message: fmt.Sprintf("the token's sub makes the principal %s, but principal.txt says %s: ACLs granted to one do not apply to the other", p, rep.Principal),
			Fix: "mint the token for this identity: kafkatls token " + id.Name})
	}
	msg := fmt.Sprintf("sub %s, iss %q, aud %q, expires %s", c.Subject, c.Issuer, []string(c.Audience), c.Expiry.Time().UTC().Format(time.RFC3339))
	iss, err := sasl.OpenIssuer(filepath.Dir(filepath.Dir(clientDir)))
	if err != nil {
		rep.add(Finding{Step: "token", OK: true, Message: msg + " (no token issuer next to the identity to compare with)"})
		return true
	}
	switch {
	case c.Issuer != iss.Settings.Issuer:
		return fail(fmt.Sprintf("the token's iss is %q, but the brokers kafkatls configured expect %q", c.Issuer, iss.Settings.Issuer), "mint a new one: kafkatls token "+id.Name)
	case !c.Audience.Contains(iss.Settings.Audience):
		return fail(fmt.Sprintf("the token's aud is %q, but the brokers kafkatls configured expect %q", []string(c.Audience), iss.Settings.Audience), "mint a new one: kafkatls token "+id.Name)
	}
	if set, err := iss.KeySet(); err == nil {
		kid := tok.Headers[0].KeyID
		if len(set.Key(kid)) == 0 {
			return fail(fmt.Sprintf("the token is signed by key %q, which is not in %s: another issuer's key, or one rotated out since", kid, iss.JWKSPath()), "mint a new one: kafkatls token "+id.Name)
		}
		verified := slices.ContainsFunc(set.Key(kid), func(k jose.JSONWebKey) bool { return tok.Claims(k.Key, &jwt.Claims{}) == nil })
		if !verified {
			return fail(fmt.Sprintf("the token's signature does not verify with key %q of %s", kid, iss.JWKSPath()), "mint a new one: kafkatls token "+id.Name)
		}
	}
	rep.add(Finding{Step: "token", OK: true, Message: msg + "; signed by a key of " + iss.JWKSPath()})
	return true
}

// timeProblem says why a token's times make Kafka refuse it at now: no
// exp, expired, or not valid yet (skew: the issuer's clock is ahead of
// this one beyond Kafka's default 30s tolerance); "" when they do not.
func timeProblem(c *jwt.Claims, now time.Time) (msg string, skew bool) {
	switch {
	case c.Expiry == nil:
		return "the token has no exp claim: Kafka refuses it", false
	case now.After(c.Expiry.Time()):
		return fmt.Sprintf("the token expired at %s (this machine's clock: %s)", c.Expiry.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), false
	case c.NotBefore != nil && now.Before(c.NotBefore.Time()), c.IssuedAt != nil && now.Add(30*time.Second).Before(c.IssuedAt.Time()):
		issued := "no iat"
		if c.IssuedAt != nil {
			issued = "issued " + c.IssuedAt.Time().UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("the token is not valid yet (%s, this machine's clock %s): clock skew between the issuer and here", issued, now.UTC().Format(time.RFC3339)), true
	}
	return "", false
}
