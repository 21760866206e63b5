package testbroker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kafkatls/kafkatls/principal"
)

// Config configures a Broker.
type Config struct {
	// Listen is the TCP address to listen on; default "127.0.0.1:0". An
	// IP binds that address only (0.0.0.0: every IPv4 interface; [::]:
	// every IPv6 one), an empty host every interface, a host name every
	// address it resolves to, all on one port. Broker.ListenAddrs tells
	// what was bound.
	Listen string
	// Certificate is the broker's key and certificate chain.
	Certificate tls.Certificate
	// ClientCAs holds the CAs client certificates must chain to. Required.
	ClientCAs *x509.CertPool
	// Principal maps the verified client leaf certificate to a Kafka
	// principal such as "User:CN=client1,OU=x". An error is an
	// authentication failure: the connection is closed and the Event
	// records why. Required when ACLs is set; otherwise it defaults to
	// "User:" + cert.Subject.String() (Go's RFC 2253 rendering, which is
	// not always what Java prints).
	Principal func(*x509.Certificate) (string, error)
	// ACLs restricts what principals may do; nil allows everything.
	ACLs *ACLs
	// Topics are created at start; default "kafkatls-probe".
	Topics []string
	// Partitions is the partition count of each seeded topic, and of
	// each topic created without a count (auto-created, or CreateTopics
	// with NumPartitions -1), as Kafka's num.partitions; default 1.
	Partitions int
	// NoAutoCreateTopics turns off topic auto-creation, as
	// auto.create.topics.enable=false does on Kafka. By default, as on a
	// default Kafka broker, a Metadata request (v4+) naming a missing topic
	// with AllowAutoTopicCreation set creates it with Partitions
	// partitions: this is what producers send before their first write to
	// a topic. With ACLs, auto-creation also needs Create on the cluster or
	// on the topic, as on Kafka. Without auto-creation a missing topic is
	// UNKNOWN_TOPIC_OR_PARTITION.
	NoAutoCreateTopics bool
	// Log, if non-nil, is called once for every connection attempt, after
	// its TLS handshake and principal mapping succeed or fail. Calls are
	// serialized. It must not call Close.
	Log func(Event)
	// HandshakeTimeout bounds each TLS handshake; default 10s.
	HandshakeTimeout time.Duration
	// SASL, if non-nil, adds a SASL_SSL listener (see SASLConfig).
	SASL *SASLConfig
}

// Listener names, as Kafka's security protocols.
const (
	ListenerSSL     = "SSL"
	ListenerSASLSSL = "SASL_SSL"
)

// Event describes one connection attempt.
type Event struct {
	Time   time.Time
	Remote string // client host:port
	// Listener is ListenerSSL (mutual TLS) or ListenerSASLSSL.
	Listener string
	// Mechanism is the SASL mechanism the client chose (SASL_SSL only).
	Mechanism string
	OK        bool // handshake and principal mapping (or SASL authentication) succeeded
	// TLSVersion ("TLS 1.3") and Cipher are set when the handshake
	// completed.
	TLSVersion    string
	Cipher        string
	ClientSubject string // subject of the client leaf certificate, if one was sent
	Principal     string // set when OK
	// Err is the underlying error when !OK; a *SASLError for a refused
	// SASL authentication.
	Err error
	// Diagnosis is a human explanation of a failure: no client
	// certificate, untrusted CA, expired certificate, missing clientAuth
	// EKU, plaintext client, client rejected the broker certificate ...
	Diagnosis string
}

// Broker is an in-process single-node Kafka broker (kfake) behind a mutual
// TLS listener that attributes every connection to the principal of its
// client certificate.
type Broker struct {
	cfg      Config
	cluster  *kfake.Cluster
	ln       *tlsListener
	addr     *net.TCPAddr // advertised
	bound    []string
	sasl     *saslServer
	saslRaws []net.Listener
	saslAddr *net.TCPAddr // advertised to SASL_SSL clients
	saslBnd  []string
	timeout  time.Duration

	done      chan struct{} // closed by Close
	ctx       context.Context
	cancel    context.CancelFunc // cancels ctx, by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // accept loop and handshakes

	logMu sync.Mutex // serializes cfg.Log

	mu      sync.Mutex
	events  []Event
	denials []Denial
	conns   map[net.Conn]struct{}
	topics  map[[16]byte]string // topic ID -> name cache
}

