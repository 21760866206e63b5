package testbroker

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/xdg-go/scram"

	"github.com/kafkatls/kafkatls/principal"
)

// SASL mechanism names, as Kafka spells them (sasl.enabled.mechanisms).
const (
	MechPlain       = "PLAIN"
	MechScramSHA256 = "SCRAM-SHA-256"
	MechScramSHA512 = "SCRAM-SHA-512"
	MechOAuthBearer = "OAUTHBEARER"
)

// SASLConfig configures the broker's SASL_SSL listener, served beside the
// mutual-TLS one by the same kfake cluster. The listener asks for no client
// certificate (as a Kafka SASL_SSL listener, KIP-684); the client
// authenticates with SaslHandshake/SaslAuthenticate, which this package
// answers itself: kfake's own SASL cannot be enabled for one listener only.
type SASLConfig struct {
	// Listen is the TCP address of the SASL_SSL listener; default
	// "127.0.0.1:0". Same forms as Config.Listen.
	Listen string
	// Mechanisms are the enabled mechanisms (MechPlain, MechScramSHA256,
	// MechScramSHA512, MechOAuthBearer), in the order SaslHandshake
	// lists them. Required.
	Mechanisms []string
	// Users are the PLAIN and SCRAM users' passwords by user name; the
	// principal of a PLAIN or SCRAM login is User:NAME.
	Users map[string]string
	// OAuth validates OAUTHBEARER tokens; required with MechOAuthBearer.
	OAuth *OAuthConfig
	// ScramIterations is the SCRAM credentials' iteration count; default
	// 4096 (Kafka's minimum and kafka-configs' default).
	ScramIterations int
}

