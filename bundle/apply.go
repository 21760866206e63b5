package bundle

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

// Options control a bundle run.
type Options struct {
	Dir string
	// CAPassphrase encrypts a CA created by this run and decrypts an
	// existing encrypted CA key; nil means none.
	CAPassphrase []byte
	Prune        bool
	DryRun       bool
	// Export lists extra output formats: "k8s".
	Export []string
	// Workers bounds parallel key generation, and the identities a local
	// CA signs at once; 0 means one per CPU.
	Workers int
	// EngineWorkers bounds the requests in flight to an engine that signs
	// (each waits on the engine, not on a core: a 100-identity bundle
	// must not sign one request at a time, nor flood a shared engine);
	// 0 means DefaultEngineWorkers.
	EngineWorkers int
	// Progress, if set, is called after each identity is issued.
	Progress func(Progress)
	// GenerateKey, if set, replaces pki.GenerateKey for identity keys (not
	// the CA's). Benchmarks use it to time a run apart from key generation.
	GenerateKey func(pki.KeySpec) (crypto.Signer, error)
	// SaveSpec says what the run does with DIR/kafkatls.yaml.
	SaveSpec SpecSave
	// InitIssuer: a run whose spec uses OAUTHBEARER (a client's auth, the
	// brokers' sasl.mechanisms) in a directory without a token issuer
	// creates the local one, as `kafkatls oauth init` does with its
	// defaults, once its plan holds (the wizard, whose OAUTHBEARER answer
	// means kafkatls-minted tokens). Without it such a run is refused
	// (identity.ErrNeedsIssuer). A directory with an external identity
	// provider is refused either way (ErrIdPNotInBundle).
	InitIssuer bool
	// Engines connects to the engine that signs (the directory's, or the
	// spec's ca.engine for a CA this run creates); nil: local CAs only.
	Engines pki.EngineOpener
	// EngineChain, for a dry run whose spec creates an engine-signed
	// directory, is the engine's CA chain as its caller fetched it: a chain
	// above the issuing CA means ca/chain.pem, which the preview then
	// lists (a dry run itself contacts no engine; NewEngineChain reads it).
	EngineChain []*x509.Certificate
}

// SpecSave says whether and how a run saves its spec as DIR/kafkatls.yaml.
// The one rule: a run that saves its spec stages it in the same batch as
// the index, so DIR/kafkatls.yaml changes exactly when the run's records
// do (and when it differs): after a run that applied its plan, or that
// recorded part of it before an error; never after a dry run, a check, or
// a run that recorded nothing.
type SpecSave int

const (
	// SpecKeep: the run leaves DIR/kafkatls.yaml alone (bundle -f).
	SpecKeep SpecSave = iota
	// SpecReplace: the run's spec becomes DIR/kafkatls.yaml (the wizard,
	// whose answers describe the whole cluster).
	SpecReplace
	// SpecMerge: the run's identities are added to DIR/kafkatls.yaml, and
	// the run applies the merged spec (bundle's flag form, which names
	// only some identities). A conflicting definition is refused.
	SpecMerge
)

// specToApply is the spec a run plans, and the spec it saves (nil: none).
// For SpecMerge both are the saved DIR/kafkatls.yaml with spec's
// identities added: the one saved keeps the file's relative paths, the one
// applied has them resolved against DIR. The caller holds the directory's
// lock (or reads it under View), so concurrent flag-form runs merge one
// after the other instead of the last one winning.
func (o Options) specToApply(dir string, spec *Spec) (apply, save *Spec, err error) {
	switch o.SaveSpec {
	case SpecKeep:
		return spec, nil, nil
	case SpecReplace:
		return spec, spec, nil
	}
	path := filepath.Join(dir, SpecFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return spec, spec, nil
	}
	if err != nil {
		return nil, nil, err
	}
	saved, err := ParseSpec(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if save, err = saved.Merge(spec); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if apply, err = ParseSpec(save.Marshal()); err != nil { // a deep copy, to resolve paths in
		return nil, nil, err
	}
	apply.resolvePaths(dir)
	if err := apply.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s with this run's identities added: %w", path, err)
	}
	return apply, save, nil
}