// Start listens on cfg.Listen and starts the broker.
func Start(cfg Config) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if len(cfg.Topics) == 0 {
		cfg.Topics = []string{"kafkatls-probe"}
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("testbroker: Config.Certificate has no certificate or key")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("testbroker: Config.ClientCAs is required")
	}
	if cfg.Principal == nil {
		if cfg.ACLs != nil {
			return nil, errors.New("testbroker: Config.Principal is required with ACLs (principals must be computed the way the ACLs name them)")
		}
		cfg.Principal = func(c *x509.Certificate) (string, error) { return principal.User(c.Subject.String()), nil }
	}
	if err := cfg.ACLs.Validate(); err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}

	var ss *saslServer
	if cfg.SASL != nil {
		var err error
		if ss, err = newSASLServer(*cfg.SASL); err != nil {
			return nil, fmt.Errorf("testbroker: %w", err)
		}
		if ss.cfg.Listen == "" {
			ss.cfg.Listen = "127.0.0.1:0"
		}
	}

	raws, err := listen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	var saslRaws []net.Listener
	if ss != nil {
		if saslRaws, err = listen(ss.cfg.Listen); err != nil {
			for _, l := range raws {
				l.Close()
			}
			return nil, fmt.Errorf("testbroker: SASL_SSL listener: %w", err)
		}
	}
	b := &Broker{
		sasl:     ss,
		saslRaws: saslRaws,
		cfg:      cfg,
		timeout:  cfg.HandshakeTimeout,
		done:     make(chan struct{}),
		conns:    make(map[net.Conn]struct{}),
		topics:   make(map[[16]byte]string),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.ln = &tlsListener{b: b, raws: raws, ch: make(chan net.Conn)}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	b.addr = advertised(raws[0], host == "")
	for _, l := range raws {
		b.bound = append(b.bound, l.Addr().String())
	}
	if ss != nil {
		host, _, _ := net.SplitHostPort(ss.cfg.Listen)
		b.saslAddr = advertised(saslRaws[0], host == "")
		for _, l := range saslRaws {
			b.saslBnd = append(b.saslBnd, l.Addr().String())
		}
	}

	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			if used {
				return nil, errors.New("testbroker: kfake asked for a second listener")
			}
			used = true
			return b.ln, nil
		}),
	}
	if !cfg.NoAutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		b.cancel()
		b.ln.Close()
		return nil, fmt.Errorf("testbroker: starting kfake: %w", err)
	}
	b.cluster = cluster
	for _, raw := range raws {
		b.wg.Add(1)
		go b.ln.acceptLoop(raw, false)
	}
	for _, raw := range saslRaws {
		b.wg.Add(1)
		go b.ln.acceptLoop(raw, true)
	}
	return b, nil
}

// Addr returns the host:port clients dial from this machine. It is also
// the address the broker advertises in Metadata responses: the first bound
// address, with an unspecified IP (0.0.0.0, ::) replaced by loopback.
func (b *Broker) Addr() string { return b.addr.String() }

// ListenAddrs returns the addresses actually bound, as host:port: one per
// resolved address of a host name, the unspecified address (0.0.0.0:9093,
// [::]:9093) when listening on every interface, the real port when Listen
// asked for port 0.
func (b *Broker) ListenAddrs() []string { return append([]string(nil), b.bound...) }

// SASLAddr is the SASL_SSL listener's address as clients dial it and as
// Metadata responses on that listener advertise it (as Addr); empty
// without Config.SASL.
func (b *Broker) SASLAddr() string {
	if b.saslAddr == nil {
		return ""
	}
	return b.saslAddr.String()
}

// SASLListenAddrs returns the addresses the SASL_SSL listener bound, as
// ListenAddrs.
func (b *Broker) SASLListenAddrs() []string { return append([]string(nil), b.saslBnd...) }

// Close stops the broker and closes all connections. No Log call happens
// after Close returns.
func (b *Broker) Close() {
	b.closeOnce.Do(func() {
		close(b.done)
		b.cancel()
		b.cluster.Close() // closes b.ln
		b.ln.Close()
		b.mu.Lock()
		for c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
}

// Events returns a snapshot of the connection events so far.
func (b *Broker) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

// Denials returns a snapshot of the requests (or parts of requests) refused
// by the ACLs so far.
func (b *Broker) Denials() []Denial {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Denial(nil), b.denials...)
}

func (b *Broker) record(ev Event) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	if b.cfg.Log != nil {
		b.logMu.Lock()
		defer b.logMu.Unlock()
		b.cfg.Log(ev)
	}
}

func (b *Broker) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.done:
		return false
	default:
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Broker) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// topicName resolves a topic ID through kfake, caching the answer (an ID
// never changes its name).
func (b *Broker) topicName(id [16]byte) (string, bool) {
	b.mu.Lock()
	name, ok := b.topics[id]
	b.mu.Unlock()
	if ok {
		return name, true
	}
	// TopicIDInfo blocks on kfake's run loop, which is gone after Close.
	ch := make(chan *kfake.TopicInfo, 1)
	go func() { ch <- b.cluster.TopicIDInfo(id) }()
	select {
	case ti := <-ch:
		if ti == nil {
			return "", false
		}
		b.mu.Lock()
		b.topics[id] = ti.Topic
		b.mu.Unlock()
		return ti.Topic, true
	case <-b.done:
		return "", false
	}
}

// topicExists reports whether kfake has the topic. ok is false when the
// broker is closing.
func (b *Broker) topicExists(name string) (exists, ok bool) {
	// TopicInfo blocks on kfake's run loop, which is gone after Close.
	ch := make(chan bool, 1)
	go func() { ch <- b.cluster.TopicInfo(name) != nil }()
	select {
	case exists := <-ch:
		return exists, true
	case <-b.done:
		return false, false
	}
}

