package testbroker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// tokenSigner signs test JWTs with one key under one kid.
type tokenSigner struct {
	key *ecdsa.PrivateKey
	kid string
}

func newSigner(t *testing.T, kid string) *tokenSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &tokenSigner{key: k, kid: kid}
}

func (s *tokenSigner) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: "ES256", Use: "sig"}
}

// mint signs claims; mod adjusts the defaults (sub alice, iss kafkatls,
// aud kafka, issued now, valid an hour).
func (s *tokenSigner) mint(t *testing.T, mod func(*jwt.Claims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.Claims{Subject: "alice", Issuer: "kafkatls", Audience: jwt.Audience{"kafka"},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}
	if mod != nil {
		mod(&c)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startSASL starts a broker with a SASL_SSL listener enabling every
// mechanism: users alice (password alice-secret) and bob, tokens signed by
// the returned signer.
func startSASL(t *testing.T, mod func(*Config)) (*env, *tokenSigner) {
	t.Helper()
	signer := newSigner(t, "k1")
	e := start(t, func(c *Config) {
		c.SASL = &SASLConfig{
			Mechanisms: []string{MechScramSHA512, MechScramSHA256, MechPlain, MechOAuthBearer},
			Users:      map[string]string{"alice": "alice-secret", "bob": `b"o\b=`},
			OAuth: &OAuthConfig{JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{signer.jwk()}},
				Issuer: "kafkatls", Audience: "kafka"},
		}
		if mod != nil {
			mod(c)
		}
	})
	return e, signer
}

// saslClient is a kgo client on the SASL_SSL listener, trusting the CA,
// presenting no certificate.
func (e *env) saslClient(t *testing.T, m sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(e.broker.SASLAddr()),
		kgo.DialTLSConfig(&tls.Config{RootCAs: e.ca.pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(m),
		kgo.DialTimeout(5 * time.Second),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.RequestRetries(0),
		kgo.RetryTimeout(time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestSASLLogins(t *testing.T) {
	e, signer := startSASL(t, nil)
	if e.broker.SASLAddr() == "" || e.broker.SASLAddr() == e.broker.Addr() {
		t.Fatalf("SASL_SSL listener %q beside mTLS %q", e.broker.SASLAddr(), e.broker.Addr())
	}
	for _, tc := range []struct {
		name, mech, principal string
		m                     sasl.Mechanism
	}{
		{"scram-sha-512", MechScramSHA512, "User:alice", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()},
		{"scram-sha-256 password with quotes and backslash", MechScramSHA256, "User:bob", scram.Auth{User: "bob", Pass: `b"o\b=`}.AsSha256Mechanism()},
		{"plain", MechPlain, "User:alice", plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()},
		{"oauthbearer", MechOAuthBearer, "User:carol", oauth.Auth{Token: signer.mint(t, func(c *jwt.Claims) { c.Subject = "carol" })}.AsMechanism()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "t-" + strings.ReplaceAll(tc.name, " ", "-")
			cl := e.saslClient(t, tc.m, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
			ctx := testCtx(t)
			mreq := kmsg.NewPtrMetadataRequest()
			meta, err := mreq.RequestWith(ctx, cl)
			if err != nil {
				t.Fatalf("metadata: %v", err)
			}
			// The node is advertised on the listener the client came in by.
			if got := net.JoinHostPort(meta.Brokers[0].Host, strconv.Itoa(int(meta.Brokers[0].Port))); got != e.broker.SASLAddr() {
				t.Fatalf("advertised %s on the SASL_SSL listener %s", got, e.broker.SASLAddr())
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(tc.name)}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			for got := false; !got; {
				fs := cl.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Fatalf("poll: %v", err)
				}
				fs.EachRecord(func(r *kgo.Record) { got = got || string(r.Value) == tc.name })
			}
			ev := e.waitEvent(t, func(ev Event) bool { return ev.Listener == ListenerSASLSSL && ev.Mechanism == tc.mech })
			if !ev.OK || ev.Principal != tc.principal || ev.TLSVersion == "" || ev.ClientSubject != "" {
				t.Fatalf("event %+v, want OK principal %s", ev, tc.principal)
			}
		})
	}
}

func TestSASLRefusals(t *testing.T) {
	e, signer := startSASL(t, nil)
	other := newSigner(t, "k2")
	impostor := newSigner(t, "k1") // same kid, another key
	token := func(s *tokenSigner, mod func(*jwt.Claims)) sasl.Mechanism {
		return oauth.Auth{Token: s.mint(t, mod)}.AsMechanism()
	}
	ago := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(time.Now().Add(-d)) }
	for _, tc := range []struct {
		name   string
		m      sasl.Mechanism
		reason SASLReason
		detail string // in the broker's diagnosis
		client string // in the client's error
	}{
		{"scram wrong password", scram.Auth{User: "alice", Pass: "nope"}.AsSha512Mechanism(), ReasonBadPassword, `wrong password for user "alice"`, "invalid credentials with SASL mechanism SCRAM-SHA-512"},
		{"scram unknown user", scram.Auth{User: "mallory", Pass: "x"}.AsSha256Mechanism(), ReasonUnknownUser, `unknown user "mallory"`, "invalid credentials"},
		{"plain wrong password", plain.Auth{User: "alice", Pass: "nope"}.AsMechanism(), ReasonBadPassword, `wrong password for user "alice"`, "invalid credentials"},
		{"expired token", token(signer, func(c *jwt.Claims) {
			c.IssuedAt, c.NotBefore, c.Expiry = ago(2*time.Hour), ago(2*time.Hour), ago(time.Hour)
		}), ReasonExpired, "the token expired at", "the token expired at"},
		{"token signed by another key", token(other, nil), ReasonUnknownKey, `signed by key "k2", which is not in the JWKS (it has k1)`, "not in the JWKS"},
		{"token signed by an impostor key with a known kid", token(impostor, nil), ReasonBadSignature, `does not verify with JWKS key "k1"`, "does not verify"},
		{"wrong audience", token(signer, func(c *jwt.Claims) { c.Audience = jwt.Audience{"other"} }), ReasonAudience, `audience (aud) is ["other"]`, `expects`},
		{"wrong issuer", token(signer, func(c *jwt.Claims) { c.Issuer = "elsewhere" }), ReasonIssuer, `issuer (iss) is "elsewhere", the broker expects "kafkatls"`, "elsewhere"},
		{"issued in the future", token(signer, func(c *jwt.Claims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour)); c.NotBefore = nil }), ReasonNotYetValid, "in the future", "clock"},
		{"no sub", token(signer, func(c *jwt.Claims) { c.Subject = "" }), ReasonMissingClaim, "no sub claim", "no sub claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := e.saslClient(t, tc.m)
			_, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl)
			if err == nil {
				t.Fatal("authenticated; want refused")
			}
			if !strings.Contains(err.Error(), tc.client) {
				t.Errorf("client error %q does not say %q", err, tc.client)
			}
			ev := e.waitEvent(t, func(ev Event) bool { return ev.Listener == ListenerSASLSSL && !ev.OK })
			var se *SASLError
			if !errors.As(ev.Err, &se) || se.Reason != tc.reason || !strings.Contains(ev.Diagnosis, tc.detail) {
				t.Fatalf("event %+v: want reason %q with %q", ev, tc.reason, tc.detail)
			}
		})
	}
}

