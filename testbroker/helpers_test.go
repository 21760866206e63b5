package testbroker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// testPKI is a CA that issues certificates for the tests.
type testPKI struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testPKI{cert: cert, key: key, pool: pool}
}

type leafOpts struct {
	cn, ou    string
	eku       []x509.ExtKeyUsage
	notBefore time.Time
	notAfter  time.Time
	server    bool // SAN IP 127.0.0.1 + DNS localhost
}

func (p *testPKI) issue(t *testing.T, o leafOpts) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(time.Hour)
	}
	if o.eku == nil {
		o.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		Subject:        pkix.Name{CommonName: o.cn},
		NotBefore:      o.notBefore,
		NotAfter:       o.notAfter,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    o.eku,
		SubjectKeyId:   []byte(o.cn),
		AuthorityKeyId: p.cert.SubjectKeyId,
	}
	if o.ou != "" {
		tmpl.Subject.OrganizationalUnit = []string{o.ou}
	}
	if o.server {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, p.cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// subjectPrincipal is the tests' principal function.
func subjectPrincipal(c *x509.Certificate) (string, error) {
	return "User:" + c.Subject.String(), nil
}

// env is a running broker plus the PKI that signed it.
type env struct {
	ca     *testPKI
	broker *Broker
	events chan Event
}

// start starts a broker signed by a fresh CA; mod may adjust the config.
func start(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	ca := newPKI(t, "kafkatls test CA")
	e := &env{ca: ca, events: make(chan Event, 100)}
	cfg := Config{
		Certificate: ca.issue(t, leafOpts{cn: "broker", server: true,
			eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}),
		ClientCAs: ca.pool,
		Principal: subjectPrincipal,
		Log: func(ev Event) {
			select {
			case e.events <- ev:
			default:
			}
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	e.broker = b
	return e
}

// client returns a kgo client presenting cert (none if nil) and trusting
// roots (the broker's CA if nil).
func (e *env) client(t *testing.T, cert *tls.Certificate, roots *x509.CertPool, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	if roots == nil {
		roots = e.ca.pool
	}
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(e.broker.Addr()),
		kgo.DialTLSConfig(tc),
		kgo.DialTimeout(5 * time.Second),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitEvent waits (bounded) for a logged event matching pred.
func (e *env) waitEvent(t *testing.T, pred func(Event) bool) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-e.events:
			if pred(ev) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no matching connection event; events so far: %+v", e.broker.Events())
		}
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
