package stepca

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// maxAnswer bounds any answer step-ca sends (a certificate chain, the
// provisioner list, a CRL).
const maxAnswer = 4 << 20

// statusError is a non-2xx answer: step-ca's {"status":..,"message":..}.
type statusError struct {
	Status  int
	Message string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// do sends one request, retrying on connection errors and 5xx with
// exponential backoff and jitter, and returns the body of a 2xx answer. A
// POST is retried only when body can be sent again: the caller gives a
// function that builds it (a fresh one-time token each time).
func (c *Client) do(ctx context.Context, method, path string, body func() (any, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	wait := c.cfg.MinRetryWait
	for attempt := 0; ; attempt++ {
		b, err, retry := c.once(ctx, method, path, body)
		if err == nil || !retry || attempt >= c.cfg.MaxRetries {
			return b, err
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (after %d attempts; last: %v)", ctx.Err(), attempt+1, err)
		case <-time.After(d):
		}
		wait = min(wait*2, c.cfg.MaxRetryWait)
	}
}

func (c *Client) once(ctx context.Context, method, path string, body func() (any, error)) ([]byte, error, bool) {
	var rd io.Reader
	if body != nil {
		v, err := body()
		if err != nil {
			return nil, err, false
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err, false
		}
		rd = bytes.NewReader(j)
	}
	u := *c.base
	u.Path = path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.Path, u.RawQuery = path[:i], path[i+1:]
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err, false
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "kafkatls")
	resp, err := c.http.Do(req)
	if err != nil {
		// Connection refused, reset, TLS handshake timeout: retry, unless
		// the caller's context ended or the server's certificate is not
		// trusted (retrying cannot fix that).
		if ctx.Err() != nil {
			return nil, err, false
		}
		return nil, err, !isTLSTrustError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err, ctx.Err() == nil
	}
	if len(b) > maxAnswer {
		return nil, &statusError{Status: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", maxAnswer)}, false
	}
	if resp.StatusCode/100 == 2 {
		return b, nil, false
	}
	se := &statusError{Status: resp.StatusCode}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		se.Message = e.Message
	} else {
		se.Message = http.StatusText(resp.StatusCode)
	}
	return nil, se, resp.StatusCode >= 500
}

// isTLSTrustError: step-ca's HTTPS certificate is not trusted by the
// configured root; retrying cannot fix that.
func isTLSTrustError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
