package bundle

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// gateEngine is an engine whose CA is a local kafkatls CA in another
// directory (it signs for real, so the stores and the index are checked as
// with a real engine), instrumented for the bundle's signing pool: it
// counts the requests in flight and, with gate set, holds each request
// until gate requests are in flight at once, so the test sees the pool's
// width without timing anything. e2e/engine_test.go runs the same
// against a real OpenBao.
type gateEngine struct {
	t    *testing.T
	ca   *pki.PKI
	gate int // hold requests until this many are in flight; 0: no gate

	mu          sync.Mutex
	inflight    int
	maxInflight int
	opened      chan struct{} // closed when gate requests were in flight
	// fail, by identity name: the engine signs (maybeSigned) or refuses
	// (an error wrapping pki.ErrNothingIssued) instead of answering.
	fail   map[string]error
	signed map[string]int // certificates the engine signed, by name
}

var errAnswerLost = errors.New("HTTP 502 after the engine signed: the answer was lost")

func newGateEngine(t *testing.T, gate int) *gateEngine {
	t.Helper()
	ca, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), CN: "Engine Root", Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Signer(); err != nil {
		t.Fatal(err)
	}
	return &gateEngine{t: t, ca: ca, gate: gate, opened: make(chan struct{}), fail: map[string]error{}, signed: map[string]int{}}
}

func (e *gateEngine) Sign(ctx context.Context, req pki.CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	e.mu.Lock()
	e.inflight++
	e.maxInflight = max(e.maxInflight, e.inflight)
	if e.gate > 0 && e.inflight == e.gate {
		select {
		case <-e.opened:
		default:
			close(e.opened)
		}
	}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.inflight--
		e.mu.Unlock()
	}()
	if e.gate > 0 {
		select {
		case <-e.opened:
		case <-time.After(30 * time.Second): // never reached: maxInflight tells
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.fail[req.Name]
	if errors.Is(err, pki.ErrNothingIssued) {
		return nil, nil, err
	}
	req.Subject, req.Serial = subject, nil
	c, serr := e.ca.Sign(req, req.Key.Public(), nil)
	if serr != nil {
		return nil, nil, serr
	}
	e.signed[req.Name]++
	if err != nil {
		return nil, nil, err
	}
	return c, e.ca.Chain(), nil
}

func (e *gateEngine) Revoke(context.Context, *big.Int) (time.Time, error) { return time.Now(), nil }
func (e *gateEngine) CRL(context.Context) (*x509.RevocationList, error) {
	return nil, errors.New("no CRL")
}
func (e *gateEngine) Chain(context.Context) ([]*x509.Certificate, error) { return e.ca.Chain(), nil }

// engineDir makes a PKI directory e signs for, and the options to bundle
// into it.
func engineDir(t *testing.T, e *gateEngine) Options {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	es := &pki.EngineSettings{Type: "test", Mount: "pki", Role: "kafka"}
	if _, err := pki.Init(pki.InitOptions{Dir: dir, Key: pki.KeySpec{Type: pki.ECDSA}, Engine: es, EngineChain: e.ca.Chain()}); err != nil {
		t.Fatal(err)
	}
	return Options{Dir: dir, Engines: func(context.Context, pki.EngineSettings) (pki.Engine, error) { return e, nil }}
}

func clientsSpec(n int) (*Spec, []string) {
	s := &Spec{}
	var names []string
	for i := range n {
		name := fmt.Sprintf("c%02d", i+1)
		s.Clients = append(s.Clients, Client{Name: name})
		names = append(names, name)
	}
	return s, names
}

func entityNames(res *Result) []string {
	var out []string
	if res == nil {
		return nil
	}
	for _, e := range res.Entities {
		out = append(out, e.Name)
	}
	return out
}

// TestEngineSigningPool: a bundle has exactly its pool's width of requests
// in flight to an engine (never one at a time, never more), and reports
// and records the identities in spec order whatever order the engine
// answered in.
func TestEngineSigningPool(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int // Options.EngineWorkers
		want    int
	}{
		{"default width", 0, DefaultEngineWorkers},
		{"width 3", 3, 3},
		{"width 1 signs one at a time", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGateEngine(t, tc.want)
			o := engineDir(t, e)
			o.EngineWorkers = tc.workers
			spec, names := clientsSpec(2*tc.want + 1)
			res, err := Run(context.Background(), spec, o)
			if err != nil {
				t.Fatal(err)
			}
			if e.maxInflight != tc.want {
				t.Errorf("%d requests in flight at most, want %d", e.maxInflight, tc.want)
			}
			if got := entityNames(res); !slices.Equal(got, names) {
				t.Errorf("reported %v, want spec order %v", got, names)
			}
			idx, err := pki.LoadIndex(o.Dir)
			if err != nil {
				t.Fatal(err)
			}
			var valid []string
			for _, r := range idx.Records {
				if r.Status == pki.StatusValid {
					valid = append(valid, r.Name)
				}
			}
			if !slices.Equal(valid, names) {
				t.Errorf("index records %v, want spec order %v", valid, names)
			}
			for _, n := range names {
				if _, err := identity.Load(identity.Dir(o.Dir, n), ""); err != nil {
					t.Errorf("%s: %v", n, err)
				}
			}
		})
	}
}

