package bundle

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
)

// Preview is what the PKI directory holds for the spec once a run has
// applied it: every identity with its principal, SANs and files, the
// bootstrap servers and super users the configs carry, and the
// bundle-level files. It is computed from the spec while planning, before
// anything is written, and is the one list `bundle --dry-run`, SUMMARY.md
// and the wizard show: none of them keeps a file list of its own.
type Preview struct {
	// Bootstrap is the bootstrap.servers of every client config.
	Bootstrap  string   `json:"bootstrap,omitempty"`
	SuperUsers []string `json:"superUsers,omitempty"`
	// Identities are the spec's identities, in spec order (orphans are
	// the plan's business, not the bundle's).
	Identities []IdentityPreview `json:"identities"`
	// Files are the bundle-level files, relative to the PKI directory:
	// the CA's, the index, the bundle truststores, acls.sh,
	// super-users.properties, SUMMARY.md and any k8s Secrets.
	Files []string `json:"files"`
	// SpecFile is the name, in the PKI directory, under which the flag
	// form of bundle and the wizard save the spec (a run from -f does not
	// copy its spec there).
	SpecFile string `json:"specFile"`
}

// IdentityPreview is one identity of a Preview.
type IdentityPreview struct {
	Name      string   `json:"name"`
	Role      pki.Role `json:"role"`
	Principal string   `json:"principal"`
	SANs      string   `json:"sans,omitempty"`
	// Advertised is the host:port clients and peers dial (servers only).
	Advertised string `json:"advertised,omitempty"`
	// Dir is the identity's directory relative to the PKI directory, and
	// Files the names in it.
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
}

// preview computes the Preview of the plan's spec; steps are the spec's
// identities as planned (their configs' options included).
func (plan *Plan) preview(o Options, ctx clusterCtx, steps []Step) (*Preview, error) {
	pv := &Preview{Bootstrap: ctx.Bootstrap, SuperUsers: ctx.SuperUsers, SpecFile: SpecFile, Identities: []IdentityPreview{}}
	for _, s := range steps {
		e := s.entity
		files, err := identity.Files(e.Name, e.Role, s.Principal, s.opts)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", e.Role, e.Name, err)
		}
		ip := IdentityPreview{Name: e.Name, Role: e.Role, Principal: s.Principal, SANs: s.SANs,
			Dir: filepath.ToSlash(filepath.Join(pki.CertsDir, e.Name)), Files: files}
		if e.Role.Spec().Port != 0 { // a listener of kafkatls' making: a cluster member's, a Connect worker's REST
			ip.Advertised = hostPort(e.Advertised, e.Port)
		}
		pv.Identities = append(pv.Identities, ip)
	}
	pv.Files = []string{pki.CACertFile, pki.TrustFile, pki.SettingsFile, pki.IndexFile,
		TruststoreJKS, TruststoreP12, TruststorePassword, SummaryFile}
	if !plan.engineSigned() { // an engine's CA key stays in the engine
		pv.Files = append(pv.Files, pki.CAKeyFile)
	}
	if plan.caChain() || plan.pki == nil && plan.engineSigned() && len(o.EngineChain) > 1 {
		pv.Files = append(pv.Files, pki.CAChainFile)
	}
	if len(ctx.SuperUsers) > 0 {
		pv.Files = append(pv.Files, SuperUsersFile)
	}
	if plan.hasGrants() {
		pv.Files = append(pv.Files, ACLScript)
	}
	if plan.scramScript(ctx) != nil {
		pv.Files = append(pv.Files, ScramScript)
	}
	if plan.CreateIssuer {
		for _, f := range []string{sasl.SigningKeyFile, sasl.JWKSFile, sasl.IssuerFile} {
			pv.Files = append(pv.Files, filepath.ToSlash(filepath.Join(sasl.OAuthDir, f)))
		}
	}
	if slices.Contains(o.Export, "k8s") {
		for _, e := range plan.spec.Entities() {
			pv.Files = append(pv.Files, filepath.ToSlash(k8sFile(e.Name)))
		}
	}
	slices.Sort(pv.Files)
	return pv, nil
}

// engineSigned reports whether an engine signs: the directory's settings
// name one, or the spec's ca.engine for a CA this run creates.
func (plan *Plan) engineSigned() bool {
	if plan.pki != nil {
		return plan.pki.External()
	}
	return plan.spec.CA.Engine != ""
}

// caChain reports whether the CA directory holds the issuers above an
// imported intermediate CA.
func (plan *Plan) caChain() bool {
	if plan.pki != nil {
		return len(plan.pki.Parents) > 0
	}
	if plan.spec.CA.ImportCert == "" {
		return false
	}
	b, err := fsx.ReadFileLimit(plan.spec.CA.ImportCert, fsx.LimitPEM)
	if err != nil {
		return false // the run fails on it
	}
	certs, err := pem.DecodeCerts(b)
	return err == nil && len(certs) > 1
}

// hasGrants reports whether any client of the spec has a grant: then the
// bundle has an acls.sh.
func (plan *Plan) hasGrants() bool {
	for _, e := range plan.spec.Entities() {
		if len(e.Grants) > 0 {
			return true
		}
	}
	return false
}

// k8sFile is the Secret manifest of identity name, relative to the PKI
// directory.
func k8sFile(name string) string { return filepath.Join(K8sDir, name+".yaml") }

// engineChainTimeout bounds NewEngineChain's request.
const engineChainTimeout = 15 * time.Second

// NewEngineChain reads the CA chain of the engine spec names for a
// directory that holds no CA yet: what a run copies in, which a dry run
// needs in Options.EngineChain for its preview to list ca/chain.pem when
// the engine signs with an intermediate. It is a read-only call to the
// engine. Nil, nil when the spec names no engine or dir already holds a
// CA (its own files say whether there is a chain).
func NewEngineChain(ctx context.Context, dir string, spec *Spec, open pki.EngineOpener) ([]*x509.Certificate, error) {
	es := spec.CA.EngineSettings()
	if es == nil || open == nil {
		return nil, nil
	}
	if _, err := pki.Open(dir, nil); !errors.Is(err, pki.ErrNoCA) {
		return nil, nil // a CA (or one the run will report on): not a new directory
	}
	e, err := open(ctx, *es)
	if err != nil {
		return nil, fmt.Errorf("engine %s: %w", es, err)
	}
	ctx, cancel := context.WithTimeout(ctx, engineChainTimeout)
	defer cancel()
	chain, err := e.Chain(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine %s: reading its CA chain: %w", es, err)
	}
	return chain, nil
}
