package cmd

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

func init() { extraCommands = append(extraCommands, newACLsCmd) }

func newACLsCmd(g *globals) *cobra.Command {
	var (
		gr        kafkaacl.Grant
		principal string
		rules     string
		remove    bool
		rf        reloadFlags
		source    string
		sink      string
	)
	c := &cobra.Command{
		Use:   "acls NAME",
		Short: "Print the kafka-acls.sh commands that grant an identity access to topics and groups",
		Long: `acls prints kafka-acls.sh commands for the principal of identity NAME (from
the index or its principal.txt; --principal gives one directly). Values are
quoted for a POSIX shell, so the DN reaches Kafka byte for byte.

--producer grants Write, Describe and Create on --topic; --consumer grants
Read and Describe on --topic and Read on --group (required); --operation
grants the named operations on every resource given; --transactional-id
alone grants Write and Describe on it. --prefixed makes the resource names
prefixes. --rules applies ssl.principal.mapping.rules first, since ACLs must
name the mapped principal. --remove prints the matching removals.

For a Connect worker (role connect) without grant flags, acls prints the
worker's own ACLs, on the group and internal topics its
connect-distributed.properties names: Read, Write, Create, Describe and
DescribeConfigs on each topic, Read on the group. A connector's tasks run
as the worker: --source-connector NAME --topic T grants Write, Create and
Describe on T; --sink-connector NAME --topic T grants Read and Describe on T
and Read on the group connect-NAME.`,
		Example: `  kafkatls acls client1 --topic orders --producer
  kafkatls acls client1 --topic orders --group billing --consumer --bootstrap kafka-1:9093 --command-config admin.properties
  kafkatls acls app --topic events. --prefixed --operation Read --operation Describe
  kafkatls acls app --transactional-id app-tx --topic orders --producer
  kafkatls acls --principal 'User:CN=legacy,OU=Apps' --topic orders --consumer --group legacy
  kafkatls acls connect-1
  kafkatls acls connect-1 --sink-connector s3-sink --topic orders`,
		Args: func(c *cobra.Command, args []string) error {
			if principal != "" {
				return exactArgs(0, "none with --principal")(c, args)
			}
			return exactArgs(1, "NAME")(c, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			grants, worker, err := aclGrants(cmd, g, args, gr, source, sink, principal)
			if err != nil {
				return err
			}
			p := principal
			if p == "" {
				var err error
				if p, err = identityPrincipal(g, args[0], rules); err != nil {
					return err
				}
			} else if !strings.HasPrefix(p, "User:") {
				return usageErr("--principal %q: Kafka principals look like User:CN=...", p)
			}
			var lines []string
			for _, gr := range grants {
				lines = append(lines, kafkaacl.Commands(p, gr, rf.target())...)
			}
			if remove {
				for i, l := range lines {
					lines[i] = removeCommand(l)
				}
			}
			out := map[string]any{"principal": p, "commands": lines}
			return g.emit(out, func(w io.Writer) {
				fmt.Fprintf(w, "# ACLs for %s\n", p)
				if worker != nil {
					fmt.Fprintf(w, "# Connect worker of group %s, internal topics %s, %s, %s (from its %s)\n",
						worker.Group, worker.ConfigTopic, worker.OffsetTopic, worker.StatusTopic, pki.ConnectDistributedFile)
				}
				if rf.bootstrap == "" || rf.commandConfig == "" {
					fmt.Fprintln(w, "# Set BOOTSTRAP=host:port (an SSL listener) and ADMIN_CONFIG=<a super user's client.properties>, or pass --bootstrap/--command-config.")
				}
				for _, l := range lines {
					fmt.Fprintln(w, l)
				}
			})
		},
	}
	f := c.Flags()
	f.StringVar(&gr.Topic, "topic", "", "topic (or prefix with --prefixed)")
	f.StringVar(&gr.Group, "group", "", "consumer group (required with --consumer)")
	f.StringVar(&gr.TransactionalID, "transactional-id", "", "transactional id")
	f.BoolVar(&gr.Prefixed, "prefixed", false, "resource names are prefixes (--resource-pattern-type prefixed)")
	f.BoolVar(&gr.Producer, "producer", false, "produce to --topic: Write, Describe, Create")
	f.BoolVar(&gr.Consumer, "consumer", false, "consume --topic in --group: Read, Describe on the topic, Read on the group")
	f.StringSliceVar(&gr.Operations, "operation", nil, "operation(s) to allow: "+strings.Join(kafkaacl.Operations, ", ")+" (repeatable)")
	f.StringVar(&principal, "principal", "", "grant this principal (User:...) instead of identity NAME's")
	f.StringVar(&rules, "rules", "", "ssl.principal.mapping.rules of the cluster: ACLs name the mapped principal")
	f.BoolVar(&remove, "remove", false, "print the kafka-acls --remove commands instead")
	f.StringVar(&source, "source-connector", "", "Connect: a source connector's grants on --topic (Write, Create, Describe)")
	f.StringVar(&sink, "sink-connector", "", "Connect: a sink connector's grants: Read, Describe on --topic, Read on group connect-NAME")
	rf.register(c, false)
	return c
}

// aclGrants are the grants acls prints: a connector's (--source-connector,
// --sink-connector), the one the grant flags give, or, with none given
// for a Connect worker, the worker's own (from its config's names). worker
// is set in that last case.
func aclGrants(cmd *cobra.Command, g *globals, args []string, gr kafkaacl.Grant, source, sink, principal string) ([]kafkaacl.Grant, *kafkaacl.ConnectWorker, error) {
	if source != "" && sink != "" {
		return nil, nil, usageErr("--source-connector and --sink-connector: one connector at a time")
	}
	name, typ := sink, kafkaacl.ConnectorSink
	if source != "" {
		name, typ = source, kafkaacl.ConnectorSource
	}
	if name != "" {
		if gr.Producer || gr.Consumer || gr.Group != "" || gr.TransactionalID != "" || len(gr.Operations) > 0 {
			return nil, nil, usageErr("--%s-connector: give only --topic (and --prefixed); the connector's operations are fixed", typ)
		}
		c := kafkaacl.Connector{Name: name, Type: typ, Prefixed: gr.Prefixed}
		if gr.Topic != "" {
			c.Topics = []string{gr.Topic}
		}
		if err := c.Validate(); err != nil {
			if len(c.Topics) == 0 {
				return nil, nil, usageErr("--%s-connector %s: needs --topic", typ, name)
			}
			return nil, nil, usageErr("--%s-connector: %v", typ, err)
		}
		return c.Grants(), nil, nil
	}
	given := false
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "topic", "group", "transactional-id", "producer", "consumer", "operation":
			given = true
		}
	})
	if !given && principal == "" && len(args) == 1 {
		if props, err := identity.ReadProperties(identity.Dir(g.dir, args[0]), pki.ConnectDistributedFile); err == nil {
			w := kafkaacl.ConnectWorker{Group: props["group.id"], ConfigTopic: props["config.storage.topic"],
				OffsetTopic: props["offset.storage.topic"], StatusTopic: props["status.storage.topic"]}
			if err := w.Validate(); err != nil {
				return nil, nil, fmt.Errorf("%s of %s: %w", pki.ConnectDistributedFile, args[0], err)
			}
			return w.Grants(), &w, nil
		}
	}
	if err := gr.Validate(); err != nil {
		return nil, nil, usageErr("%w", err)
	}
	return []kafkaacl.Grant{gr}, nil, nil
}