// TestEngineSigningFailure: the first failed request stops the run from
// starting more; the identities done are whole and recorded, the failed
// one leaves no directory (and a record of what the engine may have
// signed), the others nothing; a re-run completes the bundle without
// re-signing what was done.
func TestEngineSigningFailure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		recordsC3 []string // statuses of c03's records after the failed run
	}{
		{"engine refused", pki.NothingIssued(errors.New("HTTP 400: common name not allowed")), nil},
		{"answer lost after signing", errAnswerLost, []string{pki.StatusUnplaced}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGateEngine(t, 0)
			o := engineDir(t, e)
			o.EngineWorkers = 1 // the order of requests is the spec's
			e.fail["c03"] = tc.err
			spec, names := clientsSpec(6)
			res, err := Run(context.Background(), spec, o)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), "client c03") || !strings.Contains(err.Error(), "3 not started") {
				t.Fatalf("got %v, want c03's error and 3 not started", err)
			}
			if got := entityNames(res); !slices.Equal(got, names[:2]) {
				t.Errorf("reported %v, want %v", got, names[:2])
			}
			idx, err := pki.LoadIndex(o.Dir)
			if err != nil {
				t.Fatal(err)
			}
			statuses := map[string][]string{}
			for _, r := range idx.Records {
				statuses[r.Name] = append(statuses[r.Name], r.Status)
			}
			for i, n := range names {
				_, statErr := os.Stat(identity.Dir(o.Dir, n))
				switch {
				case i < 2:
					if statErr != nil || !slices.Equal(statuses[n], []string{pki.StatusValid}) {
						t.Errorf("%s: %v, records %v; want a valid identity", n, statErr, statuses[n])
					}
				case n == "c03":
					if statErr == nil || !slices.Equal(statuses[n], tc.recordsC3) {
						t.Errorf("%s: directory %v, records %v; want none and %v", n, statErr, statuses[n], tc.recordsC3)
					}
				default:
					if statErr == nil || statuses[n] != nil || e.signed[n] != 0 {
						t.Errorf("%s: directory %v, records %v, signed %d; want nothing", n, statErr, statuses[n], e.signed[n])
					}
				}
			}

			delete(e.fail, "c03")
			if _, err := Run(context.Background(), spec, o); err != nil {
				t.Fatalf("re-run: %v", err)
			}
			if idx, err = pki.LoadIndex(o.Dir); err != nil {
				t.Fatal(err)
			}
			valid, serials := map[string]int{}, map[string]bool{}
			for _, r := range idx.Records {
				if serials[r.Serial] {
					t.Errorf("serial %s recorded twice", r.Serial)
				}
				serials[r.Serial] = true
				if r.Status == pki.StatusValid {
					valid[r.Name]++
				}
			}
			for _, n := range names {
				if valid[n] != 1 {
					t.Errorf("%s: %d valid records after the re-run", n, valid[n])
				}
				if want := 1 + len(tc.recordsC3)*b2i(n == "c03"); e.signed[n] != want {
					t.Errorf("%s signed %d times, want %d", n, e.signed[n], want)
				}
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
