package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/lifecycle"
	"github.com/kafkatls/kafkatls/pki"
)

func init() { extraCommands = append(extraCommands, newCACmd) }

func newCACmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "ca",
		Short: "Manage the CA: staged rotation",
		Example: `  kafkatls ca rotate status
  kafkatls ca rotate start
  kafkatls ca rotate reissue
  kafkatls ca rotate finish`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	r := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the CA without downtime: start, reissue, finish",
		Long: `A CA rotation that never leaves a broker or client untrusted:

  kafkatls ca rotate start     new CA (the old one kept in ca/previous/); every
                               truststore, DIR/ca.crt and the bundle truststores
                               trust BOTH CAs. Deploy the truststores to every
                               broker, controller, ZooKeeper node and client,
                               and reload or restart them.
  kafkatls ca rotate reissue   every certificate re-issued from the new CA (same
                               keys, passwords, paths and configs). Deploy the
                               keystores and reload or restart.
  kafkatls ca rotate finish    the old CA dropped from every truststore. Deploy
                               and reload once more.
  kafkatls ca rotate status    where the rotation stands.

Each step prints the kafka-configs commands that make brokers reload their
stores without a restart (KIP-226: setting a listener's store location again,
even to the same path, reloads the changed file). KRaft controllers, Java
clients and ZooKeeper load stores at startup: restart them one at a time.
The CA key stays encrypted with the same passphrase (--ca-passphrase-file or
KAFKATLS_CA_PASSPHRASE).`,
		Example: `  kafkatls ca rotate start --bootstrap kafka-1:9093 --command-config admin.properties
  # roll out and reload the truststores (both CAs), then:
  kafkatls ca rotate reissue
  # roll out and reload the keystores (new CA), then:
  kafkatls ca rotate finish
  kafkatls ca rotate status --json`,
		Args: exactArgs(0, "a subcommand: start, reissue, finish or status"),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	r.AddCommand(newRotateStartCmd(g), newRotateReissueCmd(g), newRotateFinishCmd(g), newRotateStatusCmd(g))
	c.AddCommand(r)
	return c
}

func newRotateStartCmd(g *globals) *cobra.Command {
	var (
		o                   lifecycle.StartOptions
		keyType             string
		importCA, importKey string
		pass                caPassphrase
		rf                  reloadFlags
	)
	c := &cobra.Command{
		Use:   "start",
		Short: "Create the new CA and make every truststore trust the old and the new CA",
		Example: `  kafkatls ca rotate start
  kafkatls ca rotate start --cn "Acme Kafka CA 2027" --bootstrap kafka-1:9093 --command-config admin.properties --node-id kafka-1=1`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyType != "" {
				k, err := pki.KeySpec{Type: pki.KeyType(keyType), Size: o.Key.Size}.Normalize()
				if err != nil {
					return usageErr("--key-type/--key-size: %v", err)
				}
				o.Key = k
			} else if o.Key.Size != 0 {
				return usageErr("--key-size goes with --key-type")
			}
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			if (importCA == "") != (importKey == "") {
				return usageErr("--import-ca and --import-key go together: give both")
			}
			var err error
			if importCA != "" {
				if o.ImportCert, err = fsx.ReadFileLimit(importCA, fsx.LimitPEM); err != nil {
					return fmt.Errorf("--import-ca: %w", err)
				}
				if o.ImportKey, err = fsx.ReadFileLimit(importKey, fsx.LimitPEM); err != nil {
					return fmt.Errorf("--import-key: %w", err)
				}
			}
			ro, err := rf.options(true)
			if err != nil {
				return err
			}
			if o.Passphrase, err = pass.get(); err != nil {
				return err
			}
			var res *lifecycle.StartResult
			var ids []lifecycle.Identity
			if err := pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) error {
				r, err := lifecycle.Start(tx, o)
				if err != nil {
					return err
				}
				res, ids = r, lifecycle.Identities(tx.PKI, tx.Index)
				return nil
			}); err != nil {
				return err
			}
			reloads := lifecycle.ReloadCommands(ids, []string{lifecycle.Truststore}, ro)
			out := map[string]any{"start": res, "reload": reloads}
			return g.emit(out, func(w io.Writer) {
				if res.Resumed {
					fmt.Fprintf(w, "The rotation to %s was already started: checked that every truststore trusts both CAs.\n", res.New.Subject)
				} else {
					fmt.Fprintf(w, "New CA %s (%s, expires %s, SHA-256 %s).\n", res.New.Subject, res.New.Key, res.New.NotAfter.Format(time.DateOnly), res.New.SHA256)
					fmt.Fprintf(w, "Previous CA %s kept in %s/%s until finish.\n", res.Previous.Subject, g.dir, lifecycle.PreviousDir)
				}
				fmt.Fprintf(w, "Truststores now trust both CAs: %s/ca.crt", g.dir)
				if res.Bundle {
					fmt.Fprint(w, ", bundle truststores")
				}
				if len(res.Updated) > 0 {
					fmt.Fprintf(w, ", %s", strings.Join(res.Updated, ", "))
				}
				fmt.Fprintln(w, ".")
				fmt.Fprintln(w, "\nNext: deploy the truststores everywhere, then reload them:")
				printReloads(w, reloads)
				fmt.Fprintln(w, "\nWhen every process trusts both CAs: kafkatls ca rotate reissue")
			})
		},
	}
	f := c.Flags()
	f.StringVar(&o.CN, "cn", "", `new CA common name (default: the current one + " G2", " G3", ...)`)
	f.IntVar(&o.Days, "days", 0, "new CA validity in days (default 3650)")
	f.StringVar(&keyType, "key-type", "", "new CA key type: rsa or ecdsa (default: the PKI's)")
	f.IntVar(&o.Key.Size, "key-size", 0, "new CA key size (with --key-type)")
	f.StringVar(&importCA, "import-ca", "", "adopt this CA certificate (PEM) as the new CA instead of creating one")
	f.StringVar(&importKey, "import-key", "", "the private key of --import-ca (PEM)")
	pass.register(c)
	rf.register(c, true)
	return c
}

