package verify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/kafkatls/kafkatls/identity"
)

// verifyTLSServer checks an identity that serves TLS but not Kafka (role
// server: an IdP, a REST proxy): the Kafka test broker is no place for
// it, and its certificate cannot log in to Kafka. For each store format a
// plain TLS listener on loopback serves its keystore, and a client that
// trusts only the identity's own truststore dials it, verifying the
// certificate for serverAuth and the hostname (its first DNS SAN, else
// its first IP) as an HTTPS client would. A dial that names another host
// must be refused, which proves hostname verification is on.
func verifyTLSServer(ctx context.Context, o Options, srv *identity.Identity, add func(Check)) error {
	for _, st := range srv.Stores {
		leaf := st.Cert.Leaf
		host := srv.Name
		if len(leaf.DNSNames) > 0 {
			host = leaf.DNSNames[0]
		} else if len(leaf.IPAddresses) > 0 {
			host = leaf.IPAddresses[0].String()
		}
		for _, probe := range []struct {
			identity, serverName, expect string
		}{
			{srv.Name, host, ExpectAccept},
			{"probe: another hostname", "not-" + srv.Name + ".invalid", ExpectRefuse},
		} {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := Check{Server: srv.Name, Identity: probe.identity, Role: string(srv.Role), Store: st.Format, Expect: probe.expect}
			state, err := tlsRoundTrip(ctx, o, st, probe.serverName)
			if cerr := ctx.Err(); cerr != nil {
				return cerr // cut short, not refused
			}
			if err != nil {
				c.Result = "refused"
				c.Diagnosis = "TLS client: " + clientDiagnosis(err, probe.serverName)
			} else {
				c.Result = "accepted"
				c.TLSVersion = tls.VersionName(state.Version)
				c.Diagnosis = fmt.Sprintf("TLS server (not Kafka): %s verified against the truststore", probe.serverName)
			}
			c.OK = (c.Result == "accepted") == (probe.expect == ExpectAccept)
			add(c)
		}
	}
	return nil
}

// tlsRoundTrip serves st's keystore on a loopback TLS listener and dials
// it once as a client trusting st's truststore, checking serverName.
func tlsRoundTrip(ctx context.Context, o Options, st identity.Store, serverName string) (tls.ConnectionState, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{st.Cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.(*tls.Conn).HandshakeContext(ctx) // the client reports the outcome
	}()
	dctx, cancel := context.WithTimeout(ctx, o.Timeout) // Bundle sets it

	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{RootCAs: st.Roots, ServerName: serverName, MinVersion: tls.VersionTLS12}}
	conn, err := d.DialContext(dctx, "tcp", ln.Addr().String())
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState(), nil
}
