package templates

import (
	"fmt"
	"strings"
)

// SASL describes an identity's SASL_SSL side; nil in Data means mutual TLS
// only. The caller (identity, through package sasl) builds the values:
// templates only checks and writes them, escaped for each format.
type SASL struct {
	// Client side. Mechanism is the SASL mechanism the client uses
	// (SCRAM-SHA-512, SCRAM-SHA-256 or OAUTHBEARER); JAASConfig its
	// sasl.jaas.config, already JAAS-quoted.
	Mechanism  string
	JAASConfig string
	// SCRAM: the user name and password (librdkafka has no password file;
	// kcat.conf is 0600) and the password file KafkaJS reads.
	Username, Password, PasswordFile string
	// OAUTHBEARER: the login callback handler, the token endpoint URL
	// (file: URL of TokenFile) and the token file KafkaJS reads.
	LoginCallbackHandler, TokenEndpointURL, TokenFile string
	// External IdP (Keycloak...): the client id (librdkafka's and the
	// comments' view) and the file holding its secret; TokenFile is then
	// empty: the client fetches tokens from TokenEndpointURL, an https:
	// URL.
	ClientID, ClientSecretFile string
	// ClientSecret is the IdP client's secret: librdkafka has no secret
	// file (kcat.conf is 0600).
	ClientSecret string
	// IdPTrustFile is the PEM file the IdP's HTTPS certificate is checked
	// against (KafkaJS's token request).
	IdPTrustFile string
	// AllowList is the JVM option (for KAFKA_OPTS) that allows the
	// OAUTHBEARER URLs this config uses; empty when it uses none.
	AllowList string
	// Port is the brokers' SASL_SSL listener port.
	Port int

	// Broker side: the mechanisms its SASL_SSL listener enables, and for
	// OAUTHBEARER the JWKS URL and the issuer and audience it expects.
	Mechanisms                                []ServerMechanism
	JWKSURL, ExpectedIssuer, ExpectedAudience string
	// SubClaim is the token claim that becomes the principal
	// (sasl.oauthbearer.sub.claim.name); empty: Kafka's default, sub.
	SubClaim string
}

// IdP reports whether the tokens come from an external identity provider
// (an https: endpoint) rather than kafkatls's own issuer (file: URLs).
func (s *SASL) IdP() bool {
	return s != nil && strings.HasPrefix(s.TokenEndpointURL+s.JWKSURL, "https:")
}

// ServerMechanism is one mechanism of a broker's SASL_SSL listener.
type ServerMechanism struct {
	Mechanism       string // e.g. SCRAM-SHA-512
	JAASConfig      string // the broker's login module line
	CallbackHandler string // the server callback handler class (OAUTHBEARER)
}

// Prefix is the mechanism's listener prefix: listener.name.sasl_ssl.<mech>.
func (m ServerMechanism) Prefix() string {
	return "listener.name.sasl_ssl." + strings.ToLower(m.Mechanism) + "."
}

// OAuth reports whether the client uses OAUTHBEARER.
func (s *SASL) OAuth() bool { return s != nil && s.Mechanism == "OAUTHBEARER" }

// Scram reports whether the client uses SCRAM.
func (s *SASL) Scram() bool { return s != nil && strings.HasPrefix(s.Mechanism, "SCRAM-") }

// MechanismList is sasl.enabled.mechanisms of a broker.
func (s *SASL) MechanismList() string {
	var m []string
	for _, x := range s.Mechanisms {
		m = append(m, x.Mechanism)
	}
	return strings.Join(m, ",")
}

// LibMechanism is librdkafka's name of the mechanism (sasl.mechanisms).
func (s *SASL) LibMechanism() string { return s.Mechanism }

// JSMechanism is KafkaJS's name of the mechanism.
func (s *SASL) JSMechanism() string { return strings.ToLower(s.Mechanism) }

