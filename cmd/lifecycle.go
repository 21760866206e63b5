package cmd

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/lifecycle"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

func init() {
	extraCommands = append(extraCommands, newListCmd, newExpiringCmd, newRenewCmd, newRevokeCmd)
}

// reloadFlags say how printed kafka-configs / kafka-acls commands reach the
// cluster.
type reloadFlags struct {
	bootstrap, commandConfig string
	nodeIDs                  []string
}

func (r *reloadFlags) register(c *cobra.Command, nodeIDs bool) {
	c.Flags().StringVar(&r.bootstrap, "bootstrap", "", `broker HOST:PORT for the printed commands (default "$BOOTSTRAP")`)
	c.Flags().StringVar(&r.commandConfig, "command-config", "", `admin client.properties (a super user's) for the printed commands (default "$ADMIN_CONFIG")`)
	if nodeIDs {
		c.Flags().StringSliceVar(&r.nodeIDs, "node-id", nil, "NAME=ID: a broker's node.id for the printed kafka-configs commands (repeatable)")
	}
}

func (r *reloadFlags) options(rotation bool) (lifecycle.ReloadOptions, error) {
	o := lifecycle.ReloadOptions{Bootstrap: r.bootstrap, CommandConfig: r.commandConfig, NodeIDs: map[string]string{}, Rotation: rotation}
	for _, kv := range pki.SplitList(r.nodeIDs) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return o, usageErr("--node-id %q: want NAME=ID, e.g. kafka-1=1", kv)
		}
		o.NodeIDs[k] = v
	}
	return o, nil
}

func (r *reloadFlags) target() kafkaacl.Target {
	t := kafkaacl.Target{Bootstrap: `"$BOOTSTRAP"`, CommandConfig: `"$ADMIN_CONFIG"`}
	if r.bootstrap != "" {
		t.Bootstrap = kafkaacl.ShellQuote(r.bootstrap)
	}
	if r.commandConfig != "" {
		t.CommandConfig = kafkaacl.ShellQuote(r.commandConfig)
	}
	return t
}

func printReloads(w io.Writer, rs []lifecycle.Reload) {
	for _, r := range rs {
		fmt.Fprintf(w, "# %s (%s)\n", r.Name, r.Role)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "#   %s\n", n)
		}
		for _, c := range r.Commands {
			fmt.Fprintln(w, c)
		}
	}
}

// openIndex opens the PKI directory and its index read-only.
func openIndex(g *globals) (*pki.PKI, *pki.Index, error) {
	p, err := pki.Open(g.dir, nil)
	if err != nil {
		return nil, nil, err
	}
	idx, err := pki.LoadIndex(p.Dir)
	if err != nil {
		return nil, nil, err
	}
	return p, idx, nil
}

