package cmd

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
)

func init() { extraCommands = append(extraCommands, newACLsCmd) }

func newACLsCmd(g *globals) *cobra.Command {
	var (
		gr        kafkaacl.Grant
		principal string
		rules     string
		remove    bool
		rf        reloadFlags
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
name the mapped principal. --remove prints the matching removals.`,
		Example: `  kafkatls acls client1 --topic orders --producer
  kafkatls acls client1 --topic orders --group billing --consumer --bootstrap kafka-1:9093 --command-config admin.properties
  kafkatls acls app --topic events. --prefixed --operation Read --operation Describe
  kafkatls acls app --transactional-id app-tx --topic orders --producer
  kafkatls acls --principal 'User:CN=legacy,OU=Apps' --topic orders --consumer --group legacy`,
		Args: func(c *cobra.Command, args []string) error {
			if principal != "" {
				return exactArgs(0, "none with --principal")(c, args)
			}
			return exactArgs(1, "NAME")(c, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := gr.Validate(); err != nil {
				return usageErr("%w", err)
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
			lines := kafkaacl.Commands(p, gr, rf.target())
			if remove {
				for i, l := range lines {
					lines[i] = removeCommand(l)
				}
			}
			out := map[string]any{"principal": p, "commands": lines}
			return g.emit(out, func(w io.Writer) {
				fmt.Fprintf(w, "# ACLs for %s\n", p)
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
	rf.register(c, false)
	return c
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
		return sasl.Principal(a, name, ""), nil
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
