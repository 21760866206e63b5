package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// Tx is a write transaction on a PKI directory: Update holds the
// directory's lock for its whole life, so exactly one Tx at a time changes
// the directory, the index included. Every writer (issue, sign, bundle,
// init, renew, revoke, CA rotation, the wizard) works through one.
type Tx struct {
	Dir string
	// PKI is the directory's CA; nil while it has none (only with
	// UpdateOptions.AllowNoCA). A writer that creates or replaces the CA
	// sets it.
	PKI *PKI
	// CAErr is why PKI is nil: ErrNoCA, or why the directory's CA does
	// not open.
	CAErr error
	// Index is the index as of the start of the transaction, pending
	// certificates of a killed run resolved. Update saves it after fn.
	Index *Index

	// ReconcileErr is why the reconciliation this transaction ran on its
	// own (an engine request never looked for) failed; nil if it did not
	// run or succeeded. The records stay to be looked for.
	ReconcileErr error

	released map[string]bool // reservations never signed (Release): serials, or "key:"+fingerprint for an engine's

	// Engine serials are recorded by a bundle's workers, in group
	// commits (recordSerial).
	serialMu     sync.Mutex
	serialCond   *sync.Cond
	serialQueue  []pendingSerial // waiting for the next save
	serialBatch  int             // number of the batch serialQueue will be saved as
	serialSaving bool
	serialSaved  map[int]error // saved batches: their save's error
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	// Passphrase decrypts an encrypted CA key when something is signed.
	Passphrase func() ([]byte, error)
	// AllowNoCA lets fn run on a directory without a CA (init, and a
	// bundle that creates its CA); the directory is created if needed.
	// Otherwise Update fails with ErrNoCA and creates nothing.
	AllowNoCA bool
	// Engines connects to the engine of a directory whose certificates an
	// engine signs (Settings.Engine); nil where nothing is signed.
	Engines EngineOpener
	// NoAutoReconcile: the writer reconciles the index with the engine
	// itself (Tx.Reconcile), so Update does not on its own (see
	// reconcileAuto).
	NoAutoReconcile bool
}

// Update runs fn in a transaction on the PKI directory dir: it takes the
// directory's lock, repairs what a killed run left (staged temporaries,
// half-placed identity directories, pending certificates), opens the CA,
// loads the index, runs fn and saves the index if fn changed it.
//
// If fn fails, what it changed in Tx.Index is not saved, except for the
// certificates it signed: those were reserved durably before signing
// (Reserve), and are resolved against the disk and recorded either way
// (see resolvePending).
func Update(ctx context.Context, dir string, o UpdateOptions, fn func(*Tx) error) error {
	if dir == "" {
		return errors.New("PKI directory: empty path")
	}
	// (A rotation start that died between moving the CA aside and placing
	// the new one leaves no CA until recovery restores the previous one.)
	if !o.AllowNoCA && !fsx.Exists(filepath.Join(dir, CACertFile)) && !fsx.Exists(filepath.Join(dir, PreviousCADir, "ca.crt")) {
		_, err := Open(dir, nil) // ErrNoCA, or why the CA does not read; creates nothing
		if err == nil {
			err = fmt.Errorf("%w %s", ErrNoCA, dir)
		}
		return err
	}
	unlock, err := fsx.Lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	tx := &Tx{Dir: dir}
	if err := recoverFiles(dir); err != nil {
		return fmt.Errorf("recover %s after an interrupted run: %w", dir, err)
	}
	tx.PKI, err = Open(dir, o.Passphrase)
	switch {
	case err == nil:
		tx.PKI.AttachEngine(ctx, o.Engines)
	case o.AllowNoCA:
		// No CA, or one that does not open: the writer (init --force,
		// a bundle's plan) decides; CAErr says which.
		tx.PKI, tx.CAErr = nil, err
	default:
		return err
	}
	if tx.Index, err = LoadIndex(dir); err != nil {
		return err
	}
	tx.Index.resolvePending(dir)
	if err := ctx.Err(); err != nil {
		return err
	}
	if tx.reconcileAuto(o) && tx.Index.changed(dir) {
		// Durable now: fn's failure would drop what fn changed.
		if err := tx.Index.Save(dir); err != nil {
			return err
		}
	}
	if fnErr := fn(tx); fnErr != nil {
		// Keep what fn left half-done out of the index, but record the
		// fate of every certificate it reserved.
		idx, err := LoadIndex(dir)
		if err == nil {
			idx.drop(tx.released)
			idx.resolvePending(dir)
			err = idx.saveIfChanged(dir)
		}
		if err != nil {
			return errors.Join(fnErr, fmt.Errorf("recording the pending certificates of the index: %w (they stay pending until the next run that writes to %s records them)", err, dir))
		}
		return fnErr
	}
	tx.Index.resolvePending(dir)
	tx.reconcileAuto(o) // a request fn sent twice
	return tx.Index.saveIfChanged(dir)
}

