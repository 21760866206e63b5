package testbroker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTrustedClientAllowAll(t *testing.T) {
	e := start(t, nil)
	cert := e.ca.issue(t, leafOpts{cn: "client1", ou: "kafkatls-test"})
	cl := e.client(t, &cert, nil,
		kgo.ConsumeTopics("kafkatls-probe"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t)

	av, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil || av.ErrorCode != 0 || len(av.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: err=%v resp=%+v", err, av)
	}

	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("kafkatls-probe")
	mreq.Topics = append(mreq.Topics, mt)
	meta, err := mreq.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 1 || len(meta.Topics) != 1 || meta.Topics[0].ErrorCode != 0 {
		t.Fatalf("metadata: %+v", meta)
	}
	if got := net.JoinHostPort(meta.Brokers[0].Host, strconv.Itoa(int(meta.Brokers[0].Port))); got != e.broker.Addr() {
		t.Fatalf("advertised %s, Addr() %s", got, e.broker.Addr())
	}

	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "kafkatls-probe", Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	var got []string
	for len(got) == 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("fetch errors: %+v", errs)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if got[0] != "hello" {
		t.Fatalf("consumed %q", got)
	}

	evs := e.broker.Events()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, ev := range evs {
		if !ev.OK || ev.Err != nil || ev.Diagnosis != "" {
			t.Errorf("event not OK: %+v", ev)
		}
		if ev.TLSVersion != "TLS 1.3" || ev.Cipher == "" {
			t.Errorf("event TLS details: %+v", ev)
		}
		if ev.Principal != "User:CN=client1,OU=kafkatls-test" || ev.ClientSubject != "CN=client1,OU=kafkatls-test" {
			t.Errorf("event principal: %+v", ev)
		}
		if host, _, _ := net.SplitHostPort(ev.Remote); host != "127.0.0.1" {
			t.Errorf("event remote: %+v", ev)
		}
	}
	if len(e.broker.Denials()) != 0 {
		t.Errorf("denials without ACLs: %+v", e.broker.Denials())
	}
}

func TestRefusedClients(t *testing.T) {
	e := start(t, nil)
	foreign := newPKI(t, "foreign CA")
	now := time.Now()

	cases := []struct {
		name      string
		cert      func() *tls.Certificate
		roots     *x509.CertPool
		plaintext bool
		diag      []string
		errCheck  func(error) bool
	}{
		{
			name: "no client certificate",
			cert: func() *tls.Certificate { return nil },
			diag: []string{"no client certificate"},
		},
		{
			name: "foreign CA",
			cert: func() *tls.Certificate { c := foreign.issue(t, leafOpts{cn: "stranger"}); return &c },
			diag: []string{"unknown CA", `"CN=stranger"`, `issuer "CN=foreign CA"`},
			errCheck: func(err error) bool {
				var ua x509.UnknownAuthorityError
				return errors.As(err, &ua)
			},
		},
		{
			name: "expired",
			cert: func() *tls.Certificate {
				c := e.ca.issue(t, leafOpts{cn: "old", notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)})
				return &c
			},
			diag: []string{"expired certificate", `"CN=old"`, "expired at"},
			errCheck: func(err error) bool {
				var ci x509.CertificateInvalidError
				return errors.As(err, &ci) && ci.Reason == x509.Expired
			},
		},
		{
			name: "not yet valid",
			cert: func() *tls.Certificate {
				c := e.ca.issue(t, leafOpts{cn: "future", notBefore: now.Add(time.Hour), notAfter: now.Add(2 * time.Hour)})
				return &c
			},
			diag: []string{"not yet valid", `"CN=future"`},
		},
		{
			name: "serverAuth-only EKU",
			cert: func() *tls.Certificate {
				c := e.ca.issue(t, leafOpts{cn: "srv", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
				return &c
			},
			diag: []string{"wrong extended key usage", "serverAuth", "clientAuth"},
			errCheck: func(err error) bool {
				var ci x509.CertificateInvalidError
				return errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage
			},
		},
		{
			name:  "client does not trust the broker CA",
			cert:  func() *tls.Certificate { c := e.ca.issue(t, leafOpts{cn: "wrongtrust"}); return &c },
			roots: foreign.pool,
			diag:  []string{"client rejected the broker", "truststore"},
		},
		{
			name:      "plaintext client",
			plaintext: true,
			diag:      []string{"plaintext client on TLS port", "plaintext Kafka request", "SSL"},
			errCheck: func(err error) bool {
				var rhe tls.RecordHeaderError
				return errors.As(err, &rhe)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cl *kgo.Client
			if tc.plaintext {
				var err error
				cl, err = kgo.NewClient(kgo.SeedBrokers(e.broker.Addr()), kgo.DialTimeout(5*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(cl.Close)
			} else {
				cl = e.client(t, tc.cert(), tc.roots)
			}
			_, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl)
			if err == nil {
				t.Fatal("request succeeded; want refusal")
			}
			if tc.plaintext {
				var fre *kgo.ErrFirstReadEOF
				if !errors.As(err, &fre) {
					t.Errorf("plaintext client error = %v; want kgo.ErrFirstReadEOF", err)
				}
			}
			ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
			t.Logf("client error: %v", err)
			t.Logf("diagnosis: %s (err: %v)", ev.Diagnosis, ev.Err)
			if ev.Err == nil || ev.Principal != "" || ev.TLSVersion != "" {
				t.Errorf("event: %+v", ev)
			}
			if !containsAll(ev.Diagnosis, tc.diag...) {
				t.Errorf("diagnosis %q; want it to mention %q", ev.Diagnosis, tc.diag)
			}
			if tc.errCheck != nil && !tc.errCheck(ev.Err) {
				t.Errorf("event error %v (%T) is not the expected kind", ev.Err, ev.Err)
			}
			// Drain the client's other attempts so the next case sees
			// only its own events.
			cl.Close()
			for {
				select {
				case ev := <-e.events:
					if ev.OK {
						t.Errorf("refused client produced an OK event: %+v", ev)
					}
					continue
				case <-time.After(100 * time.Millisecond):
				}
				break
			}
		})
	}
	for _, ev := range e.broker.Events() {
		if ev.OK {
			t.Errorf("OK event among refused clients: %+v", ev)
		}
	}
}

func TestPrincipalErrorClosesConnection(t *testing.T) {
	errBanned := errors.New("CN=banned is not mapped by any rule")
	e := start(t, func(c *Config) {
		c.Principal = func(cert *x509.Certificate) (string, error) {
			if cert.Subject.CommonName == "banned" {
				return "", errBanned
			}
			return subjectPrincipal(cert)
		}
	})
	banned := e.ca.issue(t, leafOpts{cn: "banned"})
	cl := e.client(t, &banned, nil)
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), cl); err == nil {
		t.Fatal("request with an unmappable principal succeeded")
	}
	ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
	if !errors.Is(ev.Err, errBanned) || ev.Principal != "" || ev.ClientSubject != "CN=banned" {
		t.Errorf("event: %+v", ev)
	}
	if ev.TLSVersion == "" || !containsAll(ev.Diagnosis, "authentication failed", "principal", errBanned.Error()) {
		t.Errorf("event: %+v", ev)
	}

	// Other clients are unaffected.
	good := e.ca.issue(t, leafOpts{cn: "good"})
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), e.client(t, &good, nil)); err != nil {
		t.Fatalf("good client: %v", err)
	}
	e.waitEvent(t, func(ev Event) bool { return ev.OK && ev.Principal == "User:CN=good" })
}

