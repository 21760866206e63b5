package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/mirrormaker"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/templates"
)

func init() { extraCommands = append(extraCommands, newMirrorMakerCmd) }

func newMirrorMakerCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "mirrormaker",
		Short: "MirrorMaker 2 between two clusters with two PKIs: connect-mirror-maker.properties and each cluster's ACLs",
		Example: `  kafkatls --dir pki-a issue mm2 --role mirrormaker --cluster-alias A --cluster-bootstrap kafka-a:9093
  kafkatls --dir pki-b issue mm2 --role mirrormaker --cluster-alias B --cluster-bootstrap kafka-b:9093
  kafkatls mirrormaker config --source pki-a/certs/mm2 --target pki-b/certs/mm2 --topics orders`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newMirrorMakerConfigCmd(g))
	return c
}

func newMirrorMakerConfigCmd(g *globals) *cobra.Command {
	var (
		flow                      mirrormaker.Flow
		out                       string
		force                     bool
		sourceBootstrap, tgtBoots string
	)
	c := &cobra.Command{
		Use:   "config --source DIR --target DIR --topics LIST",
		Short: "Combine the mirrormaker identities of two clusters into connect-mirror-maker.properties",
		Long: `config writes connect-mirror-maker.properties for MirrorMaker 2 in dedicated
mode (connect-mirror-maker.sh), replicating --topics from the source cluster
to the target, and acls-SOURCE.sh and acls-TARGET.sh with the ACLs it needs
on each cluster.

--source and --target are mirrormaker identity directories, each issued by
its own cluster's PKI with that cluster's alias:

  kafkatls --dir pki-a issue mm2 --role mirrormaker --cluster-alias A --cluster-bootstrap kafka-a:9093
  kafkatls --dir pki-b issue mm2 --role mirrormaker --cluster-alias B --cluster-bootstrap kafka-b:9093

Each side's settings keep their alias prefix (A.ssl.*, B.ssl.*): A's
keystore is signed by A's CA and its truststore trusts A's CA, and likewise
for B, so the two CAs never need to trust each other. Both identities may
come from one PKI (one CA); that works, and config says so.

--topics and --groups are MirrorMaker's regular expressions (A->B.topics,
A->B.groups); ACLs are derived for names (orders), prefixes (orders.*) and
.* (all). Topics of the source appear on the target as ALIAS.<topic>.
Existing output files are kept unless --force.`,
		Example: `  kafkatls mirrormaker config --source pki-a/certs/mm2 --target pki-b/certs/mm2 --topics orders,payments.*
  kafkatls mirrormaker config --source pki-a/certs/mm2 --target pki-b/certs/mm2 --topics '.*' --groups 'billing.*' --out mm2/`,
		Args: exactArgs(0, "none (use --source and --target)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flow.Source.Dir == "" || flow.Target.Dir == "" {
				return usageErr("--source and --target are required: the mirrormaker identity directories of the two clusters (PKI/certs/NAME)")
			}
			if len(flow.Topics) == 0 {
				return usageErr("--topics is required: the topics to replicate (names, PREFIX.*, or '.*' for all)")
			}
			flow.Source.Bootstrap, flow.Target.Bootstrap = sourceBootstrap, tgtBoots
			flow.Topics, flow.Groups = pki.SplitList(flow.Topics), pki.SplitList(flow.Groups)
			cfg, err := mirrormaker.Combine(flow)
			if err != nil {
				return explainMirrorMaker(err)
			}
			// A new --out directory is private; an existing one (the
			// current directory, by default) keeps its mode.
			if err := os.MkdirAll(out, fsx.PrivateDir); err != nil {
				return err
			}
			paths, err := cfg.Write(out, force)
			if errors.Is(err, mirrormaker.ErrExists) {
				return usageErr("%v (--force replaces it)", err)
			}
			if err != nil {
				return err
			}
			res := map[string]any{"files": paths, "sameCA": cfg.SameCA,
				"source": clusterJSON(cfg.Source), "target": clusterJSON(cfg.Target)}
			return g.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "MirrorMaker 2: %s -> %s, topics %v\n", cfg.Source.Alias, cfg.Target.Alias, cfg.Topics)
				for _, cl := range []mirrormaker.Cluster{cfg.Source, cfg.Target} {
					fmt.Fprintf(w, "  %s: %s (CA %s), principal %s\n", cl.Alias, cl.Dir, cl.CA.Subject, cl.Principal)
				}
				if cfg.SameCA {
					fmt.Fprintln(w, "  Both identities are signed by the same CA: the clusters share one PKI. That works.")
				}
				for _, p := range paths {
					fmt.Fprintf(w, "wrote %s\n", p)
				}
				fmt.Fprintf(w, "Next: run %s against cluster %s and %s against cluster %s (BOOTSTRAP, COMMAND_CONFIG), then\n",
					mirrormaker.ACLScriptName(cfg.Source.Alias), cfg.Source.Alias, mirrormaker.ACLScriptName(cfg.Target.Alias), cfg.Target.Alias)
				fmt.Fprintf(w, "  connect-mirror-maker.sh %s\n", templates.MirrorMakerFile)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&flow.Source.Dir, "source", "", "the source cluster's mirrormaker identity directory (PKI_A/certs/NAME)")
	f.StringVar(&flow.Target.Dir, "target", "", "the target cluster's mirrormaker identity directory (PKI_B/certs/NAME)")
	f.StringSliceVar(&flow.Topics, "topics", nil, "topics to replicate: names, PREFIX.* or '.*' (A->B.topics; comma list, repeatable)")
	f.StringSliceVar(&flow.Groups, "groups", nil, "consumer groups to checkpoint (A->B.groups; default every group)")
	f.StringVar(&sourceBootstrap, "source-bootstrap", "", "the source cluster's bootstrap servers, if not the identity's")
	f.StringVar(&tgtBoots, "target-bootstrap", "", "the target cluster's bootstrap servers, if not the identity's")
	f.StringVar(&flow.Source.Rules, "source-rules", "", "the source cluster's ssl.principal.mapping.rules: its ACLs name the mapped principal")
	f.StringVar(&flow.Target.Rules, "target-rules", "", "the target cluster's ssl.principal.mapping.rules")
	f.StringVar(&out, "out", ".", "directory for connect-mirror-maker.properties and the acls-ALIAS.sh scripts")
	f.BoolVar(&force, "force", false, "replace existing output files")
	return c
}

