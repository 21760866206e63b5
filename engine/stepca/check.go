package stepca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/engine/certdiff"
)

// validitySlack is how far the leaf's end may be from now+days before it
// counts as changed: step-ca's clock and the request's round trip.
const validitySlack = time.Hour

// Template settings named in errors.
const (
	templateSetting = "options.x509.template of the provisioner to kafkatls's Kafka template (docs/engines.md, stepca.KafkaTemplate)"
	subjectSetting  = `options.x509.template with "rawSubject": {{ toJson .Insecure.CR.RawSubject }} (step-ca's default template keeps only the CN from the token)`
	sansSetting     = `options.x509.template with "dnsNames"/"ipAddresses"/"emailAddresses"/"uris" from .Insecure.CR (step-ca's default template takes the token's SANs, the CN when there are none)`
)

func (c *Client) mismatch(field, want, got, setting string, probable bool) *MismatchError {
	return &MismatchError{Provisioner: c.cfg.Provisioner, Field: field, Want: want, Got: got, Setting: setting, Probable: probable}
}

// check compares what step-ca issued with what was asked; every difference
// is a *MismatchError (joined).
func (c *Client) check(req Request, pub crypto.PublicKey, want subject, start time.Time, is *Issued) error {
	leaf := is.Leaf
	var errs []error
	if pk, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(pub) {
		return fmt.Errorf("%w: step-ca's certificate is not for the key in the CSR", ErrEngine)
	}
	if leaf.IsCA {
		errs = append(errs, c.mismatch("basic constraints", "CA:FALSE", "CA:TRUE", `options.x509.template without "basicConstraints"`, false))
	}

	// Extended key usages.
	has := func(u x509.ExtKeyUsage) bool { return slices.Contains(leaf.ExtKeyUsage, u) }
	// The role's declaration says which usages it needs (a server role:
	// serverAuth alone; every Kafka role: clientAuth too).
	wantsClient := slices.Contains(req.Role.ExtKeyUsage(), x509.ExtKeyUsageClientAuth)
	wantEKU := "serverAuth"
	if wantsClient {
		wantEKU = "serverAuth+clientAuth"
	}
	if req.Role.IsServer() && !has(x509.ExtKeyUsageServerAuth) {
		errs = append(errs, c.mismatch("extended key usage", wantEKU+" (a "+string(req.Role)+" accepts TLS connections)", certdiff.EKUs(leaf),
			`options.x509.template with "extKeyUsage": ["serverAuth", "clientAuth"] (a client-only provisioner cannot sign a `+string(req.Role)+`)`, false))
	}
	if wantsClient && !has(x509.ExtKeyUsageClientAuth) {
		errs = append(errs, c.mismatch("extended key usage", "clientAuth", certdiff.EKUs(leaf), `options.x509.template with "clientAuth" in "extKeyUsage"`, false))
	}
	var odd []string
	for _, u := range leaf.ExtKeyUsage {
		if u != x509.ExtKeyUsageServerAuth && u != x509.ExtKeyUsageClientAuth {
			odd = append(odd, certdiff.EKUName(u))
		}
	}
	if len(leaf.UnknownExtKeyUsage) > 0 || len(odd) > 0 {
		errs = append(errs, c.mismatch("extended key usage", "serverAuth/clientAuth only", certdiff.EKUs(leaf), `options.x509.template with "extKeyUsage" of serverAuth/clientAuth only`, false))
	}
	if !req.Role.IsServer() && has(x509.ExtKeyUsageServerAuth) {
		is.Warnings = append(is.Warnings, fmt.Sprintf("client certificate %q also has serverAuth because provisioner %q's template gives it; a second provisioner with the client-only template (extKeyUsage [clientAuth]) keeps a stolen client key from posing as a broker", req.Name, c.cfg.Provisioner))
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		errs = append(errs, c.mismatch("key usage", "digitalSignature", fmt.Sprintf("%#x", leaf.KeyUsage), `options.x509.template with "keyUsage": ["digitalSignature"] (plus "keyEncipherment" for RSA)`, false))
	}

	// SANs, exactly.
	if d := certdiff.Diff(certdiff.Lower(req.SANs.DNS), certdiff.Lower(leaf.DNSNames)); d != "" {
		errs = append(errs, c.mismatch("DNS SANs", certdiff.List(req.SANs.DNS), certdiff.List(leaf.DNSNames)+" ("+d+")", sansSetting, false))
	}
	if d := certdiff.Diff(certdiff.IPStrings(req.SANs.IPs), certdiff.IPStrings(leaf.IPAddresses)); d != "" {
		errs = append(errs, c.mismatch("IP SANs", certdiff.List(certdiff.IPStrings(req.SANs.IPs)), certdiff.List(certdiff.IPStrings(leaf.IPAddresses))+" ("+d+")", sansSetting, false))
	}
	if d := certdiff.Diff(certdiff.Lower(req.SANs.Emails), certdiff.Lower(leaf.EmailAddresses)); d != "" {
		errs = append(errs, c.mismatch("email SANs", certdiff.List(req.SANs.Emails), certdiff.List(leaf.EmailAddresses)+" ("+d+")", sansSetting, false))
	}
	if d := certdiff.Diff(certdiff.URIStrings(req.uris()), certdiff.URIStrings(leaf.URIs)); d != "" {
		errs = append(errs, c.mismatch("URI SANs", certdiff.List(certdiff.URIStrings(req.uris())), certdiff.List(certdiff.URIStrings(leaf.URIs))+" ("+d+")", sansSetting, false))
	}

	// Subject, as Java (hence Kafka's principal) prints it.
	got, err := subjectOf(leaf.RawSubject)
	if err != nil {
		return fmt.Errorf("%w: step-ca's certificate subject: %v", ErrEngine, err)
	}
	if got.Java != want.Java {
		errs = append(errs, c.mismatch("subject (the Kafka principal)", want.Java, got.Java, subjectSetting, false))
	}

	// Validity.
	wantEnd := start.Add(time.Duration(req.Days) * 24 * time.Hour)
	asked := fmt.Sprintf("%d days (until %s)", req.Days, wantEnd.UTC().Format(time.DateOnly))
	if leaf.NotAfter.Before(wantEnd.Add(-validitySlack)) {
		issuer := is.Root
		if len(is.Intermediates) > 0 {
			issuer = is.Intermediates[0]
		}
		setting := `options.x509.template without "notAfter" (the template fixes the end)`
		if !leaf.NotAfter.Before(issuer.NotAfter.Add(-time.Minute)) {
			setting = fmt.Sprintf("nothing on the provisioner: the issuing CA %q ends %s; ask fewer days or renew step-ca's intermediate", issuer.Subject.CommonName, issuer.NotAfter.UTC().Format(time.DateOnly))
		}
		errs = append(errs, c.mismatch("validity", asked, "until "+leaf.NotAfter.UTC().Format(time.DateOnly), setting, false))
	} else if leaf.NotAfter.After(wantEnd.Add(validitySlack)) {
		errs = append(errs, c.mismatch("validity", asked, "until "+leaf.NotAfter.UTC().Format(time.DateOnly), `options.x509.template without "notAfter" (the template fixes the end)`, false))
	}
	return errors.Join(errs...)
}

