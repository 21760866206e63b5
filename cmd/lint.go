package cmd

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

func init() { extraCommands = append(extraCommands, newLintCmd) }

// ExitLintWarnings is lint's exit code when it found warnings but no errors.
const ExitLintWarnings = ExitChanges

type lintOutput struct {
	*inspect.Result
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

func newLintCmd(g *globals) *cobra.Command {
	var (
		role, within, caFile string
		strict               bool
		pw                   readPassword
	)
	c := &cobra.Command{
		Use:   "lint FILE|DIR...",
		Short: "Check stores and certificates for what breaks Kafka TLS (CI exit codes)",
		Long: `lint checks keystores, truststores, PEM and DER files against what Kafka
needs. A DIR is walked and every store and certificate in it is linted: a
file is read when its content or its name (.jks .p12 .pfx .pem .crt .cer
.der .key .csr, keystore/truststore names, password files) says it is one,
and one that does not read (truncated, corrupt, empty) is an error; other
files are skipped. In a directory with kafkatls configs (client.properties,
server.properties, zoo.cfg, kcat.conf, ...) each config's passwords must
open the stores it names, the files it names must exist (paths under a
--mount-path are checked by name in the directory), and every store must
chain to ca.crt. A kafkatls PKI directory, or one identity's
directory in it, gives each file its role (from the index) and the intended
CA (ca.crt). --role and --ca override them.

Checks: chain order and completeness; the keystore's CA trusted by the
truststore; a leaf outliving its CA; key/certificate mismatch; weak keys
(RSA < 2048, curves < P-256) and SHA-1/MD5 signatures; missing DNS/IP SANs
for server roles; the clientAuth/serverAuth extended key usage the role
needs; expired, not yet valid, or expiring within --within; legacy RC2
PKCS12; PKCS12 truststores without Java's trusted attribute; aliases that
differ only in case; private keys in truststores; a truststore that trusts
more than the intended CA (such as the whole JDK cacerts); PEM keys Kafka
cannot read (PKCS#1, legacy or PBES2 encryption on Java 17).

Exit codes: 0 no errors or warnings (notes may be printed), 1 at least one
error (or, with --strict, a warning), 3 warnings only, 2 usage.`,
		Example: `  kafkatls lint kafka-pki
  kafkatls lint kafka-pki/certs/kafka-1 --within 60d
  kafkatls lint server.keystore.jks --role broker --password-env KEYSTORE_PASSWORD
  kafkatls lint /etc/kafka/ssl --ca ca.crt --strict --json`,
		Args: minArgs(1, "a FILE or DIR to lint"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := inspect.LintOptions{Now: time.Now()}
			if role != "" {
				r, err := pki.ParseRole(role)
				if err != nil {
					return usageErr("--role: %v", err)
				}
				o.Role = r
			}
			d, err := bundle.ParseWindow(within)
			if err != nil {
				return usageErr("--within %v", err)
			}
			o.Within = d
			if caFile != "" {
				b, err := fsx.ReadFileLimit(caFile, fsx.LimitPEM)
				if err != nil {
					return fmt.Errorf("--ca: %w", err)
				}
				certs, err := pem.DecodeCerts(b)
				if err != nil {
					return fmt.Errorf("--ca %s: %w (give the CA certificate in PEM)", caFile, err)
				}
				o.IntendedCA = certs
			}
			if o.Passwords, err = pw.get(); err != nil {
				return err
			}
			for _, a := range args {
				if _, err := os.Stat(a); err != nil {
					return fmt.Errorf("%w (give an existing file or directory)", err)
				}
			}
			res, err := inspect.LintPaths(args, o)
			if err != nil {
				return err
			}
			errs, warns := inspect.Count(res.Findings)
			out := lintOutput{Result: res, Errors: errs, Warnings: warns}
			if err := g.emit(out, func(w io.Writer) { printFindings(w, out) }); err != nil {
				return err
			}
			switch {
			case errs > 0 || (strict && warns > 0):
				return &exitError{ExitError, fmt.Errorf("lint: %d error(s), %d warning(s) in %d file(s)", errs, warns, len(res.Files))}
			case warns > 0:
				return &exitError{ExitLintWarnings, fmt.Errorf("lint: %d warning(s) in %d file(s)", warns, len(res.Files))}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&role, "role", "", "what the certificates are for: "+pki.RoleNames()+" (default: from the kafkatls index or directory layout)")
	f.StringVar(&within, "within", "30d", "flag certificates expiring within this window (e.g. 30d, 2w, 72h)")
	f.StringVar(&caFile, "ca", "", "the intended CA (PEM): truststores must trust it and nothing else, keystores must chain to it")
	f.BoolVar(&strict, "strict", false, "treat warnings as errors (exit 1)")
	pw.register(c, "store")
	return c
}

func printFindings(w io.Writer, out lintOutput) {
	for _, f := range out.Findings {
		where := f.File
		if f.Entry != "" {
			where += " [" + f.Entry + "]"
		}
		fmt.Fprintf(w, "%-7s %s: %s (%s)\n", f.Severity, where, f.Message, f.Check)
	}
	notes := len(out.Findings) - out.Errors - out.Warnings
	fmt.Fprintf(w, "%d file(s) linted: %d error(s), %d warning(s), %d note(s)", len(out.Files), out.Errors, out.Warnings, notes)
	if len(out.Skipped) > 0 {
		fmt.Fprintf(w, "; %d other file(s) skipped", len(out.Skipped))
	}
	fmt.Fprintln(w)
}
