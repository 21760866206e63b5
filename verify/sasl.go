package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	ksasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/testbroker"
)

// BrokerSASL is the test broker's SASL_SSL listener for the identities of
// the PKI directory dir: the mechanisms mechs (none: those the identities
// use), a credential for every SCRAM identity from its password file, and
// for OAUTHBEARER the directory's token issuer (its JWKS, issuer and
// audience). Nil when no mechanism is wanted. The issuer is returned too
// (nil without OAUTHBEARER).
func BrokerSASL(dir string, mechs []sasl.Auth, ids []*identity.Identity) (*testbroker.SASLConfig, *sasl.Issuer, error) {
	if len(mechs) == 0 {
		for _, id := range ids {
			if id.Auth.Spec().SASL() && !slices.Contains(mechs, id.Auth) {
				mechs = append(mechs, id.Auth)
			}
		}
	}
	if len(mechs) == 0 {
		return nil, nil, nil
	}
	cfg := &testbroker.SASLConfig{Mechanisms: sasl.Mechanisms(mechs), Users: map[string]string{}}
	for _, id := range ids {
		if !id.Auth.Spec().Scram {
			continue
		}
		pw, err := identity.ScramPassword(id.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%s's SCRAM password: %w", id.Name, err)
		}
		cfg.Users[id.Name] = pw
	}
	var iss *sasl.Issuer
	if slices.Contains(mechs, sasl.OAuthBearer) {
		var err error
		if iss, err = sasl.OpenIssuer(dir); err != nil {
			return nil, nil, err
		}
		jwks, err := iss.KeySet()
		if err != nil {
			return nil, nil, err
		}
		cfg.OAuth = &testbroker.OAuthConfig{JWKS: jwks, Issuer: iss.Settings.Issuer, Audience: iss.Settings.Audience}
	}
	return cfg, iss, nil
}

// mechanism is the SASL client login of an identity authenticating with a.
func mechanism(a sasl.Auth, user, secret string) ksasl.Mechanism {
	switch a {
	case sasl.ScramSHA512:
		return scram.Auth{User: user, Pass: secret}.AsSha512Mechanism()
	case sasl.ScramSHA256:
		return scram.Auth{User: user, Pass: secret}.AsSha256Mechanism()
	case sasl.OAuthBearer:
		return oauth.Auth{Token: secret}.AsMechanism()
	}
	return nil
}

// credential reads the secret an identity logs in with: its SCRAM
// password file or its token file.
func credential(id *identity.Identity) (string, error) {
	if id.Auth.Spec().OAuth {
		return identity.Token(id.Dir)
	}
	return identity.ScramPassword(id.Dir)
}

