package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/engine"
	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

// engines is how every command reaches the engine of an engine-signed PKI
// directory: the token from --vault-token-file, else VAULT_TOKEN.
func (g *globals) engines() pki.EngineOpener {
	return engine.Opener(engine.Credentials{TokenFile: g.vaultTokenFile})
}

// engineInit are init's engine flags.
type engineInit struct {
	engine, addr, mount, role string
	setup                     bool
}

func (e *engineInit) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&e.engine, "engine", "", "have a shared CA engine sign instead of a local CA: vault (Vault or OpenBao PKI)")
	f.StringVar(&e.addr, "vault-addr", "", "engine address (default VAULT_ADDR); VAULT_CACERT and VAULT_NAMESPACE are read as the vault CLI does")
	f.StringVar(&e.mount, "vault-mount", vault.DefaultMount, "PKI secrets engine mount")
	f.StringVar(&e.role, "vault-role", vault.DefaultRole, "PKI role that signs")
	f.BoolVar(&e.setup, "setup", false, "with --engine: enable the mount, create a root CA if it has none, write the role (needs a token allowed to)")
}

// run is init --engine: check (or set up) the role, fetch the engine's
// chain, and make the PKI directory name the engine.
func (e *engineInit) run(cmd *cobra.Command, g *globals, o pki.InitOptions) error {
	if e.engine != "vault" {
		return usageErr("--engine %q: the engines are %s", e.engine, strings.Join(engine.Types, ", "))
	}
	for _, f := range []string{"import-ca", "import-key", "ca-passphrase-file", "days", "key-size"} {
		if fl := cmd.Flags().Lookup(f); fl != nil && fl.Changed {
			return usageErr("--%s does not apply with --engine: the engine holds the CA", f)
		}
	}
	s := pki.EngineSettings{Type: e.engine, Address: e.addr, Mount: strings.Trim(e.mount, "/"), Role: e.role}
	cfg, err := engine.VaultConfig(s, engine.Credentials{TokenFile: g.vaultTokenFile})
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
	chain, err := engine.Open(ctx, s, engine.Credentials{TokenFile: g.vaultTokenFile})
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
		warnReplaced(g, r)
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
		fmt.Fprintf(w, "The token is never stored: each run reads VAULT_TOKEN or --vault-token-file.\n")
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