// View runs fn on the PKI directory without writing anything to it, not
// even the lock file: when the lock file exists it holds the lock shared,
// so fn sees no writer's half-done work; a directory that has none (or
// does not exist) is read as it is. Tx.PKI is nil when there is no CA.
// Pending certificates of a killed run stay pending: only Update resolves
// them.
func View(dir string, passphrase func() ([]byte, error), fn func(*Tx) error) error {
	unlock, err := fsx.LockShared(dir)
	if err != nil {
		return err
	}
	defer unlock()
	tx := &Tx{Dir: dir}
	tx.PKI, err = Open(dir, passphrase)
	if err != nil && !errors.Is(err, ErrNoCA) {
		return err
	}
	tx.CAErr = err
	if tx.Index, err = LoadIndex(dir); err != nil {
		return err
	}
	return fn(tx)
}

// Reserve records, before anything is signed, that the CA is about to
// sign a certificate for each request: it gives each request a fresh
// serial (CertRequest.Serial, which Sign then uses) and makes a pending
// record of it durable in the index. So a certificate can exist outside
// this process only once its serial is in the index: if the run dies
// after signing, the next transaction finds the pending record and
// resolves it (see resolvePending). Reserve writes the index as it was
// last saved plus the pending records, nothing else fn changed.
func (tx *Tx) Reserve(reqs ...*CertRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	if tx.PKI == nil {
		return ErrNoCA
	}
	durable, err := LoadIndex(tx.Dir)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, req := range reqs {
		role := req.Role
		if role == "" {
			role = RoleClient
		}
		if tx.PKI.External() {
			// The engine picks the serial: the request is known by its
			// key until the engine answers (recordSerial).
			tx.PKI.engineSigned = tx.recordSerial
			pub := req.requestPublicKey()
			if pub == nil {
				return fmt.Errorf("%s: %w", req.Name, ErrEngineNeedsCSR)
			}
			r := Record{Name: req.Name, Role: role, Subject: tx.PKI.SubjectDN(*req), Status: StatusPending,
				IssuedAt: now, ExternalKey: req.ExternalKey, EngineKey: KeyFingerprint(pub)}
			durable.Add(r)
			tx.Index.Add(r)
			continue
		}
		for {
			s, err := randomSerial()
			if err != nil {
				return err
			}
			if hex := serialHex(s); !tx.Index.HasSerial(hex) && !durable.HasSerial(hex) {
				req.Serial = s
				break
			}
		}
		r := Record{Name: req.Name, Role: role, Serial: serialHex(req.Serial), Subject: tx.PKI.SubjectDN(*req),
			Status: StatusPending, IssuedAt: now, ExternalKey: req.ExternalKey}
		durable.Add(r)
		tx.Index.Add(r)
	}
	fsx.Fault("reserve")
	return durable.Save(tx.Dir)
}