// OAuthConfig is what OAUTHBEARER tokens are validated against, as
// Kafka's OAuthBearerValidatorCallbackHandler does: the signature by the
// token's kid among the JWKS keys, exp and iat present, exp not passed, nbf
// and iat not in the future (within ClockSkew), the issuer and audience
// when expected, a non-empty sub. The principal is User:<sub>.
type OAuthConfig struct {
	JWKS *jose.JSONWebKeySet
	// Issuer and Audience are the expected iss and an expected aud
	// (sasl.oauthbearer.expected.issuer/audience); empty: not checked.
	Issuer, Audience string
	// ClockSkew is the tolerance for exp, nbf and iat; default 30s, as
	// Kafka's sasl.oauthbearer.clock.skew.seconds.
	ClockSkew time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// SASLReason says why a SASL authentication failed.
type SASLReason string

// The reasons a SASL authentication fails.
const (
	ReasonUnsupportedMechanism SASLReason = "unsupported mechanism"
	ReasonIllegalState         SASLReason = "illegal SASL state"
	ReasonMalformed            SASLReason = "malformed SASL message"
	ReasonUnknownUser          SASLReason = "unknown user"
	ReasonBadPassword          SASLReason = "wrong password"
	ReasonBadToken             SASLReason = "not a signed JWT"
	ReasonUnknownKey           SASLReason = "key not in JWKS"
	ReasonBadSignature         SASLReason = "bad signature"
	ReasonExpired              SASLReason = "token expired"
	ReasonNotYetValid          SASLReason = "token not yet valid"
	ReasonMissingClaim         SASLReason = "missing claim"
	ReasonIssuer               SASLReason = "wrong issuer"
	ReasonAudience             SASLReason = "wrong audience"
	ReasonNotAuthenticated     SASLReason = "not authenticated"
)

// SASLError is a refused SASL authentication (Event.Err on the SASL_SSL
// listener).
type SASLError struct {
	Mechanism string
	Reason    SASLReason
	Detail    string // the precise cause, for people
}

func (e *SASLError) Error() string {
	if e.Mechanism == "" {
		return "SASL: " + e.Detail
	}
	return e.Mechanism + ": " + e.Detail
}

func (s *SASLConfig) validate() error {
	if len(s.Mechanisms) == 0 {
		return errors.New("SASLConfig.Mechanisms is empty")
	}
	for _, m := range s.Mechanisms {
		switch m {
		case MechPlain, MechScramSHA256, MechScramSHA512:
		case MechOAuthBearer:
			if s.OAuth == nil || s.OAuth.JWKS == nil {
				return errors.New("SASLConfig.OAuth with a JWKS is required for OAUTHBEARER")
			}
		default:
			return fmt.Errorf("SASLConfig.Mechanisms: unsupported mechanism %q (want %s, %s, %s or %s)", m, MechPlain, MechScramSHA256, MechScramSHA512, MechOAuthBearer)
		}
	}
	return nil
}

// saslServer holds the per-broker SASL state: SCRAM servers over stored
// credentials computed once at start (xdg-go/scram), never the passwords
// themselves, except for PLAIN.
type saslServer struct {
	cfg   SASLConfig
	scram map[string]*scram.Server // by mechanism
}

func newSASLServer(cfg SASLConfig) (*saslServer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.ScramIterations <= 0 {
		cfg.ScramIterations = 4096
	}
	if cfg.OAuth != nil && cfg.OAuth.ClockSkew == 0 {
		cfg.OAuth.ClockSkew = 30 * time.Second
	}
	s := &saslServer{cfg: cfg, scram: map[string]*scram.Server{}}
	for _, m := range cfg.Mechanisms {
		var hash scram.HashGeneratorFcn
		switch m {
		case MechScramSHA256:
			hash = scram.SHA256
		case MechScramSHA512:
			hash = scram.SHA512
		default:
			continue
		}
		creds := map[string]scram.StoredCredentials{}
		for user, pw := range cfg.Users {
			cl, err := hash.NewClient(user, pw, "")
			if err != nil {
				return nil, fmt.Errorf("%s credential of %q: %w", m, user, err)
			}
			salt := make([]byte, 16)
			rand.Read(salt)
			c, err := cl.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: cfg.ScramIterations})
			if err != nil {
				return nil, fmt.Errorf("%s credential of %q: %w", m, user, err)
			}
			creds[user] = c
		}
		srv, err := hash.NewServer(func(user string) (scram.StoredCredentials, error) {
			c, ok := creds[user]
			if !ok {
				return scram.StoredCredentials{}, fmt.Errorf("no %s credential for user %q", m, user)
			}
			return c, nil
		})
		if err != nil {
			return nil, err
		}
		s.scram[m] = srv
	}
	return s, nil
}

// saslConn is one SASL_SSL connection's authentication state.
type saslConn struct {
	srv   *saslServer
	ev    Event // the TLS part of the connection's Event
	mech  string
	conv  *scram.ServerConversation
	done  bool // authenticated
	ended bool // the Event was recorded
}

// fail answers a SASL request with an error and closes the connection
// after sending it, as Kafka does.
func (c *authzConn) saslFail(resp kmsg.Response, err *SASLError) outcome {
	c.saslRecord("", err)
	return outcome{local: resp, closeAfter: err}
}

// saslRecord records the connection's Event once: its principal, or why
// authentication failed.
func (c *authzConn) saslRecord(principal string, err *SASLError) {
	s := c.sasl
	if s.ended {
		return
	}
	select {
	case <-c.b.done:
		return // shutting down; not a client problem
	default:
	}
	s.ended = true
	ev := s.ev
	ev.Mechanism = s.mech
	if err != nil {
		ev.Err = err
		ev.Diagnosis = "SASL authentication failed: " + err.Error()
	} else {
		ev.OK, ev.Principal = true, principal
	}
	c.b.record(ev)
}

