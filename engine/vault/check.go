package vault

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/engine/certdiff"
)

// validitySlack is how far the leaf's end may be from now+days before it
// counts as changed: the engine's clock and the request's round trip.
const validitySlack = time.Hour

// roleLookup reads the role at most once per Sign, for diagnoses only.
type roleLookup struct {
	c    *Client
	ctx  context.Context
	done bool
	role *RoleInfo
}

func (l *roleLookup) get() *RoleInfo {
	if !l.done {
		l.done = true
		l.role, _ = l.c.ReadRole(l.ctx) // unreadable: diagnoses say "probably"
	}
	return l.role
}

func (c *Client) mismatch(field, want, got, setting string, probable bool) *MismatchError {
	return &MismatchError{Role: c.rolePath(), Field: field, Want: want, Got: got, Setting: setting, Probable: probable}
}

// check compares what the engine issued with what was asked; every
// difference is a *MismatchError (joined).
func (c *Client) check(ctx context.Context, req Request, pub crypto.PublicKey, want subject, start time.Time, is *Issued) error {
	leaf := is.Leaf
	roles := &roleLookup{c: c, ctx: ctx}
	var errs []error
	if pk, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(pub) {
		return fmt.Errorf("%w: the engine's certificate is not for the key in the CSR", ErrEngine)
	}
	if leaf.IsCA {
		errs = append(errs, c.mismatch("basic constraints", "CA:FALSE", "CA:TRUE", "basic_constraints_valid_for_non_ca=false", false))
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
		errs = append(errs, c.mismatch("extended key usage", wantEKU+" (a "+string(req.Role)+" accepts TLS connections)", certdiff.EKUs(leaf), "server_flag=true", false))
	}
	if wantsClient && !has(x509.ExtKeyUsageClientAuth) {
		errs = append(errs, c.mismatch("extended key usage", "clientAuth", certdiff.EKUs(leaf), "client_flag=true", false))
	}
	var odd []string
	for _, u := range leaf.ExtKeyUsage {
		if u != x509.ExtKeyUsageServerAuth && u != x509.ExtKeyUsageClientAuth {
			odd = append(odd, certdiff.EKUName(u))
		}
	}
	if len(leaf.UnknownExtKeyUsage) > 0 || len(odd) > 0 {
		errs = append(errs, c.mismatch("extended key usage", "serverAuth/clientAuth only", certdiff.EKUs(leaf),
			"code_signing_flag=false email_protection_flag=false ext_key_usage=\"\" ext_key_usage_oids=\"\"", false))
	}
	if !req.Role.IsServer() && has(x509.ExtKeyUsageServerAuth) {
		is.Warnings = append(is.Warnings, fmt.Sprintf("client certificate %q also has serverAuth because role %s has server_flag=true; a separate role with server_flag=false for clients keeps a stolen client key from posing as a broker", req.Name, c.rolePath()))
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		errs = append(errs, c.mismatch("key usage", "digitalSignature", fmt.Sprintf("%#x", leaf.KeyUsage), "key_usage=DigitalSignature,KeyEncipherment", false))
	}

	// SANs, exactly.
	sanSetting := func(fallback string) (string, bool) {
		r := roles.get()
		if r == nil {
			return "use_csr_sans=true (or " + fallback + ")", true
		}
		if !r.UseCSRSANs {
			return "use_csr_sans=true", false
		}
		return fallback, false
	}
	if d := certdiff.Diff(certdiff.Lower(req.SANs.DNS), certdiff.Lower(leaf.DNSNames)); d != "" {
		s, p := sanSetting("allowed_domains covering them, or allow_any_name=true")
		if slices.Contains(certdiff.Lower(leaf.DNSNames), strings.ToLower(want.Name.CommonName)) && !slices.Contains(certdiff.Lower(req.SANs.DNS), strings.ToLower(want.Name.CommonName)) {
			s, p = "exclude_cn_from_sans (kafkatls sends it; the engine ignored it)", false
		}
		errs = append(errs, c.mismatch("DNS SANs", certdiff.List(req.SANs.DNS), certdiff.List(leaf.DNSNames)+" ("+d+")", s, p))
	}
	if d := certdiff.Diff(certdiff.IPStrings(req.SANs.IPs), certdiff.IPStrings(leaf.IPAddresses)); d != "" {
		s, p := sanSetting("allow_ip_sans=true")
		errs = append(errs, c.mismatch("IP SANs", certdiff.List(certdiff.IPStrings(req.SANs.IPs)), certdiff.List(certdiff.IPStrings(leaf.IPAddresses))+" ("+d+")", s, p))
	}
	if d := certdiff.Diff(certdiff.Lower(req.SANs.Emails), certdiff.Lower(leaf.EmailAddresses)); d != "" {
		s, p := sanSetting("allow_any_name=true")
		errs = append(errs, c.mismatch("email SANs", certdiff.List(req.SANs.Emails), certdiff.List(leaf.EmailAddresses)+" ("+d+")", s, p))
	}
	if d := certdiff.Diff(certdiff.URIStrings(req.URIs), certdiff.URIStrings(leaf.URIs)); d != "" {
		s, p := sanSetting("allowed_uri_sans covering them")
		errs = append(errs, c.mismatch("URI SANs", certdiff.List(certdiff.URIStrings(req.URIs)), certdiff.List(certdiff.URIStrings(leaf.URIs))+" ("+d+")", s, p))
	}

	// Subject, as Java (hence Kafka's principal) prints it.
	got, err := subjectOf(leaf.RawSubject)
	if err != nil {
		return fmt.Errorf("%w: the engine's certificate subject: %v", ErrEngine, err)
	}
	if got.Java != want.Java {
		errs = append(errs, c.mismatch("subject (the Kafka principal)", want.Java, got.Java, subjectSetting(want, got), false))
	}

	// Validity.
	wantEnd := start.Add(time.Duration(req.Days) * 24 * time.Hour)
	if leaf.NotAfter.Before(wantEnd.Add(-validitySlack)) {
		setting, probable := c.ttlSetting(ctx, roles.get(), req.Days, leaf, is)
		errs = append(errs, c.mismatch("validity", fmt.Sprintf("%d days (until %s)", req.Days, wantEnd.UTC().Format(time.DateOnly)),
			"until "+leaf.NotAfter.UTC().Format(time.DateOnly), setting, probable))
	} else if leaf.NotAfter.After(wantEnd.Add(validitySlack)) {
		errs = append(errs, c.mismatch("validity", fmt.Sprintf("%d days (until %s)", req.Days, wantEnd.UTC().Format(time.DateOnly)),
			"until "+leaf.NotAfter.UTC().Format(time.DateOnly), "not_after=\"\" (the role fixes an end date)", false))
	}
	return errors.Join(errs...)
}

