package cmd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/templates"
)

func init() { extraCommands = append(extraCommands, newBundleCmd) }

func newBundleCmd(g *globals) *cobra.Command {
	var (
		file                                      string
		brokers, controllers, zookeepers, clients []string
		connect                                   []string
		d                                         bundle.Defaults
		dryRun, check, prune                      bool
		export, advertise                         []string
		pass                                      caPassphrase
	)
	c := &cobra.Command{
		Use:   "bundle",
		Short: "Build a whole cluster's PKI from a spec file or a few flags (idempotent, for CI)",
		Long: `bundle creates the CA if needed and every broker, controller, ZooKeeper and
client identity of a cluster, with bundle-level outputs: truststore.jks,
truststore.p12, acls.sh (kafka-acls commands for every grant),
super-users.properties and SUMMARY.md. It prints a plan (create, renew,
config, keep, orphan) and applies it. Re-running the same spec changes no file.
The flag form adds its identities to DIR/kafkatls.yaml (created if missing)
and applies the result; a name it defines differently is refused.
A broker advertises its first host (else its name) unless advertise: or
--advertise NAME=HOST[:PORT] says otherwise; a broker host that does not
resolve on this machine gets one warning line on stderr
(KAFKATLS_NO_RESOLVE=1 skips the lookup).

Exit codes: 0 ok, 1 error, 2 usage, 3 --check found changes.`,
		Example: `  kafkatls bundle --brokers kafka-1,kafka-2,kafka-3 --zookeepers zookeeper --clients client1,client2
  kafkatls bundle --brokers kafka-1 --controllers controller-1 --clients app --formats pem,p12
  kafkatls bundle --brokers kafka-1,kafka-2 --advertise kafka-1=b1.example.com --advertise kafka-2=b2.example.com:9093 --clients app
  kafkatls bundle -f kafkatls.yaml --dry-run
  kafkatls bundle -f kafkatls.yaml --check || echo "secrets need regenerating"
  kafkatls bundle -f kafkatls.yaml --export k8s`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveDays(cmd, "days"); err != nil {
				return err
			}
			flagForm := len(brokers)+len(controllers)+len(zookeepers)+len(clients)+len(connect) > 0
			var spec *bundle.Spec
			switch {
			case file != "" && flagForm:
				return usageErr("give a spec file (-f) or --brokers/--controllers/--zookeepers/--clients, not both")
			case file != "":
				s, err := bundle.LoadSpec(file)
				if err != nil {
					return err
				}
				spec = s
			case flagForm:
				spec = &bundle.Spec{}
				for _, n := range pki.SplitList(brokers) {
					spec.Brokers = append(spec.Brokers, bundle.Node{Name: n})
				}
				for _, n := range pki.SplitList(controllers) {
					spec.Controllers = append(spec.Controllers, bundle.Node{Name: n})
				}
				for _, n := range pki.SplitList(zookeepers) {
					spec.ZooKeepers = append(spec.ZooKeepers, bundle.Node{Name: n})
				}
				for _, n := range pki.SplitList(clients) {
					spec.Clients = append(spec.Clients, bundle.Client{Name: n})
				}
				for _, n := range pki.SplitList(connect) {
					spec.Connect = append(spec.Connect, bundle.Connect{Name: n})
				}
			default:
				if fsx.Exists(filepath.Join(g.dir, bundle.SpecFile)) {
					s, err := bundle.LoadSpec(filepath.Join(g.dir, bundle.SpecFile))
					if err != nil {
						return err
					}
					spec = s
				} else {
					return usageErr("nothing to build: give -f kafkatls.yaml or --brokers/--clients (see `kafkatls bundle --help`)")
				}
			}
			// Flag defaults override the spec's only when given.
			fl := cmd.Flags()
			if fl.Changed("formats") {
				spec.Defaults.Formats = d.Formats
			}
			if fl.Changed("key-type") {
				spec.Defaults.KeyType = d.KeyType
				if spec.CA.KeyType == "" {
					spec.CA.KeyType = d.KeyType // a CA this run creates matches its leaves
				}
			}
			if fl.Changed("days") {
				spec.Defaults.Days = d.Days
			}
			if fl.Changed("mount-path") {
				spec.Defaults.MountPath = d.MountPath
			}
			if fl.Changed("p12-compat") {
				spec.Defaults.P12Compat = d.P12Compat
			}
			if fl.Changed("renew-before") {
				spec.Defaults.RenewBefore = d.RenewBefore
			}
			if err := applyAdvertise(spec, advertise); err != nil {
				return err
			}
			if err := spec.Validate(); err != nil {
				return &exitError{ExitUsage, fmt.Errorf("invalid spec:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))}
			}
			for _, e := range export {
				if e != "k8s" {
					return usageErr("--export %q: the only export is k8s", e)
				}
			}
			pp, err := pass.get()
			if err != nil {
				return err
			}
			o := bundle.Options{Dir: g.dir, CAPassphrase: pp, Prune: prune, DryRun: dryRun || check, Export: export, Engines: g.engines()}
			if o.DryRun {
				// A new engine directory's preview lists ca/chain.pem only if it
				// knows the engine's chain; a dry run without the engine (no
				// token, offline) still plans, and says what it may miss.
				chain, err := bundle.NewEngineChain(cmd.Context(), g.dir, spec, o.Engines)
				if err != nil {
					g.warn("%v: the preview may omit %s, which the run writes when the engine signs with an intermediate CA", err, pki.CAChainFile)
				}
				o.EngineChain = chain
			}
			if flagForm {
				o.SaveSpec = bundle.SpecMerge // under the lock, with the index: concurrent runs add up
			}
			if !g.json {
				tty := isTerminal(os.Stderr)
				o.Progress = func(p bundle.Progress) {
					if tty && !g.noColor {
						fmt.Fprintf(g.stderr, "\r\033[K[%d/%d] %s %s", p.Done, p.Total, p.Action, p.Name)
						if p.Done == p.Total {
							fmt.Fprintln(g.stderr)
						}
						return
					}
					fmt.Fprintf(g.stderr, "[%d/%d] %s %s\n", p.Done, p.Total, p.Action, p.Name)
				}
			}
			res, err := bundle.Run(cmd.Context(), spec, o)
			if errors.Is(err, bundle.ErrSpecConflict) {
				return &exitError{ExitUsage, err} // the flags contradict the saved spec: nothing was done
			}
			if err != nil {
				if res != nil && !g.json {
					printPlan(g.stdout, res.Plan)
				}
				return err
			}
			var brokerHosts []string
			for _, e := range res.Plan.Preview.Identities {
				if host, _, err := net.SplitHostPort(e.Advertised); err == nil && e.Role.Spec().Bootstrap {
					brokerHosts = append(brokerHosts, host)
				}
			}
			g.warnUnresolved(cmd.Context(), brokerHosts, "advertised.listeners and the clients' bootstrap.servers name brokers by these hosts; set advertise: per broker (or --advertise NAME=HOST[:PORT]) to the hosts clients dial")
			if err := g.emit(res, func(w io.Writer) {
				printPlan(w, res.Plan)
				if o.DryRun {
					if dryRun {
						printPreview(w, res.Plan.Preview, flagForm)
					}
					if res.Plan.Changes() {
						fmt.Fprintln(w, "Dry run: nothing written.")
					} else {
						fmt.Fprintln(w, "Up to date: nothing to do.")
					}
					return
				}
				if len(res.Entities) > 0 || len(res.Outputs) > 0 {
					fmt.Fprintf(w, "Done in %s: %d identities issued", res.Elapsed.Round(1e6), len(res.Entities))
					if len(res.Outputs) > 0 {
						fmt.Fprintf(w, "; wrote %s", strings.Join(res.Outputs, ", "))
					}
					fmt.Fprintf(w, ".\nSee %s. Next: kafkatls verify --dir %s\n", filepath.Join(g.dir, bundle.SummaryFile), g.dir)
				} else {
					fmt.Fprintln(w, "Up to date: no file changed.")
				}
			}); err != nil {
				return err
			}
			if check && res.Plan.Changes() {
				return &exitError{ExitChanges, fmt.Errorf("--check: the bundle in %s is not up to date with the spec", g.dir)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&file, "file", "f", "", "bundle spec (kafkatls.yaml); default DIR/kafkatls.yaml when no entity flags are given")
	f.StringSliceVar(&brokers, "brokers", nil, "broker names (comma list)")
	f.StringSliceVar(&controllers, "controllers", nil, "KRaft controller names (comma list)")
	f.StringSliceVar(&zookeepers, "zookeepers", nil, "ZooKeeper server names (comma list)")
	f.StringSliceVar(&clients, "clients", nil, "client names (comma list)")
	f.StringSliceVar(&connect, "connect", nil, "Kafka Connect worker names (comma list): Connect's default group and topics, REST on NAME:8443")
	f.StringSliceVar(&d.Formats, "formats", nil, "store formats: jks, p12, pem (default all)")
	f.StringVar(&d.KeyType, "key-type", "", "key type: rsa or ecdsa (leaves, and the CA if this run creates it; default: the CA's)")
	f.IntVar(&d.Days, "days", 0, "leaf validity in days (default 365)")
	f.StringVar(&d.MountPath, "mount-path", "", "config paths under this container directory (e.g. /etc/kafka/secrets)")
	f.StringVar(&d.P12Compat, "p12-compat", "", "PKCS12 profile: modern or legacy")
	f.StringVar(&d.RenewBefore, "renew-before", "", "renew certificates expiring within this window (e.g. 30d)")
	f.BoolVar(&dryRun, "dry-run", false, "print the plan and stop")
	f.BoolVar(&check, "check", false, "print the plan and exit 3 if anything would change")
	f.BoolVar(&prune, "prune", false, "delete identities no longer in the spec")
	f.StringArrayVar(&advertise, "advertise", nil, "NAME=HOST[:PORT]: the address broker (or controller) NAME advertises, as the spec's advertise: (repeatable)")
	f.StringSliceVar(&export, "export", nil, "extra outputs: k8s (one Secret manifest per identity in DIR/k8s/)")
	pass.register(c)
	return c
}

// applyAdvertise sets the advertise field of the nodes --advertise
// NAME=HOST[:PORT] names, over the spec's.
func applyAdvertise(spec *bundle.Spec, flags []string) error {
	for _, f := range flags {
		name, addr, ok := strings.Cut(f, "=")
		if !ok || name == "" || addr == "" {
			return usageErr("--advertise %q: want NAME=HOST[:PORT]", f)
		}
		if _, err := identity.ParseAdvertise(addr); err != nil {
			return usageErr("--advertise %s: %v", name, err)
		}
		found := false
		for _, list := range [][]bundle.Node{spec.Brokers, spec.Controllers, spec.ZooKeepers} {
			for i := range list {
				if strings.EqualFold(list[i].Name, name) {
					list[i].Advertise, found = addr, true
				}
			}
		}
		if !found {
			return usageErr("--advertise %s: no broker, controller or zookeeper of that name in the bundle", name)
		}
	}
	return nil
}

func printPlan(w io.Writer, p *bundle.Plan) {
	if p == nil {
		return
	}
	fmt.Fprintf(w, "Plan for %s (%s):\n", p.Dir, p.Mode)
	if p.CreateCA {
		fmt.Fprintf(w, "  %-7s %-16s %-10s\n", "create", "CA", "")
	}
	sym := map[bundle.Action]string{bundle.ActionCreate: "+", bundle.ActionRenew: "~", bundle.ActionConfig: "~", bundle.ActionKeep: "=", bundle.ActionOrphan: "?", bundle.ActionPrune: "-"}
	for _, s := range p.Steps {
		line := fmt.Sprintf("%s %-7s %-16s %-10s", sym[s.Action], s.Action, s.Name, s.Role)
		if s.Reason != "" {
			line += " " + s.Reason
		} else if s.Action == bundle.ActionCreate && s.SANs != "" {
			line += " " + s.SANs
		}
		fmt.Fprintln(w, " "+strings.TrimRight(line, " "))
	}
	if len(p.Outputs) > 0 {
		fmt.Fprintf(w, "  outputs: %s\n", strings.Join(p.Outputs, ", "))
	}
}

// printPreview prints what the directory will hold: the bundle's
// addresses and principals, then the files of each identity and the
// bundle-level ones (the flag form also saves the spec).
func printPreview(w io.Writer, pv *bundle.Preview, savesSpec bool) {
	if pv == nil {
		return
	}
	fmt.Fprintln(w, "The bundle once applied:")
	if pv.Bootstrap != "" {
		fmt.Fprintf(w, "  bootstrap.servers=%s\n", pv.Bootstrap)
	}
	if len(pv.SuperUsers) > 0 {
		fmt.Fprintf(w, "  %s\n", templates.SuperUsersLine(pv.SuperUsers))
	}
	for _, e := range pv.Identities {
		line := fmt.Sprintf("  %s/ %s %s", e.Dir, e.Role, e.Principal)
		if e.Advertised != "" {
			line += " at " + e.Advertised
		}
		fmt.Fprintf(w, "%s\n    %s\n", line, strings.Join(e.Files, " "))
	}
	files := pv.Files
	if savesSpec {
		files = append(slices.Clone(files), pv.SpecFile)
	}
	fmt.Fprintf(w, "  bundle files: %s\n", strings.Join(files, " "))
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
