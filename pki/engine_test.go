package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/pem"
)

// localEngine is an engine whose CA is a local kafkatls CA in another
// directory: it signs for real, so the transaction logic around an engine
// (reservation by key, serial recorded, release, recovery) is tested
// without a server. engine/vault and e2e/engine_test.go test the real one.
type localEngine struct {
	t      *testing.T
	ca     *PKI
	dir    string // the engine-signed directory, to look at the index while signing
	err    error  // returned by Sign instead of signing
	refuse error  // returned by Sign with the leaf it signed (its check refused it)
	signed []*x509.Certificate
	seen   []Record // the index records of this request when Sign was called (durable)
}

func (e *localEngine) Sign(_ context.Context, req CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	idx, err := LoadIndex(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range idx.Records {
		if r.Name == req.Name && r.Status == StatusPending {
			e.seen = append(e.seen, r)
		}
	}
	if e.err != nil {
		return nil, nil, e.err
	}
	req.Subject, req.Serial = subject, nil
	c, err := e.ca.Sign(req, req.requestPublicKey(), nil)
	if err != nil {
		return nil, nil, err
	}
	e.signed = append(e.signed, c)
	if e.refuse != nil {
		return c, nil, e.refuse
	}
	return c, e.ca.Chain(), nil
}
func (e *localEngine) Revoke(context.Context, *big.Int) (time.Time, error) { return time.Now(), nil }
func (e *localEngine) CRL(context.Context) (*x509.RevocationList, error) {
	return nil, errors.New("no CRL")
}
func (e *localEngine) Chain(context.Context) ([]*x509.Certificate, error) { return e.ca.Chain(), nil }

func newEngineDir(t *testing.T) (string, *localEngine, EngineOpener) {
	t.Helper()
	ca, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), Key: KeySpec{Type: ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	es := &EngineSettings{Type: "test", Mount: "pki", Role: "kafka"}
	if _, err := Init(InitOptions{Dir: dir, Key: KeySpec{Type: ECDSA}, Engine: es, EngineChain: ca.Chain()}); err != nil {
		t.Fatal(err)
	}
	e := &localEngine{t: t, ca: ca, dir: dir}
	return dir, e, func(context.Context, EngineSettings) (Engine, error) { return e, nil }
}

func TestEngineInitKeepsNoKey(t *testing.T) {
	dir, e, _ := newEngineDir(t)
	p, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.External() || !p.CA.Equal(e.ca.CA) || !p.TrustAnchor().Equal(e.ca.CA) {
		t.Errorf("opened: external %v, CA %v", p.External(), p.CA.Subject)
	}
	if _, err := p.Signer(); !errors.Is(err, ErrEngineSigns) {
		t.Errorf("Signer: %v, want ErrEngineSigns", err)
	}
	if _, err := p.Sign(CertRequest{Name: "c"}, e.ca.CA.PublicKey, nil); !errors.Is(err, ErrEngineNeedsCSR) {
		t.Errorf("Sign without key or CSR: %v", err)
	}
}

// TestEngineReservation: the request is pending by key, durably, before the
// engine is asked; the serial it picks is settled; refusals release it;
// other failures leave it unplaced.
func TestEngineReservation(t *testing.T) {
	refused := NothingIssued(errors.New("permission denied"))
	for _, tc := range []struct {
		name       string
		engineErr  error
		refuse     error // the engine signs, and its check refuses the certificate
		place      bool  // the writer places the certificate and settles
		killAfter  bool  // the writer fails after signing, before placing
		wantStatus string
		wantSerial bool
	}{
		{"placed and settled", nil, nil, true, false, StatusValid, true},
		{"engine refused: released", refused, nil, false, false, "absent", false},
		{"engine failed, may have signed: unplaced by key", errors.New("timeout"), nil, false, false, StatusUnplaced, false},
		{"signed, never placed: unplaced with the serial", nil, nil, false, true, StatusUnplaced, true},
		// Regression: only the key was recorded, so revoke could not reach it.
		{"signed, then refused by the check: unplaced with the serial", nil, errors.New("subject changed"), false, false, StatusUnplaced, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, e, open := newEngineDir(t)
			e.err, e.refuse = tc.engineErr, tc.refuse
			key, err := GenerateKey(KeySpec{Type: ECDSA})
			if err != nil {
				t.Fatal(err)
			}
			err = Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error {
				cert, err := tx.Sign(CertRequest{Name: "c1", Role: RoleClient, Key: key}, key.Public())
				if err != nil {
					return err
				}
				if tc.killAfter {
					return errKilled
				}
				place(t, dir, "c1", pem.EncodeCerts(cert))
				tx.Index.Settle(NewRecord("c1", RoleClient, cert, false))
				return nil
			})
			if (err != nil) != (tc.engineErr != nil || tc.refuse != nil || tc.killAfter) {
				t.Fatalf("Update: %v", err)
			}
			if len(e.seen) != 1 || e.seen[0].EngineKey != KeyFingerprint(key.Public()) || e.seen[0].Serial != "" {
				t.Fatalf("when the engine was asked, the durable index held %+v; want one pending record by key", e.seen)
			}
			idx, _ := LoadIndex(dir)
			got := "absent"
			var rec Record
			for _, r := range idx.Records {
				if r.Name == "c1" {
					got, rec = r.Status, r
				}
			}
			if got != tc.wantStatus {
				t.Fatalf("status %s, want %s (%+v)", got, tc.wantStatus, idx.Records)
			}
			if tc.wantSerial && (len(e.signed) != 1 || rec.Serial != SerialHex(e.signed[0])) {
				t.Errorf("record serial %q, want the engine's", rec.Serial)
			}
			if !tc.wantSerial && got != "absent" && rec.Serial != "" {
				t.Errorf("record serial %q, want none (the engine never answered)", rec.Serial)
			}
		})
	}
}

