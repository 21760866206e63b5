package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

func newInitCmd(g *globals) *cobra.Command {
	var (
		o                   pki.InitOptions
		keyType             string
		importCA, importKey string
		pass                caPassphrase
		eng                 engineInit
	)
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the CA of a PKI directory (or adopt an existing CA)",
		Long: `init creates a PKI directory with a self-signed root CA (BasicConstraints
CA:TRUE pathlen:0, keyCertSign|cRLSign) and saves subject and key defaults for
the certificates issued from it. The CA key is encrypted at rest when a
passphrase is given (--ca-passphrase-file or KAFKATLS_CA_PASSPHRASE).
CA material (ca/ca.key, ca/ca.crt, the trust file ca.crt, index.json) is never
replaced without --force, even when only part of a CA is left; run again with
the same settings, init says the directory is already initialised. --force
moves the old CA to ca/replaced-<time>/ (nothing is deleted) and names the
identities it orphans; to replace a CA that has identities, use kafkatls ca rotate.`,
		Example: `  kafkatls init
  kafkatls init --cn "Acme Kafka CA" --org Acme --ou Kafka --country GB --key-type ecdsa
  KAFKATLS_CA_PASSPHRASE=... kafkatls init --dir /srv/kafka-pki
  kafkatls init --import-ca corp-intermediate.crt --import-key corp-intermediate.key
  VAULT_TOKEN=... kafkatls init --engine vault --vault-addr https://vault:8200 --vault-mount pki --vault-role kafka --ou kafka --org Acme
  kafkatls init --engine step-ca --ca-url https://ca:9000 --ca-root root_ca.crt --provisioner kafka --provisioner-password-file pw.txt --ou kafka --org Acme`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveDays(cmd, "days", "leaf-days"); err != nil {
				return err
			}
			o.Dir = g.dir
			o.Key.Type = pki.KeyType(keyType)
			if eng.engine != "" {
				if _, err := principal.ParseDN(o.Subject.DN("x")); err != nil {
					return err
				}
				k, err := o.Key.Normalize()
				if err != nil {
					return usageErr("--key-type/--key-size: %v", err)
				}
				o.Key = k
				return eng.run(cmd, g, o)
			}
			if err := eng.checkFlags(cmd); err != nil {
				return err
			}
			p, err := pass.get()
			if err != nil {
				return err
			}
			o.Passphrase = p
			if mode, loose := pass.looseMode(); loose {
				g.warn("the CA passphrase file %s is readable by group or others (mode %04o): chmod 600 %s", pass.file, mode, pass.file)
			}
			if (importCA == "") != (importKey == "") {
				return usageErr("--import-ca and --import-key go together: give both")
			}
			if importCA != "" {
				if o.ImportCert, err = fsx.ReadFileLimit(importCA, fsx.LimitPEM); err != nil {
					return fmt.Errorf("--import-ca: %w", err)
				}
				if o.ImportKey, err = fsx.ReadFileLimit(importKey, fsx.LimitPEM); err != nil {
					return fmt.Errorf("--import-key: %w", err)
				}
			}
			if importCA == "" {
				// The subject flags, checked before anything is created.
				if _, err := principal.ParseDN(o.Subject.DN(o.CN)); err != nil {
					return err
				}
			}
			k, err := o.Key.Normalize()
			if err != nil {
				return usageErr("--key-type/--key-size: %v", err)
			}
			o.Key = k
			ca, err := pki.Init(o)
			if exists := (*pki.ExistingCAError)(nil); errors.As(err, &exists) && exists.Same() {
				// The README's first command, run again: nothing to do.
				subject, _ := principal.JavaName(exists.CA.RawSubject)
				res := map[string]any{"dir": g.dir, "subject": subject, "sha256": pki.Fingerprint(exists.CA), "alreadyInitialised": true}
				return g.emit(res, func(w io.Writer) {
					fmt.Fprintf(w, "%s is already initialised with these settings; nothing changed\n  subject   %s\n  sha256    %s\n", g.dir, subject, pki.Fingerprint(exists.CA))
				})
			}
			if err != nil {
				return err
			}
			if r := ca.Replaced; r != nil {
				warnReplaced(g, r, nil)
			}
			if len(p) == 0 {
				g.warn("the CA key %s is not encrypted (mode 0600); give --ca-passphrase-file or KAFKATLS_CA_PASSPHRASE to encrypt it", filepath.Join(g.dir, pki.CAKeyFile))
			}
			subject, _ := principal.JavaName(ca.CA.RawSubject)
			res := map[string]any{
				"dir": g.dir, "subject": subject, "notAfter": ca.CA.NotAfter.UTC(), "key": pki.KeySpecOf(ca.CA.PublicKey).String(),
				"sha256": pki.Fingerprint(ca.CA), "caCert": filepath.Join(g.dir, pki.CACertFile), "trust": filepath.Join(g.dir, pki.TrustFile),
				"encrypted": len(p) > 0, "imported": importCA != "",
			}
			return g.emit(res, func(w io.Writer) {
				verb := "Created"
				if importCA != "" {
					verb = "Adopted"
				}
				fmt.Fprintf(w, "%s CA in %s\n", verb, g.dir)
				fmt.Fprintf(w, "  subject   %s\n  key       %s%s\n  expires   %s\n  sha256    %s\n  trust     %s\n",
					subject, pki.KeySpecOf(ca.CA.PublicKey), map[bool]string{true: " (encrypted at rest)"}[len(p) > 0],
					ca.CA.NotAfter.UTC().Format(time.DateOnly), pki.Fingerprint(ca.CA), filepath.Join(g.dir, pki.TrustFile))
				fmt.Fprintf(w, "Next: kafkatls issue kafka-1 --role broker && kafkatls issue client1\n")
			})
		},
	}
	f := c.Flags()
	f.StringVar(&o.CN, "cn", "kafkatls CA", "CA common name")
	f.StringVar(&o.Subject.Organization, "org", "", "O= for the CA and issued certificates")
	f.StringVar(&o.Subject.OrganizationalUnit, "ou", "", "OU= for the CA and issued certificates")
	f.StringVar(&o.Subject.Locality, "locality", "", "L= for the CA and issued certificates")
	f.StringVar(&o.Subject.State, "state", "", "ST= for the CA and issued certificates")
	f.StringVar(&o.Subject.Country, "country", "", "C= (two letters) for the CA and issued certificates")
	f.StringVar(&keyType, "key-type", "rsa", "key type for the CA and issued certificates: rsa or ecdsa")
	f.IntVar(&o.Key.Size, "key-size", 0, "key size: rsa 2048|3072|4096 (default 2048), ecdsa 256|384 (default 256)")
	f.IntVar(&o.Days, "days", pki.DefaultCADays, "CA validity in days")
	f.IntVar(&o.LeafDays, "leaf-days", pki.DefaultLeafDays, "default validity of issued certificates in days")
	f.StringVar(&importCA, "import-ca", "", "adopt this CA certificate (PEM; a root or an intermediate followed by its issuers)")
	f.StringVar(&importKey, "import-key", "", "the private key of --import-ca (PEM; encrypted keys use the CA passphrase)")
	f.BoolVar(&o.Force, "force", false, "replace an existing CA (the old one is moved to ca/replaced-*)")
	pass.register(c)
	eng.register(c)
	return c
}

