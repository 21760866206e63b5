package testbroker

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Denial records a request, or part of one, that the ACLs refused.
type Denial struct {
	Time      time.Time
	Remote    string
	Principal string
	API       string // request type, e.g. "Fetch"
	Resource  ResourceType
	Name      string
	Operation Operation
	// Error is the Kafka error the client received
	// (TOPIC_AUTHORIZATION_FAILED ...), or why the connection was closed.
	Error string
}

const maxFrame = 100 << 20 // socket.request.max.bytes default

// authzConn sits between the authenticated TLS connection and kfake. It
// reads each request frame the client sends, decides it against the ACLs
// for the connection's principal and then forwards it unchanged, forwards a
// copy without the denied topics/groups (merging their errors into kfake's
// response), or answers it itself. Responses leave in request order, as the
// protocol requires.
//
// kfake calls Read from one goroutine (its reader) and Write from another
// (its writer); writes to the client are serialized by mu.
type authzConn struct {
	net.Conn
	b         *Broker
	principal string
	remote    string
	// sasl is the authentication state of a SASL_SSL connection (nil on
	// the mTLS listener); advertise is then the SASL_SSL listener's
	// address, which replaces the broker address in every response that
	// carries one (kfake knows only its own listener's).
	sasl      *saslConn
	advertise *net.TCPAddr

	rd []byte // bytes of the current forwarded request not yet read by kfake

	mu    sync.Mutex
	queue []*pending // responses owed to the client, in request order
	wbuf  []byte     // partial response frame from kfake
	werr  error
}

type pending struct {
	corr      int32
	req       kmsg.Request        // decoded request (for the response type)
	fix       func(kmsg.Response) // applied to kfake's response; nil = pass through
	out       []byte              // the frame to send, once ready
	ready     bool
	forwarded bool // the response comes from kfake
}

func newAuthzConn(c net.Conn, b *Broker, principal string) *authzConn {
	return &authzConn{Conn: c, b: b, principal: principal, remote: c.RemoteAddr().String()}
}

// outcome is a rule's decision on one request.
type outcome struct {
	modified bool                // the request was edited: re-encode it
	local    kmsg.Response       // answer locally, do not forward
	fix      func(kmsg.Response) // edit kfake's response
	closeErr error               // close the connection
	// closeAfter closes the connection after sending local (a refused
	// SASL authentication).
	closeAfter error
}

func (c *authzConn) Read(p []byte) (int, error) {
	for len(c.rd) == 0 {
		frame, err := readFrame(c.Conn)
		if err != nil {
			if c.sasl != nil && !c.sasl.done {
				c.saslRecord("", &SASLError{Mechanism: c.sasl.mech, Reason: ReasonNotAuthenticated,
					Detail: fmt.Sprintf("the client closed the connection before authenticating (%v)", err)})
			}
			return 0, err
		}
		if err := c.handle(frame); err != nil {
			c.Conn.Close()
			return 0, err
		}
	}
	n := copy(p, c.rd)
	c.rd = c.rd[n:]
	return n, nil
}

// readFrame reads one size-prefixed frame, returning it with its prefix.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxFrame {
		return nil, fmt.Errorf("testbroker: request of %d bytes exceeds %d", n, maxFrame)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// handle decides one request frame. It sets c.rd to the bytes kfake should
// read (nil if the request was answered locally).
func (c *authzConn) handle(frame []byte) error {
	body := frame[4:]
	r := kbin.Reader{Src: body}
	key := r.Int16()
	version := r.Int16()
	corr := r.Int32()
	r.NullableString() // client ID
	kreq := kmsg.RequestForKey(key)
	if !r.Ok() || kreq == nil {
		// Fail closed: what cannot be decoded cannot be authorized (kfake
		// would reject it and close too).
		c.deny(apiName(key), "", "", "", "connection closed: undecodable request")
		return fmt.Errorf("testbroker: undecodable request header (key %d)", key)
	}
	kreq.SetVersion(version)
	if kreq.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	hdrLen := len(body) - len(r.Src)
	if err := kreq.ReadFrom(r.Src); !r.Ok() || err != nil {
		c.deny(apiName(key), "", "", "", "connection closed: undecodable request")
		return fmt.Errorf("testbroker: undecodable %s v%d request: %v", apiName(key), version, err)
	}

	var o outcome
	switch {
	case c.sasl != nil && !c.sasl.done:
		o = c.saslStep(kreq)
	case c.sasl != nil && (key == int16(kmsg.SASLHandshake) || key == int16(kmsg.SASLAuthenticate)):
		// No session lifetime is advertised, so no re-authentication.
		return fmt.Errorf("testbroker: %s on an authenticated connection", apiName(key))
	case c.b.cfg.ACLs != nil:
		o = c.authorize(kreq)
	}
	if o.closeErr != nil {
		return o.closeErr
	}
	if o.local != nil {
		o.local.SetVersion(version)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.queue = append(c.queue, &pending{corr: corr, req: kreq, out: encodeResponse(corr, o.local), ready: true})
		if err := c.flushLocked(); err != nil {
			return err
		}
		return o.closeAfter
	}
	if c.sasl != nil && key == int16(kmsg.ApiVersions) {
		fix := o.fix
		o.fix = func(r kmsg.Response) {
			if fix != nil {
				fix(r)
			}
			advertiseSASL(r.(*kmsg.ApiVersionsResponse))
		}
	}
	if c.advertise != nil && carriesAddress(kmsg.Key(key)) {
		fix, addr := o.fix, c.advertise
		o.fix = func(r kmsg.Response) {
			if fix != nil {
				fix(r)
			}
			rewriteAddress(r, addr.IP.String(), int32(addr.Port))
		}
	}
	if o.modified {
		out := make([]byte, 4, 4+hdrLen+len(r.Src))
		out = append(out, body[:hdrLen]...)
		out = kreq.AppendTo(out)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		frame = out
	}
	if p, ok := kreq.(*kmsg.ProduceRequest); !ok || p.Acks != 0 { // acks=0 has no response
		c.mu.Lock()
		c.queue = append(c.queue, &pending{corr: corr, req: kreq, fix: o.fix, forwarded: true})
		c.mu.Unlock()
	}
	c.rd = frame
	return nil
}