// Passphrase is the callback pki.Open uses for an encrypted CA key.
func (o Options) Passphrase() ([]byte, error) {
	if len(o.CAPassphrase) == 0 {
		return nil, pki.ErrCAKeyEncrypted
	}
	return o.CAPassphrase, nil
}

// Progress reports one finished identity.
type Progress struct {
	Done, Total int
	Name        string
	Action      Action
}

// Result is what a run did.
type Result struct {
	Plan     *Plan              `json:"plan"`
	Entities []*identity.Result `json:"issued,omitempty"`
	Outputs  []string           `json:"outputs,omitempty"`
	Elapsed  time.Duration      `json:"-"`
}

// Run validates the spec and, in one transaction on the PKI directory
// (pki.Update: lock, recovery of a killed run, index), plans and applies
// it; a dry run only plans, reading the directory (pki.View) without
// writing anything, the lock file included. Identities are issued in
// parallel; each is written as a unit, and the index (the commit point)
// is saved once they are in place, so an interrupted run leaves whole
// identities and a re-run completes the bundle. Every certificate is
// reserved in the index before it is signed (see docs/architecture.md).
func Run(ctx context.Context, spec *Spec, o Options) (*Result, error) {
	start := time.Now()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, errors.New("bundle: empty PKI directory")
	}
	var res *Result
	if o.DryRun {
		err := pki.View(o.Dir, o.Passphrase, func(tx *pki.Tx) error {
			applied, _, err := o.specToApply(tx.Dir, spec)
			if err != nil {
				return err
			}
			plan, err := makePlan(tx, applied, o, time.Now())
			if err != nil {
				return err
			}
			res = &Result{Plan: plan}
			return nil
		})
		return res, err
	}
	err := pki.Update(ctx, o.Dir, pki.UpdateOptions{Passphrase: o.Passphrase, AllowNoCA: true, Engines: o.Engines}, func(tx *pki.Tx) error {
		applied, save, err := o.specToApply(tx.Dir, spec)
		if err != nil {
			return err
		}
		plan, err := makePlan(tx, applied, o, time.Now())
		if err != nil {
			return err
		}
		if plan.CreateIssuer {
			// Planned against a stand-in; the plan holds, so the issuer
			// is made and the plan made again with it.
			if _, err := sasl.InitIssuer(tx.Dir, sasl.IssuerOptions{}); err != nil {
				return err
			}
			if plan, err = makePlan(tx, applied, o, time.Now()); err != nil {
				return err
			}
			plan.CreateIssuer = true
		}
		plan.saveSpec = save
		res = &Result{Plan: plan}
		return plan.apply(ctx, tx, o, res)
	})
	if err == nil {
		res.Elapsed = time.Since(start)
	}
	return res, err
}

