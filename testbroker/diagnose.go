package testbroker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// diagnose explains a failed server-side handshake in words an operator can
// act on. peer is what client-certificate verification saw (nil if the
// client never sent a certificate message).
func diagnose(err error, peer *peerCheck, timeout time.Duration) string {
	if peer != nil && peer.err != nil {
		return diagnoseCert(peer)
	}

	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		return diagnoseNotTLS(rhe.RecordHeader)
	}

	msg := err.Error()
	switch {
	case strings.Contains(msg, "client didn't provide a certificate"):
		return "no client certificate: the client completed the TLS handshake without presenting a certificate, " +
			"but this listener requires one (ssl.client.auth=required); configure the client's keystore " +
			"(ssl.keystore.location / ssl.certificate.location+ssl.key.location)"
	case strings.Contains(msg, "client offered only unsupported versions"):
		return "TLS version mismatch: the client offered only protocol versions older than TLS 1.2, " +
			"which the broker refuses (" + msg + ")"
	case strings.Contains(msg, "no cipher suite supported by both"):
		return "no common cipher suite: the client's enabled cipher suites do not overlap the broker's (" + msg + ")"
	case strings.Contains(msg, "invalid signature by the client certificate"):
		return "the client could not prove possession of its certificate's private key " +
			"(key and certificate do not match?): " + msg
	}

	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return diagnoseAlert(oe.Err.Error())
	}

	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("handshake timed out: the client connected but did not complete a TLS handshake within %v "+
			"(a client that waits for the server to speak first, or a stalled network)", timeout)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "client closed the connection during the TLS handshake without an alert: " +
			"usually it rejected the broker certificate (untrusted CA, or the dialed host/IP is not in its SANs), " +
			"or it was only a port check"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return "client reset the connection during the TLS handshake: " +
			"usually it rejected the broker certificate (untrusted CA, or the dialed host/IP is not in its SANs)"
	}
	return "TLS handshake failed: " + msg
}

// diagnoseCert explains why the client certificate failed verification.
func diagnoseCert(p *peerCheck) string {
	leaf := p.leaf
	subj := fmt.Sprintf("client certificate %q (issuer %q)", leaf.Subject.String(), leaf.Issuer.String())

	var ua x509.UnknownAuthorityError
	if errors.As(p.err, &ua) {
		return "unknown CA: " + subj + " is not signed by a CA in the broker's client truststore " +
			"(ssl.truststore / ClientCAs); sign it with the cluster CA or add its CA to the truststore"
	}
	var ci x509.CertificateInvalidError
	if errors.As(p.err, &ci) {
		who := subj
		if ci.Cert != nil && ci.Cert != leaf {
			who = fmt.Sprintf("intermediate CA %q in the chain of %s", ci.Cert.Subject.String(), subj)
		}
		c := ci.Cert
		if c == nil {
			c = leaf
		}
		switch ci.Reason {
		case x509.Expired:
			now := time.Now()
			if now.Before(c.NotBefore) {
				return fmt.Sprintf("certificate not yet valid: %s is valid only from %s (now %s; clock skew?)",
					who, c.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
			return fmt.Sprintf("expired certificate: %s expired at %s (now %s); issue a new one",
				who, c.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		case x509.IncompatibleUsage:
			return fmt.Sprintf("wrong extended key usage: %s is not valid for TLS client authentication "+
				"(its EKUs: %s; a client certificate needs clientAuth)", who, ekuNames(c))
		case x509.NotAuthorizedToSign:
			return fmt.Sprintf("bad chain: %s was signed by a certificate that is not a CA (%v)", subj, ci)
		}
		return fmt.Sprintf("invalid client certificate: %s: %v", who, ci)
	}
	var he x509.HostnameError
	if errors.As(p.err, &he) {
		return fmt.Sprintf("invalid client certificate: %s: %v", subj, he)
	}
	return fmt.Sprintf("client certificate rejected: %s: %v", subj, p.err)
}

func ekuNames(c *x509.Certificate) string {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return "none"
	}
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageAny:             "any",
		x509.ExtKeyUsageServerAuth:      "serverAuth",
		x509.ExtKeyUsageClientAuth:      "clientAuth",
		x509.ExtKeyUsageCodeSigning:     "codeSigning",
		x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping:    "timeStamping",
		x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := names[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku(%d)", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return strings.Join(out, ",")
}

// diagnoseNotTLS explains a first record that is not TLS.
func diagnoseNotTLS(h [5]byte) string {
	hexs := fmt.Sprintf("% x", h[:])
	// A Kafka request starts with a 4 byte length and a 2 byte API key; a
	// plaintext client's first request is ApiVersions (18) or, for old
	// clients, Metadata (3) or SaslHandshake (17). The record header holds
	// the length and the key's high byte.
	if h[0] == 0 && h[4] == 0 {
		size := uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
		if size > 0 && size < 1<<20 {
			return fmt.Sprintf("plaintext client on TLS port: the first bytes (%s) are a plaintext Kafka request "+
				"(length %d), not a TLS ClientHello; the client uses security.protocol=PLAINTEXT or SASL_PLAINTEXT "+
				"and must use SSL", hexs, size)
		}
	}
	s := string(h[:])
	for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT ", "PRI *", "OPTIO", "CONNE"} {
		if strings.HasPrefix(s, m) || strings.HasPrefix(m, s) {
			return fmt.Sprintf("plaintext HTTP client on the Kafka TLS port (first bytes %q)", s)
		}
	}
	if h[0] == 0x16 && h[1] == 3 {
		return fmt.Sprintf("malformed TLS record header (%s)", hexs)
	}
	return fmt.Sprintf("plaintext (non-TLS) client on TLS port: the first bytes (%s) are not a TLS record; "+
		"the client must use TLS (security.protocol=SSL)", hexs)
}

// diagnoseAlert explains a TLS alert the client sent instead of finishing
// the handshake.
func diagnoseAlert(alert string) string {
	a := strings.TrimPrefix(alert, "tls: ")
	cert := fmt.Sprintf("client rejected the broker certificate (TLS alert %q): ", a)
	switch a {
	case "unknown certificate authority":
		return cert + "the client does not trust the CA that signed it; add the cluster CA to the client's truststore"
	case "bad certificate", "certificate unknown":
		return cert + "most likely the client's truststore lacks the CA that signed it, " +
			"or the host/IP the client dialed is not in its SANs"
	case "certificate expired":
		return cert + "the client considers it expired (check its validity and the client's clock)"
	case "unsupported certificate":
		return cert + "its key usage / extended key usage is unacceptable (a broker certificate needs serverAuth)"
	case "protocol version not supported":
		return fmt.Sprintf("client aborted the handshake (TLS alert %q): no TLS version in common", a)
	case "handshake failure", "insufficient security level":
		return fmt.Sprintf("client aborted the handshake (TLS alert %q): no cipher suite or signature algorithm in common", a)
	}
	return fmt.Sprintf("client aborted the handshake (TLS alert %q); see the client's log for the reason", a)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// apiName names a request key ("Produce").
func apiName(key int16) string {
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return fmt.Sprintf("ApiKey(%d)", key)
}
