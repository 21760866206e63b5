package identity

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kafkatls/kafkatls/pki"
)

// Advertise is the address a server is dialled at: a broker's
// advertised.listeners and the bootstrap.servers of its clients. The host
// goes into the certificate's SANs, so hostname verification passes.
type Advertise struct {
	Host string // DNS name (lower case) or IP address
	Port int    // 0: the role's default listener port
}

// AdvertiseError reports an unusable advertised address.
type AdvertiseError struct {
	Value string
	Msg   string
}

func (e *AdvertiseError) Error() string {
	return fmt.Sprintf("advertised address %q: %s", e.Value, e.Msg)
}

// ParseAdvertise parses HOST, HOST:PORT, an IPv6 address (bracketed or
// not), or [IPv6]:PORT.
func ParseAdvertise(s string) (Advertise, error) {
	bad := func(format string, a ...any) (Advertise, error) {
		return Advertise{}, &AdvertiseError{Value: s, Msg: fmt.Sprintf(format, a...)}
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
		if net.ParseIP(host) == nil {
			return bad("want an IPv6 address in brackets")
		}
	case strings.HasPrefix(s, "["):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return bad("want HOST[:PORT] or [IPv6]:PORT")
		}
		host, port = h, p
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	var a Advertise
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q: want 1-65535", port)
		}
		a.Port = n
	}
	if host == "" {
		return bad("no host")
	}
	if ip := net.ParseIP(host); ip != nil {
		a.Host = ip.String()
		return a, nil
	}
	if strings.ContainsAny(host, ":[]") {
		return bad("want HOST[:PORT] or [IPv6]:PORT")
	}
	if err := pki.ValidateDNSName(host); err != nil {
		return bad("%v", err)
	}
	if strings.HasPrefix(host, "*") {
		return bad("a wildcard cannot be dialled")
	}
	a.Host = strings.ToLower(strings.TrimSuffix(host, "."))
	return a, nil
}

// IsIP reports whether the host is an IP address (an IP SAN, not a DNS one).
func (a Advertise) IsIP() bool { return net.ParseIP(a.Host) != nil }

// String renders the address as ParseAdvertise reads it.
func (a Advertise) String() string {
	if a.Port == 0 {
		if strings.Contains(a.Host, ":") {
			return "[" + a.Host + "]"
		}
		return a.Host
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// Unresolved returns the hosts that do not resolve on this machine within
// timeout, in the given order; IP addresses are skipped and the lookups
// run in parallel. A host that does not resolve here may still resolve
// where the servers and clients run: callers warn, they do not fail.
func Unresolved(ctx context.Context, hosts []string, timeout time.Duration) []string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	failed := make([]bool, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		if net.ParseIP(h) != nil {
			continue
		}
		wg.Go(func() {
			addrs, err := net.DefaultResolver.LookupHost(ctx, h)
			failed[i] = err != nil || len(addrs) == 0
		})
	}
	wg.Wait()
	var out []string
	for i, h := range hosts {
		if failed[i] {
			out = append(out, h)
		}
	}
	return out
}