// apply carries out the plan in the transaction tx, filling res.
func (plan *Plan) apply(ctx context.Context, tx *pki.Tx, o Options, res *Result) error {
	if len(plan.toIssue()) > 0 {
		go templates.Preload() // on the core the CA's creation leaves idle
	}
	// Identity keys do not depend on the CA: generating them from now on
	// overlaps the CA's own key generation (and decryption) on every core.
	keys := plan.startKeys(ctx, o)
	defer keys.stop()
	// What this run writes lands in one batch, made durable at once at the
	// end: a new CA's files, the new identities (written without syncing),
	// the bundle-level files, the spec and, renamed last, the index, the
	// commit point. A crash before the index is in place leaves the
	// identities' serials pending in the index (reserved below), and the
	// next run resolves them and issues what is missing.
	var b fsx.Batch
	defer b.Abort() // the temporaries of a run that returns before its commit
	if plan.CreateCA {
		if err := plan.createCA(ctx, o, &b); err != nil {
			return err
		}
		tx.PKI = plan.pki
	}
	if !plan.pki.External() {
		if _, err := plan.pki.Signer(); err != nil { // decrypt once, before the workers share it
			return err
		}
	}
	// Reserve every serial this run signs, durably, while the keys are
	// generated. A CA this run creates is staged in the batch, so its
	// certificate lands with the index; should the run die in between,
	// the index already holds these serials. (Should it die before the
	// CA's certificate is placed, recovery drops them with the CA's key.)
	var reqs []*pki.CertRequest
	for i := range plan.Steps {
		if a := plan.Steps[i].Action; a == ActionCreate || a == ActionRenew {
			reqs = append(reqs, &plan.Steps[i].req)
		}
	}
	if plan.pki.External() && len(reqs) > 0 {
		if _, err := plan.pki.Engine(); err != nil { // no credential: nothing reserved
			return err
		}
		// The engine picks the serials: its requests are reserved by
		// their keys, so the keys come first.
		for _, req := range reqs {
			k, err := keys.next(ctx)
			if err != nil {
				return err
			}
			req.Key = k
		}
	}
	if err := tx.Reserve(reqs...); err != nil {
		return err
	}
	truststores := plan.startTruststores() // overlaps issuing
	issued, runErr := plan.issueAll(ctx, tx, o, keys)
	for _, r := range issued {
		plan.idx.Settle(r.rec)
		res.Entities = append(res.Entities, r.res)
	}
	pruned := false
	if runErr == nil {
		pruned, runErr = plan.refreshAndPrune()
	}

	// After an error in issuing, the identities that were issued are still
	// recorded (without the bundle files), and the spec that names them
	// saved. An error in staging the bundle files has emptied the batch, a
	// new CA's files included: then nothing is recorded.
	var err error
	if runErr == nil {
		if res.Outputs, err = plan.stageOutputs(&b, o, truststores); err != nil {
			res.Entities, res.Outputs = nil, nil
			return plan.lostBatch(err)
		}
	}
	if len(issued) > 0 {
		names := make([]string, len(issued))
		for i, r := range issued {
			names[i] = r.res.Name
		}
		b.IncludeDirs(identity.SyncDirs(plan.Dir, names...)...)
	}
	if plan.saveSpec != nil && (runErr == nil || len(issued) > 0 || plan.CreateCA) {
		path := filepath.Join(plan.Dir, SpecFile)
		if data := plan.saveSpec.Marshal(); fileDiffers(path, data) {
			if err := b.WriteFile(path, data, fsx.PublicFile); err != nil { // the batch is gone
				res.Entities, res.Outputs = nil, nil
				return errors.Join(runErr, plan.lostBatch(err))
			}
		}
	}
	if len(issued) > 0 || pruned {
		if err := plan.idx.Stage(&b, plan.Dir); err != nil { // the batch is gone
			res.Entities, res.Outputs = nil, nil
			return errors.Join(runErr, plan.lostBatch(err))
		}
	}
	if err := b.Commit(); err != nil {
		res.Entities, res.Outputs = nil, nil
		return errors.Join(runErr, fmt.Errorf("the run's files were not all committed: %w (%s)", err, plan.afterLoss()))
	}
	if plan.pki.StagedTrust() != nil { // a CA of the run's own is now wholly in place
		if err := plan.pki.CreationDone(); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

// lostBatch reports an error that emptied the run's batch.
func (plan *Plan) lostBatch(err error) error {
	return fmt.Errorf("%w (%s)", err, plan.afterLoss())
}

// afterLoss says what a run whose batch was lost or failed leaves: with a
// CA of its own, nothing (the CA's certificate was not placed, so its
// identities are dropped); else the identities in place, which the
// transaction records from their reserved serials.
func (plan *Plan) afterLoss() string {
	if plan.CreateCA && !fsx.Exists(filepath.Join(plan.Dir, pki.CACertFile)) {
		return "nothing recorded, no CA created: run again to start over"
	}
	return "the identities in place are recorded: run again to finish"
}

// refreshAndPrune applies the plan's config and prune steps, and reports
// whether it pruned an identity (the index changed).
func (plan *Plan) refreshAndPrune() (pruned bool, err error) {
	for _, s := range plan.Steps {
		switch s.Action {
		case ActionConfig:
			if _, err := identity.Refresh(identity.Dir(plan.Dir, s.Name), s.Name, s.Role, s.opts, false); err != nil {
				return pruned, fmt.Errorf("%s: %w", s.Name, err)
			}
		case ActionPrune:
			if err := os.RemoveAll(identity.Dir(plan.Dir, s.Name)); err != nil {
				return pruned, err
			}
			plan.idx.SetStatus(s.Name, pki.StatusRemoved)
			pruned = true
		}
	}
	return pruned, nil
}

// createCA creates the CA the plan needs, its files staged in b.
func (plan *Plan) createCA(ctx context.Context, o Options, b *fsx.Batch) error {
	ca := plan.spec.CA
	io := pki.InitOptions{
		Dir: plan.Dir, CN: ca.CN, Key: pki.KeySpec{Type: pki.KeyType(ca.KeyType), Size: ca.KeySize}, Days: ca.Days,
		Subject:    pki.SubjectDefaults{OrganizationalUnit: ca.OU, Organization: ca.Org, Locality: ca.Locality, State: ca.State, Country: ca.Country},
		Passphrase: o.CAPassphrase, LeafDays: plan.days, Locked: true, Batch: b,
	}
	if es := ca.EngineSettings(); es != nil {
		if o.Engines == nil {
			return fmt.Errorf("ca.engine %s: %w", es.Type, pki.ErrNoEngine)
		}
		e, err := o.Engines(ctx, *es)
		if err != nil {
			return err
		}
		if io.EngineChain, err = e.Chain(ctx); err != nil {
			return err
		}
		io.Engine = es
		p, err := pki.Init(io)
		if err != nil {
			return err
		}
		p.AttachEngine(ctx, o.Engines)
		plan.pki = p
		return nil
	}
	if ca.ImportCert != "" {
		var err error
		if io.ImportCert, err = fsx.ReadFileLimit(ca.ImportCert, fsx.LimitPEM); err != nil {
			return fmt.Errorf("ca.importCert: %w", err)
		}
		if io.ImportKey, err = fsx.ReadFileLimit(ca.ImportKey, fsx.LimitPEM); err != nil {
			return fmt.Errorf("ca.importKey: %w", err)
		}
	}
	p, err := pki.Init(io)
	if err != nil {
		return err
	}
	plan.pki = p
	return nil
}

type issued struct {
	res *identity.Result
	rec pki.Record
}

// toIssue lists the steps that get a new key and certificate.
func (plan *Plan) toIssue() []Step {
	var todo []Step
	for _, s := range plan.Steps {
		if s.Action == ActionCreate || s.Action == ActionRenew {
			todo = append(todo, s)
		}
	}
	return todo
}

// DefaultEngineWorkers is how many signing requests a bundle has in
// flight to an engine at once when Options.EngineWorkers is 0: enough to
// hide the round trip and the engine's own signing, few enough that
// several runners sharing one engine do not queue behind each other.
const DefaultEngineWorkers = 8

// signers is how many identities are signed and written at once: one per
// CPU with a local CA (signing is CPU work), EngineWorkers with an engine.
func (plan *Plan) signers(o Options) int {
	if !plan.pki.External() {
		return workers(o)
	}
	if o.EngineWorkers > 0 {
		return o.EngineWorkers
	}
	return DefaultEngineWorkers
}

func workers(o Options) int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.NumCPU()
}

// keySource generates the identity keys of a run on Workers goroutines.
type keySource struct {
	keys   chan keyResult
	cancel context.CancelFunc
}

type keyResult struct {
	key crypto.Signer
	err error
}

// startKeys starts generating one key per identity to issue.
func (plan *Plan) startKeys(ctx context.Context, o Options) *keySource {
	n := len(plan.toIssue())
	ctx, cancel := context.WithCancel(ctx)
	ks := &keySource{keys: make(chan keyResult, n), cancel: cancel}
	generate := o.GenerateKey
	if generate == nil {
		generate = pki.GenerateKey
	}
	var started atomic.Int64
	for range min(workers(o), n) {
		go func() {
			for ctx.Err() == nil && started.Add(1) <= int64(n) {
				k, err := generate(plan.key)
				ks.keys <- keyResult{k, err} // buffered for n: never blocks
			}
		}()
	}
	return ks
}

// next returns the next generated key, or ctx's error once the run is
// interrupted.
func (ks *keySource) next(ctx context.Context) (crypto.Signer, error) {
	select {
	case r := <-ks.keys:
		return r.key, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stop ends key generation (a key being generated is finished, unused).
func (ks *keySource) stop() { ks.cancel() }

// issueAll signs and writes identities in parallel (plan.signers at
// once), with keys from keys. Each worker only reads the index; records
// are added by the caller, and the reservations of steps never signed are
// released in tx. After the first failure no further step is started (an
// engine that went away would fail each of them in turn, after its
// retries): the identities done are kept, and a re-run issues the rest.
func (plan *Plan) issueAll(ctx context.Context, tx *pki.Tx, o Options, keys *keySource) ([]issued, error) {
	todo := plan.toIssue()
	var (
		mu   sync.Mutex
		out  []issued
		errs []error
		done int
		wg   sync.WaitGroup
		// attempted: the steps handed to the CA; the others were never
		// signed, and their reservations are released.
		attempted = map[string]bool{}
		jobs      = make(chan Step)
		failed    = make(chan struct{}) // closed at the first failure
		fail      sync.Once
		started   int // steps a worker began
	)
	for range min(plan.signers(o), max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				select {
				case <-failed:
					continue // handed over as the first failure happened: not started
				default:
				}
				mu.Lock()
				started++
				mu.Unlock()
				key, err := s.req.Key, error(nil)
				if key == nil {
					key, err = keys.next(ctx)
				}
				if err != nil && ctx.Err() != nil {
					continue // interrupted: reported once below
				}
				var r issued
				if err == nil {
					mu.Lock()
					attempted[s.Name] = true
					mu.Unlock()
					opts := s.opts
					opts.NoSync = true // made durable with the index (Run)
					r.res, r.rec, err = identity.IssueWithKey(plan.pki, plan.idx, s.req, key, opts)
				}
				mu.Lock()
				if errors.Is(err, pki.ErrNothingIssued) {
					delete(attempted, s.Name) // the engine signed nothing: released below
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", s.Role, s.Name, err))
					fail.Do(func() { close(failed) })
				} else {
					out = append(out, r)
					done++
					if o.Progress != nil {
						o.Progress(Progress{Done: done, Total: len(todo), Name: s.Name, Action: s.Action})
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range todo {
		select {
		case <-ctx.Done():
			break feed
		case <-failed:
			break feed
		case jobs <- s:
		}
	}
	close(jobs)
	wg.Wait()
	for i := range todo {
		if !attempted[todo[i].Name] {
			tx.Release(&todo[i].req)
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("interrupted after %d of %d identities (each is complete; run again to finish): %w", len(out), len(todo), err))
	} else if started < len(todo) {
		errs = append(errs, fmt.Errorf("stopped at the first failure: %d of %d identities issued (each is complete), %d not started; run again to finish", len(out), len(todo), len(todo)-started))
	}
	// Index and report in spec order, whatever order the workers finished in.
	order := map[string]int{}
	for i, s := range todo {
		order[s.Name] = i
	}
	slices.SortFunc(out, func(a, b issued) int { return order[a.res.Name] - order[b.res.Name] })
	return out, errors.Join(errs...)
}