func newListCmd(g *globals) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the certificates of the PKI directory: name, role, serial, expiry, status",
		Long: `list prints the inventory kept in DIR/index.json: each identity's current
certificate, revoked ones, and unplaced ones (signed by a run that died or
failed before placing them: revoke them with kafkatls revoke NAME --serial). --all adds superseded (renewed) and removed
(pruned) certificates.`,
		Example: `  kafkatls list
  kafkatls list --all --json`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, idx, err := openIndex(g)
			if err != nil {
				return err
			}
			recs := []pki.Record{}
			for _, r := range idx.Records {
				if all || r.Status != pki.StatusSuperseded && r.Status != pki.StatusRemoved {
					recs = append(recs, r)
				}
			}
			sort.SliceStable(recs, func(i, j int) bool {
				if recs[i].Name != recs[j].Name {
					return recs[i].Name < recs[j].Name
				}
				return recs[i].IssuedAt.Before(recs[j].IssuedAt)
			})
			return g.emit(recs, func(w io.Writer) {
				subject, _ := principal.JavaName(p.CA.RawSubject)
				fmt.Fprintf(w, "CA %s, expires %s%s\n", subject, p.CA.NotAfter.UTC().Format(time.DateOnly), rotationNote(p.Dir))
				if len(recs) == 0 {
					fmt.Fprintln(w, "No certificates issued yet (kafkatls issue NAME).")
					return
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSERIAL\tNOT AFTER\tSTATUS")
				for _, r := range recs {
					status := r.Status
					if r.Status == pki.StatusRevoked && !r.RevokedAt.IsZero() {
						status += " " + r.RevokedAt.Format(time.DateOnly)
					} else if r.Status == pki.StatusValid && time.Now().After(r.NotAfter) {
						status = "expired"
					}
					notAfter := "-" // a pending or unplaced record: never read back from a certificate
					if !r.NotAfter.IsZero() {
						notAfter = r.NotAfter.Format(time.DateOnly)
					}
					serial := r.Serial
					if r.EngineKey != "" && (r.Status == pki.StatusPending || r.Status == pki.StatusUnplaced) {
						// Sent to the engine, never placed: the engine has it
						// (by serial, or, if it never answered, by this key).
						status += " (engine)"
						if serial == "" {
							serial = "key:" + r.EngineKey[:16]
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Role, serial, notAfter, status)
				}
				tw.Flush()
			})
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also list superseded and removed certificates")
	return c
}

func rotationNote(dir string) string {
	if lifecycle.InProgress(dir) {
		return " (CA rotation in progress: kafkatls ca rotate status)"
	}
	return ""
}

type expiringItem struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"notAfter"`
	DaysLeft int       `json:"daysLeft"`
	Expired  bool      `json:"expired"`
}

func newExpiringCmd(g *globals) *cobra.Command {
	var within string
	c := &cobra.Command{
		Use:   "expiring",
		Short: "List certificates (and the CA) expiring within a window; exit 3 if any (for cron and CI)",
		Long: `expiring lists the current certificates of the index, and the CA itself
(and the previous CA during a rotation), that expire within --within or have
expired. Exit codes: 0 nothing expiring, 3 something expires (or expired),
1 error, 2 usage.`,
		Example: `  kafkatls expiring
  kafkatls expiring --within 60d --json
  kafkatls expiring --within 2w || mail -s "Kafka certificates expire" ops@example.com`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := bundle.ParseWindow(within)
			if err != nil {
				return usageErr("--within %v", err)
			}
			p, idx, err := openIndex(g)
			if err != nil {
				return err
			}
			now := time.Now()
			items := []expiringItem{}
			check := func(name, role, serial string, notAfter time.Time) {
				if notAfter.Sub(now) < d {
					items = append(items, expiringItem{Name: name, Role: role, Serial: serial, NotAfter: notAfter.UTC(),
						DaysLeft: int(notAfter.Sub(now).Hours() / 24), Expired: now.After(notAfter)})
				}
			}
			check("CA", "ca", pki.SerialHex(p.CA), p.CA.NotAfter)
			if old, err := lifecycle.PreviousCA(p.Dir); err == nil {
				check("previous CA", "ca", pki.SerialHex(old), old.NotAfter)
			}
			seen := map[string]bool{}
			for i := len(idx.Records) - 1; i >= 0; i-- {
				r := idx.Records[i]
				if r.Status != pki.StatusValid || seen[r.Name] {
					continue
				}
				seen[r.Name] = true
				check(r.Name, string(r.Role), r.Serial, r.NotAfter)
			}
			sort.SliceStable(items, func(i, j int) bool { return items[i].NotAfter.Before(items[j].NotAfter) })
			out := map[string]any{"within": within, "expiring": items}
			if err := g.emit(out, func(w io.Writer) {
				if len(items) == 0 {
					fmt.Fprintf(w, "Nothing expires within %s.\n", within)
					return
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tNOT AFTER\tLEFT")
				for _, it := range items {
					left := fmt.Sprintf("%d days", it.DaysLeft)
					if it.Expired {
						left = "EXPIRED"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Name, it.Role, it.NotAfter.Format(time.DateOnly), left)
				}
				tw.Flush()
				fmt.Fprintln(w, "Renew with: kafkatls renew NAME (the CA: kafkatls ca rotate start)")
			}); err != nil {
				return err
			}
			if len(items) > 0 {
				return &exitError{ExitChanges, fmt.Errorf("%d certificate(s) expire within %s", len(items), within)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&within, "within", "30d", "window (e.g. 30d, 2w, 72h)")
	return c
}

func newRenewCmd(g *globals) *cobra.Command {
	var (
		o    lifecycle.RenewOptions
		pass caPassphrase
		rf   reloadFlags
	)
	c := &cobra.Command{
		Use:   "renew NAME",
		Short: "Issue a new certificate for NAME with the same key, subject, SANs, password and configs",
		Long: `renew signs a new certificate for an issued identity with the same subject,
SANs and role, and rewrites its stores in place: same key (unless --rekey),
same password, same store formats and PKCS12 profile, same file paths, and
the configs untouched. The old certificate is marked superseded in the index.
Brokers then reload the keystore without a restart (the printed
kafka-configs commands); clients pick it up on restart.`,
		Example: `  kafkatls renew kafka-1
  kafkatls renew client1 --rekey --days 90
  kafkatls renew kafka-1 --bootstrap kafka-1:9093 --command-config admin.properties --node-id kafka-1=1`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := identity.ValidateName(name); err != nil {
				return usageErr("%v", err)
			}
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			ro, err := rf.options(lifecycle.InProgress(g.dir))
			if err != nil {
				return err
			}
			var res *identity.Result
			if err := pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, func(tx *pki.Tx) (err error) {
				res, err = lifecycle.Renew(tx, name, o)
				return err
			}); err != nil {
				return err
			}
			reloads := lifecycle.ReloadCommands([]lifecycle.Identity{{Name: name, Role: res.Role, Dir: res.Dir}}, []string{lifecycle.Keystore}, ro)
			out := map[string]any{"renewed": res, "reload": reloads}
			return g.emit(out, func(w io.Writer) {
				key := "same key"
				if o.Rekey {
					key = "new key"
				}
				fmt.Fprintf(w, "Renewed %s %s (%s): serial %s, expires %s\n", res.Role, res.Name, key, res.Serial, res.NotAfter.Format(time.DateOnly))
				fmt.Fprintf(w, "  files      %s (configs unchanged)\n", strings.Join(res.Files, " "))
				fmt.Fprintln(w, "Deploy the stores to the same paths, then:")
				printReloads(w, reloads)
			})
		},
	}
	c.Flags().BoolVar(&o.Rekey, "rekey", false, "generate a new key (same type and size) instead of keeping the current one")
	c.Flags().IntVar(&o.Days, "days", 0, "validity in days (default: the PKI's leaf default)")
	pass.register(c)
	rf.register(c, true)
	return c
}

func newRevokeCmd(g *globals) *cobra.Command {
	var (
		serial   string
		specFile string
		crlDays  int
		crlOnly  bool
		pass     caPassphrase
		rf       reloadFlags
	)
	c := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an identity's certificates, write crl.pem, and print what makes Kafka stop trusting it",
		Long: `revoke marks NAME's certificates revoked in the index (the current one and
any superseded one that still verifies; --serial picks one), and writes
DIR/crl.pem: a CRL signed by the CA listing every revoked serial.