func newRotateReissueCmd(g *globals) *cobra.Command {
	var (
		o    lifecycle.RenewOptions
		pass caPassphrase
		rf   reloadFlags
	)
	c := &cobra.Command{
		Use:   "reissue",
		Short: "Re-issue every certificate from the new CA (keystores then chain to it)",
		Long: `reissue re-issues every identity still signed by the previous CA from the
new one: same subject, SANs, key (unless --rekey), password, paths and
configs; truststores keep trusting both CAs. It can be run again after an
interruption: identities already on the new CA are skipped.`,
		Example: `  kafkatls ca rotate reissue
  kafkatls ca rotate reissue --rekey --bootstrap kafka-1:9093 --command-config admin.properties`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			ro, err := rf.options(true)
			if err != nil {
				return err
			}
			var done []*identity.Result
			var ids []lifecycle.Identity
			if err := pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) (err error) {
				done, err = lifecycle.Reissue(tx, o)
				if err != nil {
					return err
				}
				for _, id := range lifecycle.Identities(tx.PKI, tx.Index) {
					for _, d := range done {
						if d.Name == id.Name {
							ids = append(ids, id)
						}
					}
				}
				return nil
			}); err != nil {
				return err
			}
			reloads := lifecycle.ReloadCommands(ids, []string{lifecycle.Keystore}, ro)
			out := map[string]any{"reissued": done, "reload": reloads}
			return g.emit(out, func(w io.Writer) {
				if len(done) == 0 {
					fmt.Fprintln(w, "Every identity is already signed by the new CA.")
				}
				for _, d := range done {
					fmt.Fprintf(w, "Re-issued %s %s: serial %s, expires %s\n", d.Role, d.Name, d.Serial, d.NotAfter.Format(time.DateOnly))
				}
				if len(ids) > 0 {
					fmt.Fprintln(w, "\nNext: deploy the keystores everywhere, then reload them:")
					printReloads(w, reloads)
				}
				fmt.Fprintln(w, "\nWhen every process presents its new certificate: kafkatls ca rotate finish")
			})
		},
	}
	c.Flags().BoolVar(&o.Rekey, "rekey", false, "generate new keys too")
	c.Flags().IntVar(&o.Days, "days", 0, "validity in days (default: the PKI's leaf default)")
	pass.register(c)
	rf.register(c, true)
	return c
}

func newRotateFinishCmd(g *globals) *cobra.Command {
	var (
		force bool
		rf    reloadFlags
	)
	c := &cobra.Command{
		Use:   "finish",
		Short: "Drop the previous CA from every truststore",
		Long: `finish rewrites every truststore, DIR/ca.crt and the bundle truststores to
trust only the new CA, and moves the previous CA to ca/retired-<time>/. It
refuses while an identity is still signed by the previous CA (--force drops
them anyway).`,
		Example: `  kafkatls ca rotate finish
  kafkatls ca rotate finish --bootstrap kafka-1:9093 --command-config admin.properties`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ro, err := rf.options(false)
			if err != nil {
				return err
			}
			var pass caPassphrase
			var res *lifecycle.FinishResult
			var ids []lifecycle.Identity
			if err := pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) (err error) {
				if res, err = lifecycle.Finish(tx, force); err != nil {
					return err
				}
				ids = lifecycle.Identities(tx.PKI, tx.Index)
				return nil
			}); err != nil {
				return err
			}
			reloads := lifecycle.ReloadCommands(ids, []string{lifecycle.Truststore}, ro)
			out := map[string]any{"finish": res, "reload": reloads}
			return g.emit(out, func(w io.Writer) {
				fmt.Fprintf(w, "Truststores now trust only %s; %s moved to %s.\n", res.CA.Subject, res.Dropped.Subject, res.Retired)
				if len(res.Stragglers) > 0 {
					fmt.Fprintf(w, "Still signed by the dropped CA (now untrusted): %s\n", strings.Join(res.Stragglers, ", "))
				}
				fmt.Fprintln(w, "\nNext: deploy the truststores everywhere, then reload them:")
				printReloads(w, reloads)
			})
		},
	}
	c.Flags().BoolVar(&force, "force", false, "finish even if identities are still signed by the previous CA")
	rf.register(c, true)
	return c
}

func newRotateStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show where a CA rotation stands",
		Example: `  kafkatls ca rotate status
  kafkatls ca rotate status --json`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, idx, err := openIndex(g)
			if err != nil {
				return err
			}
			s := lifecycle.GetStatus(p, idx)
			return g.emit(s, func(w io.Writer) {
				fmt.Fprintf(w, "phase      %s\n", s.Phase)
				fmt.Fprintf(w, "CA         %s (expires %s)\n", s.CA.Subject, s.CA.NotAfter.Format(time.DateOnly))
				if s.Previous != nil {
					fmt.Fprintf(w, "previous   %s (expires %s)\n", s.Previous.Subject, s.Previous.NotAfter.Format(time.DateOnly))
				}
				if s.Phase != "none" {
					fmt.Fprintf(w, "identities %d, still on the previous CA: %d", len(s.Identities), len(s.Pending))
					if len(s.Pending) > 0 {
						fmt.Fprintf(w, " (%s)", strings.Join(s.Pending, ", "))
					}
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "next       %s\n", s.Next)
			})
		},
	}
}
