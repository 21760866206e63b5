package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/engine"
	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

// credentials say where this run finds the engine's credential: the token
// from --vault-token-file (else VAULT_TOKEN), the step-ca password from
// --provisioner-password-file (else STEP_PROVISIONER_PASSWORD_FILE); the
// directory's trust anchor authenticates step-ca when the root file
// named at init is gone.
func (g *globals) credentials() engine.Credentials {
	return engine.Credentials{TokenFile: g.vaultTokenFile, PasswordFile: g.stepPasswordFile, TrustFile: filepath.Join(g.dir, pki.TrustFile)}
}

// engines is how every command reaches the engine of an engine-signed PKI
// directory.
func (g *globals) engines() pki.EngineOpener {
	return engine.Opener(g.credentials())
}

// engineInit are init's engine flags.
type engineInit struct {
	engine, addr, mount, role  string
	setup                      bool
	caURL, caRoot, provisioner string
}

var (
	vaultInitFlags  = []string{"setup", "vault-addr", "vault-mount", "vault-role"}
	stepCAInitFlags = []string{"ca-url", "ca-root", "provisioner"}
)

func (e *engineInit) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&e.engine, "engine", "", "have a shared CA engine sign instead of a local CA: vault (Vault or OpenBao PKI) or step-ca")
	f.StringVar(&e.addr, "vault-addr", "", "engine address (default VAULT_ADDR); VAULT_CACERT and VAULT_NAMESPACE are read as the vault CLI does")
	f.StringVar(&e.mount, "vault-mount", vault.DefaultMount, "PKI secrets engine mount")
	f.StringVar(&e.role, "vault-role", vault.DefaultRole, "PKI role that signs")
	f.BoolVar(&e.setup, "setup", false, "with --engine vault: enable the mount, create a root CA if it has none, write the role (needs a token allowed to)")
	f.StringVar(&e.caURL, "ca-url", "", "with --engine step-ca: step-ca's URL, https://HOST:PORT (default STEP_CA_URL)")
	f.StringVar(&e.caRoot, "ca-root", "", "with --engine step-ca: step-ca's root certificate file (default STEP_ROOT)")
	f.StringVar(&e.provisioner, "provisioner", "", "with --engine step-ca: the JWK provisioner that signs (default STEP_PROVISIONER, else kafka); its password comes from --provisioner-password-file")
}

// checkFlags refuses the flags of another engine (or of none).
func (e *engineInit) checkFlags(cmd *cobra.Command) error {
	for _, set := range []struct {
		engine string
		flags  []string
	}{{engine.TypeVault, vaultInitFlags}, {engine.TypeStepCA, stepCAInitFlags}} {
		if e.engine == set.engine {
			continue
		}
		for _, f := range set.flags {
			if cmd.Flags().Changed(f) {
				return usageErr("--%s needs --engine %s", f, set.engine)
			}
		}
	}
	return nil
}