Kafka has no setting that loads a CRL file, so revoke also prints what does
stop a revoked certificate:
  1. remove its ACLs (kafka-acls --remove) and any super.users entry: it still
     authenticates, but may do nothing (allow.everyone.if.no.acl.found=false);
  2. rotate the CA (kafkatls ca rotate): the only way to make every broker
     refuse the certificate itself;
  3. JVM-wide CRL checking (-Dcom.sun.net.ssl.checkRevocation=true
     -Dcom.sun.security.enableCRLDP=true) fetches CRLs only from a CRL
     distribution point inside each certificate, which kafkatls certificates
     do not carry: turned on, it fails every handshake instead. librdkafka
     clients can check broker certificates with ssl.crl.location=crl.pem.
--crl (without NAME) only re-signs the CRL, before its next update.`,
		Example: `  kafkatls revoke client1
  kafkatls revoke kafka-2 --serial 5f3a...
  kafkatls revoke --crl --crl-days 30`,
		Args: func(c *cobra.Command, args []string) error {
			if crlOnly {
				return exactArgs(0, "none with --crl")(c, args)
			}
			return exactArgs(1, "NAME")(c, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
				if err := identity.ValidateName(name); err != nil {
					return usageErr("%v", err)
				}
			} else if serial != "" {
				return usageErr("--serial goes with NAME")
			}
			if crlDays < 1 {
				return usageErr("--crl-days %d: must be at least 1", crlDays)
			}
			// A partial revocation at an engine is recorded, then reported
			// as an error naming what failed and how to retry.
			res, err := lifecycle.RevokeUpdate(cmd.Context(), g.dir, pki.UpdateOptions{Passphrase: pass.prompt, Engines: g.engines()}, name, serial, time.Duration(crlDays)*24*time.Hour)
			if err != nil {
				return err
			}
			var principal string
			var removes []string
			var role pki.Role
			if len(res.Revoked) > 0 {
				principal, role = res.Revoked[len(res.Revoked)-1].Principal, res.Revoked[len(res.Revoked)-1].Role
				if removes, err = aclRemovals(g.dir, specFile, name, principal, rf.target()); err != nil {
					return fmt.Errorf("revoked, but --file: %w", err)
				}
			}
			t := rf.target()
			list := ""
			if principal != "" {
				list = strings.Join([]string{"kafka-acls.sh", "--bootstrap-server", t.Bootstrap, "--command-config", t.CommandConfig, "--list", "--principal", kafkaacl.ShellQuote(principal)}, " ")
			}
			out := map[string]any{"revoked": res.Revoked, "crl": res.CRL, "principal": principal, "aclList": list, "aclRemove": removes, "warnings": res.Warnings}
			if res.Warnings == nil {
				out["warnings"] = []string{}
			}
			return g.emit(out, func(w io.Writer) {
				if name == "" {
					fmt.Fprintf(w, "Re-signed %s: CRL number %s, %d revoked serial(s), next update %s.\n", res.CRL.Path, res.CRL.Number, len(res.CRL.Serials), res.CRL.NextUpdate.Format(time.DateOnly))
					return
				}
				var s []string
				for _, r := range res.Revoked {
					s = append(s, r.Serial)
				}
				fmt.Fprintf(w, "Revoked %s (%s): serial %s\n", name, principal, strings.Join(s, ", "))
				crlPath := "DIR/crl.pem"
				if res.CRL != nil {
					crlPath = res.CRL.Path
					fmt.Fprintf(w, "Wrote %s: CRL number %s, %d revoked serial(s), next update %s (re-sign with kafkatls revoke --crl before then).\n\n",
						res.CRL.Path, res.CRL.Number, len(res.CRL.Serials), res.CRL.NextUpdate.Format(time.DateOnly))
				}
				for _, warn := range res.Warnings {
					fmt.Fprintf(w, "Warning: %s\n\n", warn)
				}
				fmt.Fprintln(w, "Kafka does not read CRLs. To make it stop trusting this identity:")
				fmt.Fprintln(w, "1. Remove its ACLs (it still authenticates, but may do nothing when allow.everyone.if.no.acl.found=false):")
				fmt.Fprintln(w, "   "+list)
				if len(removes) > 0 {
					for _, r := range removes {
						fmt.Fprintln(w, "   "+r)
					}
				} else {
					fmt.Fprintln(w, "   then, for each ACL listed, the same kafka-acls.sh command with --remove --force instead of --list")
					fmt.Fprintf(w, "   (or: kafkatls acls %s --remove --topic T ... for the grants you gave it)\n", name)
				}
				if role.Spec().Cluster || role == "" {
					fmt.Fprintln(w, "   If it is in super.users, remove it there on every broker and controller (a static setting: rolling restart).")
				} else {
					fmt.Fprintln(w, "   If it is in super.users, remove it there too (a static setting: rolling restart).")
				}
				fmt.Fprintln(w, "2. Rotate the CA to make every broker refuse the certificate itself: kafkatls ca rotate start, reissue, finish.")
				fmt.Fprintln(w, "3. CRL checking is JVM-wide and needs a CRL distribution point in each certificate, which kafkatls")
				fmt.Fprintln(w, "   certificates do not carry: -Dcom.sun.net.ssl.checkRevocation=true -Dcom.sun.security.enableCRLDP=true")
				fmt.Fprintln(w, "   would fail every handshake (revocation status unknown). Kafka has no ssl.crl setting; librdkafka")
				fmt.Fprintf(w, "   clients can check broker certificates against it with ssl.crl.location=%s.\n", crlPath)
			})
		},
	}
	c.Flags().StringVar(&serial, "serial", "", "revoke only the certificate with this serial (hex, as kafkatls list or openssl prints it)")
	c.Flags().IntVar(&crlDays, "crl-days", pki.DefaultCRLDays, "CRL validity: its nextUpdate, in days")
	c.Flags().BoolVar(&crlOnly, "crl", false, "only re-sign DIR/crl.pem (no NAME)")
	c.Flags().StringVarP(&specFile, "file", "f", "", "bundle spec whose grants to print removals for (default DIR/kafkatls.yaml, else ./kafkatls.yaml)")
	pass.register(c)
	rf.register(c, false)
	return c
}

// aclRemovals turns the grants the bundle spec gives a client into
// kafka-acls --remove commands. The spec is specFile, else DIR/kafkatls.yaml,
// else ./kafkatls.yaml.
func aclRemovals(dir, specFile, name, principal string, t kafkaacl.Target) ([]string, error) {
	path := specFile
	if path == "" {
		for _, p := range []string{filepath.Join(dir, bundle.SpecFile), bundle.SpecFile} {
			if fsx.Exists(p) {
				path = p
				break
			}
		}
	}
	if path == "" {
		return nil, nil
	}
	spec, err := bundle.LoadSpec(path)
	if err != nil {
		if specFile != "" {
			return nil, err
		}
		return nil, nil
	}
	var out []string
	for _, c := range spec.Clients {
		if c.Name != name {
			continue
		}
		for _, gr := range c.Grants {
			for _, line := range kafkaacl.Commands(principal, gr, t) {
				out = append(out, removeCommand(line))
			}
		}
	}
	return out, nil
}

// removeCommand turns a kafka-acls --add command line into --remove.
func removeCommand(line string) string {
	return strings.Replace(line, " --add ", " --remove --force ", 1)
}