// TestEngineRecoveryByKey: a run that died after placing the identity but
// before the engine's serial was recorded is recovered by the key.
func TestEngineRecoveryByKey(t *testing.T) {
	dir, e, open := newEngineDir(t)
	key, err := GenerateKey(KeySpec{Type: ECDSA})
	if err != nil {
		t.Fatal(err)
	}
	err = Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error {
		req := CertRequest{Name: "c1", Role: RoleClient, Key: key}
		if err := tx.Reserve(&req); err != nil {
			return err
		}
		cert, err := tx.PKI.Sign(req, key.Public(), tx.Index) // as a bundle's workers do
		if err != nil {
			return err
		}
		place(t, dir, "c1", pem.EncodeCerts(cert))
		return errKilled
	})
	if !errors.Is(err, errKilled) {
		t.Fatal(err)
	}
	if got := status(t, dir, SerialHex(e.signed[0])); got != StatusValid {
		t.Errorf("placed certificate recovered as %s, want valid", got)
	}
}

func TestEngineMissingOpenerReservesNothing(t *testing.T) {
	dir, _, _ := newEngineDir(t)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	err := Update(context.Background(), dir, UpdateOptions{}, func(tx *Tx) error {
		_, err := tx.Sign(CertRequest{Name: "c1", Key: key}, key.Public())
		return err
	})
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("Update: %v, want ErrNoEngine", err)
	}
	if idx, _ := LoadIndex(dir); len(idx.Records) != 0 {
		t.Errorf("index: %+v", idx.Records)
	}
}

// TestEnginePendingWithoutCA: a run that created an engine-signed
// directory and died before its CA's files were placed leaves the
// engine's requests pending in an index with no CA beside it. Recovery
// keeps them as unplaced (the engine holds what it signed), drops a local
// CA's (its staged key is gone), and a new init over them is not refused.
func TestEnginePendingWithoutCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	idx := &Index{}
	idx.Add(Record{Name: "b1", Role: RoleBroker, Status: StatusPending, Serial: "0abc", EngineKey: "k1"})
	idx.Add(Record{Name: "c1", Role: RoleClient, Status: StatusPending, EngineKey: "k2"})
	idx.Add(Record{Name: "local", Role: RoleClient, Status: StatusPending, Serial: "0def"})
	if err := idx.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := Update(context.Background(), dir, UpdateOptions{AllowNoCA: true}, func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range got.Records {
		status[r.Name] = r.Status
	}
	want := map[string]string{"b1": StatusUnplaced, "c1": StatusUnplaced}
	if !maps.Equal(status, want) {
		t.Fatalf("after recovery: %v, want %v", status, want)
	}
	ca, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), Key: KeySpec{Type: ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(InitOptions{Dir: dir, Key: KeySpec{Type: ECDSA}, Engine: &EngineSettings{Type: "test"}, EngineChain: ca.Chain()}); err != nil {
		t.Fatalf("init over the unplaced engine records: %v", err)
	}
	if got, _ = LoadIndex(dir); len(got.Records) != 2 {
		t.Errorf("init dropped the unplaced engine records: %+v", got.Records)
	}
}