// run is init --engine: check (or set up) the role, fetch the engine's
// chain, and make the PKI directory name the engine.
func (e *engineInit) run(cmd *cobra.Command, g *globals, o pki.InitOptions) error {
	if e.engine != engine.TypeVault && e.engine != engine.TypeStepCA {
		return usageErr("--engine %q: the engines are %s", e.engine, strings.Join(engine.Types, ", "))
	}
	if err := e.checkFlags(cmd); err != nil {
		return err
	}
	for _, f := range []string{"import-ca", "import-key", "ca-passphrase-file", "days", "key-size"} {
		if fl := cmd.Flags().Lookup(f); fl != nil && fl.Changed {
			return usageErr("--%s does not apply with --engine: the engine holds the CA", f)
		}
	}
	if e.engine == engine.TypeStepCA {
		return e.runStepCA(cmd, g, o)
	}
	s := pki.EngineSettings{Type: e.engine, Address: e.addr, Mount: strings.Trim(e.mount, "/"), Role: e.role}
	cfg, err := engine.VaultConfig(s, g.credentials())
	if err != nil {
		return err
	}
	s.Address = cfg.Address // saved: later runs need only the token
	cl, err := vault.New(cfg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	so := vault.SetupOptions{RootCN: o.CN, LeafDays: o.LeafDays, Subject: o.Subject}
	var did []string
	if e.setup {
		if did, err = cl.Setup(ctx, so); err != nil {
			return err
		}
		for _, d := range did {
			fmt.Fprintf(g.stderr, "engine: %s\n", d)
		}
	} else if role, err := cl.ReadRole(ctx); err != nil {
		var ee *vault.EngineError
		if errors.As(err, &ee) && ee.Status == 404 || errors.As(err, &ee) && ee.Status == 400 {
			return fmt.Errorf("%w; an operator sets it up with:\n  %s\n(or run init again with --setup and a token allowed to)", err,
				strings.Join(setupCommands(cmd, cl, so), "\n  "))
		}
		if !errors.Is(err, vault.ErrPermissionDenied) { // a token that may sign but not read the role is fine
			return err
		}
	} else if problems := engine.RoleProblems(role, o.Key, o.Subject); len(problems) > 0 {
		cfg := cl.Config()
		return fmt.Errorf("engine role %s/roles/%s cannot issue what Kafka needs: %s; an operator sets it up with:\n  %s\n(or run init again with --setup and a token allowed to)",
			cfg.Mount, cfg.Role, strings.Join(problems, "; "), strings.Join(setupCommands(cmd, cl, so), "\n  "))
	}
	return initEngineDir(cmd, g, o, s, did, "The token is never stored: each run reads VAULT_TOKEN or --vault-token-file.")
}

// runStepCA is init --engine step-ca: check the provisioner (it exists,
// the password decrypts its key, its template keeps the CSR's subject and
// SANs, its maximum duration covers --leaf-days), fetch step-ca's chain,
// and make the PKI directory name it.
func (e *engineInit) runStepCA(cmd *cobra.Command, g *globals, o pki.InitOptions) error {
	url, root, prov := e.caURL, e.caRoot, e.provisioner
	if url == "" {
		url = os.Getenv(stepca.EnvCAURL)
	}
	if root == "" {
		root = os.Getenv(stepca.EnvRoot)
	}
	if prov == "" {
		prov = os.Getenv(stepca.EnvProvisioner)
	}
	if prov == "" {
		prov = stepca.DefaultProvisioner
	}
	switch {
	case url == "":
		return usageErr("--engine step-ca needs --ca-url https://HOST:PORT (or %s)", stepca.EnvCAURL)
	case root == "":
		return usageErr("--engine step-ca needs --ca-root FILE, step-ca's root certificate (`step ca root FILE` writes it; or %s)", stepca.EnvRoot)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("--ca-root: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("--ca-root: %w", err)
	}
	s := pki.EngineSettings{Type: engine.TypeStepCA, Address: strings.TrimSuffix(url, "/"), Provisioner: prov, Root: abs}
	creds := g.credentials()
	creds.TrustFile = "" // init: only the given root
	cl, err := engine.StepCA(s, creds)
	if err != nil {
		if errors.Is(err, stepca.ErrConfig) && strings.Contains(err.Error(), "URL") {
			return usageErr("--ca-url: %v", err)
		}
		return err
	}
	if err := cl.Preflight(cmd.Context(), o.LeafDays); err != nil {
		// A guess (step-ca does not publish authority.claims) is a
		// warning: each certificate is checked anyway.
		var sure []error
		for _, e := range flatten(err) {
			if me := (*stepca.MismatchError)(nil); errors.As(e, &me) && me.Probable {
				g.warn("%v", e)
				continue
			}
			sure = append(sure, e)
		}
		if len(sure) > 0 {
			return fmt.Errorf("step-ca provisioner %q cannot issue what Kafka needs (docs/engines.md, \"The provisioners Kafka needs\"): %w", prov, errors.Join(sure...))
		}
	}
	return initEngineDir(cmd, g, o, s, nil, "The provisioner password is never stored: each run reads --provisioner-password-file or the file "+stepca.EnvPasswordFile+" names.")
}

// flatten lists the errors errors.Join joined (err itself otherwise).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// initEngineDir fetches the engine's chain and writes the PKI directory
// that names engine s.
func initEngineDir(cmd *cobra.Command, g *globals, o pki.InitOptions, s pki.EngineSettings, did []string, credNote string) error {
	ctx := cmd.Context()
	creds := g.credentials()
	creds.TrustFile = ""
	chain, err := engine.Open(ctx, s, creds)
	if err != nil {
		return err
	}
	o.Engine = &s
	if o.EngineChain, err = chain.Chain(ctx); err != nil {
		return err
	}
	o.Dir = g.dir
	p, err := pki.Init(o)
	if exists := (*pki.ExistingCAError)(nil); errors.As(err, &exists) && exists.Same() {
		subject, _ := principal.JavaName(exists.CA.RawSubject)
		res := map[string]any{"dir": g.dir, "engine": s, "subject": subject, "sha256": pki.Fingerprint(exists.CA), "alreadyInitialised": true, "setup": did}
		return g.emit(res, func(w io.Writer) {
			fmt.Fprintf(w, "%s is already initialised with engine %s and these settings; nothing changed\n  CA        %s\n  sha256    %s\n", g.dir, s, subject, pki.Fingerprint(exists.CA))
		})
	}
	if err != nil {
		return err
	}
	if r := p.Replaced; r != nil {
		warnReplaced(g, r, &s)
	}
	root := p.TrustAnchor()
	subject, _ := principal.JavaName(p.CA.RawSubject)
	res := map[string]any{
		"dir": g.dir, "engine": s, "subject": subject, "notAfter": p.CA.NotAfter.UTC(), "sha256": pki.Fingerprint(p.CA),
		"rootSha256": pki.Fingerprint(root), "trust": filepath.Join(g.dir, pki.TrustFile), "setup": did,
	}
	if did == nil {
		res["setup"] = []string{}
	}
	return g.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "PKI directory %s signs with engine %s\n", g.dir, s)
		fmt.Fprintf(w, "  CA        %s\n  expires   %s\n  sha256    %s\n  trust     %s (the engine's root, sha256 %s)\n",
			subject, p.CA.NotAfter.UTC().Format(time.DateOnly), pki.Fingerprint(p.CA), filepath.Join(g.dir, pki.TrustFile), pki.Fingerprint(root))
		fmt.Fprintln(w, credNote)
		fmt.Fprintf(w, "Next: kafkatls issue kafka-1 --role broker && kafkatls issue client1\n")
	})
}

// setupCommands are the bao commands that set the mount and role up,
// without enabling the mount and making a root when it already has a CA.
func setupCommands(cmd *cobra.Command, cl *vault.Client, so vault.SetupOptions) []string {
	all := vault.SetupCommands(cl.Config(), so, "bao")
	if chain, err := cl.CAChain(cmd.Context()); err == nil && len(chain) > 0 {
		return all[len(all)-1:] // the role
	}
	return all
}