// Sign reserves req's serial (Reserve) and signs it for pub: the one way
// a writer has the CA sign a certificate. The CA key is opened first, so
// a wrong passphrase reserves nothing; a request Sign refuses (no SAN,
// outliving the CA) releases its reservation.
func (tx *Tx) Sign(req CertRequest, pub crypto.PublicKey) (*x509.Certificate, error) {
	if tx.PKI == nil {
		return nil, ErrNoCA
	}
	if tx.PKI.External() {
		if _, err := tx.PKI.Engine(); err != nil { // no credential: nothing reserved
			return nil, err
		}
	} else if _, err := tx.PKI.Signer(); err != nil {
		return nil, err
	}
	if err := tx.Reserve(&req); err != nil {
		return nil, err
	}
	cert, err := tx.PKI.Sign(req, pub, tx.Index)
	if err != nil {
		// A local CA signed nothing. An engine may have: unless it says
		// it did not, the reservation stays, and becomes unplaced.
		if !tx.PKI.External() || errors.Is(err, ErrNothingIssued) || errors.Is(err, ErrEngineNeedsCSR) {
			tx.Release(&req)
		}
		return nil, err
	}
	return cert, nil
}

// recordSerial writes the serial an engine chose into the pending record
// reserved for req, durably, before the files are placed (PKI.Sign calls
// it as soon as the engine answers): a run that dies from here on leaves
// a record that names the serial, valid if the identity was placed,
// unplaced (and revocable at the engine) otherwise.
//
// A bundle's workers call it concurrently, and each save of the index is
// an fsync: answers that arrive while one is being saved are saved
// together by the next (a group commit), so the signing pool is not
// serialised behind the disk. Each call returns once a save that holds
// its serial is durable, or with that save's error.
func (tx *Tx) recordSerial(req CertRequest, cert *x509.Certificate, resent bool) error {
	tx.serialMu.Lock()
	defer tx.serialMu.Unlock()
	if tx.serialCond == nil {
		tx.serialCond = sync.NewCond(&tx.serialMu)
		tx.serialSaved = map[int]error{}
	}
	ps := pendingSerial{req.reservation(), SerialHex(cert), resent}
	tx.Index.setPendingSerial(ps)
	tx.serialQueue = append(tx.serialQueue, ps)
	mine := tx.serialBatch // the batch the next save takes
	for tx.serialSaving {
		tx.serialCond.Wait()
		if err, done := tx.serialSaved[mine]; done {
			return err
		}
	}
	// No save under way: this call saves its batch, and what joined it.
	batch := tx.serialQueue
	tx.serialQueue, tx.serialSaving = nil, true
	tx.serialBatch++
	tx.serialMu.Unlock()
	err := tx.saveSerials(batch)
	tx.serialMu.Lock()
	tx.serialSaving = false
	tx.serialSaved[mine] = err
	tx.serialCond.Broadcast()
	return err
}

// pendingSerial is the serial an engine chose for the reservation id.
type pendingSerial struct {
	id, serial string
	resent     bool // the engine may hold another certificate for the key
}

// saveSerials records engine serials in the index as last saved, and
// saves it.
func (tx *Tx) saveSerials(batch []pendingSerial) error {
	durable, err := LoadIndex(tx.Dir)
	if err != nil {
		return err
	}
	for _, e := range batch {
		durable.setPendingSerial(e)
	}
	fsx.Fault("engine serial")
	return durable.Save(tx.Dir)
}

// setPendingSerial records the serial on the pending record ps names.
func (idx *Index) setPendingSerial(ps pendingSerial) {
	for i := range idx.Records {
		if r := idx.Records[i]; r.Status == StatusPending && r.reservation() == ps.id {
			idx.Records[i].Serial = ps.serial
			idx.Records[i].EngineRecheck = idx.Records[i].EngineRecheck || ps.resent
		}
	}
}

// Release gives back reservations the CA never signed (their request was
// refused, or the run stopped before signing them): their pending records
// are dropped from the index instead of being resolved as unplaced.
func (tx *Tx) Release(reqs ...*CertRequest) {
	for _, req := range reqs {
		id := req.reservation()
		if id == "" {
			continue
		}
		if tx.released == nil {
			tx.released = map[string]bool{}
		}
		tx.released[id] = true
	}
	tx.Index.drop(tx.released)
}

