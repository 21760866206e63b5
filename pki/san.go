package pki

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
)

// SANs are a certificate's subject alternative names. Kafka clients verify
// the broker's advertised host against them (ssl.endpoint.identification.
// algorithm=https), so every advertised hostname and IP must be here.
type SANs struct {
	DNS    []string `json:"dns,omitempty"`
	IPs    []net.IP `json:"ips,omitempty"`
	Emails []string `json:"emails,omitempty"`
	// URIs come only from a CSR (a SPIFFE ID, say): sign keeps them as
	// the requester asked; renew carries them over.
	URIs []*url.URL `json:"uris,omitempty"`
}

// DefaultServerSANs are the SANs a server role gets unless asked not to:
// its name (the usual container/compose hostname), localhost and 127.0.0.1.
func DefaultServerSANs(name string) SANs {
	s := SANs{DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1).To4()}}
	if ValidateDNSName(name) == nil && !strings.EqualFold(name, "localhost") {
		s.DNS = append([]string{strings.ToLower(name)}, s.DNS...)
	}
	return s
}

// SplitList splits repeated and comma-separated flag values into items,
// trimming spaces and dropping empties.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// ValidateDNSName checks a DNS SAN: letters, digits, hyphens and
// underscores in labels of at most 63 characters, no leading or trailing
// hyphen, at most 253 characters, and an optional leading "*." wildcard.
func ValidateDNSName(name string) error {
	n := strings.TrimPrefix(name, "*.")
	if n == "" || len(name) > 253 {
		return invalid(FieldDNS, name, "invalid DNS name %q: must be 1 to 253 characters", name)
	}
	if net.ParseIP(n) != nil {
		return &InvalidFieldError{Field: FieldDNS, Value: name, BelongsIn: FieldIP, Problem: fmt.Sprintf("invalid DNS name %q: this is an IP address, which belongs in the IP SANs", name)}
	}
	for _, label := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if label == "" || len(label) > 63 {
			return invalid(FieldDNS, name, "invalid DNS name %q: empty or over-long label", name)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return invalid(FieldDNS, name, "invalid DNS name %q: label %q starts or ends with a hyphen", name, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return invalid(FieldDNS, name, "invalid DNS name %q: character %q is not allowed", name, c)
			}
		}
	}
	return nil
}

// BuildSANs validates and merges SAN values onto base, removing duplicates
// while keeping first-seen order. It names the offending value on error.
func BuildSANs(base SANs, dns, ips, emails []string) (SANs, error) {
	out := SANs{}
	seen := map[string]bool{}
	for _, d := range append(append([]string{}, base.DNS...), SplitList(dns)...) {
		if err := ValidateDNSName(d); err != nil {
			return out, err
		}
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if !seen["dns:"+d] {
			seen["dns:"+d] = true
			out.DNS = append(out.DNS, d)
		}
	}
	all := append([]net.IP{}, base.IPs...)
	for _, s := range SplitList(ips) {
		ip := net.ParseIP(s)
		if ip == nil {
			return out, invalid(FieldIP, s, "invalid IP address %q", s)
		}
		all = append(all, ip)
	}
	for _, ip := range all {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !seen["ip:"+ip.String()] {
			seen["ip:"+ip.String()] = true
			out.IPs = append(out.IPs, ip)
		}
	}
	for _, e := range append(append([]string{}, base.Emails...), SplitList(emails)...) {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e {
			return out, invalid(FieldEmail, e, "invalid email address %q", e)
		}
		if !seen["email:"+e] {
			seen["email:"+e] = true
			out.Emails = append(out.Emails, e)
		}
	}
	for _, u := range base.URIs {
		if u == nil || u.Scheme == "" {
			return out, fmt.Errorf("invalid URI SAN %q: it has no scheme", u)
		}
		if !seen["uri:"+u.String()] {
			seen["uri:"+u.String()] = true
			out.URIs = append(out.URIs, u)
		}
	}
	return out, nil
}

// IPStrings returns the IPs as strings.
func (s SANs) IPStrings() []string {
	out := make([]string, len(s.IPs))
	for i, ip := range s.IPs {
		out[i] = ip.String()
	}
	return out
}

// String renders the SANs as OpenSSL does: "DNS:a, IP:1.2.3.4".
func (s SANs) String() string {
	var parts []string
	for _, d := range s.DNS {
		parts = append(parts, "DNS:"+d)
	}
	for _, ip := range s.IPs {
		parts = append(parts, "IP:"+ip.String())
	}
	for _, e := range s.Emails {
		parts = append(parts, "email:"+e)
	}
	for _, u := range s.URIs {
		parts = append(parts, "URI:"+u.String())
	}
	return strings.Join(parts, ", ")
}
