package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/verify"
	"github.com/kafkatls/kafkatls/wizard"
)

// exitCanceled is the exit code of a wizard canceled with Ctrl-C (128+SIGINT).
const exitCanceled = 130

func init() {
	extraCommands = append(extraCommands, newWizardCmd)
	// A bare `kafkatls` on a terminal starts the wizard; otherwise help.
	bareRun = func(g *globals, c *cobra.Command) error {
		if !wizardTTY() {
			return c.Help()
		}
		return runWizard(g, c, &caPassphrase{})
	}
	wizard.Verify = verifyForWizard
}

func newWizardCmd(g *globals) *cobra.Command {
	var pass caPassphrase
	c := &cobra.Command{
		Use:   "wizard",
		Short: "Build a cluster's TLS bundle interactively (also: bare `kafkatls` on a terminal)",
		Long: `wizard asks for the PKI directory (reusing a CA found there), the CA subject
and key type, the cluster mode, brokers with their advertised hostnames and
IPs (showing each one's SANs), controllers or ZooKeeper nodes, clients with
optional topic/group grants, the client runtimes (which decide the store
formats and PKCS12 compatibility), the password policy and a container mount
path. It shows exactly which files and principals will be produced, writes
DIR/kafkatls.yaml, runs the same code as ` + "`kafkatls bundle -f`" + ` with a progress
view, verifies the result and prints the next steps.

Esc goes back a step; Ctrl-C before generation quits with nothing written,
during generation it stops after the identities in progress (each is
written whole). It needs a terminal: scripts and CI use ` + "`kafkatls bundle`" + `.

Exit codes: 0 ok, 1 error or failed verify, 2 no terminal, 130 canceled.`,
		Example: `  kafkatls wizard
  kafkatls wizard --dir /srv/kafka-pki
  kafkatls            # on a terminal: the same wizard`,
		Args: exactArgs(0, "none"),
		RunE: func(c *cobra.Command, _ []string) error {
			if !wizardTTY() {
				return usageErr("the wizard needs a terminal on stdin and stdout; for scripts and CI use `kafkatls bundle` (see `kafkatls bundle --help`)")
			}
			return runWizard(g, c, &pass)
		},
	}
	pass.register(c)
	return c
}

func wizardTTY() bool { return isTerminal(os.Stdin) && isTerminal(os.Stdout) }

func runWizard(g *globals, c *cobra.Command, pass *caPassphrase) error {
	pp, err := pass.get()
	if err != nil {
		return err
	}
	out, err := wizard.Run(c.Context(), wizard.Options{Dir: g.dir, CAPassphrase: pp, NoColor: g.noColor, VaultTokenFile: g.vaultTokenFile, ProvisionerPasswordFile: g.stepPasswordFile})
	if err != nil {
		return err
	}
	switch {
	case out.Canceled:
		return &exitError{exitCanceled, errors.New("wizard canceled: nothing was written")}
	case out.Interrupted:
		return &exitError{exitCanceled, errors.New(out.Recap)}
	}
	fmt.Fprintln(g.stdout, out.Recap)
	switch {
	case out.Err != nil:
		return out.Err
	case out.VerifyRan && errors.Is(out.VerifyErr, context.Canceled):
		return &exitError{exitCanceled, fmt.Errorf("verify canceled; the bundle in %s is written", out.Dir)}
	case out.VerifyRan && out.VerifyErr != nil:
		return fmt.Errorf("the bundle is written but verify could not run: %w", out.VerifyErr)
	case out.VerifyRan && !out.VerifyOK:
		return fmt.Errorf("the bundle is written but verify found problems (see above); re-check with `kafkatls verify --dir %s`", out.Dir)
	}
	return nil
}

// verifyForWizard runs verify.Bundle and condenses its report: one line per
// test-broker server, one per identity that connected, one per failure.
func verifyForWizard(ctx context.Context, dir string) ([]string, bool, error) {
	rep, err := verify.Bundle(ctx, verify.Options{Dir: dir})
	if err != nil {
		return nil, false, err
	}
	type tally struct{ ok, total, accepted, refused int }
	per := map[string]*tally{}
	var servers, lines, fails []string
	seen := map[string]bool{}
	var ids []string
	for _, ch := range rep.Checks {
		t := per[ch.Server]
		if t == nil {
			t = &tally{}
			per[ch.Server] = t
			servers = append(servers, ch.Server)
		}
		t.total++
		if ch.OK {
			t.ok++
			if ch.Expect == verify.ExpectAccept {
				t.accepted++
				if ch.Principal != "" && !seen[ch.Identity] {
					seen[ch.Identity] = true
					ids = append(ids, fmt.Sprintf("%s (%s) connects as %s, %s", ch.Identity, ch.Role, ch.Principal, ch.TLSVersion))
				}
			} else {
				t.refused++
			}
			continue
		}
		fails = append(fails, fmt.Sprintf("FAIL %s via %s (%s): expected %s, got %s. %s", ch.Identity, ch.Server, ch.Store, ch.Expect, ch.Result, ch.Diagnosis))
	}
	for _, s := range servers {
		t := per[s]
		name := s
		if name == "" {
			name = "(bundle)"
		}
		lines = append(lines, fmt.Sprintf("test broker with %s's stores: %d/%d checks ok (%d connections accepted, %d bad certificates refused)", name, t.ok, t.total, t.accepted, t.refused))
	}
	lines = append(append(lines, ids...), fails...)
	return lines, rep.Passed, nil
}
