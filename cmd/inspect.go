package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/internal/fsx"
)

func init() { extraCommands = append(extraCommands, newInspectCmd) }

// readPassword is --password-file / --password-env for reading stores made
// by anyone: unlike storePassword it does not apply kafkatls's rules for
// new passwords (a foreign store may have a short one).
type readPassword struct{ file, env string }

func (s *readPassword) register(c *cobra.Command, what string) {
	c.Flags().StringVar(&s.file, "password-file", "", "file holding the "+what+" password (default: the password file kafkatls wrote next to it, if any)")
	c.Flags().StringVar(&s.env, "password-env", "", "environment variable holding the "+what+" password")
}

func (s *readPassword) get() ([]inspect.Password, error) {
	switch {
	case s.file != "" && s.env != "":
		return nil, usageErr("--password-file and --password-env are exclusive: give one")
	case s.file != "":
		b, err := fsx.ReadFileLimit(s.file, fsx.LimitSecret)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		return []inspect.Password{{Value: strings.TrimRight(string(b), "\r\n"), Source: "--password-file " + s.file, Explicit: true}}, nil
	case s.env != "":
		v, ok := os.LookupEnv(s.env)
		if !ok {
			return nil, fmt.Errorf("--password-env: environment variable %s is not set", s.env)
		}
		return []inspect.Password{{Value: v, Source: "--password-env " + s.env, Explicit: true}}, nil
	}
	return nil, nil
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErr("%s needs %s (see `%s --help`)", c.CommandPath(), what, c.CommandPath())
		}
		return nil
	}
}

type inspectResult struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*inspect.Report
}

func newInspectCmd(g *globals) *cobra.Command {
	var pw readPassword
	c := &cobra.Command{
		Use:   "inspect FILE...",
		Short: "Show what a keystore, truststore, PEM or DER file holds, with Kafka principals",
		Long: `inspect reads JKS and PKCS12 stores, PEM files (certificates, keys, CSRs,
CRLs) and DER files, telling the format from the content, not the file name.
For each entry it prints the alias, the certificate chain, subjects as Java
prints them, the Kafka principal (User:<subject>, before mapping rules), SANs,
extended key usages, key type and size, validity and SHA-256 fingerprint.

Store passwords: --password-file or --password-env, else the password file
kafkatls writes next to its stores. Without a password a JKS store is still
listed (its integrity unverified, like keytool -list without -storepass); a
PKCS12 store needs it. Any input gives a report or a one-line error.

Exit codes: 0 every file read, 1 a file could not be read, 2 usage.`,
		Example: `  kafkatls inspect kafka-pki/certs/kafka-1/keystore.jks
  kafkatls inspect server.p12 --password-env KEYSTORE_PASSWORD
  kafkatls inspect tls.crt ca.crt client.csr crl.pem --json`,
		Args: minArgs(1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pws, err := pw.get()
			if err != nil {
				return err
			}
			var results []inspectResult
			failed := 0
			var firstErr error // keeps its type, for Run's hints
			for _, path := range args {
				r, err := inspect.File(path, inspect.Options{Passwords: pws})
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
					results = append(results, inspectResult{File: path, Error: err.Error()})
					continue
				}
				results = append(results, inspectResult{File: path, Report: r})
			}
			if err := g.emit(results, func(w io.Writer) {
				for i, res := range results {
					if i > 0 {
						fmt.Fprintln(w)
					}
					if res.Report == nil {
						fmt.Fprintf(w, "%s: error: %s\n", res.File, strings.TrimPrefix(res.Error, res.File+": "))
						continue
					}
					printReport(w, res.Report, time.Now())
				}
			}); err != nil {
				return err
			}
			if failed > 0 {
				if g.json || len(args) > 1 {
					return &exitError{ExitError, fmt.Errorf("%d of %d files could not be read", failed, len(args))}
				}
				return &exitError{ExitError, firstErr}
			}
			return nil
		},
	}
	pw.register(c, "store")
	return c
}

