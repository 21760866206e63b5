// Package cmd holds kafkatls's cobra commands. Commands are thin: they
// parse flags, call the core packages and print results.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/buildinfo"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/lifecycle"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

// Exit codes, documented in docs/cli.md.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitChanges = 3 // bundle --check: something would change; expiring: something expires
)

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{ExitUsage, fmt.Errorf(format, a...)}
}

// globals are the flags every command shares.
type globals struct {
	dir     string
	json    bool
	stdout  io.Writer
	stderr  io.Writer
	noColor bool
	// emitted says a JSON document is already on stdout (a command such as
	// lint or expiring prints its report, then fails with its exit code):
	// Run then prints no error object, so stdout stays one document.
	emitted bool
	// vaultTokenFile holds the engine token (else VAULT_TOKEN).
	vaultTokenFile string
	// stepPasswordFile holds the step-ca provisioner password (else the
	// file STEP_PROVISIONER_PASSWORD_FILE names).
	stepPasswordFile string
}

// NewRoot builds the command tree; out and errOut receive normal and
// diagnostic output.
func NewRoot(out, errOut io.Writer) *cobra.Command {
	root, _ := newRoot(out, errOut)
	return root
}

func newRoot(out, errOut io.Writer) (*cobra.Command, *globals) {
	g := &globals{stdout: out, stderr: errOut, noColor: os.Getenv("NO_COLOR") != ""}
	root := &cobra.Command{
		Use:   "kafkatls",
		Short: "Secure Apache Kafka with mutual TLS: a local PKI that writes every store and config",
		Long: `kafkatls creates a local CA and issues certificates for Kafka brokers, KRaft
controllers, ZooKeeper nodes and clients, writing for each: JKS and PKCS12
keystores and truststores, PEM files, a generated password, the exact Kafka
principal, and ready-to-use configs (server.properties, client.properties,
kcat.conf, zoo.cfg). Hostname verification stays on everywhere.`,
		Example: `  kafkatls init
  kafkatls issue kafka-1 --role broker --dns kafka-1.example.com
  kafkatls issue client1`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Read().String(),
	}
	root.SetVersionTemplate("kafkatls {{.Version}}\n")
	root.SetOut(out)
	root.SetErr(errOut)
	defDir := os.Getenv("KAFKATLS_DIR")
	if defDir == "" {
		defDir = "kafka-pki"
	}
	root.PersistentFlags().StringVar(&g.dir, "dir", defDir, "PKI directory (env KAFKATLS_DIR)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON on stdout")
	root.PersistentFlags().StringVar(&g.vaultTokenFile, "vault-token-file", "", "engine token file (mode 0600), for a directory a Vault/OpenBao engine signs for (default VAULT_TOKEN)")
	root.PersistentFlags().StringVar(&g.stepPasswordFile, "provisioner-password-file", "", "step-ca provisioner password file (mode 0600), for a directory a step-ca signs for (default: the file STEP_PROVISIONER_PASSWORD_FILE names)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{ExitUsage, fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	root.AddCommand(newInitCmd(g), newIssueCmd(g), newCSRCmd(g), newSignCmd(g))
	for _, extra := range extraCommands {
		root.AddCommand(extra(g))
	}
	withCompletionExamples(root)
	root.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErr("unknown command %q (see `kafkatls --help`)", args[0])
		}
		if bareRun != nil {
			return bareRun(g, c)
		}
		return c.Help()
	}
	return root, g
}

// bareRun, if set, runs for a bare `kafkatls` (the wizard registers itself
// here and falls back to help when stdin/stdout are not terminals).
var bareRun func(g *globals, c *cobra.Command) error

// extraCommands lets other files register commands without editing NewRoot.
var extraCommands []func(*globals) *cobra.Command

// Execute runs the CLI and returns the process exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Run executes the command line args and returns the exit code. It is the
// one place a failure is reported: a one-line message on stderr, and with
// --json one error object on stdout (see jsonError), with the same exit
// code either way.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, g := newRoot(stdout, stderr)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code, kind := classify(err)
	msg := explain(err, c, g)
	fmt.Fprintln(stderr, "kafkatls: "+msg)
	if (g.json || jsonRequested(args)) && !g.emitted {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(jsonError{Error: msg, Code: kind, Exit: code})
	}
	return code
}

