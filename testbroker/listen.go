package testbroker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"
)

// resolveTimeout bounds the lookup of a host name given to Config.Listen.
const resolveTimeout = 10 * time.Second

// listen binds addr ("host:port") and returns the listeners, IPv4 first.
//
//   - An IP literal binds exactly that address: 0.0.0.0 every IPv4
//     interface, [::] every IPv6 one (IPv6 only).
//   - An empty host (":9093") binds every interface, IPv4 and IPv6.
//   - A host name binds every address it resolves to ("localhost": 127.0.0.1
//     and ::1), all on one port, so that a client trying any of them
//     finds the broker.
//
// With port 0, the first listener picks the port and the others reuse it.
func listen(addr string) ([]net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host == "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		l, err := net.Listen(network(ip), addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	slices.SortStableFunc(ips, func(a, b netip.Addr) int { // IPv4 first
		switch {
		case a.Is4() == b.Is4():
			return 0
		case a.Is4():
			return -1
		}
		return 1
	})
	ips = slices.Compact(ips)
	// With port 0 the port picked for the first address may be taken on
	// another: try a few times before giving up.
	for attempt := 0; ; attempt++ {
		lns, err := listenOn(ips, port)
		if err == nil || port != "0" || attempt == 4 || !errors.Is(err, syscall.EADDRINUSE) {
			return lns, err
		}
	}
}

// listenOn binds every ip on port; port "0" means the port the first
// listener gets.
func listenOn(ips []netip.Addr, port string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, ip := range ips {
		l, err := net.Listen(network(ip), net.JoinHostPort(ip.String(), port))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		if len(lns) == 0 {
			port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		}
		lns = append(lns, l)
	}
	return lns, nil
}

func network(ip netip.Addr) string {
	if ip.Unmap().Is4() {
		return "tcp4"
	}
	return "tcp6"
}

// advertised is the address clients are given in Metadata responses: the
// first listener's address, with an unspecified IP (0.0.0.0, ::) turned
// into loopback, the one address sure to reach it from this machine. A
// dual-stack listener (empty host) is advertised as 127.0.0.1, which, unlike
// ::1, is among the default SANs of a kafkatls broker certificate.
func advertised(l net.Listener, dualStack bool) *net.TCPAddr {
	ta := l.Addr().(*net.TCPAddr)
	if !ta.IP.IsUnspecified() {
		return ta
	}
	ip := net.IPv4(127, 0, 0, 1)
	if !dualStack && ta.IP.To4() == nil {
		ip = net.IPv6loopback
	}
	return &net.TCPAddr{IP: ip, Port: ta.Port}
}
