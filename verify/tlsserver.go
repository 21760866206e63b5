package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/kafkatls/kafkatls/identity"
)

// verifyTLSServer checks an identity that serves TLS but not Kafka (role
// server: an IdP, a REST proxy; role connect: a Connect worker's REST
// listener): the Kafka test broker is no place for that listener. For each
// store format a plain TLS listener on loopback serves its keystore, and a
// client that trusts only the identity's own truststore dials it,
// verifying the certificate for serverAuth and the hostname (its first DNS
// SAN, else its first IP) as an HTTPS client would. A dial that names
// another host must be refused, which proves hostname verification is on.
//
// A listener that requires client certificates (RoleSpec.ClientAuthServer:
// Connect's listeners.https.ssl.client.auth=required) trusts the
// identity's truststore for them, and is dialled with the identity's own
// certificate (as workers forward requests to each other), which must be
// accepted; without a certificate, or with one of a foreign CA, it must
// refuse.
func verifyTLSServer(ctx context.Context, o Options, srv *identity.Identity, pr *probes, add func(Check)) error {
	clientAuth := srv.Role.Spec().ClientAuthServer
	for _, st := range srv.Stores {
		leaf := st.Cert.Leaf
		host := srv.Name
		if len(leaf.DNSNames) > 0 {
			host = leaf.DNSNames[0]
		} else if len(leaf.IPAddresses) > 0 {
			host = leaf.IPAddresses[0].String()
		}
		type probe struct {
			identity, serverName, expect string
			cert                         *tls.Certificate
		}
		probes := []probe{
			{srv.Name, host, ExpectAccept, nil},
			{"probe: another hostname", "not-" + srv.Name + ".invalid", ExpectRefuse, nil},
		}
		if clientAuth {
			own := st.Cert
			probes[0].cert, probes[1].cert = &own, &own
			probes = append(probes,
				probe{"probe: no client certificate", host, ExpectRefuse, nil},
				probe{"probe: certificate from a foreign CA", host, ExpectRefuse, &pr.foreign})
		}
		for _, probe := range probes {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := Check{Server: srv.Name, Identity: probe.identity, Role: string(srv.Role), Store: st.Format, Expect: probe.expect}
			state, err := tlsRoundTrip(ctx, o, st, probe.serverName, clientAuth, probe.cert)
			if cerr := ctx.Err(); cerr != nil {
				return cerr // cut short, not refused
			}
			var srvErr *serverRefusal
			switch {
			case errors.As(err, &srvErr):
				c.Result = "refused"
				c.Diagnosis = "TLS server: " + srvErr.err.Error()
			case err != nil:
				c.Result = "refused"
				c.Diagnosis = "TLS client: " + clientDiagnosis(err, probe.serverName)
			default:
				c.Result = "accepted"
				c.TLSVersion = tls.VersionName(state.Version)
				c.Diagnosis = fmt.Sprintf("TLS server (not Kafka): %s verified against the truststore", probe.serverName)
				if clientAuth {
					c.Diagnosis += "; client certificate required and verified"
				}
			}
			c.OK = (c.Result == "accepted") == (probe.expect == ExpectAccept)
			add(c)
		}
	}
	return nil
}

// serverRefusal is the listener's side of a failed handshake: with TLS 1.3
// the client finishes its handshake before the server has judged the
// client's certificate.
type serverRefusal struct{ err error }

func (e *serverRefusal) Error() string { return "server refused the handshake: " + e.err.Error() }

// tlsRoundTrip serves st's keystore on a loopback TLS listener and dials
// it once as a client trusting st's truststore, checking serverName and
// presenting cert (if set). With clientAuth the listener requires a client
// certificate issued by st's truststore; the outcome is then the server's
// as well as the client's.
func tlsRoundTrip(ctx context.Context, o Options, st identity.Store, serverName string, clientAuth bool, cert *tls.Certificate) (tls.ConnectionState, error) {
	sc := &tls.Config{Certificates: []tls.Certificate{st.Cert}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		pool := x509.NewCertPool()
		for _, c := range st.Trust {
			pool.AddCert(c)
		}
		sc.ClientAuth, sc.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer ln.Close()
	dctx, cancel := context.WithTimeout(ctx, o.Timeout) // Bundle sets it
	defer cancel()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		served <- conn.(*tls.Conn).HandshakeContext(dctx)
	}()
	cc := &tls.Config{RootCAs: st.Roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if cert != nil {
		// Sent whatever CAs the server names as acceptable: Go's client
		// would otherwise keep a foreign CA's certificate to itself, and
		// the probe would test "no certificate" again.
		cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: cc}
	conn, err := d.DialContext(dctx, "tcp", ln.Addr().String())
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	select {
	case err := <-served:
		if err != nil && clientAuth {
			return tls.ConnectionState{}, &serverRefusal{err}
		}
	case <-dctx.Done():
		return tls.ConnectionState{}, dctx.Err()
	}
	return conn.(*tls.Conn).ConnectionState(), nil
}
