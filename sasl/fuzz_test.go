package sasl_test

import (
	"bytes"
	"testing"

	"github.com/kafkatls/kafkatls/sasl"
)

// FuzzParseDiscovery: a discovery document from the network never panics
// the parser, and one it accepts names the asked-for issuer and endpoints
// that IdP.Check accepts (HTTPS, nothing that would break the allow-list).
func FuzzParseDiscovery(f *testing.F) {
	f.Add([]byte(discoveryDoc(kcIssuer)))
	f.Add([]byte(`{"issuer":"` + kcIssuer + `","token_endpoint":"https://a,b/t","jwks_uri":"https://kc/c"}`))
	f.Add([]byte(`{"issuer":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := sasl.ParseDiscovery(bytes.NewReader(doc), kcIssuer)
		if err != nil {
			return
		}
		if d.Issuer != kcIssuer {
			t.Fatalf("accepted issuer %q", d.Issuer)
		}
		p := sasl.IdP{Issuer: d.Issuer, TokenURL: d.TokenEndpoint, JWKSURL: d.JWKSURI, Audience: "kafka", SubClaim: sasl.ClaimAzp}
		if err := p.Check(); err != nil {
			t.Fatalf("accepted endpoints IdP.Check refuses: %v", err)
		}
	})
}
