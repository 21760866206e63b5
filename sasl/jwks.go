package sasl

import "github.com/go-jose/go-jose/v4"

// KeySet reads the issuer's JWKS (every key brokers accept, the previous
// one too during a rotation), for the test broker's validator.
func (i *Issuer) KeySet() (*jose.JSONWebKeySet, error) { return readJWKS(i.JWKSPath()) }

// WithAudience returns a copy of the issuer that mints tokens for another
// audience with the same key: verify's wrong-audience probe.
func (i *Issuer) WithAudience(aud string) *Issuer {
	c := *i
	c.Settings.Audience = aud
	return &c
}
