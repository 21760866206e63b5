package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	ksasl "github.com/twmb/franz-go/pkg/sasl"
)

// session is one Kafka client run against a broker: it dials addr while
// verifying the broker certificate against serverName (as a Kafka client
// configured with the advertised host would), and remembers its local
// addresses so broker-side events can be matched to it.
type session struct {
	addr, serverName string
	tlsConf          *tls.Config     // nil: plaintext
	mech             ksasl.Mechanism // SASL login after TLS; nil: none
	mu               sync.Mutex
	locals           []string
	state            *tls.ConnectionState
}

func (s *session) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.locals = append(s.locals, raw.LocalAddr().String())
	s.mu.Unlock()
	if s.tlsConf == nil {
		return raw, nil
	}
	cfg := s.tlsConf.Clone()
	cfg.ServerName = s.serverName
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	st := c.ConnectionState()
	s.mu.Lock()
	s.state = &st
	s.mu.Unlock()
	return c, nil
}

func (s *session) localAddrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.locals...)
}

// kafkaOutcome is what a session achieved.
type kafkaOutcome struct {
	err   error
	stage string // the request that failed
	tls   *tls.ConnectionState
}

// runKafka runs ApiVersions, Metadata, a produce and a consume of a probe
// record. retry bounds how long kgo retries a failing connection.
func (s *session) runKafka(ctx context.Context, topic, value string, retry time.Duration) kafkaOutcome {
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.addr),
		kgo.Dialer(s.dial),
		kgo.RetryTimeout(retry),
		kgo.RequestRetries(2),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.ProducerLinger(0),
	}
	if s.mech != nil {
		opts = append(opts, kgo.SASL(s.mech))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return kafkaOutcome{err: err, stage: "client"}
	}
	defer cl.Close()
	out := func(stage string, err error) kafkaOutcome {
		s.mu.Lock()
		defer s.mu.Unlock()
		return kafkaOutcome{err: err, stage: stage, tls: s.state}
	}
	if _, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl); err != nil {
		return out("ApiVersions", err)
	}
	md := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	md.Topics = append(md.Topics, mt)
	resp, err := md.RequestWith(ctx, cl)
	if err != nil {
		return out("Metadata", err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return out("Metadata", err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr(); err != nil {
		return out("Produce", err)
	}
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out("Fetch", fmt.Errorf("probe record not consumed: %w", err))
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return out("Fetch", ferr)
		}
		found := false
		fetches.EachRecord(func(r *kgo.Record) { found = found || string(r.Value) == value })
		if found {
			return out("", nil)
		}
	}
}

// clientDiagnosis explains a client-side failure in Kafka terms.
func clientDiagnosis(err error, serverName string) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var fe *kgo.ErrFirstReadEOF
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ua):
		issuer := "unknown issuer"
		if ua.Cert != nil {
			issuer = ua.Cert.Issuer.String()
		}
		return fmt.Sprintf("the broker's certificate (issued by %s) is not signed by a CA in this truststore", issuer)
	case errors.As(err, &he):
		return fmt.Sprintf("hostname verification failed: the broker certificate is valid for %s, not %q", certNames(he.Certificate), he.Host)
	case errors.As(err, &ci):
		if ci.Reason == x509.Expired {
			return "the broker certificate is expired or not yet valid: " + ci.Detail
		}
		return "the broker certificate is invalid: " + ci.Error()
	case errors.As(err, &fe):
		return "the broker closed the connection at the first read: a TLS client on a plaintext listener, or the broker refused this client's certificate"
	case strings.Contains(err.Error(), "remote error: tls:"):
		return "the broker refused the handshake (" + err.Error()[strings.Index(err.Error(), "remote error: tls:")+len("remote error: "):] + ")"
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return "the broker answered in plaintext: this listener is PLAINTEXT or SASL_PLAINTEXT, not SSL"
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return "authenticated, but not authorized on the topic (TOPIC_AUTHORIZATION_FAILED)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return err.Error()
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "no names"
	}
	var n []string
	for _, d := range c.DNSNames {
		n = append(n, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		n = append(n, "IP:"+ip.String())
	}
	if len(n) == 0 {
		return "no SANs at all (CN " + c.Subject.CommonName + " is ignored by hostname verification)"
	}
	return strings.Join(n, ", ")
}
