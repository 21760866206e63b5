package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/principal"
)

func init() { extraCommands = append(extraCommands, newPrincipalCmd) }

type principalResult struct {
	Source    string `json:"source"`
	Subject   string `json:"subject"`
	Rules     string `json:"rules"`
	Principal string `json:"principal"`
	ZooKeeper string `json:"zookeeperIdentity"`
}

func newPrincipalCmd(g *globals) *cobra.Command {
	var (
		rules string
		dn    string
		pw    readPassword
	)
	c := &cobra.Command{
		Use:   "principal CERT|NAME",
		Short: "Print the Kafka principal (after ssl.principal.mapping.rules) and ZooKeeper identity of a certificate",
		Long: `principal prints what Kafka names a client presenting a certificate:
"User:" + the subject DN as Java's X500Principal.getName() prints it, after
ssl.principal.mapping.rules (Kafka's SslPrincipalMapper: rules tried in order,
each a full match, RULE:pattern/replacement/ with optional L or U, DEFAULT
keeps the DN; no matching rule fails authentication). It also prints the
ZooKeeper identity (x509: + the same DN; ZooKeeper has no mapping rules).

CERT is a PEM or DER certificate or a keystore (the key entry's certificate);
NAME is an identity of the PKI directory. --dn maps a DN string instead, as
Kafka's mapper receives it.`,
		Example: `  kafkatls principal client1
  kafkatls principal tls.crt --rules 'RULE:^CN=([^,]+),OU=ServiceUsers.*$/$1/L,DEFAULT'
  kafkatls principal keystore.p12 --password-env KEYSTORE_PASSWORD --json
  kafkatls principal --dn 'CN=Duke,OU=ServiceUsers,O=Org,C=US' --rules 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L,DEFAULT'`,
		Args: func(c *cobra.Command, args []string) error {
			if dn != "" {
				return exactArgs(0, "none with --dn")(c, args)
			}
			return exactArgs(1, "CERT or NAME")(c, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			mapper, err := principal.ParseRules(rules)
			if err != nil {
				return usageErr("--rules: %v", err)
			}
			rulesText := rules
			if rulesText == "" {
				rulesText = "DEFAULT"
			}
			type subject struct{ source, dn string }
			var subjects []subject
			if dn != "" {
				subjects = append(subjects, subject{"--dn", dn})
			} else {
				certs, source, err := principalCerts(g, args[0], &pw)
				if err != nil {
					return err
				}
				for _, c := range certs {
					name, err := principal.JavaName(c.RawSubject)
					if err != nil {
						return fmt.Errorf("%s: subject: %w", source, err)
					}
					subjects = append(subjects, subject{source, name})
				}
			}
			var out []principalResult
			for _, s := range subjects {
				mapped, err := mapper.Map(s.dn)
				if err != nil {
					if errors.Is(err, principal.ErrNoRule) {
						return fmt.Errorf("%v: Kafka fails this client's authentication; end the rules with DEFAULT or add a rule that matches", err)
					}
					return err
				}
				out = append(out, principalResult{Source: s.source, Subject: s.dn, Rules: rulesText, Principal: principal.User(mapped), ZooKeeper: principal.ZooKeeper(s.dn)})
			}
			var v any = out
			if len(out) == 1 {
				v = out[0]
			}
			return g.emit(v, func(w io.Writer) {
				for i, r := range out {
					if i > 0 {
						fmt.Fprintln(w)
					}
					fmt.Fprintf(w, "source     %s\n", r.Source)
					fmt.Fprintf(w, "subject    %s\n", r.Subject)
					fmt.Fprintf(w, "rules      %s\n", r.Rules)
					fmt.Fprintf(w, "principal  %s\n", r.Principal)
					fmt.Fprintf(w, "zookeeper  %s\n", r.ZooKeeper)
				}
			})
		},
	}
	c.Flags().StringVar(&rules, "rules", "", "ssl.principal.mapping.rules, as in server.properties but unescaped (default DEFAULT)")
	c.Flags().StringVar(&rules, "principal-mapping-rules", "", "same as --rules")
	c.Flags().MarkHidden("principal-mapping-rules")
	c.Flags().StringVar(&dn, "dn", "", "map this DN (as X500Principal.getName() prints it) instead of a certificate's")
	pw.register(c, "keystore")
	return c
}

// principalCerts finds the end-entity certificate(s) of a file or an
// identity of the PKI directory.
func principalCerts(g *globals, arg string, pw *readPassword) ([]*x509.Certificate, string, error) {
	path := arg
	if _, err := os.Stat(path); err != nil {
		if identity.ValidateName(arg) != nil {
			return nil, "", fmt.Errorf("%s: no such file (give a certificate, a keystore or an identity name)", arg)
		}
		path = filepath.Join(identity.Dir(g.dir, arg), identity.CertPEM)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("%s: no such file, and no identity %q in %s (see kafkatls list)", arg, arg, g.dir)
		}
	}
	pws, err := pw.get()
	if err != nil {
		return nil, "", err
	}
	r, err := inspect.File(path, inspect.Options{Passwords: pws})
	if err != nil {
		return nil, "", err
	}
	certs := r.EndEntities()
	if len(certs) == 0 {
		return nil, "", fmt.Errorf("%s holds no certificate", path)
	}
	return certs, path, nil
}