// drop removes the pending records whose reservation is in ids.
func (idx *Index) drop(ids map[string]bool) {
	idx.Records = slices.DeleteFunc(idx.Records, func(r Record) bool { return r.Status == StatusPending && ids[r.reservation()] })
}

// Save makes the index durable now, for a writer that commits in steps
// (CA rotation's reissue saves after each identity).
func (tx *Tx) Save() error { return tx.Index.Save(tx.Dir) }

// Settle records a certificate the CA signed for name: the pending record
// of its serial (if Reserve made one) becomes the full record r, and the
// name's previous valid certificate is superseded.
func (idx *Index) Settle(r Record) {
	idx.SetStatus(r.Name, StatusSuperseded)
	for i := range idx.Records {
		p := idx.Records[i]
		if p.Status == StatusPending && (p.Serial == r.Serial || p.EngineKey != "" && p.Serial == "" && p.Name == r.Name && p.EngineKey == KeyFingerprint(r.publicKey)) {
			r.IssuedAt = idx.Records[i].IssuedAt
			if p.EngineRecheck { // still to be looked for at the engine, by its key
				r.EngineKey, r.EngineRecheck = p.EngineKey, true
			}
			idx.Records[i] = r
			return
		}
	}
	idx.Add(r)
}

// resolvePending settles every pending record against what is on disk in
// the PKI directory dir: a certificate whose identity directory holds it
// (same serial) was placed, and becomes a valid record (superseding the
// name's previous one); any other was perhaps signed but never placed, and
// becomes an unplaced record, listed and revocable, never valid.
//
// In a directory without a CA, pending records of a local CA are dropped:
// they come from a run that created its CA in the same batch and died
// before the CA's certificate was placed, and recovery removed the CA's
// staged key, so nothing that CA signed can ever be trusted. An engine's
// pending records (reserved by key) are not: the engine holds what it
// signed whatever happened here, so they become unplaced, listed and
// revocable once the directory names the engine again.
func (idx *Index) resolvePending(dir string) {
	if !fsx.Exists(filepath.Join(dir, CACertFile)) {
		idx.Records = slices.DeleteFunc(idx.Records, func(r Record) bool { return r.Status == StatusPending && r.EngineKey == "" })
		for i := range idx.Records {
			if idx.Records[i].Status == StatusPending {
				idx.Records[i].Status = StatusUnplaced
			}
		}
		return
	}
	for i := range idx.Records {
		r := idx.Records[i]
		if r.Status != StatusPending {
			continue
		}
		if c, ok := placedCert(dir, r.Name); ok && (SerialHex(c) == r.Serial || r.EngineKey != "" && KeyFingerprint(c.PublicKey) == r.EngineKey) {
			idx.Settle(NewRecord(r.Name, r.Role, c, r.ExternalKey))
			continue
		}
		idx.Records[i].Status = StatusUnplaced
	}
}

// Pending returns the records of certificates reserved but not settled.
func (idx *Index) Pending() []Record {
	var out []Record
	for _, r := range idx.Records {
		if r.Status == StatusPending {
			out = append(out, r)
		}
	}
	return out
}

// changed reports whether the index differs from dir's index.json.
func (idx *Index) changed(dir string) bool {
	old, err := os.ReadFile(filepath.Join(dir, indexFile))
	return err != nil || !bytes.Equal(old, idx.marshal())
}

// saveIfChanged saves the index unless index.json already holds exactly
// it: a run that changed nothing writes nothing.
func (idx *Index) saveIfChanged(dir string) error {
	data := idx.marshal()
	if old, err := os.ReadFile(filepath.Join(dir, indexFile)); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if len(idx.Records) == 0 && !fsx.Exists(filepath.Join(dir, indexFile)) {
		return nil
	}
	fsx.Fault("commit index")
	return idx.Save(dir)
}
