package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// deadAddr is a loopback address nothing listens at.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func retryClient(t *testing.T, addr string, maxRetries int) *Client {
	t.Helper()
	c, err := New(Config{Address: addr, Token: "t", MaxRetries: maxRetries, MinRetryWait: time.Millisecond, MaxRetryWait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const roleJSON = `{"data":{"key_type":"any","server_flag":true,"client_flag":true}}`

// TestRetryFromConfiguredAddress: each retry starts again at the configured
// address. A standby that still redirects to the active node it knew,
// now gone, is asked again (and then names the new one, or answers
// itself); a 5xx is retried; a refusal is not; MaxRetries bounds it all.
func TestRetryFromConfiguredAddress(t *testing.T) {
	dead := deadAddr(t)
	for _, tc := range []struct {
		name       string
		answers    []int // the configured node's status for each request; 307 redirects to a dead node
		maxRetries int
		wantErr    bool
	}{
		{"standby redirects to the lost leader, then answers", []int{307, 307, 200}, 0, false},
		{"election under way: 500 and 503, then answers", []int{500, 503, 200}, 0, false},
		{"standby not caught up: 412, then answers", []int{412, 200}, 0, false},
		{"retries spent", []int{503, 503, 503, 200}, 2, true},
		{"no retries", []int{503, 200}, -1, true},
		{"refusal is final", []int{400, 200}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				code := 200
				if i < len(tc.answers) {
					code = tc.answers[i]
				}
				switch code {
				case 307:
					http.Redirect(w, r, "http://"+dead+r.URL.RequestURI(), http.StatusTemporaryRedirect)
				case 200:
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, roleJSON)
				default:
					w.WriteHeader(code)
					fmt.Fprint(w, `{"errors":["try later"]}`)
				}
			}))
			defer srv.Close()
			_, err := retryClient(t, srv.URL, tc.maxRetries).ReadRole(context.Background())
			if tc.wantErr != (err != nil) {
				t.Fatalf("ReadRole: %v after %d requests", err, n.Load())
			}
			want := len(tc.answers)
			if tc.wantErr {
				want = 1 + max(tc.maxRetries, 0)
				if tc.answers[0] == 400 {
					want = 1
				}
			}
			if got := int(n.Load()); got != want {
				t.Errorf("%d requests to the configured node, want %d", got, want)
			}
		})
	}
}

// TestRetryKeepsMaybeIssued: a retried sign whose first attempt may have
// been carried out (a 502 from a standby) and whose last attempt found no
// node fails with an error that does not say nothing was issued: the
// caller keeps the request's reservation.
func TestRetryKeepsMaybeIssued(t *testing.T) {
	dead := deadAddr(t)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"errors":["error forwarding request"]}`)
			return
		}
		http.Redirect(w, r, "http://"+dead+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	_, err := retryClient(t, srv.URL, 1).Sign(context.Background(), brokerReq("b1"), ecKey(t))
	var ee *EngineError
	if err == nil || isDial(err) || !errors.As(err, &ee) || ee.Status != http.StatusBadGateway {
		t.Fatalf("got %#v (%v), want the 502 kept", err, err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

// TestRetryKind: what is retried, and how long.
func TestRetryKind(t *testing.T) {
	c := retryClient(t, "http://127.0.0.1:8200", 0)
	dial := func(host string) error {
		return &url.Error{Op: "Put", URL: "http://" + host + "/v1/pki/sign/kafka", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want retryKind
	}{
		{"nothing listens at the configured address", dial("127.0.0.1:8200"), unreachable},
		{"redirected to a node that is gone", dial("127.0.0.1:8210"), transition},
		{"connection cut mid-request", &url.Error{Op: "Put", URL: "http://127.0.0.1:8200/v1/x", Err: errors.New("EOF")}, transition},
		{"503", &vaultapi.ResponseError{StatusCode: 503}, transition},
		{"412", &vaultapi.ResponseError{StatusCode: 412}, transition},
		{"501 not initialized", &vaultapi.ResponseError{StatusCode: 501}, noRetry},
		{"400 refusal", &vaultapi.ResponseError{StatusCode: 400}, noRetry},
		{"403 permission", &vaultapi.ResponseError{StatusCode: 403}, noRetry},
		{"untrusted certificate", &url.Error{Op: "Get", URL: "https://127.0.0.1:8200/v1/x", Err: x509.UnknownAuthorityError{}}, noRetry},
		{"cancelled", &url.Error{Op: "Get", URL: "http://127.0.0.1:8200/v1/x", Err: context.Canceled}, noRetry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.retryKind(tc.err); got != tc.want {
				t.Errorf("retryKind = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestBackoff: doubling from MinRetryWait, capped at MaxRetryWait, never
// less than three quarters of either.
func TestBackoff(t *testing.T) {
	c, err := New(Config{Address: "http://127.0.0.1:8200", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for attempt, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := c.backoff(attempt); got > want || got < want*3/4 {
			t.Errorf("attempt %d: wait %v, want within [%v, %v]", attempt, got, want*3/4, want)
		}
	}
	if got := c.backoff(100); got > DefaultMaxRetryWait {
		t.Errorf("attempt 100: wait %v", got)
	}
}

// TestRetryResent: a call that succeeds after an attempt that reached a
// node (a 5xx, a connection cut, a standby's 412 or 429, which may follow
// a forward the lost active node carried out) is reported resent, so the
// caller looks for a second certificate; one answered at once, or
// retried only after the configured address refused the connection, is
// not.
func TestRetryResent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int // 0: the connection is cut
		want    bool
	}{
		{"answered at once", []int{200}, false},
		{"502, then answered", []int{502, 200}, true},
		{"connection cut, then answered", []int{0, 200}, true},
		{"429 and 412, then answered", []int{429, 412, 200}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				code := tc.answers[min(int(n.Add(1))-1, len(tc.answers)-1)]
				switch code {
				case 0:
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
				case 200:
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, roleJSON)
				default:
					w.WriteHeader(code)
					fmt.Fprint(w, `{"errors":["try later"]}`)
				}
			}))
			defer srv.Close()
			c := retryClient(t, srv.URL, 0)
			resent, err := c.retryResent(context.Background(), func() error {
				_, err := c.api.Logical().ReadWithContext(context.Background(), "pki/roles/kafka")
				return err
			})
			if err != nil || resent != tc.want {
				t.Errorf("resent %v, err %v; want %v", resent, err, tc.want)
			}
		})
	}
	t.Run("configured address refused, then answered", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := retryClient(t, "http://"+addr, 0)
		calls := 0
		resent, err := c.retryResent(context.Background(), func() error {
			calls++
			if calls == 1 {
				_, err := c.api.Logical().ReadWithContext(context.Background(), "pki/roles/kafka") // nothing listens
				return err
			}
			return nil
		})
		if err != nil || resent || calls != 2 {
			t.Errorf("resent %v after %d calls, err %v; want not resent", resent, calls, err)
		}
	})
}

func TestParseSerial(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // hex; "" for not a serial
	}{
		{"17:67:16:b0", "176716b0"},
		{"17-67-16-b0", "176716b0"},
		{"0a:ff", "aff"},
		{"ca", "ca"}, // hex: a serial (Vault lists only serials)
		{"crl", ""},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			n, ok := ParseSerial(tc.in)
			if got := ""; ok {
				got = n.Text(16)
				if got != tc.want {
					t.Errorf("ParseSerial(%q) = %s, want %s", tc.in, got, tc.want)
				}
			} else if tc.want != "" {
				t.Errorf("ParseSerial(%q): not a serial, want %s", tc.in, tc.want)
			}
		})
	}
}