// saslStep handles a request on a SASL_SSL connection before it has
// authenticated: ApiVersions, SaslHandshake v1 and SaslAuthenticate; any
// other request closes the connection, as Kafka's SaslServerAuthenticator
// does.
func (c *authzConn) saslStep(kreq kmsg.Request) outcome {
	s := c.sasl
	switch req := kreq.(type) {
	case *kmsg.ApiVersionsRequest:
		if c.b.cfg.ACLs != nil {
			return c.authorize(kreq)
		}
		return outcome{}
	case *kmsg.SASLHandshakeRequest:
		resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = slices.Clone(s.srv.cfg.Mechanisms)
		if s.mech != "" {
			resp.ErrorCode = kerr.IllegalSaslState.Code
			return c.saslFail(resp, &SASLError{Mechanism: s.mech, Reason: ReasonIllegalState, Detail: "a second SaslHandshake before authenticating"})
		}
		if req.Version < 1 {
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			return c.saslFail(resp, &SASLError{Reason: ReasonIllegalState, Detail: "SaslHandshake v0 (unframed SASL tokens) is not supported; clients send v1 since Kafka 1.0"})
		}
		if !slices.Contains(s.srv.cfg.Mechanisms, req.Mechanism) {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			return c.saslFail(resp, &SASLError{Reason: ReasonUnsupportedMechanism,
				Detail: fmt.Sprintf("the client asked for mechanism %q; this listener enables %s", req.Mechanism, strings.Join(s.srv.cfg.Mechanisms, ", "))})
		}
		s.mech = req.Mechanism
		if sv := s.srv.scram[s.mech]; sv != nil {
			s.conv = sv.NewConversation()
		}
		return outcome{local: resp}
	case *kmsg.SASLAuthenticateRequest:
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if s.mech == "" {
			resp.ErrorCode = kerr.IllegalSaslState.Code
			return c.saslFail(resp, &SASLError{Reason: ReasonIllegalState, Detail: "SaslAuthenticate before SaslHandshake"})
		}
		reply, principal, err := s.authenticate(req.SASLAuthBytes)
		if err != nil {
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			msg := "Authentication failed: " + err.Error()
			if err.Reason == ReasonUnknownUser || err.Reason == ReasonBadPassword {
				// Kafka does not tell a client which of the two it was;
				// the broker's log (the Event) does.
				msg = "Authentication failed during authentication due to invalid credentials with SASL mechanism " + s.mech
			}
			resp.ErrorMessage = &msg
			return c.saslFail(resp, err)
		}
		resp.SASLAuthBytes = reply
		if principal != "" {
			s.done = true
			c.principal = principal
			c.saslRecord(principal, nil)
		}
		return outcome{local: resp}
	}
	api := apiName(kreq.Key())
	err := &SASLError{Mechanism: s.mech, Reason: ReasonNotAuthenticated,
		Detail: fmt.Sprintf("%s request before SASL authentication: the client does not speak SASL (security.protocol=SSL on a SASL_SSL listener?)", api)}
	c.saslRecord("", err)
	return outcome{closeErr: err}
}

// advertiseSASL lists SaslHandshake as Kafka does, v0 to v1, and
// SaslAuthenticate v0 to v2. kfake lists SaslHandshake from v1 only, and
// librdkafka then believes the broker has no SASL handshake at all (its
// feature check wants v0). A v0 handshake is still refused.
func advertiseSASL(r *kmsg.ApiVersionsResponse) {
	if r.ErrorCode != 0 {
		return
	}
	want := map[int16][2]int16{int16(kmsg.SASLHandshake): {0, 1}, int16(kmsg.SASLAuthenticate): {0, 2}}
	for i, k := range r.ApiKeys {
		if v, ok := want[k.ApiKey]; ok {
			r.ApiKeys[i].MinVersion, r.ApiKeys[i].MaxVersion = v[0], v[1]
			delete(want, k.ApiKey)
		}
	}
	for _, key := range []int16{int16(kmsg.SASLHandshake), int16(kmsg.SASLAuthenticate)} {
		if v, ok := want[key]; ok {
			k := kmsg.NewApiVersionsResponseApiKey()
			k.ApiKey, k.MinVersion, k.MaxVersion = key, v[0], v[1]
			r.ApiKeys = append(r.ApiKeys, k)
		}
	}
	slices.SortFunc(r.ApiKeys, func(a, b kmsg.ApiVersionsResponseApiKey) int { return int(a.ApiKey) - int(b.ApiKey) })
}