func printReport(w io.Writer, r *inspect.Report, now time.Time) {
	kind := string(r.Format)
	var keys, trusted int
	for _, e := range r.Entries {
		switch e.Type {
		case inspect.EntryKey, inspect.EntryEncryptedKey:
			keys++
		case inspect.EntryTrusted:
			trusted++
		}
	}
	if r.Format == inspect.FormatJKS || r.Format == inspect.FormatPKCS12 {
		switch {
		case keys > 0:
			kind += " keystore"
		case trusted > 0:
			kind += " truststore"
		default:
			kind += " store"
		}
	}
	fmt.Fprintf(w, "%s: %s, %d entr%s\n", r.File, kind, len(r.Entries), plural(len(r.Entries), "y", "ies"))
	if r.Integrity != "" {
		line := "  integrity  " + r.Integrity
		if r.PasswordSource != "" && r.PasswordSource != "empty password" {
			line += " (password from " + r.PasswordSource + ")"
		}
		fmt.Fprintln(w, line)
	}
	if r.MAC != "" {
		fmt.Fprintf(w, "  MAC        %s\n", r.MAC)
	}
	if r.CertEncryption != "" {
		fmt.Fprintf(w, "  certs      encrypted with %s\n", r.CertEncryption)
	}
	if r.KeyEncryption != "" {
		fmt.Fprintf(w, "  keys       encrypted with %s\n", r.KeyEncryption)
	}
	if r.LegacyRC2 {
		fmt.Fprintln(w, "  legacy     RC2 encryption: OpenSSL 3 needs -legacy, FIPS JVMs refuse it")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note       %s\n", n)
	}
	for i, e := range r.Entries {
		head := fmt.Sprintf("  [%d] %s", i+1, e.Type)
		if e.Alias != "" {
			head += fmt.Sprintf(" %q", e.Alias)
		}
		if !e.Created.IsZero() {
			head += " created " + e.Created.Format(time.DateOnly)
		}
		fmt.Fprintln(w, head)
		if e.Key != nil {
			k := keyString(*e.Key)
			if e.Key.Form != "" {
				k += ", " + e.Key.Form
			}
			if e.Key.Encryption != "" && e.Type != inspect.EntryEncryptedKey {
				k += ", encrypted with " + e.Key.Encryption
			}
			if e.KeyMatches != nil {
				if *e.KeyMatches {
					k += ", matches the certificate"
				} else {
					k += ", DOES NOT MATCH the certificate"
				}
			}
			fmt.Fprintf(w, "      key        %s\n", k)
		}
		if e.Note != "" {
			fmt.Fprintf(w, "      note       %s\n", e.Note)
		}
		for j, c := range e.Chain {
			prefix := "      "
			if len(e.Chain) > 1 {
				fmt.Fprintf(w, "      certificate %d of %d\n", j+1, len(e.Chain))
				prefix = "        "
			}
			printCert(w, prefix, c, now)
		}
		if e.CSR != nil {
			fmt.Fprintf(w, "      subject    %s\n", e.CSR.Subject)
			fmt.Fprintf(w, "      principal  %s\n", e.CSR.Principal)
			if len(e.CSR.SANs) > 0 {
				fmt.Fprintf(w, "      SANs       %s\n", strings.Join(e.CSR.SANs, ", "))
			}
			fmt.Fprintf(w, "      key        %s\n", keyString(e.CSR.Key))
			fmt.Fprintf(w, "      signature  %s\n", map[bool]string{true: "valid", false: "INVALID"}[e.CSR.SignatureValid])
		}
		if e.CRL != nil {
			fmt.Fprintf(w, "      issuer     %s\n", e.CRL.Issuer)
			if e.CRL.Number != "" {
				fmt.Fprintf(w, "      number     %s\n", e.CRL.Number)
			}
			next := ""
			if !e.CRL.NextUpdate.IsZero() {
				next = ", next update " + e.CRL.NextUpdate.Format(time.DateOnly)
			}
			fmt.Fprintf(w, "      updated    %s%s\n", e.CRL.ThisUpdate.Format(time.DateOnly), next)
			fmt.Fprintf(w, "      revoked    %d serial(s)%s\n", len(e.CRL.Revoked), listTail(e.CRL.Revoked))
		}
	}
}

func listTail(s []string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > 20 {
		return ": " + strings.Join(s[:20], ", ") + ", ..."
	}
	return ": " + strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func keyString(k inspect.KeyInfo) string {
	switch {
	case k.Type == "ECDSA" && k.Curve != "":
		return "ECDSA " + k.Curve
	case k.Bits > 0:
		return fmt.Sprintf("%s-%d", k.Type, k.Bits)
	}
	return k.Type
}

func printCert(w io.Writer, p string, c inspect.CertInfo, now time.Time) {
	fmt.Fprintf(w, "%ssubject    %s\n", p, c.Subject)
	if c.CA {
		kind := "CA"
		if c.SelfSigned {
			kind += ", self-signed"
		}
		fmt.Fprintf(w, "%sissuer     %s (%s)\n", p, c.Issuer, kind)
	} else {
		fmt.Fprintf(w, "%sissuer     %s\n", p, c.Issuer)
		fmt.Fprintf(w, "%sprincipal  %s\n", p, c.Principal)
	}
	left := c.NotAfter.Sub(now)
	state := fmt.Sprintf("%d days left", int(left.Hours()/24))
	switch {
	case left < 0:
		state = "EXPIRED"
	case now.Before(c.NotBefore):
		state = "NOT YET VALID"
	}
	fmt.Fprintf(w, "%svalid      %s to %s (%s)\n", p, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), state)
	if len(c.SANs) > 0 {
		fmt.Fprintf(w, "%sSANs       %s\n", p, strings.Join(c.SANs, ", "))
	}
	if len(c.EKU) > 0 {
		fmt.Fprintf(w, "%sEKU        %s\n", p, strings.Join(c.EKU, ", "))
	}
	if len(c.KeyUsage) > 0 {
		fmt.Fprintf(w, "%skey usage  %s\n", p, strings.Join(c.KeyUsage, ", "))
	}
	fmt.Fprintf(w, "%skey        %s, signature %s\n", p, keyString(c.Key), c.SignatureAlgorithm)
	fmt.Fprintf(w, "%sserial     %s\n", p, c.Serial)
	fmt.Fprintf(w, "%sSHA-256    %s\n", p, c.SHA256)
}
