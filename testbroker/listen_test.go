package testbroker

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"
)

func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// TestListenAddrs: the broker reports the addresses it actually bound (the
// real port for port 0, the unspecified address for every interface, every
// address of a host name), and a client completes mutual TLS on each.
func TestListenAddrs(t *testing.T) {
	ipv6 := hasIPv6Loopback()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	localhost, err := net.DefaultResolver.LookupNetIP(ctx, "ip", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		listen    string
		needIPv6  bool
		wantHosts []string // bound hosts; nil: computed below
		advertise string   // advertised host
	}{
		{listen: "127.0.0.1:0", wantHosts: []string{"127.0.0.1"}, advertise: "127.0.0.1"},
		{listen: "0.0.0.0:0", wantHosts: []string{"0.0.0.0"}, advertise: "127.0.0.1"},
		{listen: "[::1]:0", needIPv6: true, wantHosts: []string{"::1"}, advertise: "::1"},
		{listen: "[::]:0", needIPv6: true, wantHosts: []string{"::"}, advertise: "::1"},
		{listen: ":0", needIPv6: true, wantHosts: []string{"::"}, advertise: "127.0.0.1"},
		{listen: "localhost:0", advertise: "127.0.0.1"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			if tc.needIPv6 && !ipv6 {
				t.Skip("no IPv6 loopback on this machine")
			}
			want := tc.wantHosts
			if want == nil {
				for _, ip := range localhost {
					if ip.Unmap().Is4() || ipv6 {
						want = append(want, ip.Unmap().String())
					}
				}
				slices.SortStableFunc(want, func(a, b string) int { // IPv4 first
					return boolInt(net.ParseIP(b).To4() != nil) - boolInt(net.ParseIP(a).To4() != nil)
				})
				want = slices.Compact(want)
			}
			e := start(t, func(c *Config) { c.Listen = tc.listen })
			bound := e.broker.ListenAddrs()
			var hosts []string
			port := ""
			for _, a := range bound {
				h, p, err := net.SplitHostPort(a)
				if err != nil {
					t.Fatal(err)
				}
				if p == "0" || (port != "" && p != port) {
					t.Fatalf("bound %v: want one real port", bound)
				}
				port = p
				hosts = append(hosts, h)
			}
			if !slices.Equal(hosts, want) {
				t.Fatalf("bound %v, want hosts %v", bound, want)
			}
			if adv := net.JoinHostPort(tc.advertise, port); e.broker.Addr() != adv {
				t.Fatalf("Addr() = %s, want %s", e.broker.Addr(), adv)
			}
			cert := e.ca.issue(t, leafOpts{cn: "client1"})
			for _, h := range hosts {
				if ip := net.ParseIP(h); ip.IsUnspecified() {
					h = tc.advertise
				}
				addr := net.JoinHostPort(h, port)
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
					&tls.Config{RootCAs: e.ca.pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}})
				if err != nil {
					t.Fatalf("TLS to %s: %v", addr, err)
				}
				conn.Close()
				ev := e.waitEvent(t, func(ev Event) bool { return true })
				if !ev.OK {
					t.Fatalf("handshake on %s: %+v", addr, ev)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestListenErrors: a bad or taken address is an error naming it.
func TestListenErrors(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, addr := range []string{"127.0.0.1", "no-such-host.invalid:0", taken.Addr().String(), "127.0.0.1:" + strconv.Itoa(1<<16)} {
		t.Run(addr, func(t *testing.T) {
			if lns, err := listen(addr); err == nil {
				for _, l := range lns {
					l.Close()
				}
				t.Fatalf("listen(%q) succeeded", addr)
			}
		})
	}
}

// TestListenOnEveryAddress: a host name with several addresses (as
// localhost often has: 127.0.0.1 and ::1) gets one listener per address, all
// on the port the first one picked.
func TestListenOnEveryAddress(t *testing.T) {
	if !hasIPv6Loopback() {
		t.Skip("no IPv6 loopback on this machine")
	}
	lns, err := listenOn([]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, "0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	if len(lns) != 2 {
		t.Fatalf("%d listeners, want 2", len(lns))
	}
	a, b := lns[0].Addr().(*net.TCPAddr), lns[1].Addr().(*net.TCPAddr)
	if a.Port == 0 || a.Port != b.Port || a.IP.To4() == nil || b.IP.To4() != nil {
		t.Fatalf("bound %v and %v: want 127.0.0.1 and ::1 on one port", a, b)
	}
}
