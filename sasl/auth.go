// Package sasl holds what kafkatls knows about SASL_SSL authentication
// beside mutual TLS: the authentication kinds an identity may use and their
// Kafka mechanism names (data, one entry per kind), the JAAS quoting of
// sasl.jaas.config, the scram.sh that creates SCRAM credentials from
// password files, and a local OAuth token issuer (a signing key, its JWKS,
// and JWTs minted for identities) that Kafka's own OAUTHBEARER validator
// accepts.
package sasl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/principal"
)

// Auth is how an identity authenticates to Kafka.
type Auth string

// The authentication kinds.
const (
	MTLS        Auth = "mtls"
	ScramSHA512 Auth = "scram-sha-512"
	ScramSHA256 Auth = "scram-sha-256"
	OAuthBearer Auth = "oauthbearer"
)

// Kafka class names (Kafka 3.4 and later; docs/sasl.md lists the 3.x
// aliases under ...oauthbearer.secured, removed in 4.0).
const (
	ScramLoginModule       = "org.apache.kafka.common.security.scram.ScramLoginModule"
	OAuthBearerLoginModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	// OAuthValidatorHandler validates JWTs on the broker against a JWKS.
	OAuthValidatorHandler = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"
	// OAuthLoginHandler fetches (or, for a file: URL, reads) the client's token.
	OAuthLoginHandler = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
	// AllowedURLsProperty is the JVM system property that lists, comma
	// separated, every JWKS and token endpoint URL Kafka (3.9.1+, 4.0+;
	// CVE-2025-27817) may open. Kafka compares each entry with the
	// configured value as an exact string: file:/x is not file:///x.
	AllowedURLsProperty = "org.apache.kafka.sasl.oauthbearer.allowed.urls"
)

// Listener is the name of the SASL_SSL listener kafkatls adds to a broker.
const Listener = "SASL_SSL"

// DefaultPort is the SASL_SSL listener's default port: 9093 is the mTLS
// listener's and 9094 the KRaft controllers', so the next free one.
const DefaultPort = 9095

// Spec is the declaration of one authentication kind.
type Spec struct {
	Auth Auth
	// Mechanism is the SASL mechanism name Kafka and librdkafka use
	// (sasl.mechanism); empty for mutual TLS.
	Mechanism string
	// LoginModule is the JAAS login module of sasl.jaas.config.
	LoginModule string
	// Scram: the identity has a password the brokers hold a salted
	// credential for. OAuth: the identity presents a JWT.
	Scram, OAuth bool
	// Describe says in a few words what the kind is.
	Describe string
}

// SASL reports whether the kind authenticates with SASL (over TLS).
func (s Spec) SASL() bool { return s.Mechanism != "" }

var specs = []Spec{
	{Auth: MTLS, Describe: "mutual TLS: the client certificate's subject is the principal"},
	{Auth: ScramSHA512, Mechanism: "SCRAM-SHA-512", LoginModule: ScramLoginModule, Scram: true,
		Describe: "SASL/SCRAM-SHA-512 over TLS: a password; the principal is User:NAME"},
	{Auth: ScramSHA256, Mechanism: "SCRAM-SHA-256", LoginModule: ScramLoginModule, Scram: true,
		Describe: "SASL/SCRAM-SHA-256 over TLS: a password; the principal is User:NAME"},
	{Auth: OAuthBearer, Mechanism: "OAUTHBEARER", LoginModule: OAuthBearerLoginModule, OAuth: true,
		Describe: "SASL/OAUTHBEARER over TLS: a JWT; the principal is User:<its sub claim>"},
}

// Specs returns every kind's declaration, mutual TLS first.
func Specs() []Spec { return slices.Clone(specs) }

// Spec returns the kind's declaration ("" is mutual TLS); an unknown kind
// gets a zero Spec naming it.
func (a Auth) Spec() Spec {
	if a == "" {
		a = MTLS
	}
	for _, s := range specs {
		if s.Auth == a {
			return s
		}
	}
	return Spec{Auth: a}
}

// Names lists the kinds' names, for messages: "mtls, scram-sha-512, ...".
func Names() string {
	var n []string
	for _, s := range specs {
		n = append(n, string(s.Auth))
	}
	return strings.Join(n, ", ")
}

// UnknownAuthError names an authentication kind kafkatls does not know.
type UnknownAuthError struct{ Value string }

func (e *UnknownAuthError) Error() string {
	return fmt.Sprintf("unknown authentication %q: want one of %s", e.Value, Names())
}

// ParseAuth parses a kind by its name or its Kafka mechanism name (case
// insensitive); "" is mutual TLS.
func ParseAuth(s string) (Auth, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return MTLS, nil
	}
	for _, sp := range specs {
		if v == string(sp.Auth) || (sp.Mechanism != "" && v == strings.ToLower(sp.Mechanism)) {
			return sp.Auth, nil
		}
	}
	return "", &UnknownAuthError{Value: s}
}

// ParseMechanisms parses the SASL mechanisms a broker's SASL_SSL listener
// enables (comma lists allowed); mutual TLS is not one, the SSL listener
// serves it. Duplicates are dropped; the order is kept.
func ParseMechanisms(values []string) ([]Auth, error) {
	var out []Auth
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			a, err := ParseAuth(item)
			if err != nil {
				return nil, err
			}
			if !a.Spec().SASL() {
				return nil, &NotSASLError{Auth: a}
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// NotSASLError: a kind that is not a SASL mechanism was given where one
// was wanted.
type NotSASLError struct{ Auth Auth }

func (e *NotSASLError) Error() string {
	return fmt.Sprintf("%s is not a SASL mechanism (the SSL listener serves it); want scram-sha-512, scram-sha-256 or oauthbearer", e.Auth)
}

// Principal is the principal Kafka gives an identity named name that
// authenticates with a: for SCRAM the user name, for OAUTHBEARER the
// token's sub claim, which kafkatls mints as name; for mutual TLS the
// certificate's (certPrincipal).
func Principal(a Auth, name, certPrincipal string) string {
	if a.Spec().SASL() {
		return principal.User(name)
	}
	return certPrincipal
}

// Mechanisms returns the Kafka mechanism names of kinds, in order.
func Mechanisms(kinds []Auth) []string {
	var out []string
	for _, a := range kinds {
		if m := a.Spec().Mechanism; m != "" {
			out = append(out, m)
		}
	}
	return out
}
