package pki

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTxDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := Init(InitOptions{Dir: dir, Key: KeySpec{Type: ECDSA}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// place writes cert as identity name's certificate, as identity.Write
// would have.
func place(t *testing.T, dir, name string, der []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, CertsDir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CertsDir, name, LeafCertFile), der, 0o644); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, dir, serial string) string {
	t.Helper()
	idx, err := LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range idx.Records {
		if r.Serial == serial {
			return r.Status
		}
	}
	return "absent"
}

// errKilled stands for a run that died after a step: Update's fn fails
// without settling anything.
var errKilled = errors.New("killed")

func TestTxPendingResolution(t *testing.T) {
	key, err := GenerateKey(KeySpec{Type: ECDSA})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		placed bool // the certificate reached certs/NAME before the run died
		want   string
	}{
		{"signed and placed, never settled", true, StatusValid},
		{"signed, never placed", false, StatusUnplaced},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newTxDir(t)
			var serial string
			err := Update(context.Background(), dir, UpdateOptions{}, func(tx *Tx) error {
				cert, err := tx.Sign(CertRequest{Name: "c1"}, key.Public())
				if err != nil {
					return err
				}
				serial = SerialHex(cert)
				// The reservation is durable before the certificate exists.
				if got := status(t, dir, serial); got != StatusPending {
					t.Errorf("after signing, index.json has the serial %s, want pending", got)
				}
				if tc.placed {
					place(t, dir, "c1", encodeCert(cert))
				}
				return errKilled
			})
			if !errors.Is(err, errKilled) {
				t.Fatal(err)
			}
			if got := status(t, dir, serial); got != tc.want {
				t.Fatalf("after the failed run the serial is %s, want %s", got, tc.want)
			}
			// An unplaced certificate is revocable.
			if tc.want == StatusUnplaced {
				err := Update(context.Background(), dir, UpdateOptions{}, func(tx *Tx) error {
					_, err := tx.Index.Revoke("c1", "", time.Now())
					return err
				})
				if err != nil || status(t, dir, serial) != StatusRevoked {
					t.Fatalf("revoke an unplaced certificate: %v, status %s", err, status(t, dir, serial))
				}
			}
		})
	}
}

// A pending record written to disk by a run that was killed outright (no
// error path ran) is resolved by the next transaction.
func TestTxRecoversKilledRun(t *testing.T) {
	dir := newTxDir(t)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	p, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := &Tx{Dir: dir, PKI: p, Index: &Index{}}
	req := CertRequest{Name: "c1"}
	if err := tx.Reserve(&req); err != nil {
		t.Fatal(err)
	}
	cert, err := p.Sign(req, key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	place(t, dir, "c1", encodeCert(cert))
	// killed here: nothing settled
	if got := status(t, dir, SerialHex(cert)); got != StatusPending {
		t.Fatalf("before recovery: %s", got)
	}
	if err := Update(context.Background(), dir, UpdateOptions{}, func(tx *Tx) error {
		if r, ok := tx.Index.Current("c1"); !ok || r.Serial != SerialHex(cert) || r.SHA256 != Fingerprint(cert) {
			t.Errorf("the transaction sees %+v, want the placed certificate as current", r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := status(t, dir, SerialHex(cert)); got != StatusValid {
		t.Fatalf("after recovery: %s", got)
	}
}

func TestTxSignRefusedReleasesReservation(t *testing.T) {
	dir := newTxDir(t)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	err := Update(context.Background(), dir, UpdateOptions{}, func(tx *Tx) error {
		_, err := tx.Sign(CertRequest{Name: "kafka-1", Role: RoleBroker}, key.Public()) // no SAN: refused
		return err
	})
	if err == nil {
		t.Fatal("signed a broker without SANs")
	}
	idx, _ := LoadIndex(dir)
	if len(idx.Records) != 0 {
		t.Fatalf("a refused request left records: %+v", idx.Records)
	}
}

func TestUpdateWithoutCACreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	err := Update(context.Background(), dir, UpdateOptions{}, func(*Tx) error { return nil })
	if !errors.Is(err, ErrNoCA) {
		t.Fatalf("err %v, want ErrNoCA", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Update created %s", dir)
	}
}

func TestViewWritesNothing(t *testing.T) {
	for _, withLock := range []bool{false, true} {
		t.Run(map[bool]string{false: "no lock file", true: "lock file"}[withLock], func(t *testing.T) {
			dir := newTxDir(t)
			if !withLock {
				os.Remove(filepath.Join(dir, ".lock"))
			}
			os.Chmod(dir, 0o755)
			before := metaSnapshot(t, dir)
			if err := View(dir, nil, func(tx *Tx) error {
				if tx.PKI == nil {
					t.Error("View did not open the CA")
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if after := metaSnapshot(t, dir); after != before {
				t.Fatalf("View changed the directory:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// metaSnapshot lists every path under dir with its mode, size and mtime.
func metaSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var s string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s += p + " " + info.Mode().String() + " " + info.ModTime().String() + "\n"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