// diagnoseRefusal turns a 400/403 from /1.0/sign into a MismatchError
// naming the ca.json setting. step-ca's message says which check refused
// (it does for the duration claims); when it does not, the published
// claims of the provisioner decide between the duration and a name policy.
func (c *Client) diagnoseRefusal(ctx context.Context, req Request, ee *EngineError) error {
	msg := ee.Message
	low := strings.ToLower(msg)
	hours := req.Days * 24
	switch {
	case strings.Contains(low, "more than the authorized maximum"):
		return c.mismatch("validity", "", msg, fmt.Sprintf("claims.maxTLSCertDuration to at least \"%dh\" on provisioner %q (or in authority.claims)", hours, c.cfg.Provisioner), false)
	case strings.Contains(low, "less than the authorized minimum"):
		return c.mismatch("validity", "", msg, fmt.Sprintf("claims.minTLSCertDuration to at most \"%dh\" on provisioner %q", hours, c.cfg.Provisioner), false)
	case strings.Contains(low, "valid common name"):
		return c.mismatch("common name", "", msg, "nothing on the provisioner: the CSR's CN must be the token subject or one of its SANs", false)
	case strings.Contains(low, "valid dns names") || strings.Contains(low, "valid ip addresses") || strings.Contains(low, "valid email addresses") || strings.Contains(low, "valid uris"):
		return c.mismatch("SANs", "", msg, "nothing on the provisioner: step-ca signs exactly the CSR's SANs, which must equal the names asked; a CSR signed as is cannot get extra names (ask the host for a new CSR with them)", false)
	case strings.Contains(low, "not allowed") || strings.Contains(low, "policy"):
		return c.mismatch("SANs", "", msg, policySetting(req), false)
	}
	// The message is step-ca's generic one: decide from the claims.
	maxD, published := stepDefaultMaxTLS, false
	if k, err := c.providerKey(ctx); err == nil && k.claims != nil && k.claims.MaxTLSCertDuration != "" {
		if d, err := time.ParseDuration(k.claims.MaxTLSCertDuration); err == nil {
			maxD, published = d, true
		}
	}
	if time.Duration(hours)*time.Hour > maxD+time.Minute {
		what := fmt.Sprintf("step-ca's default maximum of %s", maxD)
		if published {
			what = fmt.Sprintf("the provisioner's claims.maxTLSCertDuration of %s", maxD)
		}
		return c.mismatch("validity", "", fmt.Sprintf("%s (%d days exceed %s)", msg, req.Days, what),
			fmt.Sprintf("claims.maxTLSCertDuration to at least \"%dh\" on provisioner %q", hours, c.cfg.Provisioner), !published)
	}
	return c.mismatch("SANs", "", msg, policySetting(req), true)
}

func policySetting(req Request) string {
	return fmt.Sprintf("authority.policy.x509.allow (or the provisioner's x509 policy) covering the names %s and the CN (step-ca checks the CN as a name too)", certdiff.List(tokenSANs(req)))
}
