// Package certdiff holds what every CA engine's client needs to say how a
// certificate it got back differs from the one it asked for: usages and
// names as text, and set differences. It imports nothing of this module.
package certdiff

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// EKUName is the name OpenSSL and RFC 5280 give an extended key usage.
func EKUName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageAny:
		return "any"
	}
	return fmt.Sprintf("eku#%d", u)
}

// EKUs lists a certificate's extended key usages as "serverAuth+clientAuth" ("none" when it has none).
func EKUs(c *x509.Certificate) string {
	var s []string
	for _, u := range c.ExtKeyUsage {
		s = append(s, EKUName(u))
	}
	for _, o := range c.UnknownExtKeyUsage {
		s = append(s, o.String())
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "+")
}

// Lower lowercases each string (DNS names compare case-insensitively).
func Lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// IPStrings renders IP SANs as text.
func IPStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// URIStrings renders URI SANs as text.
func URIStrings(us []*url.URL) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.String()
	}
	return out
}

// List renders a set as "[a,b]" for messages.
func List(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	return "[" + strings.Join(s, ",") + "]"
}

// Diff compares two sets: "" when equal, else "missing a,b; extra c".
func Diff(want, got []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, ","))
	}
	if len(extra) > 0 {
		parts = append(parts, "extra "+strings.Join(extra, ","))
	}
	return strings.Join(parts, "; ")
}