func TestSASLProtocolMisuse(t *testing.T) {
	e, _ := startSASL(t, func(c *Config) { c.SASL.Mechanisms = []string{MechScramSHA512} })
	t.Run("mechanism not enabled", func(t *testing.T) {
		cl := e.saslClient(t, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl); err == nil {
			t.Fatal("PLAIN accepted on a SCRAM-only listener")
		}
		ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
		var se *SASLError
		if !errors.As(ev.Err, &se) || se.Reason != ReasonUnsupportedMechanism || !strings.Contains(ev.Diagnosis, `"PLAIN"; this listener enables SCRAM-SHA-512`) {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("SaslHandshake advertised from v0 as on Kafka", func(t *testing.T) {
		// librdkafka's feature check wants SaslHandshake v0 in ApiVersions,
		// which kfake lists from v1 only: kcat then reported "SASL
		// Handshake not supported by broker".
		cl := e.saslClient(t, scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism())
		av, err := kmsg.NewPtrApiVersionsRequest().RequestWith(testCtx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int16][2]int16{}
		for _, k := range av.ApiKeys {
			got[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		if got[int16(kmsg.SASLHandshake)] != [2]int16{0, 1} || got[int16(kmsg.SASLAuthenticate)] != [2]int16{0, 2} {
			t.Fatalf("SaslHandshake %v, SaslAuthenticate %v; want [0 1] and [0 2]", got[int16(kmsg.SASLHandshake)], got[int16(kmsg.SASLAuthenticate)])
		}
	})
	t.Run("TLS client without SASL", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.SASLAddr()),
			kgo.DialTLSConfig(&tls.Config{RootCAs: e.ca.pool, MinVersion: tls.VersionTLS12}), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl); err == nil {
			t.Fatal("Metadata served before SASL authentication")
		}
		ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
		var se *SASLError
		if !errors.As(ev.Err, &se) || se.Reason != ReasonNotAuthenticated || !strings.Contains(ev.Diagnosis, "Metadata request before SASL authentication") {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("mTLS listener still asks for a certificate", func(t *testing.T) {
		cert := e.ca.issue(t, leafOpts{cn: "client1"})
		cl := e.client(t, &cert, nil)
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl); err != nil {
			t.Fatal(err)
		}
		ev := e.waitEvent(t, func(ev Event) bool { return ev.OK })
		if ev.Listener != ListenerSSL || ev.Principal != "User:CN=client1" {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestSASLPrincipalsUnderACLs(t *testing.T) {
	e, signer := startSASL(t, func(c *Config) {
		c.ACLs = NewACLs(
			ACL{Principal: "User:alice", Resource: Topic, Name: "orders", Operation: Write},
			ACL{Principal: "User:alice", Resource: Topic, Name: "orders", Operation: Describe},
			ACL{Principal: "User:carol", Resource: Topic, Name: "payments", Operation: Describe},
			ACL{Principal: "User:carol", Resource: Topic, Name: "payments", Operation: Write},
		)
		c.Topics = []string{"orders", "payments"}
	})
	for _, tc := range []struct {
		name, topic string
		m           sasl.Mechanism
		allowed     bool
	}{
		{"scram principal granted", "orders", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(), true},
		{"scram principal not granted", "payments", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(), false},
		{"token principal granted", "payments", oauth.Auth{Token: signer.mint(t, func(c *jwt.Claims) { c.Subject = "carol" })}.AsMechanism(), true},
		{"token principal not granted", "orders", oauth.Auth{Token: signer.mint(t, func(c *jwt.Claims) { c.Subject = "carol" })}.AsMechanism(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := e.saslClient(t, tc.m)
			err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: tc.topic, Value: []byte("x")}).FirstErr()
			if tc.allowed && err != nil {
				t.Fatalf("produce: %v", err)
			}
			if !tc.allowed && (err == nil || !strings.Contains(err.Error(), "TOPIC_AUTHORIZATION_FAILED")) {
				t.Fatalf("produce: %v, want TOPIC_AUTHORIZATION_FAILED", err)
			}
		})
	}
}

func TestSASLConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  SASLConfig
		want string
	}{
		{"no mechanism", SASLConfig{}, "Mechanisms is empty"},
		{"unknown mechanism", SASLConfig{Mechanisms: []string{"GSSAPI"}}, `unsupported mechanism "GSSAPI"`},
		{"oauthbearer without JWKS", SASLConfig{Mechanisms: []string{MechOAuthBearer}}, "JWKS is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newPKI(t, "ca")
			_, err := Start(Config{Certificate: ca.issue(t, leafOpts{cn: "b", server: true}), ClientCAs: ca.pool, SASL: &tc.cfg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start: %v, want %q", err, tc.want)
			}
		})
	}
}

// rawMech sends msg as the first SaslAuthenticate bytes of mechanism name.
type rawMech struct{ name, msg string }

func (m rawMech) Name() string { return m.name }
func (m rawMech) Authenticate(context.Context, string) (sasl.Session, []byte, error) {
	return rawSession{}, []byte(m.msg), nil
}

type rawSession struct{}

func (rawSession) Challenge([]byte) (bool, []byte, error) { return true, nil, nil }

func TestSASLMalformedMessages(t *testing.T) {
	e, _ := startSASL(t, nil)
	for _, tc := range []struct {
		name, mech, msg, want string
	}{
		{"oauthbearer without GS2 header", MechOAuthBearer, "auth=Bearer x\x01\x01", "not an RFC 7628 client response"},
		{"oauthbearer with another scheme, secret not logged", MechOAuthBearer, "n,,\x01auth=Basic c2VjcmV0\x01\x01", `not "Bearer TOKEN" (scheme "Basic")`},
		{"oauthbearer without auth", MechOAuthBearer, "n,,\x01host=x\x01\x01", "no auth=Bearer TOKEN"},
		{"plain without separators", MechPlain, "alice", "want [authzid] NUL user NUL password"},
		{"plain for another authorization ID", MechPlain, "bob\x00alice\x00alice-secret", `authorization ID "bob" differs from user "alice"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := e.saslClient(t, rawMech{tc.mech, tc.msg})
			if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl); err == nil {
				t.Fatal("authenticated")
			}
			ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
			var se *SASLError
			if !errors.As(ev.Err, &se) || se.Reason != ReasonMalformed || !strings.Contains(ev.Diagnosis, tc.want) || strings.Contains(ev.Diagnosis, "c2VjcmV0") {
				t.Fatalf("event %+v, want %q", ev, tc.want)
			}
		})
	}
}
