package bundle

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
)

// Action is what a run does to one identity.
type Action string

// Actions, in the order a plan lists them.
const (
	ActionCreate Action = "create" // new identity
	ActionRenew  Action = "renew"  // new key and certificate: spec changed, expiring, or files missing
	ActionConfig Action = "config" // certificate kept, configs rewritten (the cluster around it changed)
	ActionKeep   Action = "keep"   // nothing to do
	ActionOrphan Action = "orphan" // issued before, not in the spec any more: reported, kept
	ActionPrune  Action = "prune"  // orphan deleted (--prune)
)

// Step is one line of a plan.
type Step struct {
	Action    Action   `json:"action"`
	Name      string   `json:"name"`
	Role      pki.Role `json:"role"`
	Reason    string   `json:"reason,omitempty"`
	Principal string   `json:"principal,omitempty"`
	SANs      string   `json:"sans,omitempty"`

	entity Entity
	req    pki.CertRequest
	opts   identity.Options
}

// Plan is what a run will do. Nothing is written while planning.
type Plan struct {
	Dir      string `json:"dir"`
	Mode     string `json:"mode"`
	CreateCA bool   `json:"createCA"`
	// CreateIssuer: the run creates the directory's local token issuer
	// (Options.InitIssuer).
	CreateIssuer bool   `json:"createIssuer,omitempty"`
	Steps        []Step `json:"steps"`
	// Outputs are the bundle-level files that would be written or changed.
	Outputs []string `json:"outputs,omitempty"`
	// Preview is what the directory holds for the spec once the plan is
	// applied.
	Preview *Preview `json:"preview"`

	spec *Spec
	// initIssuer is Options.InitIssuer; standIn the issuer a plan that
	// creates one is made with (its key in memory, its files removed).
	initIssuer bool
	standIn    *sasl.Issuer
	saveSpec   *Spec    // what the run saves as DIR/kafkatls.yaml; nil: nothing
	pki        *pki.PKI // nil when the CA does not exist yet
	idx        *pki.Index
	key        pki.KeySpec
	days       int
	caDays     int
	// newTruststores: the bundle truststores are missing or stale. Decided
	// once while planning (it decodes both stores); applying cannot change
	// it except by creating the CA, which already means true.
	newTruststores bool
}

// Changes reports whether applying the plan would change anything.
func (p *Plan) Changes() bool {
	if p.CreateCA || len(p.Outputs) > 0 {
		return true
	}
	for _, s := range p.Steps {
		if s.Action != ActionKeep && s.Action != ActionOrphan {
			return true
		}
	}
	return false
}

// Count returns how many steps have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a {
			n++
		}
	}
	return n
}

