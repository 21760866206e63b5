// Package cmd holds kafkatls's cobra commands. Commands are thin: they
// parse flags, call the core packages and print results.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/internal/buildinfo"
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
}

// NewRoot builds the command tree; out and errOut receive normal and
// diagnostic output.
func NewRoot(out, errOut io.Writer) *cobra.Command {
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
	return root
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
	root := NewRoot(os.Stdout, os.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(os.Stderr, "kafkatls: "+err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return exitCanceled
	}
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown shorthand flag") {
		return ExitUsage // cobra's own argument errors
	}
	return ExitError
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

// emit prints v as JSON when --json is set, else calls human.
func (g *globals) emit(v any, human func(w io.Writer)) error {
	if g.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(g.stdout)
	return nil
}

// canceled is a command's error when the user interrupted it: one line,
// exit exitCanceled (the shell's 128+SIGINT), and with --json a JSON error object on stdout.
func (g *globals) canceled() error {
	if g.json {
		_ = g.emit(struct {
			Error    string `json:"error"`
			Canceled bool   `json:"canceled"`
		}{"canceled", true}, nil)
	}
	return &exitError{exitCanceled, errors.New("canceled")}
}

// warn prints a one-line warning on stderr.
func (g *globals) warn(format string, a ...any) {
	fmt.Fprintf(g.stderr, "warning: "+format+"\n", a...)
}