func clusterJSON(c mirrormaker.Cluster) map[string]any {
	return map[string]any{"alias": c.Alias, "dir": c.Dir, "principal": c.Principal, "ca": c.CA.Subject.String(),
		"bootstrap": c.Bootstrap, "aclScript": mirrormaker.ACLScriptName(c.Alias)}
}

// explainMirrorMaker adds the flags to the core's errors; input errors
// exit 2.
func explainMirrorMaker(err error) error {
	var pat *mirrormaker.PatternError
	switch {
	case errors.As(err, &pat):
		return usageErr("--%ss: %v; list the names or grant the ACLs yourself (kafkatls acls)", pat.Kind, err)
	case errors.Is(err, mirrormaker.ErrRules):
		return usageErr("--source-rules/--target-rules: %v", err)
	case errors.Is(err, mirrormaker.ErrNoBootstrap):
		return usageErr("%v: issue the identity with --cluster-bootstrap, or pass --source-bootstrap/--target-bootstrap", err)
	case errors.Is(err, mirrormaker.ErrSameAlias):
		return usageErr("%v (reissue one with kafkatls issue NAME --role mirrormaker --cluster-alias OTHER --force in its PKI)", err)
	case errors.Is(err, mirrormaker.ErrNotMirrorMaker), errors.Is(err, mirrormaker.ErrSameIdentity),
		errors.Is(err, mirrormaker.ErrBadSettings), errors.Is(err, fs.ErrNotExist):
		return usageErr("%v", err)
	}
	return err
}

// mirrorMakerFlags are issue's flags for a mirrormaker identity.
type mirrorMakerFlags struct{ alias, bootstrap string }

func (m *mirrorMakerFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&m.alias, "cluster-alias", "", "mirrormaker: this cluster's alias in connect-mirror-maker.properties (e.g. A, primary, us-east)")
	c.Flags().StringVar(&m.bootstrap, "cluster-bootstrap", "", "mirrormaker: this cluster's bootstrap servers, HOST:PORT[,HOST:PORT...]")
}

// apply checks the flags against the role and puts them in the config,
// before anything is signed.
func (m *mirrorMakerFlags) apply(role pki.Role, cfg *identity.Config) error {
	if role != pki.RoleMirrorMaker {
		if m.alias != "" || m.bootstrap != "" {
			return usageErr("--cluster-alias and --cluster-bootstrap are for --role mirrormaker, not %s", role)
		}
		return nil
	}
	if m.alias == "" {
		return usageErr("--cluster-alias is required for --role mirrormaker: the alias of the cluster this PKI's CA serves (e.g. A); the other cluster's PKI issues its own identity")
	}
	if err := templates.CheckClusterAlias(m.alias); err != nil {
		var fe *templates.FieldError
		if errors.As(err, &fe) {
			return usageErr("--cluster-alias: %s", fe.Msg)
		}
		return usageErr("--cluster-alias: %v", err)
	}
	for _, hp := range strings.Split(m.bootstrap, ",") {
		if m.bootstrap == "" {
			break
		}
		a, err := identity.ParseAdvertise(strings.TrimSpace(hp))
		if err != nil || a.Port == 0 || strings.TrimSpace(hp) != hp {
			return usageErr("--cluster-bootstrap %q: want HOST:PORT[,HOST:PORT...] without spaces", m.bootstrap)
		}
	}
	cfg.ClusterAlias, cfg.Bootstrap = m.alias, m.bootstrap
	return nil
}
