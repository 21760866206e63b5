package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/pem"
)

// listingEngine is a localEngine that can list what it signed (as
// Vault/OpenBao can), lose the answer of a request it signed, or sign a
// request twice (a retry after a lost answer) and say so (Resent).
type listingEngine struct {
	*localEngine
	lose   bool // sign, then fail as a lost answer does
	twice  bool // sign twice, answer the second
	resent map[string]bool
	listed int // Unknown calls
}

func (e *listingEngine) Sign(ctx context.Context, req CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	if e.twice {
		if _, _, err := e.localEngine.Sign(ctx, req, subject); err != nil {
			return nil, nil, err
		}
	}
	leaf, chain, err := e.localEngine.Sign(ctx, req, subject)
	if e.lose {
		return nil, nil, errors.New("connection reset by peer")
	}
	if e.twice && leaf != nil {
		e.resent[SerialHex(leaf)] = true
	}
	return leaf, chain, err
}

func (e *listingEngine) Resent(leaf *x509.Certificate) bool { return e.resent[SerialHex(leaf)] }

func (e *listingEngine) Unknown(_ context.Context, known func(string) bool, _ time.Time, limit int) ([]*x509.Certificate, bool, error) {
	e.listed++
	var out []*x509.Certificate
	for _, c := range e.signed {
		if !known(SerialHex(c)) {
			out = append(out, c)
		}
	}
	if limit > 0 && len(out) > limit {
		return out[:limit], false, nil
	}
	return out, true, nil
}

func newListingEngineDir(t *testing.T) (string, *listingEngine, EngineOpener) {
	t.Helper()
	dir, le, _ := newEngineDir(t)
	e := &listingEngine{localEngine: le, resent: map[string]bool{}}
	return dir, e, func(context.Context, EngineSettings) (Engine, error) { return e, nil }
}