// carriesAddress reports whether responses of type key name the broker's
// address.
func carriesAddress(key kmsg.Key) bool {
	switch key {
	case kmsg.Metadata, kmsg.FindCoordinator, kmsg.DescribeCluster, kmsg.Produce, kmsg.Fetch,
		kmsg.ShareFetch, kmsg.ShareAcknowledge:
		return true
	}
	return false
}

// rewriteAddress replaces the broker address in a response: the node is
// the same, reached through the listener the client connected to (a Kafka
// broker answers with the endpoints of the listener the request came in
// on).
func rewriteAddress(resp kmsg.Response, host string, port int32) {
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	case *kmsg.FindCoordinatorResponse:
		if r.Host != "" {
			r.Host, r.Port = host, port
		}
		for i := range r.Coordinators {
			if r.Coordinators[i].Host != "" {
				r.Coordinators[i].Host, r.Coordinators[i].Port = host, port
			}
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	case *kmsg.ProduceResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	case *kmsg.FetchResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	case *kmsg.ShareFetchResponse:
		for i := range r.NodeEndpoints {
			r.NodeEndpoints[i].Host, r.NodeEndpoints[i].Port = host, port
		}
	case *kmsg.ShareAcknowledgeResponse:
		for i := range r.NodeEndpoints {
			r.NodeEndpoints[i].Host, r.NodeEndpoints[i].Port = host, port
		}
	}
}

// Write receives kfake's response frames.
func (c *authzConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	c.wbuf = append(c.wbuf, p...)
	for len(c.wbuf) >= 8 {
		n := int(binary.BigEndian.Uint32(c.wbuf))
		if len(c.wbuf) < 4+n {
			break
		}
		frame := c.wbuf[:4+n]
		if err := c.fromKfake(frame); err != nil {
			c.werr = err
			c.Conn.Close()
			return 0, err
		}
		c.wbuf = c.wbuf[4+n:]
	}
	if len(c.wbuf) == 0 {
		c.wbuf = nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *authzConn) fromKfake(frame []byte) error {
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	var pd *pending
	for _, q := range c.queue {
		if q.forwarded && !q.ready {
			pd = q
			break
		}
	}
	if pd == nil || pd.corr != corr {
		return fmt.Errorf("testbroker: response with correlation ID %d does not match the oldest outstanding request", corr)
	}
	pd.ready = true
	if pd.fix == nil {
		pd.out = append([]byte(nil), frame...)
		return nil
	}
	body := frame[8:]
	if pd.req.Key() == int16(kmsg.ApiVersions) && (len(body) < 2 || body[0] != 0 || body[1] != 0) {
		// An ApiVersions error (UNSUPPORTED_VERSION comes back as v0,
		// whatever the request's version): nothing to filter.
		pd.out = append([]byte(nil), frame...)
		return nil
	}
	resp := pd.req.ResponseKind()
	resp.SetVersion(pd.req.GetVersion())
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		r := kbin.Reader{Src: body}
		kmsg.SkipTags(&r)
		body = r.Src
	}
	if err := resp.ReadFrom(body); err != nil {
		return fmt.Errorf("testbroker: decoding kfake's %s response: %w", apiName(resp.Key()), err)
	}
	pd.fix(resp)
	pd.out = encodeResponse(corr, resp)
	return nil
}

// flushLocked writes every ready response at the head of the queue.
func (c *authzConn) flushLocked() error {
	for len(c.queue) > 0 && c.queue[0].ready {
		if _, err := c.Conn.Write(c.queue[0].out); err != nil {
			c.werr = err
			return err
		}
		c.queue[0] = nil
		c.queue = c.queue[1:]
	}
	return nil
}

// encodeResponse frames a response as kfake does.
func encodeResponse(corr int32, resp kmsg.Response) []byte {
	buf := make([]byte, 8, 64)
	binary.BigEndian.PutUint32(buf[4:], uint32(corr))
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		buf = append(buf, 0) // empty response header tags
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return buf
}

// can reports whether the connection's principal may do op, silently.
func (c *authzConn) can(rt ResourceType, name string, op Operation) bool {
	return c.b.cfg.ACLs.Allowed(c.principal, rt, name, op)
}

// check is can, recording a Denial with the error the client gets.
func (c *authzConn) check(api string, rt ResourceType, name string, op Operation, code int16) bool {
	if c.can(rt, name, op) {
		return true
	}
	c.deny(api, rt, name, op, errName(code))
	return false
}

func (c *authzConn) deny(api string, rt ResourceType, name string, op Operation, why string) {
	c.b.mu.Lock()
	c.b.denials = append(c.b.denials, Denial{
		Time: time.Now(), Remote: c.remote, Principal: c.principal,
		API: api, Resource: rt, Name: name, Operation: op, Error: why,
	})
	c.b.mu.Unlock()
}