// ttlSetting names what capped the validity: the CA's end, the role's
// max_ttl, or else the mount's max_lease_ttl.
func (c *Client) ttlSetting(ctx context.Context, r *RoleInfo, days int, leaf *x509.Certificate, is *Issued) (string, bool) {
	issuer := is.Root
	if len(is.Intermediates) > 0 {
		issuer = is.Intermediates[0]
	}
	if !leaf.NotAfter.Before(issuer.NotAfter.Add(-time.Minute)) {
		return fmt.Sprintf("nothing on the role: the issuing CA %q ends %s; ask fewer days or renew the engine's CA", issuer.Subject.CommonName, issuer.NotAfter.UTC().Format(time.DateOnly)), false
	}
	want := days * 24
	mount := fmt.Sprintf("the mount's max_lease_ttl (bao secrets tune -max-lease-ttl=%dh %s)", want, c.cfg.Mount)
	if r == nil {
		return fmt.Sprintf("max_ttl=%dh on the role, or %s", want, mount), true
	}
	if r.MaxTTL() > 0 && r.MaxTTL() < time.Duration(want)*time.Hour {
		return fmt.Sprintf("max_ttl=%dh (the role has max_ttl=%s)", want, r.MaxTTL()), false
	}
	return mount, false
}

// roleSubjectFields maps the DN attributes Vault fills from role fields.
var roleSubjectFields = []struct {
	attr  string
	field string
	get   func(s subject) []string
}{
	{"OU", "ou", func(s subject) []string { return s.Name.OrganizationalUnit }},
	{"O", "organization", func(s subject) []string { return s.Name.Organization }},
	{"L", "locality", func(s subject) []string { return s.Name.Locality }},
	{"ST", "province", func(s subject) []string { return s.Name.Province }},
	{"C", "country", func(s subject) []string { return s.Name.Country }},
	{"STREET", "street_address", func(s subject) []string { return s.Name.StreetAddress }},
	{"POSTALCODE", "postal_code", func(s subject) []string { return s.Name.PostalCode }},
}

// Attribute types Vault can put in a subject (CN and the role fields above,
// plus SERIALNUMBER).
var vaultSubjectOIDs = []asn1.ObjectIdentifier{
	{2, 5, 4, 3}, {2, 5, 4, 11}, {2, 5, 4, 10}, {2, 5, 4, 7}, {2, 5, 4, 8}, {2, 5, 4, 6}, {2, 5, 4, 9}, {2, 5, 4, 17}, {2, 5, 4, 5},
}

