package pki

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"testing"
)

// TestRecordSerialConcurrent: engine answers recorded by many workers at
// once (group commits) are each durable in the index when their call
// returns, every one on its own reservation.
func TestRecordSerialConcurrent(t *testing.T) {
	dir, _, open := newEngineDir(t)
	const n = 32
	err := Update(context.Background(), dir, UpdateOptions{Engines: open}, func(tx *Tx) error {
		reqs := make([]*CertRequest, n)
		for i := range reqs {
			key, err := GenerateKey(KeySpec{Type: ECDSA})
			if err != nil {
				return err
			}
			reqs[i] = &CertRequest{Name: fmt.Sprintf("c%02d", i), Key: key}
		}
		if err := tx.Reserve(reqs...); err != nil {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, req := range reqs {
			wg.Go(func() {
				cert := &x509.Certificate{SerialNumber: big.NewInt(int64(1000 + i))}
				errs[i] = tx.recordSerial(*req, cert, false)
				if errs[i] != nil {
					return
				}
				// Durable when the call returns, whatever other workers do.
				durable, err := LoadIndex(dir)
				if err != nil {
					errs[i] = err
					return
				}
				for _, r := range durable.Records {
					if r.Name == req.Name && r.Serial != SerialHex(cert) {
						errs[i] = fmt.Errorf("%s: durable serial %q after recordSerial returned", r.Name, r.Serial)
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for _, r := range tx.Index.Records {
			if r.Serial == "" {
				t.Errorf("%s: no serial in the transaction's index", r.Name)
			}
		}
		return fmt.Errorf("stop: the requests were never placed") // the pending records resolve as unplaced
	})
	if err == nil {
		t.Fatal("Update succeeded")
	}
	idx, err := LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range idx.Records {
		if r.Status != StatusUnplaced || r.Serial == "" || seen[r.Serial] {
			t.Errorf("%s: %s serial %q", r.Name, r.Status, r.Serial)
		}
		seen[r.Serial] = true
	}
	if len(seen) != n {
		t.Errorf("%d serials recorded, want %d", len(seen), n)
	}
}
