package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Retry defaults (Config.MaxRetries, MinRetryWait, MaxRetryWait).
const (
	// DefaultMaxRetries covers a Raft cluster replacing a lost active
	// node: with the default waits the last retry comes about 23 s after
	// the first failure. The election itself takes a few seconds; the
	// standbys then learn the new active node's address, and meanwhile
	// answer 429, 5xx or a redirect to the lost one (on a loaded 2-core
	// machine, with Raft's fastest timers, this took up to 12 s).
	DefaultMaxRetries   = 8
	DefaultMinRetryWait = 250 * time.Millisecond
	DefaultMaxRetryWait = 5 * time.Second
	// unreachableRetries bounds the retries when nothing listens at the
	// configured address itself: a wrong address or a node that is down,
	// which no election repairs; an address that briefly restarts is
	// still retried.
	unreachableRetries = 2
)

// retryKind says whether and why a failed call is tried again.
type retryKind int

const (
	noRetry     retryKind = iota
	unreachable           // no connection to the configured address
	transition            // a cluster changing leader: a 5xx, a 412 (a standby not yet caught up), a 429, or a redirect to a node that is gone
)

// retry runs call until it succeeds, fails for good, or the retries are
// spent, waiting with jittered exponential backoff in between. Each
// attempt starts again at the configured address, not at the node a
// standby redirected to: when the active node goes away, the api client
// (which retries the redirected URL) would keep knocking at the lost
// leader, while the configured node, asked again, names the new one or
// forwards to it.
//
// A sign whose answer is lost (a 5xx from a standby after the active node
// signed) is sent again: the engine may then hold a second certificate
// for the same key and names, which the index never learns of. A refused
// connection sends nothing, so retrying it is always safe.
func (c *Client) retry(ctx context.Context, call func() error) error {
	_, err := c.retryResent(ctx, call)
	return err
}

// retryResent is retry, also reporting whether call was sent again after
// an attempt that reached a node: a sign that then succeeds may have left
// the engine a second certificate (Issued.Resent), which reconciliation
// looks for. This is wider than mayHaveReached on purpose: a standby that
// answers 412 or 429, or redirects to a lost active node, may do so after
// a forward the active node carried out before it died (a leader killed
// mid-run left such certificates), and a needless look at the engine
// costs one listing; only a connection to the configured address that
// was never made is certainly harmless.
func (c *Client) retryResent(ctx context.Context, call func() error) (resent bool, _ error) {
	var delivered error // an earlier attempt that may have reached the engine
	final := func(err error) error {
		if delivered != nil && isDial(err) {
			// The last attempt sent nothing, an earlier one perhaps did:
			// the error must not say that nothing was issued.
			return fmt.Errorf("%v; an earlier attempt may have reached the engine: %w", err, delivered)
		}
		return err
	}
	for attempt := 0; ; attempt++ {
		err := call()
		limit := c.cfg.MaxRetries
		switch c.retryKind(err) {
		case noRetry:
			return resent, final(err)
		case unreachable:
			limit = min(limit, unreachableRetries)
		default:
			resent = true // the next attempt is a resend
		}
		if mayHaveReached(err) {
			delivered = err
		}
		if attempt >= limit || ctx.Err() != nil {
			return resent, final(err)
		}
		t := time.NewTimer(c.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return resent, final(err)
		case <-t.C:
		}
	}
}

// isDial reports whether err is a connection that was never made.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// mayHaveReached reports whether a retried failure may have been carried
// out by the engine: a 5xx (a standby whose forwarded request was
// answered, but not to it) or a connection cut mid-request; not a refused
// connection, nor a 412 or 429, which the engine answers without acting.
func mayHaveReached(err error) bool {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500
	}
	return !isDial(err)
}

// backoff is the wait before retry attempt+1: MinRetryWait doubled per
// attempt up to MaxRetryWait, with up to a quarter of jitter so that a
// bundle's workers do not come back in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MinRetryWait << min(attempt, 16)
	if d <= 0 || d > c.cfg.MaxRetryWait {
		d = c.cfg.MaxRetryWait
	}
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

func (c *Client) retryKind(err error) retryKind {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return noRetry
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusPreconditionFailed, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return transition
		}
		return noRetry
	}
	// A certificate the client does not trust stays untrusted.
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) {
		return noRetry
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if isDial(err) {
			if u, perr := url.Parse(ue.URL); perr == nil && u.Host != c.host {
				return transition // a standby's redirect to a node that is gone
			}
			return unreachable
		}
		return transition // a connection cut mid-request: the node went away
	}
	return noRetry
}
