package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/testbroker"
)

// Expectations.
const (
	ExpectAccept = "accept"
	ExpectRefuse = "refuse"
)

// Check is one row of a verify report.
type Check struct {
	Server     string `json:"server"`   // the broker identity whose stores the test broker used
	Identity   string `json:"identity"` // the connecting identity (or a probe for must-fail cases)
	Role       string `json:"role"`
	Store      string `json:"store"` // JKS, PKCS12, PEM, or what the probe presents
	Expect     string `json:"expect"`
	Result     string `json:"result"` // accepted or refused
	OK         bool   `json:"ok"`     // Result matched Expect (and the principal matched)
	TLSVersion string `json:"tlsVersion,omitempty"`
	Principal  string `json:"principal,omitempty"`
	Diagnosis  string `json:"diagnosis,omitempty"`
}

// Report is the outcome of verifying a bundle.
type Report struct {
	Dir    string  `json:"dir"`
	Checks []Check `json:"checks"`
	Passed bool    `json:"passed"`
}

// Options control Bundle.
type Options struct {
	Dir string
	// Rules are ssl.principal.mapping.rules; empty means DEFAULT.
	Rules string
	// Timeout bounds each accepted-path check; default 15s.
	Timeout time.Duration
	// Progress, if set, is called with each finished check.
	Progress func(Check)
}

const probeTopic = "kafkatls-verify"