// jsonError is what --json prints on stdout when a command fails before
// printing its result. docs/cli.md documents it; scripts rely on its shape.
type jsonError struct {
	Error string `json:"error"` // the message also printed on stderr
	Code  string `json:"code"`  // a stable word: see classify
	Exit  int    `json:"exit"`  // the process exit code
}

// Error codes of jsonError.
const (
	codeUsage      = "usage"      // exit 2: a bad flag, argument or spec value
	codeChanges    = "changes"    // exit 3: bundle --check, expiring, lint warnings
	codeCanceled   = "canceled"   // interrupted (Ctrl-C, SIGTERM)
	codeNotFound   = "not_found"  // a file, directory, CA or identity that is not there
	codeExists     = "exists"     // refusing to replace something
	codeTooLarge   = "too_large"  // an input over its read limit
	codePermission = "permission" // the file system refused
	codeError      = "error"      // anything else
)

// classify maps an error to its exit code and jsonError code.
func classify(err error) (int, string) {
	code := ExitError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case isInvalidInput(err):
		code = ExitUsage
	case cobraUsage(err.Error()):
		code = ExitUsage
	}
	switch {
	case code == ExitUsage:
		return code, codeUsage
	case code == ExitChanges:
		return code, codeChanges
	case code == exitCanceled || errors.Is(err, context.Canceled):
		return exitCanceled, codeCanceled
	case errors.Is(err, fsx.ErrTooLarge):
		return code, codeTooLarge
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, pki.ErrNoCA) || errors.Is(err, lifecycle.ErrNoCertificate) ||
		errors.Is(err, identity.ErrNotIssued) || errors.Is(err, identity.ErrNoIdentities):
		return code, codeNotFound
	case errors.Is(err, fs.ErrExist) || errors.Is(err, identity.ErrExists) || errors.Is(err, pki.ErrCAExists):
		return code, codeExists
	case errors.Is(err, fs.ErrPermission):
		return code, codePermission
	}
	return code, codeError
}

// isInvalidInput says err is the core refusing a value the user gave (a
// flag, an argument, a spec field): a usage error, exit 2.
func isInvalidInput(err error) bool {
	var fe *pki.InvalidFieldError
	var de *principal.DNError
	var se *bundle.InvalidSpecError
	return errors.As(err, &fe) || errors.As(err, &de) || errors.As(err, &se)
}

// cobraUsage recognizes the argument errors cobra itself returns (flag
// errors already go through the root's FlagErrorFunc).
func cobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown shorthand flag", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// jsonRequested says whether args ask for --json, for errors cobra reports
// before it has parsed the flags (an unknown flag placed before --json).
func jsonRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" {
			return true
		}
		if v, ok := strings.CutPrefix(a, "--json="); ok {
			b, err := strconv.ParseBool(v)
			return err == nil && b
		}
	}
	return false
}

// exactArgs is cobra.ExactArgs with a usage exit code and a clearer message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s takes %d argument (%s), got %d (see `%s --help`)", c.CommandPath(), n, what, len(args), c.CommandPath())
		}
		return nil
	}
}

// positiveDays refuses an explicit day-count flag below 1. The core reads 0
// as "the default", so without this --days 0 would silently mean 365.
func positiveDays(c *cobra.Command, names ...string) error {
	for _, n := range names {
		if f := c.Flags().Lookup(n); f != nil && f.Changed {
			if v, err := c.Flags().GetInt(n); err == nil && v < 1 {
				return usageErr("--%s %d: must be at least 1 (leave it out for the default)", n, v)
			}
		}
	}
	return nil
}

// emit prints v as JSON when --json is set, else calls human.
func (g *globals) emit(v any, human func(w io.Writer)) error {
	if g.json {
		g.emitted = true
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(g.stdout)
	return nil
}

// canceled is a command's error when the user interrupted it: one line,
// exit exitCanceled (the shell's 128+SIGINT); Run prints it, and with --json its error object.
func (g *globals) canceled() error {
	return &exitError{exitCanceled, errors.New("canceled")}
}

// warn prints a one-line warning on stderr.
func (g *globals) warn(format string, a ...any) {
	fmt.Fprintf(g.stderr, "warning: "+format+"\n", a...)
}