// identityPrincipal returns the Kafka principal of identity name, after
// mapping rules.
func identityPrincipal(g *globals, name, rules string) (string, error) {
	if err := identity.ValidateName(name); err != nil {
		return "", usageErr("%v", err)
	}
	mapper, err := principal.ParseRules(rules)
	if err != nil {
		return "", usageErr("--rules: %v", err)
	}
	var subject string
	dir := identity.Dir(g.dir, name)
	if a, err := identity.DirAuth(dir); err == nil && a.Spec().SASL() {
		// A SASL identity is User:NAME whatever its certificate says;
		// ssl.principal.mapping.rules apply to the SSL listener only.
		return identity.DirSASLPrincipal(dir, a, name)
	}
	if b, err := fsx.ReadFileLimit(filepath.Join(dir, identity.CertPEM), fsx.LimitPEM); err == nil {
		if certs, err := pem.DecodeCerts(b); err == nil {
			subject, _ = principal.JavaName(certs[0].RawSubject)
		}
	}
	if subject == "" {
		if idx, err := pki.LoadIndex(g.dir); err == nil {
			if r, ok := idx.Current(name); ok {
				subject = r.Subject
			}
		}
	}
	if subject == "" {
		if b, err := fsx.ReadFileLimit(filepath.Join(dir, identity.PrincipalFile), fsx.LimitPEM); err == nil {
			subject = strings.TrimPrefix(strings.TrimSpace(string(b)), "User:")
		}
	}
	if subject == "" {
		return "", fmt.Errorf("no identity %q in %s (see kafkatls list), or give --principal 'User:CN=...'", name, g.dir)
	}
	mapped, err := mapper.Map(subject)
	if err != nil {
		return "", err
	}
	return principal.User(mapped), nil
}
