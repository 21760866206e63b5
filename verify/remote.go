package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
)

// RemoteOptions control Remote.
type RemoteOptions struct {
	Bootstrap  string // host:port of the broker's SSL listener
	ClientDir  string // identity directory written by kafkatls
	Topic      string // optional: check Describe on this topic
	Rules      string // ssl.principal.mapping.rules the cluster uses
	ServerName string // name to verify the broker certificate against (default: the bootstrap host)
	Timeout    time.Duration

	sasl bool // the client logs in with SASL: Bootstrap is a SASL_SSL listener
}

// Finding is one step of a remote check.
type Finding struct {
	Step    string `json:"step"`
	OK      bool   `json:"ok"`
	Warning bool   `json:"warning,omitempty"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// CertInfo summarises a certificate the broker presented.
type CertInfo struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	SANs     string    `json:"sans,omitempty"`
	NotAfter time.Time `json:"notAfter"`
}

// RemoteReport is the outcome of checking a client against a real broker.
type RemoteReport struct {
	Bootstrap   string     `json:"bootstrap"`
	Client      string     `json:"client"`
	Store       string     `json:"store"`
	Principal   string     `json:"principal"`
	TLSVersion  string     `json:"tlsVersion,omitempty"`
	Cipher      string     `json:"cipher,omitempty"`
	ServerChain []CertInfo `json:"serverChain,omitempty"`
	Brokers     []string   `json:"brokers,omitempty"`
	Findings    []Finding  `json:"findings"`
	Passed      bool       `json:"passed"`
}

func (r *RemoteReport) add(f Finding) { r.Findings = append(r.Findings, f) }

// Remote checks a client identity against a real broker, stopping at the
// first failing step with a diagnosis and a fix.
func Remote(ctx context.Context, o RemoteOptions) (*RemoteReport, error) {
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	host, port, err := net.SplitHostPort(o.Bootstrap)
	if err != nil {
		return nil, &pki.InvalidFieldError{Field: FieldBootstrap, Value: o.Bootstrap, Problem: fmt.Sprintf("broker address %q: want HOST:PORT", o.Bootstrap), Err: err}
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, &pki.InvalidFieldError{Field: FieldBootstrap, Value: o.Bootstrap, Problem: fmt.Sprintf("broker address %q: port %q is not a number", o.Bootstrap, port)}
	}
	if o.ServerName == "" {
		o.ServerName = host
	}
	mapper, err := principal.ParseRules(o.Rules)
	if err != nil {
		return nil, &pki.InvalidFieldError{Field: FieldMappingRules, Value: o.Rules, Problem: "principal mapping rules: " + err.Error(), Err: err}
	}
	id, err := identity.Load(o.ClientDir, "")
	if id == nil {
		return nil, fmt.Errorf("client %s: %w", o.ClientDir, err)
	}
	st := pickStore(id)
	rep := &RemoteReport{Bootstrap: o.Bootstrap, Client: id.Name, Store: st.Format}
	if err != nil {
		rep.add(Finding{Step: "stores", Warning: true, OK: true, Message: err.Error()})
	}
	if id.Auth.Spec().SASL() {
		// Its certificate plays no part on a SASL_SSL listener.
		remoteSASL(ctx, rep, o, id, st)
		rep.Passed = len(rep.Findings) > 0
		for _, f := range rep.Findings {
			rep.Passed = rep.Passed && f.OK
		}
		return rep, nil
	}
	if p, err := principal.Mapped(st.Cert.Leaf, mapper); err == nil {
		rep.Principal = p
	} else {
		rep.add(Finding{Step: "principal", Message: "no ssl.principal.mapping.rules rule matches " + st.Cert.Leaf.Subject.String() + ": the broker will fail authentication",
			Fix: "end the rules with DEFAULT, or fix the rule patterns"})
		return rep, nil
	}
	if !localChecks(rep, id, st) || !configChecks(rep, o.ClientDir) {
		return rep, nil
	}
	if !tlsProbe(ctx, rep, o, st) {
		return rep, nil
	}
	kafkaChecks(ctx, rep, o, st)
	rep.Passed = true
	for _, f := range rep.Findings {
		rep.Passed = rep.Passed && f.OK
	}
	return rep, nil
}

// configChecks runs lint's consistency checks (inspect.CheckIdentity) on
// the client's directory: its configs must open the stores they name.
func configChecks(rep *RemoteReport, dir string) bool {
	ok := true
	for _, f := range inspect.CheckIdentity(dir) {
		if f.Severity == inspect.SevError {
			rep.add(Finding{Step: "config " + filepath.Base(f.File), Message: f.Message, Fix: "kafkatls lint " + dir})
			ok = false
		}
	}
	return ok
}

// pickStore prefers PEM (what non-Java clients use), then PKCS12, then JKS.
func pickStore(id *identity.Identity) identity.Store {
	for _, want := range []string{"PEM", "PKCS12", "JKS"} {
		for _, s := range id.Stores {
			if s.Format == want {
				return s
			}
		}
	}
	return id.Stores[0]
}

func localChecks(rep *RemoteReport, id *identity.Identity, st identity.Store) bool {
	leaf := st.Cert.Leaf
	ok := true
	fail := func(msg, fix string) {
		rep.add(Finding{Step: "client certificate", Message: msg, Fix: fix})
		ok = false
	}
	if pub, okk := st.Cert.PrivateKey.(interface{ Public() any }); okk {
		if eq, okk := pub.Public().(interface{ Equal(x any) bool }); okk && !eq.Equal(leaf.PublicKey) {
			fail("the private key does not match the certificate", "re-issue: kafkatls issue "+id.Name+" --force")
		}
	}
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		fail(fmt.Sprintf("the client certificate expired on %s", leaf.NotAfter.Format(time.DateOnly)), "renew it: kafkatls renew "+id.Name)
	case now.Before(leaf.NotBefore):
		fail(fmt.Sprintf("the client certificate is not valid before %s (clock skew?)", leaf.NotBefore.Format(time.RFC3339)), "check the clocks")
	case leaf.NotAfter.Sub(now) < 30*24*time.Hour:
		rep.add(Finding{Step: "client certificate", OK: true, Warning: true, Message: fmt.Sprintf("expires %s (within 30 days)", leaf.NotAfter.Format(time.DateOnly)), Fix: "kafkatls renew " + id.Name})
	}
	switch {
	case !hasEKU(leaf, x509.ExtKeyUsageClientAuth) && !id.Role.Spec().KafkaClient && id.Role.Spec().Server:
		// A TLS server outside Kafka: by design it cannot log in to Kafka.
		fail(fmt.Sprintf("%s is a %s identity (serverAuth only): it cannot log in to Kafka, by design", id.Name, id.Role), "give --client a client identity (kafkatls issue NAME)")
	case !hasEKU(leaf, x509.ExtKeyUsageClientAuth):
		fail("the client certificate lacks the clientAuth extended key usage: brokers refuse it", "re-issue it as a client: kafkatls issue "+id.Name+" --force")
	}
	inter := x509.NewCertPool()
	for _, der := range st.Cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: st.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil && ok {
		fail("the client certificate does not chain to the CA in its own truststore ("+err.Error()+")", "use the truststore and keystore from the same kafkatls PKI directory")
	}
	for _, other := range id.Stores {
		if !other.Cert.Leaf.Equal(leaf) {
			rep.add(Finding{Step: "client certificate", Message: fmt.Sprintf("the %s and %s stores hold different certificates", st.Format, other.Format), Fix: "re-issue: kafkatls issue " + id.Name + " --force"})
			ok = false
		}
	}
	if ok {
		rep.add(Finding{Step: "client certificate", OK: true, Message: fmt.Sprintf("%s, clientAuth, valid until %s, chains to %s", rep.Principal, leaf.NotAfter.Format(time.DateOnly), issuerName(st))})
	}
	return ok
}

func issuerName(st identity.Store) string {
	if len(st.Trust) > 0 {
		return st.Trust[0].Subject.String()
	}
	return "its CA"
}

func hasEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true // no EKU extension: any usage
	}
	for _, u := range c.ExtKeyUsage {
		if u == want || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// tlsProbe does one TLS handshake without trusting anything, so it can
// report what the broker presented, then judges it.
func tlsProbe(ctx context.Context, rep *RemoteReport, o RemoteOptions, st identity.Store) bool {
	d := &net.Dialer{Timeout: 5 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", o.Bootstrap)
	if err != nil {
		rep.add(Finding{Step: "connect", Message: fmt.Sprintf("cannot connect to %s: %v", o.Bootstrap, err),
			Fix: "check the host and port of the broker's SSL listener (listeners / advertised.listeners) and firewalls"})
		return false
	}
	defer raw.Close()
	var acceptable [][]byte
	askedForCert := false
	conf := &tls.Config{
		InsecureSkipVerify: true, // verified below, to report what was presented
		ServerName:         o.ServerName,
		MinVersion:         tls.VersionTLS12,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			askedForCert = true
			acceptable = cri.AcceptableCAs
			if o.sasl {
				return &tls.Certificate{}, nil // a SASL client has none configured
			}
			return &st.Cert, nil
		},
	}
	c := tls.Client(raw, conf)
	c.SetDeadline(time.Now().Add(o.Timeout))
	if err := c.HandshakeContext(ctx); err != nil {
		f := Finding{Step: "TLS handshake", Message: err.Error()}
		switch {
		case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
			f.Message = fmt.Sprintf("%s answered in plaintext: it is a PLAINTEXT or SASL_PLAINTEXT listener, not SSL", o.Bootstrap)
			f.Fix = "dial the broker's SSL listener port (see listeners= in server.properties), or set security.protocol to match this listener"
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			f.Message = fmt.Sprintf("%s closed the connection during the TLS handshake: most likely a PLAINTEXT listener (it reads the TLS hello as a malformed Kafka request)", o.Bootstrap)
			f.Fix = "dial the broker's SSL listener port (see listeners= and listener.security.protocol.map in server.properties)"
		case isTimeout(err):
			f.Message = fmt.Sprintf("no TLS answer from %s within %s: most likely a PLAINTEXT listener (it waits for the rest of what it reads as a huge Kafka request), or something on the path swallowing TLS", o.Bootstrap, o.Timeout)
			f.Fix = "dial the broker's SSL listener port (see listeners= and listener.security.protocol.map in server.properties)"
		case strings.Contains(err.Error(), "protocol version"):
			f.Message = "no common TLS version: " + err.Error()
			f.Fix = "enable TLSv1.2 or TLSv1.3 on the broker (ssl.enabled.protocols)"
		case o.sasl && askedForCert && strings.Contains(err.Error(), "remote error: tls:"):
			f.Message = fmt.Sprintf("%s requires a client certificate (%v): it is an SSL (mutual TLS) listener, not SASL_SSL", o.Bootstrap, err)
			f.Fix = fmt.Sprintf("dial the brokers' SASL_SSL port (default %d; listeners= in server.properties)", sasl.DefaultPort)
		case strings.Contains(err.Error(), "remote error: tls:"):
			f.Message = "the broker refused the handshake: " + err.Error()
			f.Fix = clientCertFix(st, acceptable)
		}
		rep.add(f)
		return false
	}
	cs := c.ConnectionState()
	rep.TLSVersion, rep.Cipher = tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite)
	for _, pc := range cs.PeerCertificates {
		rep.ServerChain = append(rep.ServerChain, CertInfo{Subject: pc.Subject.String(), Issuer: pc.Issuer.String(), SANs: certNames(pc), NotAfter: pc.NotAfter})
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, pc := range cs.PeerCertificates[1:] {
		inter.AddCert(pc)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{Roots: st.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(verr, &ua):
		rep.add(Finding{Step: "broker certificate", Message: fmt.Sprintf("the broker presented a certificate issued by %q, but this client trusts only %q", leaf.Issuer.String(), issuerName(st)),
			Fix: "the broker uses another CA: deploy the broker keystore from this PKI directory (kafkatls issue BROKER --role broker), or add the broker's CA to the client truststore"})
		return false
	case errors.As(verr, &ci) && ci.Reason == x509.Expired:
		rep.add(Finding{Step: "broker certificate", Message: fmt.Sprintf("the broker certificate is outside its validity (%s to %s)", leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly)),
			Fix: "renew the broker certificate (kafkatls renew BROKER) and reload its keystore"})
		return false
	case errors.As(verr, &ci) && ci.Reason == x509.IncompatibleUsage:
		rep.add(Finding{Step: "broker certificate", Message: "the broker certificate lacks the serverAuth extended key usage",
			Fix: "re-issue it with --role broker (serverAuth and clientAuth)"})
		return false
	case verr != nil:
		rep.add(Finding{Step: "broker certificate", Message: "the broker certificate does not verify: " + verr.Error()})
		return false
	}
	if err := leaf.VerifyHostname(o.ServerName); err != nil {
		rep.add(Finding{Step: "hostname", Message: fmt.Sprintf("the broker certificate is valid for %s, not %q: Kafka clients (ssl.endpoint.identification.algorithm=https) refuse it", certNames(leaf), o.ServerName),
			Fix: fmt.Sprintf("re-issue the broker certificate with --dns %s (or --ip), or connect with a name it lists; do not empty ssl.endpoint.identification.algorithm", o.ServerName)})
		return false
	}
	rep.add(Finding{Step: "broker certificate", OK: true, Message: fmt.Sprintf("%s issued by %s, valid for %s; %s %s", leaf.Subject, leaf.Issuer, certNames(leaf), rep.TLSVersion, rep.Cipher)})
	if o.sasl {
		if askedForCert {
			rep.add(Finding{Step: "listener", OK: true, Warning: true, Message: "the listener asks for a client certificate, as an SSL (mutual TLS) listener does; a SASL_SSL listener does not",
				Fix: fmt.Sprintf("make sure %s is the SASL_SSL listener (default port %d)", o.Bootstrap, sasl.DefaultPort)})
		}
		return true
	}
	if !askedForCert {
		rep.add(Finding{Step: "client authentication", OK: true, Warning: true, Message: "the broker did not ask for a client certificate: this listener is not mutual TLS (ssl.client.auth=none), so ACLs see User:ANONYMOUS",
			Fix: "set ssl.client.auth=required on the broker's SSL listener"})
	} else if len(acceptable) > 0 && !acceptsIssuer(acceptable, st) {
		rep.add(Finding{Step: "client authentication", Message: fmt.Sprintf("the broker accepts client certificates issued by %s, but this client's is issued by %q", dnList(acceptable), st.Cert.Leaf.Issuer.String()),
			Fix: "add this PKI's ca.crt to the broker truststore (ssl.truststore.location), or use a client certificate from the broker's CA"})
		return false
	}
	return true
}

func acceptsIssuer(acceptable [][]byte, st identity.Store) bool {
	for _, a := range acceptable {
		if bytes.Equal(a, st.Cert.Leaf.RawIssuer) {
			return true
		}
	}
	return false
}

func dnList(ders [][]byte) string {
	var out []string
	for _, d := range ders {
		if n, err := principal.JavaName(d); err == nil {
			out = append(out, strconv.Quote(n))
		}
	}
	return strings.Join(out, ", ")
}

func clientCertFix(st identity.Store, acceptable [][]byte) string {
	if len(acceptable) > 0 && !acceptsIssuer(acceptable, st) {
		return fmt.Sprintf("the broker trusts client certificates from %s only: add this PKI's ca.crt to its truststore", dnList(acceptable))
	}
	return "check the broker log for the handshake failure; make sure its truststore holds this PKI's ca.crt and ssl.client.auth matches"
}

// kafkaChecks runs ApiVersions and Metadata over verified TLS.
func kafkaChecks(ctx context.Context, rep *RemoteReport, o RemoteOptions, st identity.Store) {
	s := &session{addr: o.Bootstrap, serverName: o.ServerName, tlsConf: &tls.Config{Certificates: []tls.Certificate{st.Cert}, RootCAs: st.Roots, MinVersion: tls.VersionTLS12}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.Bootstrap), kgo.Dialer(s.dial), kgo.RetryTimeout(o.Timeout/2), kgo.RequestRetries(1))
	if err != nil {
		rep.add(Finding{Step: "Kafka", Message: err.Error()})
		return
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if _, err := kmsg.NewPtrApiVersionsRequest().RequestWith(cctx, cl); err != nil {
		f := Finding{Step: "ApiVersions", Message: clientDiagnosis(err, o.ServerName)}
		var fe *kgo.ErrFirstReadEOF
		if errors.As(err, &fe) || strings.Contains(err.Error(), "remote error: tls:") {
			f.Message = "the broker closed the connection after the handshake: it did not accept the client certificate (" + err.Error() + ")"
			f.Fix = "make sure the broker truststore holds this PKI's ca.crt; the broker log names the reason"
		}
		rep.add(f)
		return
	}
	rep.add(Finding{Step: "ApiVersions", OK: true, Message: "authenticated as " + rep.Principal})
	kafkaMetadata(cctx, rep, o, cl)
}

// kafkaMetadata runs Metadata (for o.Topic if set) on an authenticated
// client and reports the advertised brokers and the topic's access.
func kafkaMetadata(cctx context.Context, rep *RemoteReport, o RemoteOptions, cl *kgo.Client) {
	md := kmsg.NewPtrMetadataRequest()
	if o.Topic != "" {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(o.Topic)
		md.Topics = append(md.Topics, t)
	}
	resp, err := md.RequestWith(cctx, cl)
	if err != nil {
		rep.add(Finding{Step: "Metadata", Message: clientDiagnosis(err, o.ServerName)})
		return
	}
	var badHosts []string
	leafNames := ""
	if len(rep.ServerChain) > 0 {
		leafNames = rep.ServerChain[0].SANs
	}
	for _, b := range resp.Brokers {
		addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		rep.Brokers = append(rep.Brokers, addr)
		if !sanCovers(leafNames, b.Host) {
			badHosts = append(badHosts, b.Host)
		}
	}
	rep.add(Finding{Step: "Metadata", OK: true, Message: "advertised brokers: " + strings.Join(rep.Brokers, ", ")})
	if len(badHosts) > 0 {
		rep.add(Finding{Step: "advertised listeners", OK: true, Warning: true,
			Message: fmt.Sprintf("advertised hosts %s are not in the bootstrap broker's certificate (%s): if every broker's certificate follows the same pattern, clients will fail hostname verification after bootstrap", strings.Join(badHosts, ", "), leafNames),
			Fix:     "give each broker's certificate its advertised host (kafkatls issue BROKER --role broker --dns HOST)"})
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			f := Finding{Step: "topic " + o.Topic, Message: fmt.Sprintf("%s: %v", rep.Principal, err)}
			if errors.Is(err, kerr.TopicAuthorizationFailed) {
				cmds := kafkaacl.Commands(rep.Principal, kafkaacl.Grant{Topic: o.Topic, Operations: []string{"Describe", "Read", "Write"}},
					kafkaacl.Target{Bootstrap: kafkaacl.ShellQuote(o.Bootstrap), CommandConfig: "admin.properties"})
				f.Message = fmt.Sprintf("%s is authenticated but not authorized to describe topic %q", rep.Principal, o.Topic)
				f.Fix = "grant it (run as a super user): " + strings.Join(cmds, "; ")
			} else if errors.Is(err, kerr.UnknownTopicOrPartition) {
				f.Message = fmt.Sprintf("topic %q does not exist (and the client is allowed to know that)", o.Topic)
				f.Fix = "create it: kafka-topics.sh --create --topic " + o.Topic
			}
			rep.add(f)
		} else if o.Topic != "" {
			rep.add(Finding{Step: "topic " + o.Topic, OK: true, Message: "described"})
		}
	}
}

// sanCovers reports whether a "DNS:a, IP:b" list covers host.
func sanCovers(sans, host string) bool {
	for _, n := range strings.Split(sans, ", ") {
		name := n[strings.Index(n, ":")+1:]
		if strings.EqualFold(name, host) {
			return true
		}
		if strings.HasPrefix(name, "*.") && strings.Count(host, ".") >= 1 && strings.EqualFold(name[1:], host[strings.Index(host, "."):]) {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
