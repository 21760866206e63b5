package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// EngineInventory is implemented by an Engine that can list the
// certificates it signed (Vault/OpenBao: LIST MOUNT/certs). Reconcile
// uses it to find what an engine signed for a request whose answer never
// arrived. step-ca has no such API.
type EngineInventory interface {
	// Unknown returns the certificates the engine holds whose serial
	// (lowercase hex, as the index writes it) known does not report,
	// reading at most limit of them (limit < 1: all); complete is false
	// when it stopped at limit. An engine that can tell when each was
	// issued may skip those issued well before since, the time of the
	// oldest request sought.
	Unknown(ctx context.Context, known func(serial string) bool, since time.Time, limit int) (certs []*x509.Certificate, complete bool, err error)
}

// EngineResender is implemented by an Engine whose Sign retries: Resent
// reports whether the request that returned leaf was sent again after an
// attempt the engine may have acted on, so the engine may hold a second
// certificate for the same key (Reconcile looks for it).
type EngineResender interface {
	Resent(leaf *x509.Certificate) bool
}

// ErrEngineCannotList: the engine offers no way to list what it signed,
// so a certificate whose answer was lost cannot be found by kafkatls.
var ErrEngineCannotList = errors.New("the engine has no API that lists the certificates it signed")

// DefaultReconcileLimit bounds the certificates one reconciliation reads
// from the engine: a shared engine holds every runner's certificates, and
// each unknown serial costs one request.
const DefaultReconcileLimit = 2000

// ReconcileResult is what Reconcile did.
type ReconcileResult struct {
	// Sought are the records whose key was looked for at the engine: a
	// request known only by its key (its answer was lost), or one sent
	// again after an attempt the engine may have acted on.
	Sought []Record `json:"sought"`
	// Found are the certificates the engine holds for those keys that the
	// index did not know, now recorded (unplaced unless an identity
	// directory holds them).
	Found []Record `json:"found"`
	// Read is how many certificates unknown to the index were read.
	Read int `json:"read"`
	// Complete: every certificate unknown to the index was read; false
	// when the limit stopped the reading (some may remain unfound).
	Complete bool `json:"complete"`
}

// NeedsReconcile reports whether the index holds an engine request whose
// certificate was never looked for at the engine: one known only by its
// key, or one sent twice.
func (idx *Index) NeedsReconcile() bool {
	for _, r := range idx.Records {
		if r.reconcileTarget(false) {
			return true
		}
	}
	return false
}

// reconcileTarget reports whether Reconcile looks for r's key: a request
// whose serial never came back (unplaced, by key only), not yet looked
// for unless again, or one marked to be looked for again.
func (r Record) reconcileTarget(again bool) bool {
	if r.EngineKey == "" || r.Status == StatusPending {
		return false
	}
	if r.EngineRecheck {
		return true
	}
	return r.Serial == "" && r.Status == StatusUnplaced && (again || r.EngineChecked.IsZero())
}

// Reconcile asks the engine for the certificates it holds that the index
// does not name, and records those issued for the key of a request whose
// answer was lost (see ReconcileResult). again looks again for requests
// already looked for; limit bounds the certificates read (< 1: all).
// The changes are in Tx.Index, saved with the transaction. An engine
// that cannot list (step-ca) gives ErrEngineCannotList, with the result
// naming the records sought.
func (tx *Tx) Reconcile(again bool, limit int) (*ReconcileResult, error) {
	if tx.PKI == nil {
		return nil, ErrNoCA
	}
	if !tx.PKI.External() {
		return &ReconcileResult{Sought: []Record{}, Found: []Record{}, Complete: true}, nil
	}
	res := &ReconcileResult{Sought: []Record{}, Found: []Record{}, Complete: true}
	for _, r := range tx.Index.Records {
		if r.reconcileTarget(again) {
			res.Sought = append(res.Sought, r)
		}
	}
	if len(res.Sought) == 0 {
		return res, nil
	}
	e, err := tx.PKI.Engine()
	if err != nil {
		return nil, err
	}
	inv, ok := e.(EngineInventory)
	if !ok {
		// Sought says what stays unfound.
		res.Complete = false
		return res, fmt.Errorf("%w (%s)", ErrEngineCannotList, *tx.PKI.Settings.Engine)
	}
	known := map[string]bool{}
	for _, ca := range append([]*x509.Certificate{tx.PKI.CA}, tx.PKI.Parents...) { // the mount lists its CAs too
		known[SerialHex(ca)] = true
	}
	for _, r := range tx.Index.Records {
		if r.Serial != "" {
			known[r.Serial] = true
		}
	}
	since := res.Sought[0].IssuedAt
	for _, r := range res.Sought {
		if r.IssuedAt.Before(since) {
			since = r.IssuedAt
		}
	}
	certs, complete, err := inv.Unknown(tx.PKI.ctx(), func(s string) bool { return known[s] }, since, limit)
	if err != nil {
		return nil, fmt.Errorf("reconcile with %s: %w", *tx.PKI.Settings.Engine, err)
	}
	res.Read, res.Complete = len(certs), complete
	res.Found = tx.Index.reconcile(tx.Dir, certs, complete, again, time.Now())
	return res, nil
}