// authenticate runs one SaslAuthenticate step of the handshaken
// mechanism; principal is set when authentication completes.
func (s *saslConn) authenticate(msg []byte) (reply []byte, who string, err *SASLError) {
	switch s.mech {
	case MechPlain:
		return s.plain(msg)
	case MechOAuthBearer:
		return s.oauthBearer(msg)
	}
	fail := func(r SASLReason, format string, a ...any) ([]byte, string, *SASLError) {
		return nil, "", &SASLError{Mechanism: s.mech, Reason: r, Detail: fmt.Sprintf(format, a...)}
	}
	if s.conv == nil || s.conv.Done() {
		return fail(ReasonIllegalState, "SaslAuthenticate after the SCRAM exchange ended")
	}
	first := s.conv.Username() == ""
	out, e := s.conv.Step(string(msg))
	switch {
	case e != nil && first && out == scram.ErrUnknownUser:
		return fail(ReasonUnknownUser, "unknown user %q: no %s credential on this broker", s.conv.Username(), s.mech)
	case e != nil && out == scram.ErrInvalidProof:
		return fail(ReasonBadPassword, "wrong password for user %q (the client proof does not match the stored %s credential)", s.conv.Username(), s.mech)
	case e != nil && strings.Contains(e.Error(), "nonce received did not match"):
		return fail(ReasonMalformed, "the client-final message does not echo the server's nonce (RFC 5802): librdkafka before 2.6.1 (kcat on Debian 12) repeats the client nonce, which Kafka 4.x refuses as well (librdkafka PR 4895)")
	case e != nil:
		return fail(ReasonMalformed, "%v", e)
	case s.conv.Done() && s.conv.Valid():
		return []byte(out), principal.User(s.conv.Username()), nil
	}
	return []byte(out), "", nil
}

// plain checks a PLAIN message: [authzid] NUL user NUL password.
func (s *saslConn) plain(msg []byte) ([]byte, string, *SASLError) {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return nil, "", &SASLError{Mechanism: MechPlain, Reason: ReasonMalformed, Detail: "want [authzid] NUL user NUL password"}
	}
	user, pw := string(parts[1]), string(parts[2])
	if len(parts[0]) > 0 && string(parts[0]) != user {
		return nil, "", &SASLError{Mechanism: MechPlain, Reason: ReasonMalformed, Detail: fmt.Sprintf("authorization ID %q differs from user %q", parts[0], user)}
	}
	want, ok := s.srv.cfg.Users[user]
	switch {
	case !ok:
		return nil, "", &SASLError{Mechanism: MechPlain, Reason: ReasonUnknownUser, Detail: fmt.Sprintf("unknown user %q", user)}
	case !constantEqual(want, pw):
		return nil, "", &SASLError{Mechanism: MechPlain, Reason: ReasonBadPassword, Detail: fmt.Sprintf("wrong password for user %q", user)}
	}
	return nil, principal.User(user), nil
}