// makePlan compares the spec with the PKI directory of tx (a transaction,
// or a read-only View for a dry run). Nothing is written while planning.
func makePlan(tx *pki.Tx, spec *Spec, o Options, now time.Time) (*Plan, error) {
	plan := &Plan{Dir: tx.Dir, Mode: spec.EffectiveMode(), spec: spec, initIssuer: o.InitIssuer}
	p := tx.PKI
	switch {
	case p != nil:
		plan.pki, plan.idx = p, tx.Index
		if err := sameSigner(p, spec.CA); err != nil {
			return nil, err
		}
	case errors.Is(tx.CAErr, pki.ErrNoCA):
		plan.CreateCA = true
		plan.idx = tx.Index
	default:
		return nil, tx.CAErr
	}
	var err error

	// Key and validity: spec defaults, else the PKI's, else built-in ones.
	plan.key = pki.KeySpec{Type: pki.KeyType(spec.Defaults.KeyType), Size: spec.Defaults.KeySize}
	if plan.key.Type == "" {
		if p != nil {
			plan.key = p.Settings.Key
		} else {
			plan.key = pki.KeySpec{Type: pki.KeyType(spec.CA.KeyType), Size: spec.CA.KeySize}
		}
	}
	if plan.key, err = plan.key.Normalize(); err != nil {
		return nil, err
	}
	plan.days = spec.Defaults.Days
	if plan.days == 0 {
		plan.days = pki.DefaultLeafDays
		if p != nil {
			plan.days = p.Settings.LeafDays
		}
	}
	plan.caDays = spec.CA.Days
	if plan.caDays == 0 {
		plan.caDays = pki.DefaultCADays
	}
	if p != nil {
		if max := p.MaxDays(now); plan.days > max {
			return nil, fmt.Errorf("defaults.days %d: certificates would outlive the CA, which expires %s (%d days left); lower days or rotate the CA",
				plan.days, p.CA.NotAfter.Format(time.DateOnly), max)
		}
	} else if plan.days > plan.caDays {
		return nil, fmt.Errorf("defaults.days %d exceeds the CA validity of %d days", plan.days, plan.caDays)
	}
	renewBefore, _ := ParseWindow(spec.Defaults.RenewBefore)
	formats, _ := identity.ParseFormats(spec.Defaults.Formats)
	compat := stores.Modern
	if spec.Defaults.P12Compat != "" {
		compat, _ = stores.ParseCompat(spec.Defaults.P12Compat)
	}

	entities := spec.Entities()
	ctx, err := plan.clusterContext(entities)
	if err != nil {
		return nil, err
	}
	for _, e := range entities {
		pw, err := e.Password.read()
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", e.Role, e.Name, err)
		}
		req := pki.CertRequest{Name: e.Name, Role: e.Role, Subject: e.Subject, SANs: e.SANs, Days: plan.days}
		cfg := ctx
		cfg.ListenerPort = e.Port
		cfg.Connect = e.Connect
		cfg.ClusterAlias = e.ClusterAlias
		cfg.Hosts = append([]string{e.Advertised}, slices.DeleteFunc(slices.Clone(e.SANs.DNS), func(h string) bool { return h == e.Advertised })...)
		step := Step{Name: e.Name, Role: e.Role, SANs: e.SANs.String(), Principal: ctx.principals[e.Name], entity: e, req: req,
			opts: identity.Options{Formats: formats, Compat: compat, Password: pw, MountPath: spec.Defaults.MountPath, Force: true, Config: cfg.Config}}
		if err := plan.saslOptions(e, &step.opts, ctx); err != nil {
			return nil, err
		}
		step.Action, step.Reason = plan.judge(e, step, renewBefore, now)
		plan.Steps = append(plan.Steps, step)
	}

	if plan.Preview, err = plan.preview(o, ctx, plan.Steps); err != nil {
		return nil, err
	}

	// Orphans: identities issued here that the spec no longer lists.
	listed := map[string]bool{}
	for _, e := range entities {
		listed[e.Name] = true
	}
	seen := map[string]bool{}
	for _, r := range plan.idx.Records {
		if r.Status != pki.StatusValid || listed[r.Name] || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		a, why := ActionOrphan, "not in the spec: kept (--prune deletes it)"
		if o.Prune {
			a, why = ActionPrune, "not in the spec: --prune deletes its directory"
		}
		plan.Steps = append(plan.Steps, Step{Action: a, Name: r.Name, Role: r.Role, Reason: why, Principal: r.Principal})
	}
	plan.Outputs, err = plan.outputChanges(o)
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// judge decides what to do with one identity and why.
func (plan *Plan) judge(e Entity, step Step, renewBefore time.Duration, now time.Time) (Action, string) {
	if plan.pki == nil {
		return ActionCreate, "new CA"
	}
	dir := identity.Dir(plan.Dir, e.Name)
	rec, ok := plan.idx.Current(e.Name)
	if !ok {
		if fsx.Exists(dir) {
			return ActionRenew, "directory exists without an index record (interrupted run)"
		}
		return ActionCreate, ""
	}
	var reasons []string
	cert, err := readCert(filepath.Join(dir, identity.CertPEM))
	switch {
	case err != nil:
		reasons = append(reasons, "certificate files missing")
	case pki.SerialHex(cert) != rec.Serial:
		reasons = append(reasons, "files do not match the index")
	}
	if rec.Role != e.Role {
		reasons = append(reasons, fmt.Sprintf("role %s → %s", rec.Role, e.Role))
	}
	reasons = append(reasons, saslReasons(dir, e)...)
	if want := plan.desiredSubject(e); want != "" && want != rec.Subject {
		reasons = append(reasons, fmt.Sprintf("subject %q → %q", rec.Subject, want))
	}
	if d := sanDiff(rec, e.SANs); d != "" {
		reasons = append(reasons, "SANs "+d)
	}
	if rec.Key != plan.key {
		reasons = append(reasons, fmt.Sprintf("key %s → %s", rec.Key, plan.key))
	}
	if left := rec.NotAfter.Sub(now); left < renewBefore {
		reasons = append(reasons, fmt.Sprintf("expires %s (within %s)", rec.NotAfter.Format(time.DateOnly), fmtWindow(renewBefore)))
	}
	for _, f := range step.opts.Formats {
		if name := map[string]string{identity.FormatJKS: identity.KeystoreJKS, identity.FormatP12: identity.KeystoreP12, identity.FormatPEM: identity.KeystorePEM}[f]; !fsx.Exists(filepath.Join(dir, name)) {
			reasons = append(reasons, "missing "+name)
		}
	}
	if step.opts.Password != "" {
		if old, err := fsx.ReadFileLimit(filepath.Join(dir, identity.PasswordFile), fsx.LimitSecret); err == nil && strings.TrimRight(string(old), "\r\n") != step.opts.Password {
			reasons = append(reasons, "password source changed")
		}
	}
	if len(reasons) > 0 {
		return ActionRenew, strings.Join(reasons, "; ")
	}
	changed, err := identity.Refresh(dir, e.Name, e.Role, step.opts, true)
	if err != nil {
		return ActionRenew, "cannot re-render configs: " + err.Error()
	}
	if len(changed) > 0 {
		return ActionConfig, "cluster changed: " + strings.Join(changed, ", ")
	}
	return ActionKeep, ""
}

func fmtWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := fsx.ReadFileLimit(path, fsx.LimitPEM)
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// desiredSubject is the Java-printed subject the entity would get.
func (plan *Plan) desiredSubject(e Entity) string {
	dn := e.Subject
	if dn == "" {
		subj := pki.SubjectDefaults{}
		if plan.pki != nil {
			subj = plan.pki.Settings.Subject
		} else {
			ca := plan.spec.CA
			subj = pki.SubjectDefaults{OrganizationalUnit: ca.OU, Organization: ca.Org, Locality: ca.Locality, State: ca.State, Country: ca.Country}
		}
		dn = subj.DN(e.Name)
	}
	der, err := principal.ParseDN(dn)
	if err != nil {
		return ""
	}
	name, err := principal.JavaName(der)
	if err != nil {
		return ""
	}
	return name
}

func sanDiff(rec pki.Record, want pki.SANs) string {
	have := append(prefixed("DNS:", rec.DNS), prefixed("IP:", rec.IPs)...)
	need := append(prefixed("DNS:", want.DNS), prefixed("IP:", want.IPStrings())...)
	var diff []string
	for _, n := range need {
		if !slices.Contains(have, n) {
			diff = append(diff, "+"+n)
		}
	}
	for _, h := range have {
		if !slices.Contains(need, h) {
			diff = append(diff, "-"+h)
		}
	}
	return strings.Join(diff, " ")
}

func prefixed(p string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = p + s
	}
	return out
}

// clusterCtx is what every entity's configs need to know about the rest
// of the cluster.
type clusterCtx struct {
	identity.Config
	principals map[string]string
	// saslBootstrap lists the brokers' SASL_SSL listeners (SASL clients'
	// bootstrap.servers).
	saslBootstrap string
}

func (plan *Plan) clusterContext(entities []Entity) (clusterCtx, error) {
	c := clusterCtx{Config: identity.Config{Mode: plan.Mode}, principals: map[string]string{}}
	var bootstrap, zk, saslBootstrap []string
	for _, e := range entities {
		subject := plan.desiredSubject(e)
		if subject == "" {
			return c, fmt.Errorf("%s %q: invalid subject", e.Role, e.Name)
		}
		c.principals[e.Name] = sasl.Principal(e.Auth, e.Name, principal.User(subject))
		host := e.Advertised
		rs := e.Role.Spec()
		if rs.SuperUser {
			c.SuperUsers = append(c.SuperUsers, c.principals[e.Name])
		}
		if rs.Bootstrap {
			bootstrap = append(bootstrap, hostPort(host, e.Port))
			saslBootstrap = append(saslBootstrap, hostPort(host, plan.spec.SASL.port()))
		}
		if rs.ZooKeeperConnect {
			zk = append(zk, hostPort(host, e.Port))
		}
	}
	c.Bootstrap = strings.Join(bootstrap, ",")
	c.saslBootstrap = strings.Join(saslBootstrap, ",")
	c.ZooKeeperConnect = strings.Join(zk, ",")
	return c, nil
}

// hostPort joins a host and a port as Kafka reads them (an IPv6 address
// in brackets).
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// fileDiffers reports whether path is missing or holds other bytes.
func fileDiffers(path string, data []byte) bool {
	old, err := fsx.ReadFileLimit(path, fsx.LimitStore)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return true
	}
	return string(old) != string(data)
}

// sameSigner refuses a spec whose ca.engine names another engine than the
// one that signs for the directory, or one where the directory has a
// local CA: the spec would be applied with a CA it does not describe.
func sameSigner(p *pki.PKI, ca CASpec) error {
	want := ca.EngineSettings()
	if want == nil {
		return nil // a spec without ca.engine applies to either
	}
	has := p.Settings.Engine
	if has == nil {
		return fmt.Errorf("ca.engine %s: the PKI directory %s has a local CA", want.Type, p.Dir)
	}
	if want.Type != has.Type || want.Mount != "" && want.Mount != has.Mount || want.Role != "" && want.Role != has.Role ||
		want.Provisioner != "" && want.Provisioner != has.Provisioner || want.Address != "" && want.Address != has.Address {
		return fmt.Errorf("ca.engine %s: the PKI directory %s is signed by engine %s", *want, p.Dir, *has)
	}
	return nil
}