// leafFor is a certificate for pub, signed by the test CA ca.
func leafFor(t *testing.T, ca *PKI, name string, pub crypto.PublicKey, notBefore time.Time) *x509.Certificate {
	t.Helper()
	c, err := ca.Sign(CertRequest{Name: name, Role: RoleClient, Serial: big.NewInt(notBefore.UnixNano())}, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.NotBefore = notBefore // order only: reconcile never checks signatures
	return c
}

// TestReconcileMatching: Index.reconcile records the engine's
// certificates by the key of each request sought, all of a key's
// certificates when the request was sent twice, none of another key's,
// none the index already names, and marks what it looked for.
func TestReconcileMatching(t *testing.T) {
	ca, err := Init(InitOptions{Dir: t.TempDir(), Key: KeySpec{Type: ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := GenerateKey(KeySpec{Type: ECDSA})
	k2, _ := GenerateKey(KeySpec{Type: ECDSA})
	fp1, fp2 := KeyFingerprint(k1.Public()), KeyFingerprint(k2.Public())
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := leafFor(t, ca, "c1", k1.Public(), t0)
	b := leafFor(t, ca, "c1", k1.Public(), t0.Add(time.Second))
	other := leafFor(t, ca, "x", k2.Public(), t0)
	byKey := func(name, fp string) Record {
		return Record{Name: name, Role: RoleClient, Status: StatusUnplaced, EngineKey: fp, IssuedAt: t0}
	}
	settledResent := NewRecord("c1", RoleClient, a, false)
	settledResent.EngineKey, settledResent.EngineRecheck = fp1, true
	checked := byKey("c1", fp1)
	checked.EngineChecked = t0

	for _, tc := range []struct {
		name     string
		records  []Record
		certs    []*x509.Certificate
		complete bool
		again    bool
		want     []string // name/serial/status of every record after, in order
		found    int
		sought   bool // the first record was looked for (EngineChecked set, recheck cleared)
	}{
		{"lost answer: its serial recorded, unplaced", []Record{byKey("c1", fp1)}, []*x509.Certificate{a, other}, true, false,
			[]string{"c1/" + SerialHex(a) + "/unplaced"}, 1, true},
		{"lost answer retried: both certificates recorded", []Record{byKey("c1", fp1)}, []*x509.Certificate{b, a}, true, false,
			[]string{"c1/" + SerialHex(a) + "/unplaced", "c1/" + SerialHex(b) + "/unplaced"}, 2, true},
		{"answered after a resend: the other certificate recorded", []Record{settledResent}, []*x509.Certificate{b}, true, false,
			[]string{"c1/" + SerialHex(a) + "/valid", "c1/" + SerialHex(b) + "/unplaced"}, 1, true},
		{"two requests of one key: one certificate each", []Record{byKey("c1", fp1), byKey("c1", fp1)}, []*x509.Certificate{a, b}, true, false,
			[]string{"c1/" + SerialHex(a) + "/unplaced", "c1/" + SerialHex(b) + "/unplaced"}, 2, true},
		{"nothing of its key: looked for, stays by key", []Record{byKey("c1", fp1)}, []*x509.Certificate{other}, true, false,
			[]string{"c1//unplaced"}, 0, true},
		{"listing cut short: not marked looked for", []Record{byKey("c1", fp1)}, []*x509.Certificate{other}, false, false,
			[]string{"c1//unplaced"}, 0, false},
		{"already looked for: skipped unless again", []Record{checked}, []*x509.Certificate{a}, true, false,
			[]string{"c1//unplaced"}, 0, true},
		{"already looked for, again: recorded", []Record{checked}, []*x509.Certificate{a}, true, true,
			[]string{"c1/" + SerialHex(a) + "/unplaced"}, 1, true},
		{"a serial the index names is not recorded twice", []Record{NewRecord("x", RoleClient, other, false), byKey("x", fp2)}, []*x509.Certificate{other}, true, false,
			[]string{"x/" + SerialHex(other) + "/valid", "x//unplaced"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := &Index{Records: append([]Record{}, tc.records...)}
			found := idx.reconcile(t.TempDir(), tc.certs, tc.complete, tc.again, t0.Add(time.Hour))
			var got []string
			for _, r := range idx.Records {
				got = append(got, r.Name+"/"+r.Serial+"/"+r.Status)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("records %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("record %d: %s, want %s", i, got[i], tc.want[i])
				}
			}
			if len(found) != tc.found {
				t.Errorf("found %d, want %d", len(found), tc.found)
			}
			for _, r := range found {
				if r.SHA256 == "" || r.NotAfter.IsZero() || r.EngineKey == "" || r.EngineRecheck == tc.complete {
					t.Errorf("found record lacks what the certificate says: %+v", r)
				}
			}
			if first := idx.Records[0]; tc.sought && tc.found == 0 && (first.EngineChecked.IsZero() || first.EngineRecheck) {
				t.Errorf("first record not marked looked for: %+v", first)
			}
			if first := idx.Records[0]; !tc.complete && !first.EngineChecked.IsZero() {
				t.Errorf("a cut-short listing marked the record looked for: %+v", first)
			}
			if idx.NeedsReconcile() != (!tc.complete && tc.records[0].EngineChecked.IsZero()) {
				t.Errorf("NeedsReconcile %v after reconciling %+v", idx.NeedsReconcile(), idx.Records)
			}
		})
	}
}

// TestReconcileInTransactions: a request whose answer was lost is found
// at the engine by the next write transaction, durably even when that
// transaction fails; a request sent twice has both certificates recorded
// by the transaction that signed it.
func TestReconcileInTransactions(t *testing.T) {
	t.Run("lost answer: recorded by the next write", func(t *testing.T) {
		dir, e, open := newListingEngineDir(t)
		key, _ := GenerateKey(KeySpec{Type: ECDSA})
		e.lose = true
		err := Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error {
			_, err := tx.Sign(CertRequest{Name: "c1", Role: RoleClient, Key: key}, key.Public())
			return err
		})
		if err == nil || len(e.signed) != 1 {
			t.Fatalf("lost answer: Update %v, %d signed", err, len(e.signed))
		}
		if got := status(t, dir, SerialHex(e.signed[0])); got != "absent" && got != "" {
			t.Fatalf("the serial is known before reconciliation: %s", got)
		}
		e.lose = false
		err = Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error { return errKilled })
		if !errors.Is(err, errKilled) {
			t.Fatal(err)
		}
		if got := status(t, dir, SerialHex(e.signed[0])); got != StatusUnplaced {
			t.Errorf("after the next write: serial %s, want unplaced", got)
		}
		listed := e.listed
		if err := Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if e.listed != listed {
			t.Errorf("a reconciled index was reconciled again")
		}
	})
	t.Run("sent twice: both recorded", func(t *testing.T) {
		dir, e, open := newListingEngineDir(t)
		key, _ := GenerateKey(KeySpec{Type: ECDSA})
		e.twice = true
		err := Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error {
			cert, err := tx.Sign(CertRequest{Name: "c1", Role: RoleClient, Key: key}, key.Public())
			if err != nil {
				return err
			}
			place(t, dir, "c1", pem.EncodeCerts(cert))
			tx.Index.Settle(NewRecord("c1", RoleClient, cert, false))
			return nil
		})
		if err != nil || len(e.signed) != 2 {
			t.Fatalf("Update %v, %d signed", err, len(e.signed))
		}
		if got := status(t, dir, SerialHex(e.signed[1])); got != StatusValid {
			t.Errorf("the answered certificate: %s, want valid", got)
		}
		if got := status(t, dir, SerialHex(e.signed[0])); got != StatusUnplaced {
			t.Errorf("the certificate of the lost answer: %s, want unplaced", got)
		}
		idx, _ := LoadIndex(dir)
		if idx.NeedsReconcile() {
			t.Errorf("still to reconcile: %+v", idx.Records)
		}
	})
}