// reconcile records, among certs (certificates the engine holds), those
// whose key is the key of a reconcile target, and returns the records it
// made. Each target known only by its key takes one certificate of its
// key (the oldest first); the others of that key (a request sent twice)
// are added as unplaced records of the first target's name. Targets are
// marked looked for (EngineChecked) when the engine's certificates were
// all read (complete), and stay to be looked for again otherwise.
func (idx *Index) reconcile(dir string, certs []*x509.Certificate, complete, again bool, now time.Time) []Record {
	now = now.UTC().Truncate(time.Second)
	byKey := map[string][]*x509.Certificate{}
	for _, c := range certs {
		if idx.HasSerial(SerialHex(c)) {
			continue
		}
		fp := KeyFingerprint(c.PublicKey)
		byKey[fp] = append(byKey[fp], c)
	}
	for _, cs := range byKey {
		sortByNotBefore(cs)
	}
	record := func(t Record, c *x509.Certificate) Record {
		r := NewRecord(t.Name, t.Role, c, t.ExternalKey)
		r.Status, r.EngineKey, r.IssuedAt, r.Auth, r.EngineChecked = StatusUnplaced, t.EngineKey, t.IssuedAt, t.Auth, now
		r.EngineRecheck = !complete
		if placed, ok := placedCert(dir, t.Name); ok && placed.Equal(c) {
			r.Status = StatusValid
		}
		return r
	}
	var found []Record
	first := map[string]int{} // key -> index of its first target
	n := len(idx.Records)
	for i := range n {
		t := &idx.Records[i]
		if !t.reconcileTarget(again) {
			continue
		}
		if _, ok := first[t.EngineKey]; !ok {
			first[t.EngineKey] = i
		}
		if t.Serial == "" && len(byKey[t.EngineKey]) > 0 {
			c := byKey[t.EngineKey][0]
			byKey[t.EngineKey] = byKey[t.EngineKey][1:]
			*t = record(*t, c)
			found = append(found, *t)
			continue
		}
		if complete {
			t.EngineChecked, t.EngineRecheck = now, false
		}
	}
	for key, i := range first {
		for _, c := range byKey[key] {
			r := record(idx.Records[i], c)
			idx.Add(r)
			found = append(found, r)
		}
	}
	for _, r := range found {
		if r.Status == StatusValid {
			idx.settlePlaced(r)
		}
	}
	return found
}

// settlePlaced makes r, found at the engine and held by its identity's
// directory, the name's one valid record.
func (idx *Index) settlePlaced(r Record) {
	for i := range idx.Records {
		if p := &idx.Records[i]; p.Name == r.Name && p.Status == StatusValid && p.Serial != r.Serial {
			p.Status = StatusSuperseded
		}
	}
}

func sortByNotBefore(cs []*x509.Certificate) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].NotBefore.Before(cs[j-1].NotBefore); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// reconcileAuto is the reconciliation every write transaction on an
// engine-signed directory runs, when the index holds a request never
// looked for (NeedsReconcile) and the program can reach the engine: its
// failures (an engine down, a token not allowed to list) leave the
// records to be looked for by the next run or by `kafkatls reconcile`,
// which reports them. It reports whether it recorded anything.
func (tx *Tx) reconcileAuto(o UpdateOptions) bool {
	if tx.PKI == nil || !tx.PKI.External() || o.Engines == nil || o.NoAutoReconcile || !tx.Index.NeedsReconcile() {
		return false
	}
	if _, err := tx.Reconcile(false, DefaultReconcileLimit); err != nil {
		tx.ReconcileErr = err
		return false
	}
	return true
}