// warnReplaced says on stderr where init --force put the old CA and which
// identities it orphaned, and what replaces a CA without orphaning them:
// `ca rotate` for a local CA; for a directory an engine signs for (before
// or after), where `ca rotate` is refused, the rotation is the engine's and
// each identity is issued again. now is the new directory's engine, nil
// for a local CA.
func warnReplaced(g *globals, r *pki.Replaced, now *pki.EngineSettings) {
	old := "the old CA material"
	if r.CA != nil {
		subject, _ := principal.JavaName(r.CA.RawSubject)
		old = fmt.Sprintf("the old CA (%s, sha256 %s)", subject, pki.Fingerprint(r.CA))
	}
	g.warn("moved %s to %s (%s); nothing was deleted", old, r.Dir, strings.Join(r.Files, ", "))
	n := len(r.Orphaned)
	if n == 0 {
		return
	}
	orphaned := fmt.Sprintf("%d identities signed by the old CA are orphaned (%s): truststores that trust only the new CA refuse them; "+
		"issue each again with `kafkatls issue NAME --force`", n, strings.Join(r.Orphaned, ", "))
	switch {
	case r.Engine != nil:
		g.warn("%s, and deploy its stores. The old directory was signed by engine %s: an engine's CA is rotated at the engine "+
			"(`kafkatls ca rotate` does not apply to a directory an engine signs for)", orphaned, r.Engine)
	case now != nil:
		g.warn("%s (engine %s signs them now), and deploy its stores. `kafkatls ca rotate` rotates a local CA only: "+
			"it cannot move a directory to an engine", orphaned, now)
	default:
		g.warn("%s. To replace a CA that has identities, `kafkatls ca rotate` keeps them working", orphaned)
	}
}