func TestStartValidation(t *testing.T) {
	ca := newPKI(t, "ca")
	cert := ca.issue(t, leafOpts{cn: "broker", server: true})
	cases := map[string]Config{
		"no certificate":      {ClientCAs: ca.pool},
		"no client CAs":       {Certificate: cert},
		"ACLs need Principal": {Certificate: cert, ClientCAs: ca.pool, ACLs: NewACLs()},
		"bad ACL": {Certificate: cert, ClientCAs: ca.pool, Principal: subjectPrincipal,
			ACLs: NewACLs(ACL{Principal: "User:x", Resource: Topic, Name: "t", Operation: "Raed"})},
	}
	for name, cfg := range cases {
		if b, err := Start(cfg); err == nil {
			b.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

func TestRawConnections(t *testing.T) {
	e := start(t, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", e.broker.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// A client that connects and says nothing does not hold up others,
	// and is logged once its handshake deadline passes.
	silent := dial()
	good := e.ca.issue(t, leafOpts{cn: "good"})
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t), e.client(t, &good, nil)); err != nil {
		t.Fatalf("good client behind a silent one: %v", err)
	}
	ev := e.waitEvent(t, func(ev Event) bool { return !ev.OK })
	if ev.Remote != silent.LocalAddr().String() || !containsAll(ev.Diagnosis, "handshake timed out", "300ms") {
		t.Errorf("silent client event: %+v", ev)
	}

	http := dial()
	if _, err := http.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	ev = e.waitEvent(t, func(ev Event) bool { return !ev.OK })
	if ev.Remote != http.LocalAddr().String() || !containsAll(ev.Diagnosis, "HTTP") {
		t.Errorf("HTTP client event: %+v", ev)
	}
}