// subjectSetting names the role fields that make got differ from want.
func subjectSetting(want, got subject) string {
	var out []string
	if want.Name.CommonName != got.Name.CommonName {
		out = append(out, "use_csr_common_name=true")
	}
	for _, f := range roleSubjectFields {
		w, g := f.get(want), f.get(got)
		if !slices.Equal(w, g) {
			v := strings.Join(w, ",")
			if v == "" {
				v = `""`
			} else if strings.ContainsAny(v, " ,") {
				v = `"` + v + `"`
			}
			out = append(out, f.field+"="+v)
		}
	}
	for _, t := range want.Types {
		if !slices.ContainsFunc(vaultSubjectOIDs, t.Equal) {
			out = append(out, fmt.Sprintf("nothing: the engine builds the subject from the CN and the role's ou, organization, locality, province, country, street_address, postal_code only; drop attribute %s from the subject", oidName(t)))
			break
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing on the role: the engine writes the attributes in its own order (Java prints CN,OU,O,L,ST,C) and one per RDN; write the subject that way")
	}
	return strings.Join(out, " ")
}

// diagnoseRefusal turns a 400 from /sign into a MismatchError naming the
// role setting, or nil when the message is not one we know.
func (c *Client) diagnoseRefusal(ctx context.Context, req Request, pub crypto.PublicKey, msgs []string) *MismatchError {
	msg := strings.Join(msgs, "; ")
	low := strings.ToLower(msg)
	roles := &roleLookup{c: c, ctx: ctx}
	kt := keyTypeName(pub)
	switch {
	case strings.Contains(low, "role requires keys of type"):
		setting := "key_type=any or " + kt
		if r := roles.get(); r != nil {
			setting = fmt.Sprintf("key_type=any or %s (role %s has key_type=%s; this key is %s)", kt, c.cfg.Role, r.KeyType, kt)
		}
		return c.mismatch("key type", "", msg, setting, false)
	case strings.Contains(low, "key bits") || strings.Contains(low, "key size"):
		return c.mismatch("key size", "", msg, "key_bits=0 (any size the key type allows)", false)
	case strings.Contains(low, "common name") && strings.Contains(low, "not allowed"):
		r := roles.get()
		switch {
		case r == nil:
			return c.mismatch("common name", "", msg, "allow_any_name=true enforce_hostnames=false cn_validations=disabled", true)
		case !r.AllowAnyName && len(r.AllowedDomains) > 0:
			return c.mismatch("common name", "", msg, "allow_any_name=true (allowed_domains "+certdiff.List(r.AllowedDomains)+" does not cover the CN)", false)
		default:
			return c.mismatch("common name", "", msg, "cn_validations=disabled enforce_hostnames=false (a Kafka CN need not be a host name)", false)
		}
	case strings.Contains(low, "ip subject alternative names are not allowed"):
		return c.mismatch("IP SANs", "", msg, "allow_ip_sans=true", false)
	case strings.Contains(low, "uri") && strings.Contains(low, "not allowed"):
		return c.mismatch("URI SANs", "", msg, "allowed_uri_sans covering "+certdiff.List(certdiff.URIStrings(req.URIs)), false)
	case strings.Contains(low, "not allowed") && (strings.Contains(low, "subject alternate name") || strings.Contains(low, "subject alternative name") || strings.Contains(low, "san")):
		r := roles.get()
		if r == nil {
			return c.mismatch("SANs", "", msg, "allowed_domains covering the names (with allow_subdomains/allow_bare_domains/allow_localhost=true as needed), or allow_any_name=true", true)
		}
		return c.mismatch("SANs", "", msg, fmt.Sprintf("allowed_domains covering the names (now %s, allow_subdomains=%t allow_bare_domains=%t allow_localhost=%t), or allow_any_name=true",
			certdiff.List(r.AllowedDomains), r.AllowSubdomains, r.AllowBareDomains, r.AllowLocalhost), false)
	case strings.Contains(low, "beyond the expiration of the ca"):
		return c.mismatch("validity", "", msg, "nothing on the role: ask fewer days, or renew the engine's CA (or leaf_not_after_behavior=truncate on the issuer)", false)
	}
	return nil
}

func oidName(t asn1.ObjectIdentifier) string {
	switch t.String() {
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	case "1.2.840.113549.1.9.1":
		return "EMAILADDRESS"
	case "2.5.4.12":
		return "T"
	}
	return t.String()
}
