package bundle

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
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
	// Workers bounds parallel key generation; 0 means one per CPU.
	Workers int
	// Progress, if set, is called after each identity is issued.
	Progress func(Progress)
	// GenerateKey, if set, replaces pki.GenerateKey for identity keys (not
	// the CA's). Benchmarks use it to time a run apart from key generation.
	GenerateKey func(pki.KeySpec) (crypto.Signer, error)
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

// Run validates the spec, takes the PKI directory lock, plans, and unless
// DryRun applies the plan. Identities are issued in parallel; each is
// written as a unit, and the index (the commit point) is saved once they
// are in place, so an interrupted run leaves whole identities and a
// re-run completes the bundle.
func Run(ctx context.Context, spec *Spec, o Options) (*Result, error) {
	start := time.Now()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, errors.New("bundle: empty PKI directory")
	}
	// A dry run of a directory that does not exist yet must not create it.
	if !(o.DryRun && !fsx.Exists(o.Dir)) {
		unlock, err := fsx.Lock(o.Dir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if !o.DryRun {
			if err := identity.Recover(o.Dir); err != nil {
				return nil, err
			}
		}
	}
	plan, err := makePlan(spec, o, time.Now())
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	if o.DryRun {
		return res, nil
	}
	if len(plan.toIssue()) > 0 {
		go templates.Preload() // on the core the CA's creation leaves idle
	}
	// Identity keys do not depend on the CA: generating them from now on
	// overlaps the CA's own key generation (and decryption) on every core.
	keys := plan.startKeys(ctx, o)
	defer keys.stop()
	// What this run writes lands in one batch, made durable at once at the
	// end: a new CA's files, the new identities (written without syncing),
	// the bundle-level files and, renamed last, the index, the commit
	// point. A crash before the index is in place leaves the identities
	// unrecorded, and the next run issues them again.
	var b fsx.Batch
	defer b.Abort() // the temporaries of a run that returns before its commit
	if plan.CreateCA {
		if err := plan.createCA(o, &b); err != nil {
			return nil, err
		}
	}
	if _, err := plan.pki.Signer(); err != nil { // decrypt once, before the workers share it
		return nil, err
	}
	truststores := plan.startTruststores() // overlaps issuing
	issued, runErr := plan.issueAll(ctx, o, keys)
	for _, r := range issued {
		plan.idx.SetStatus(r.rec.Name, pki.StatusSuperseded)
		plan.idx.Add(r.rec)
		res.Entities = append(res.Entities, r.res)
	}
	pruned := false
	if runErr == nil {
		pruned, runErr = plan.refreshAndPrune()
	}

	// After an error in issuing, the identities that were issued are still
	// recorded (without the bundle files). An error in staging the bundle
	// files has emptied the batch, a new CA's files included: then nothing
	// is recorded.
	if runErr == nil {
		if res.Outputs, err = plan.stageOutputs(&b, o, truststores); err != nil {
			res.Entities, res.Outputs = nil, nil
			return res, nothingRecorded(err)
		}
	}
	if len(issued) > 0 {
		names := make([]string, len(issued))
		for i, r := range issued {
			names[i] = r.res.Name
		}
		b.IncludeDirs(identity.SyncDirs(plan.Dir, names...)...)
	}
	if len(issued) > 0 || pruned {
		if err := plan.idx.Stage(&b, plan.Dir); err != nil { // the batch is gone
			res.Entities, res.Outputs = nil, nil
			return res, errors.Join(runErr, nothingRecorded(err))
		}
	}
	if err := b.Commit(); err != nil {
		res.Entities, res.Outputs = nil, nil
		return res, errors.Join(runErr, fmt.Errorf("%d identities written but not made durable (run again to re-issue them): %w", len(issued), err))
	}
	if runErr != nil {
		return res, runErr
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// nothingRecorded reports an error that emptied the run's batch: no
// identity of the run is recorded (nor a CA it was creating).
func nothingRecorded(err error) error {
	return fmt.Errorf("%w (nothing recorded: run again to issue the identities)", err)
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
func (plan *Plan) createCA(o Options, b *fsx.Batch) error {
	ca := plan.spec.CA
	io := pki.InitOptions{
		Dir: plan.Dir, CN: ca.CN, Key: pki.KeySpec{Type: pki.KeyType(ca.KeyType), Size: ca.KeySize}, Days: ca.Days,
		Subject:    pki.SubjectDefaults{OrganizationalUnit: ca.OU, Organization: ca.Org, Locality: ca.Locality, State: ca.State, Country: ca.Country},
		Passphrase: o.CAPassphrase, LeafDays: plan.days, Locked: true, Batch: b,
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

// issueAll signs and writes identities in parallel, with keys from keys.
// Each worker only reads the index; records are added by the caller.
func (plan *Plan) issueAll(ctx context.Context, o Options, keys *keySource) ([]issued, error) {
	todo := plan.toIssue()
	var (
		mu   sync.Mutex
		out  []issued
		errs []error
		done int
		wg   sync.WaitGroup
		jobs = make(chan Step)
	)
	for range min(workers(o), max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				key, err := keys.next(ctx)
				if err != nil && ctx.Err() != nil {
					continue // interrupted: reported once below
				}
				var r issued
				if err == nil {
					opts := s.opts
					opts.NoSync = true // made durable with the index (Run)
					r.res, r.rec, err = identity.IssueWithKey(plan.pki, plan.idx, s.req, key, opts)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", s.Role, s.Name, err))
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
		case jobs <- s:
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("interrupted after %d of %d identities (each is complete; run again to finish): %w", len(out), len(todo), err))
	}
	// Index and report in spec order, whatever order the workers finished in.
	order := map[string]int{}
	for i, s := range todo {
		order[s.Name] = i
	}
	slices.SortFunc(out, func(a, b issued) int { return order[a.res.Name] - order[b.res.Name] })
	return out, errors.Join(errs...)
}