// verifySASL logs every SASL identity in on the test broker's SASL_SSL
// listener with its own credential (password file, token file) and its
// truststore, expecting the principal of its principal.txt; then checks
// that a wrong SCRAM password, an expired token, a token signed by another
// key and a token for another audience are refused, each for that reason.
func verifySASL(ctx context.Context, o Options, srv string, b *testbroker.Broker, serverName string, ids []*identity.Identity, iss *sasl.Issuer, add func(Check)) error {
	var scramID, oauthID *identity.Identity
	for _, id := range ids {
		a := id.Auth.Spec()
		if !a.SASL() {
			continue
		}
		if a.Scram && scramID == nil {
			scramID = id
		}
		if a.OAuth && oauthID == nil {
			oauthID = id
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c := Check{Server: srv, Identity: id.Name, Role: string(id.Role), Store: "SASL " + a.Mechanism, Expect: ExpectAccept}
		secret, err := credential(id)
		if err != nil {
			c.Result, c.Diagnosis = "unreadable", err.Error()
			add(c)
			continue
		}
		res, ev := runSASL(ctx, b, serverName, id, mechanism(id.Auth, id.Name, secret), o.Timeout)
		if err := ctx.Err(); err != nil {
			return err
		}
		judgeSASL(&c, res, ev, "")
		if c.Result == "accepted" && id.Principal != "" && c.Principal != id.Principal {
			c.OK = false
			c.Diagnosis = fmt.Sprintf("principal.txt says %q but the broker saw %q", id.Principal, c.Principal)
		}
		add(c)
	}

	// Must-fail logins, each with a credential that is wrong in one way.
	type probe struct {
		name, presents string
		id             *identity.Identity
		mech           func() (ksasl.Mechanism, error)
		reason         testbroker.SASLReason
	}
	var probes []probe
	if scramID != nil {
		probes = append(probes, probe{"wrong SCRAM password", scramID.Name + " with another password", scramID, func() (ksasl.Mechanism, error) {
			return mechanism(scramID.Auth, scramID.Name, "not-"+scramID.Name+"-password"), nil
		}, testbroker.ReasonBadPassword})
	}
	if oauthID != nil && iss != nil {
		token := func(i *sasl.Issuer, to sasl.TokenOptions) func() (ksasl.Mechanism, error) {
			return func() (ksasl.Mechanism, error) {
				t, err := i.Mint(oauthID.Name, to)
				if err != nil {
					return nil, err
				}
				return mechanism(sasl.OAuthBearer, "", t.JWT), nil
			}
		}
		probes = append(probes,
			probe{"expired token", oauthID.Name + "'s token, expired an hour ago", oauthID,
				token(iss, sasl.TokenOptions{TTL: time.Hour, Now: time.Now().Add(-2 * time.Hour)}), testbroker.ReasonExpired},
			probe{"token signed by another key", "a token from a throwaway issuer", oauthID, func() (ksasl.Mechanism, error) {
				tmp, err := os.MkdirTemp("", "kafkatls-verify-issuer-")
				if err != nil {
					return nil, err
				}
				defer os.RemoveAll(tmp)
				other, err := sasl.InitIssuer(tmp, sasl.IssuerOptions{Algorithm: iss.Settings.Algorithm, Issuer: iss.Settings.Issuer, Audience: iss.Settings.Audience})
				if err != nil {
					return nil, err
				}
				return token(other, sasl.TokenOptions{})()
			}, testbroker.ReasonUnknownKey},
			probe{"wrong audience", fmt.Sprintf("a token for audience %q", "not-"+iss.Settings.Audience), oauthID,
				token(iss.WithAudience("not-"+iss.Settings.Audience), sasl.TokenOptions{}), testbroker.ReasonAudience},
		)
	}
	for _, p := range probes {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := Check{Server: srv, Identity: p.name, Role: "probe", Store: p.presents, Expect: ExpectRefuse}
		m, err := p.mech()
		if err != nil {
			c.Result, c.Diagnosis = "not run", err.Error()
			add(c)
			continue
		}
		res, ev := runSASL(ctx, b, serverName, p.id, m, 1500*time.Millisecond)
		if err := ctx.Err(); err != nil {
			return err
		}
		judgeSASL(&c, res, ev, p.reason)
		add(c)
	}
	return nil
}

// runSASL runs the Kafka probe as id on the SASL_SSL listener, trusting
// id's truststore, and returns the broker's Event for the connection.
func runSASL(ctx context.Context, b *testbroker.Broker, serverName string, id *identity.Identity, m ksasl.Mechanism, timeout time.Duration) (kafkaOutcome, *testbroker.Event) {
	s := &session{addr: b.SASLAddr(), serverName: serverName, mech: m,
		tlsConf: &tls.Config{RootCAs: id.Stores[0].Roots, MinVersion: tls.VersionTLS12}}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := s.runKafka(cctx, probeTopic, "probe from "+id.Name+" over SASL", timeout)
	return res, eventFor(s, b)
}

// eventFor is the broker's latest Event for one of the session's
// connections.
func eventFor(s *session, b *testbroker.Broker) *testbroker.Event {
	locals := s.localAddrs()
	events := b.Events()
	for i := len(events) - 1; i >= 0; i-- {
		if slices.Contains(locals, events[i].Remote) {
			return &events[i]
		}
	}
	return nil
}

// judgeSASL fills a SASL check from the client outcome and the broker's
// Event; a refusal expected for a reason must be refused for it.
func judgeSASL(c *Check, res kafkaOutcome, ev *testbroker.Event, want testbroker.SASLReason) {
	if res.tls != nil {
		c.TLSVersion = tls.VersionName(res.tls.Version)
	}
	if res.err == nil {
		c.Result = "accepted"
		if ev != nil {
			c.Principal = ev.Principal
		}
		c.OK = c.Expect == ExpectAccept
		if !c.OK {
			c.Diagnosis = "the broker accepted a credential it must refuse"
		}
		return
	}
	c.Result = "refused"
	switch {
	case ev != nil && !ev.OK && ev.Diagnosis != "":
		c.Diagnosis = "broker: " + ev.Diagnosis
	default:
		c.Diagnosis = clientDiagnosis(res.err, "")
	}
	if res.stage != "" && c.Expect == ExpectAccept {
		c.Diagnosis = res.stage + ": " + c.Diagnosis
	}
	c.OK = c.Expect == ExpectRefuse
	if c.OK && want != "" {
		var se *testbroker.SASLError
		if ev == nil || !errors.As(ev.Err, &se) || se.Reason != want {
			c.OK = false
			c.Diagnosis = fmt.Sprintf("refused, but not for %s: %s", want, c.Diagnosis)
		}
	}
}