func constantEqual(a, b string) bool {
	var v byte
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// oauthBearer checks an RFC 7628 client response: the GS2 header, then
// key=value pairs separated by ^A, among them auth=Bearer TOKEN.
func (s *saslConn) oauthBearer(msg []byte) ([]byte, string, *SASLError) {
	fail := func(r SASLReason, format string, a ...any) ([]byte, string, *SASLError) {
		return nil, "", &SASLError{Mechanism: MechOAuthBearer, Reason: r, Detail: fmt.Sprintf(format, a...)}
	}
	parts := strings.Split(string(msg), "\x01")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "n,") {
		return fail(ReasonMalformed, "not an RFC 7628 client response (want n,,^Aauth=Bearer TOKEN^A^A)")
	}
	var token string
	for _, kv := range parts[1:] {
		if v, ok := strings.CutPrefix(kv, "auth="); ok {
			t, ok := strings.CutPrefix(v, "Bearer ")
			if !ok {
				// Not the value: it may be a credential of another scheme.
				scheme, _, _ := strings.Cut(v, " ")
				return fail(ReasonMalformed, "the auth value is not \"Bearer TOKEN\" (scheme %q)", scheme)
			}
			token = strings.TrimSpace(t)
		}
	}
	if token == "" {
		return fail(ReasonMalformed, "no auth=Bearer TOKEN in the client response")
	}
	sub, err := s.srv.cfg.OAuth.Validate(token)
	if err != nil {
		return nil, "", err
	}
	return nil, principal.User(sub), nil
}

// signatureAlgorithms are those Kafka's validator (jose4j) accepts and
// kafkatls mints; "none" is not among them.
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}

// Validate checks a serialized JWT as the broker does and returns its
// sub claim.
func (o *OAuthConfig) Validate(token string) (string, *SASLError) {
	fail := func(r SASLReason, format string, a ...any) (string, *SASLError) {
		return "", &SASLError{Mechanism: MechOAuthBearer, Reason: r, Detail: fmt.Sprintf(format, a...)}
	}
	tok, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return fail(ReasonBadToken, "the token is not a signed JWT (%v)", err)
	}
	kid := tok.Headers[0].KeyID
	keys := o.JWKS.Key(kid)
	if kid == "" || len(keys) == 0 {
		var have []string
		for _, k := range o.JWKS.Keys {
			have = append(have, k.KeyID)
		}
		return fail(ReasonUnknownKey, "the token is signed by key %q, which is not in the JWKS (it has %s): signed by another key, or the JWKS is out of date",
			kid, strings.Join(have, ", "))
	}
	var claims jwt.Claims
	var verr error
	for _, k := range keys {
		if verr = tok.Claims(k.Key, &claims); verr == nil {
			break
		}
	}
	if verr != nil {
		return fail(ReasonBadSignature, "the signature does not verify with JWKS key %q (%v): the token was signed by another key with the same kid", kid, verr)
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	skew := o.ClockSkew
	switch {
	case claims.Expiry == nil:
		return fail(ReasonMissingClaim, "the token has no exp claim")
	case claims.IssuedAt == nil:
		return fail(ReasonMissingClaim, "the token has no iat claim")
	case now.After(claims.Expiry.Time().Add(skew)):
		return fail(ReasonExpired, "the token expired at %s (broker time %s, clock skew allowed %s): mint a new one (kafkatls token NAME)",
			claims.Expiry.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	case claims.NotBefore != nil && now.Add(skew).Before(claims.NotBefore.Time()):
		return fail(ReasonNotYetValid, "the token is not valid before %s (broker time %s, clock skew allowed %s): the issuer's clock is ahead",
			claims.NotBefore.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	case now.Add(skew).Before(claims.IssuedAt.Time()):
		return fail(ReasonNotYetValid, "the token was issued at %s, in the future (broker time %s, clock skew allowed %s): the issuer's clock is ahead",
			claims.IssuedAt.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	case o.Issuer != "" && claims.Issuer != o.Issuer:
		return fail(ReasonIssuer, "the token's issuer (iss) is %q, the broker expects %q", claims.Issuer, o.Issuer)
	case o.Audience != "" && !claims.Audience.Contains(o.Audience):
		return fail(ReasonAudience, "the token's audience (aud) is %q, which does not include the %q the broker expects", []string(claims.Audience), o.Audience)
	case strings.TrimSpace(claims.Subject) == "":
		return fail(ReasonMissingClaim, "the token has no sub claim (the principal)")
	}
	return claims.Subject, nil
}