// Bundle verifies every identity of a PKI directory against the test
// broker, started in turn with each broker's and controller's own stores
// (a TLS server outside Kafka gets a plain TLS handshake instead,
// verifyTLSServer):
// each identity connects with each store format it has (ApiVersions,
// Metadata, produce, consume), and must-fail cases — no client
// certificate, a foreign CA, an expired certificate, a certificate without
// clientAuth, a broker certificate without the dialled host, a plaintext
// client — must be refused. When ctx is canceled Bundle stops and returns
// ctx's error (with the checks finished before): a check cut short is
// neither passed nor failed.
func Bundle(ctx context.Context, o Options) (*Report, error) {
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	mapper, err := principal.ParseRules(o.Rules)
	if err != nil {
		return nil, &pki.InvalidFieldError{Field: FieldMappingRules, Value: o.Rules, Problem: "principal mapping rules: " + err.Error(), Err: err}
	}
	ids, loadErr := identity.LoadAll(o.Dir)
	if len(ids) == 0 {
		return nil, loadErr
	}
	rep := &Report{Dir: o.Dir}
	add := func(c Check) {
		rep.Checks = append(rep.Checks, c)
		if o.Progress != nil {
			o.Progress(c)
		}
	}
	if loadErr != nil {
		for _, e := range strings.Split(loadErr.Error(), "\n") {
			add(Check{Identity: "-", Expect: ExpectAccept, Result: "unreadable", Diagnosis: e})
		}
	}
	// Configs, password files and stores must agree, and chain to the CA,
	// before any handshake: the test broker and clients here open the
	// stores with the password file, Kafka with the configs' passwords.
	// These are lint's checks, reported in its words.
	// The bundle's own truststores (truststore.password) first.
	for _, c := range consistency("bundle", "", o.Dir) {
		add(c)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		for _, c := range consistency(id.Name, id.Role, id.Dir) {
			add(c)
		}
	}
	var servers []*identity.Identity
	for _, id := range ids {
		if id.Role.Spec().KafkaServer {
			servers = append(servers, id)
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s %w", o.Dir, ErrNoServer)
	}
	probes, err := newProbes()
	if err != nil {
		return nil, err
	}
	// SASL identities log in on a SASL_SSL listener of the test broker
	// when it runs with a broker's stores.
	saslCfg, iss, err := BrokerSASL(o.Dir, nil, ids)
	if err != nil {
		add(Check{Server: "-", Identity: "SASL credentials", Expect: ExpectAccept, Result: "unreadable", Diagnosis: err.Error()})
		saslCfg = nil
	}
	for _, srv := range servers {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		for _, c := range storeConsistency(srv) {
			add(c)
		}
		sc := saslCfg
		if srv.Role != pki.RoleBroker {
			sc = nil // a SASL_SSL listener is a broker's
		}
		if err := verifyServer(ctx, o, mapper, srv, ids, probes, sc, iss, add); err != nil {
			return rep, err
		}
	}
	// TLS servers outside Kafka (role server, a Connect worker's REST
	// listener): a plain TLS handshake each.
	for _, id := range ids {
		if rs := id.Role.Spec(); rs.Server && !rs.Cluster {
			for _, c := range storeConsistency(id) {
				add(c)
			}
			if err := verifyTLSServer(ctx, o, id, probes, add); err != nil {
				return rep, err
			}
		}
	}
	rep.Passed = true
	for _, c := range rep.Checks {
		rep.Passed = rep.Passed && c.OK
	}
	return rep, nil
}

// consistency runs inspect.CheckIdentity on an identity's (or the
// bundle's) directory: each error is a failed check.
func consistency(name string, role pki.Role, dir string) []Check {
	var out []Check
	for _, f := range inspect.CheckIdentity(dir) {
		if f.Severity != inspect.SevError {
			continue
		}
		out = append(out, Check{Server: "-", Identity: name, Role: string(role), Store: filepath.Base(f.File), Expect: ExpectAccept,
			Result: "inconsistent", Diagnosis: f.Message})
	}
	return out
}

// storeConsistency checks that every format of a server identity holds the
// same certificate (a JKS and a PKCS12 that disagree break rotations).
func storeConsistency(id *identity.Identity) []Check {
	var out []Check
	for _, st := range id.Stores[1:] {
		if !st.Cert.Leaf.Equal(id.Stores[0].Cert.Leaf) {
			out = append(out, Check{Server: id.Name, Identity: id.Name, Role: string(id.Role), Store: st.Format, Expect: ExpectAccept,
				Result: "inconsistent", Diagnosis: fmt.Sprintf("%s holds a different certificate than %s", st.Format, id.Stores[0].Format)})
		}
	}
	return out
}

func verifyServer(ctx context.Context, o Options, mapper *principal.Mapper, srv *identity.Identity, ids []*identity.Identity, pr *probes,
	saslCfg *testbroker.SASLConfig, iss *sasl.Issuer, add func(Check)) error {
	st := srv.Stores[0]
	pool := x509.NewCertPool()
	for _, c := range st.Trust {
		pool.AddCert(c)
	}
	// The probe CA exists only in this process, for the must-fail cases
	// that need a trusted issuer (expired, no clientAuth).
	pool.AddCert(pr.ca)
	b, err := testbroker.Start(testbroker.Config{
		Certificate: st.Cert, ClientCAs: pool, Topics: []string{probeTopic},
		Principal: func(c *x509.Certificate) (string, error) { return principal.Mapped(c, mapper) },
		SASL:      saslCfg,
	})
	if err != nil {
		return fmt.Errorf("test broker with %s's %s keystore: %w", srv.Name, st.Format, err)
	}
	defer b.Close()
	serverName := srv.Name
	if len(st.Cert.Leaf.DNSNames) > 0 {
		serverName = st.Cert.Leaf.DNSNames[0]
	} else if len(st.Cert.Leaf.IPAddresses) > 0 {
		serverName = st.Cert.Leaf.IPAddresses[0].String()
	}

	for _, id := range ids {
		if !id.Role.Spec().KafkaClient {
			continue // ZooKeeper servers and TLS servers never speak the Kafka protocol
		}
		for _, cs := range id.Stores {
			// A canceled run stops here: the checks not run are not failures.
			if err := ctx.Err(); err != nil {
				return err
			}
			c := Check{Server: srv.Name, Identity: id.Name, Role: string(id.Role), Store: cs.Format, Expect: ExpectAccept}
			want, err := principal.Mapped(cs.Cert.Leaf, mapper)
			if err != nil {
				c.Expect = ExpectRefuse // no mapping rule matches: Kafka fails authentication
			}
			s := &session{addr: b.Addr(), serverName: serverName, tlsConf: &tls.Config{
				Certificates: []tls.Certificate{cs.Cert}, RootCAs: cs.Roots, MinVersion: tls.VersionTLS12}}
			cctx, cancel := context.WithTimeout(ctx, o.Timeout)
			res := s.runKafka(cctx, probeTopic, "probe from "+id.Name+" "+cs.Format, o.Timeout)
			cancel()
			if err := ctx.Err(); err != nil {
				return err // the check was cut short, not refused
			}
			judge(&c, res, s, b, serverName)
			if c.Result == "accepted" && c.Principal != want {
				c.OK = false
				c.Diagnosis = fmt.Sprintf("broker saw principal %q, expected %q", c.Principal, want)
			}
			// A SASL identity's principal.txt is its SASL principal; its
			// certificate was checked against the mapping above.
			if c.Result == "accepted" && o.Rules == "" && id.Principal != "" && !id.Auth.Spec().SASL() && id.Principal != c.Principal {
				c.OK = false
				c.Diagnosis = fmt.Sprintf("principal.txt says %q but the broker saw %q", id.Principal, c.Principal)
			}
			add(c)
		}
	}

	// Must-fail cases, each with the stores of the first identity that has any.
	base := ids[0].Stores[0]
	for _, n := range []struct {
		name, presents string
		conf           *tls.Config
		serverName     string
	}{
		{"no client certificate", "no certificate", &tls.Config{RootCAs: base.Roots}, serverName},
		{"foreign CA", "certificate from an unrelated CA", &tls.Config{RootCAs: base.Roots, Certificates: []tls.Certificate{pr.foreign}}, serverName},
		{"expired certificate", "expired certificate", &tls.Config{RootCAs: base.Roots, Certificates: []tls.Certificate{pr.expired}}, serverName},
		{"no clientAuth EKU", "serverAuth-only certificate", &tls.Config{RootCAs: base.Roots, Certificates: []tls.Certificate{pr.serverOnly}}, serverName},
		{"host not in broker SANs", "valid client, dials not-in-sans.invalid", &tls.Config{RootCAs: base.Roots, Certificates: []tls.Certificate{base.Cert}}, "not-in-sans.invalid"},
		{"plaintext client", "PLAINTEXT security.protocol", nil, serverName},
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := Check{Server: srv.Name, Identity: n.name, Role: "probe", Store: n.presents, Expect: ExpectRefuse}
		if n.conf != nil {
			n.conf.MinVersion = tls.VersionTLS12
		}
		s := &session{addr: b.Addr(), serverName: n.serverName, tlsConf: n.conf}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res := s.runKafka(cctx, probeTopic, "must not arrive", 1500*time.Millisecond)
		cancel()
		if err := ctx.Err(); err != nil {
			return err // a canceled dial is not a refusal
		}
		judge(&c, res, s, b, n.serverName)
		add(c)
	}
	if saslCfg != nil {
		return verifySASL(ctx, o, srv.Name, b, serverName, ids, iss, add)
	}
	return nil
}

// judge fills a check's result from the client outcome and the broker's
// event for the same connection.
func judge(c *Check, res kafkaOutcome, s *session, b *testbroker.Broker, serverName string) {
	if res.tls != nil {
		c.TLSVersion = tls.VersionName(res.tls.Version)
	}
	var ev *testbroker.Event
	locals := s.localAddrs()
	events := b.Events()
	for i := len(events) - 1; i >= 0; i-- {
		if slices.Contains(locals, events[i].Remote) {
			ev = &events[i]
			break
		}
	}
	if res.err == nil {
		c.Result = "accepted"
		if ev != nil {
			c.Principal = ev.Principal
		}
	} else {
		c.Result = "refused"
		var hostErr x509.HostnameError
		var caErr x509.UnknownAuthorityError
		switch {
		case errors.As(res.err, &hostErr) || errors.As(res.err, &caErr):
			c.Diagnosis = "client: " + clientDiagnosis(res.err, serverName) // the client saw the precise cause
		case ev != nil && !ev.OK && ev.Diagnosis != "":
			c.Diagnosis = "broker: " + ev.Diagnosis
		default:
			c.Diagnosis = clientDiagnosis(res.err, serverName)
		}
		if res.stage != "" && c.Expect == ExpectAccept {
			c.Diagnosis = res.stage + ": " + c.Diagnosis
		}
	}
	c.OK = (c.Result == "accepted") == (c.Expect == ExpectAccept)
}

// probes are throwaway certificates for the must-fail cases.
type probes struct {
	ca                           *x509.Certificate
	foreign, expired, serverOnly tls.Certificate
}

func newProbes() (*probes, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafkatls verify probe CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(der)
	leaf := func(cn string, issuer *x509.Certificate, issuerKey *ecdsa.PrivateKey, nb, na time.Time, eku x509.ExtKeyUsage) (tls.Certificate, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		t := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
		if issuer == nil {
			issuer, issuerKey = t, k
			t.IsCA, t.BasicConstraintsValid, t.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		}
		der, err := x509.CreateCertificate(rand.Reader, t, issuer, k.Public(), issuerKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		c, _ := x509.ParseCertificate(der)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: c}, nil
	}
	p := &probes{ca: ca}
	var errs [3]error
	p.foreign, errs[0] = leaf("foreign-client", nil, nil, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageClientAuth)
	p.expired, errs[1] = leaf("expired-client", ca, caKey, now.Add(-48*time.Hour), now.Add(-24*time.Hour), x509.ExtKeyUsageClientAuth)
	p.serverOnly, errs[2] = leaf("server-only", ca, caKey, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth)
	return p, errors.Join(errs[:]...)
}