// checkSASL checks d.SASL for d's role.
func checkSASL(v *view) error {
	s := v.Data.SASL
	if s == nil {
		return nil
	}
	if s.Port == 0 {
		s.Port = DefaultSASLPort
	}
	if s.Port < 1 || s.Port > 65535 {
		return fieldErr("SASL.Port", "%d is not a TCP port", s.Port)
	}
	switch v.Role {
	case RoleClient:
		switch {
		case s.Scram():
			for _, f := range []struct{ field, v string }{{"SASL.Username", s.Username}, {"SASL.Password", s.Password}, {"SASL.PasswordFile", s.PasswordFile}} {
				if err := checkText(f.field, f.v, true); err != nil {
					return err
				}
				if strings.Contains(f.v, `\:`) || strings.Contains(f.v, `\=`) {
					return fieldErr(f.field, `contains "\:" or "\=", which kcat's config-file reader rewrites`)
				}
			}
		case s.OAuth():
			fields := []struct{ field, v string }{{"SASL.LoginCallbackHandler", s.LoginCallbackHandler},
				{"SASL.TokenEndpointURL", s.TokenEndpointURL}, {"SASL.TokenFile", s.TokenFile}, {"SASL.AllowList", s.AllowList}}
			if s.IdP() {
				fields = []struct{ field, v string }{{"SASL.LoginCallbackHandler", s.LoginCallbackHandler},
					{"SASL.TokenEndpointURL", s.TokenEndpointURL}, {"SASL.ClientID", s.ClientID},
					{"SASL.ClientSecretFile", s.ClientSecretFile}, {"SASL.IdPTrustFile", s.IdPTrustFile}, {"SASL.AllowList", s.AllowList}}
			}
			if s.IdP() {
				fields = append(fields, struct{ field, v string }{"SASL.ClientSecret", s.ClientSecret})
			}
			for _, f := range fields {
				if err := checkText(f.field, f.v, true); err != nil {
					return err
				}
				if strings.Contains(f.v, `\:`) || strings.Contains(f.v, `\=`) {
					return fieldErr(f.field, `contains "\:" or "\=", which kcat's config-file reader rewrites`)
				}
			}
		default:
			return fieldErr("SASL.Mechanism", "%q: want SCRAM-SHA-512, SCRAM-SHA-256 or OAUTHBEARER", s.Mechanism)
		}
		if err := checkText("SASL.JAASConfig", s.JAASConfig, true); err != nil {
			return err
		}
	case RoleBroker:
		if len(s.Mechanisms) == 0 {
			return fieldErr("SASL.Mechanisms", "empty; a SASL_SSL listener needs one mechanism at least")
		}
		for i, m := range s.Mechanisms {
			if err := checkText(fmt.Sprintf("SASL.Mechanisms[%d].JAASConfig", i), m.JAASConfig, true); err != nil {
				return err
			}
			if m.Mechanism == "OAUTHBEARER" && s.SubClaim != "" {
				if err := checkText("SASL.SubClaim", s.SubClaim, true); err != nil {
					return err
				}
			}
			if m.Mechanism == "OAUTHBEARER" {
				for _, f := range []struct{ field, v string }{{"SASL.JWKSURL", s.JWKSURL}, {"SASL.ExpectedIssuer", s.ExpectedIssuer},
					{"SASL.ExpectedAudience", s.ExpectedAudience}, {"SASL.AllowList", s.AllowList}, {fmt.Sprintf("SASL.Mechanisms[%d].CallbackHandler", i), m.CallbackHandler}} {
					if err := checkText(f.field, f.v, true); err != nil {
						return err
					}
				}
			}
		}
	default:
		return fieldErr("SASL", "a %s has no SASL_SSL configs (clients and brokers do)", v.Role)
	}
	return nil
}

// DefaultSASLPort is the brokers' SASL_SSL listener port unless told.
const DefaultSASLPort = 9095

// IsScram and IsOAuth tell the templates which client side to write (nil
// SASL: mutual TLS).
func (v *view) IsScram() bool { return v.SASL.Scram() }
func (v *view) IsOAuth() bool { return v.SASL.OAuth() }

// ClientHoldsPassword: client.properties (and the Spring file) hold a
// password, of the stores or of SCRAM.
func (v *view) ClientHoldsPassword() bool { return v.Stores.HoldsPassword || v.IsScram() }

// ClientSASL: the config is a client's that logs in with SASL (a broker's
// own client.properties, its admin config, stays on mutual TLS).
func (v *view) ClientSASL() bool { return v.SASL != nil && v.SASL.Mechanism != "" }