// tlsListener is the listener kfake accepts from. A background loop
// accepts raw TCP connections and handshakes each one in its own goroutine,
// so a slow or silent client never blocks others; only authenticated
// connections reach kfake.
type tlsListener struct {
	b    *Broker
	raws []net.Listener
	ch   chan net.Conn
	once sync.Once
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.b.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() {
		for _, raw := range l.raws {
			err = errors.Join(err, raw.Close())
		}
		for _, raw := range l.b.saslRaws {
			err = errors.Join(err, raw.Close())
		}
	})
	return err
}

// Addr is what kfake advertises in Metadata.
func (l *tlsListener) Addr() net.Addr { return l.b.addr }

func (l *tlsListener) acceptLoop(raw net.Listener, sasl bool) {
	defer l.b.wg.Done()
	for {
		c, err := raw.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !l.b.track(c) {
			c.Close()
			return
		}
		l.b.wg.Add(1)
		go l.handshake(c, sasl)
	}
}

func (l *tlsListener) handshake(raw net.Conn, sasl bool) {
	defer l.b.wg.Done()
	b := l.b
	ev := Event{Time: time.Now(), Remote: raw.RemoteAddr().String(), Listener: ListenerSSL}
	if sasl {
		ev.Listener = ListenerSASLSSL
	}

	var peer *peerCheck
	conf := b.serverTLS(&peer)
	if sasl {
		// As a Kafka SASL_SSL listener (KIP-684): no client certificate.
		conf.ClientAuth, conf.VerifyConnection = tls.NoClientCert, nil
	}
	tc := tls.Server(raw, conf)

	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if peer != nil && peer.leaf != nil {
		ev.ClientSubject = peer.leaf.Subject.String()
	}
	if err != nil {
		select {
		case <-b.done:
			raw.Close()
			b.untrack(raw)
			return // shutting down; not a client problem
		default:
		}
		ev.Err = err
		ev.Diagnosis = diagnose(err, peer, b.timeout)
		raw.Close()
		b.untrack(raw)
		b.record(ev)
		return
	}
	st := tc.ConnectionState()
	ev.TLSVersion = tls.VersionName(st.Version)
	ev.Cipher = tls.CipherSuiteName(st.CipherSuite)
	if sasl {
		// The Event is recorded when SASL authentication ends.
		c := newAuthzConn(&authnConn{Conn: tc, b: b, raw: raw}, b, "")
		c.sasl, c.advertise = &saslConn{srv: b.sasl, ev: ev}, b.saslAddr
		select {
		case l.ch <- c:
		case <-b.done:
			tc.Close()
			b.untrack(raw)
		}
		return
	}
	leaf := st.PeerCertificates[0] // RequireAnyClientCert guarantees one
	ev.ClientSubject = leaf.Subject.String()

	principal, err := b.cfg.Principal(leaf)
	if err == nil && principal == "" {
		err = errors.New("principal function returned an empty principal")
	}
	if err != nil {
		ev.Err = err
		ev.Diagnosis = fmt.Sprintf("authentication failed: cannot map client certificate %q to a principal: %v", ev.ClientSubject, err)
		tc.Close()
		b.untrack(raw)
		b.record(ev)
		return
	}
	ev.OK = true
	ev.Principal = principal

	var conn net.Conn = &authnConn{Conn: tc, b: b, raw: raw}
	if b.cfg.ACLs != nil {
		conn = newAuthzConn(conn, b, principal)
	}
	b.record(ev)
	select {
	case l.ch <- conn:
	case <-b.done:
		tc.Close()
		b.untrack(raw)
	}
}

// authnConn untracks the connection when kfake closes it.
type authnConn struct {
	net.Conn
	b    *Broker
	raw  net.Conn
	once sync.Once
}

func (c *authnConn) Close() error {
	c.once.Do(func() { c.b.untrack(c.raw) })
	return c.Conn.Close()
}

// peerCheck carries what the certificate verification saw, for diagnosis.
type peerCheck struct {
	leaf  *x509.Certificate
	chain []*x509.Certificate
	err   error
}

// serverTLS returns the per-connection server config. The broker does not
// advertise its acceptable client CAs (Go and Java clients silently send no
// certificate when theirs is not issued by one of them, which would hide the
// real problem); it requires a certificate and verifies it exactly as
// tls.RequireAndVerifyClientCert would (chain to ClientCAs, clientAuth EKU,
// validity period), recording the outcome for the diagnosis.
func (b *Broker) serverTLS(out **peerCheck) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{b.cfg.Certificate},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil // the handshake itself fails: certificate required
			}
			pc := &peerCheck{leaf: cs.PeerCertificates[0], chain: cs.PeerCertificates}
			*out = pc
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := pc.leaf.Verify(x509.VerifyOptions{
				Roots:         b.cfg.ClientCAs,
				Intermediates: inter,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			})
			if err != nil {
				pc.err = err
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		},
	}
}
