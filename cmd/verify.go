package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/verify"
)

func init() { extraCommands = append(extraCommands, newVerifyCmd) }

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		rules      string
		bootstrap  string
		client     string
		clientDir  string
		topic      string
		serverName string
		timeout    time.Duration
	)
	c := &cobra.Command{
		Use:   "verify",
		Short: "Prove every handshake of a bundle, or diagnose a client against a real broker",
		Long: `Without --bootstrap, verify first checks that every identity's configs,
password file and stores agree and chain to ca.crt (lint's checks), then
starts the bundled test broker (a Kafka-protocol
broker on an mTLS listener) with each broker's and controller's own keystore,
then connects every identity with each store format it has (JKS, PKCS12, PEM):
ApiVersions, Metadata, produce and consume of a probe record. It also checks
that bad clients are refused: no certificate, a foreign CA, an expired
certificate, no clientAuth EKU, a host missing from the broker's SANs, and a
plaintext client. When the PKI directory has SASL identities, the test
broker also serves a SASL_SSL listener: each SCRAM identity logs in with its
scram-password file, each OAUTHBEARER identity with its token.jwt (checked
against DIR/oauth/jwks.json), and a wrong SCRAM password, an expired token,
a token signed by another key and a token for another audience must each be
refused for that reason. Exit 1 if any expectation fails.

With --bootstrap HOST:PORT and --client NAME (or --client-dir), verify checks
the client's stores locally, dials the real broker, reports its certificate
chain, SAN match, TLS version and cipher, runs ApiVersions and Metadata, and
turns each failure into a diagnosis with a fix. For a SASL identity
(auth.txt), dial the SASL_SSL listener: verify checks its token (expiry,
clock skew, issuer, audience, key) or reads its SCRAM password; a client of
an external IdP first gets its token from the IdP's token endpoint as Kafka
would (client credentials, trusting the IdP's CA file) and checks it against
idp.json and the IdP's JWKS (unreachable, untrusted, wrong client secret,
claim mismatch, clock skew, unknown key are each named); then it logs in
and tells a refused login (no or another SCRAM credential, token refused by
the broker's JWKS, issuer, audience or allow-list settings) from TLS
trouble, an unreachable broker or a listener that is not SASL_SSL.`,
		Example: `  kafkatls verify
  kafkatls verify --principal-mapping-rules 'RULE:^CN=([^,]+).*$/$1/L,DEFAULT'
  kafkatls verify --bootstrap kafka-1.example.com:9093 --client client1
  kafkatls verify --bootstrap 10.0.0.11:9093 --client-dir ./client1 --topic orders --json
  kafkatls verify --bootstrap kafka-1.example.com:9095 --client alice   # a SCRAM or OAUTHBEARER identity`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bootstrap == "" {
				if client != "" || clientDir != "" || topic != "" {
					return usageErr("--client, --client-dir and --topic go with --bootstrap")
				}
				return runVerifyBundle(g, cmd, rules, timeout)
			}
			if client == "" && clientDir == "" {
				return usageErr("--bootstrap needs the client to test: --client NAME or --client-dir DIR")
			}
			if clientDir == "" {
				clientDir = identity.Dir(g.dir, client)
			}
			return runVerifyRemote(g, cmd, verify.RemoteOptions{Bootstrap: bootstrap, ClientDir: clientDir, Topic: topic, Rules: rules, ServerName: serverName, Timeout: timeout})
		},
	}
	f := c.Flags()
	f.StringVar(&rules, "principal-mapping-rules", "", "ssl.principal.mapping.rules to apply (Kafka syntax; default DEFAULT)")
	f.StringVar(&bootstrap, "bootstrap", "", "a real broker's SSL listener HOST:PORT (its SASL_SSL listener for a SASL identity)")
	f.StringVar(&client, "client", "", "identity in the PKI directory to test with --bootstrap")
	f.StringVar(&clientDir, "client-dir", "", "identity directory (as written by kafkatls) to test with --bootstrap")
	f.StringVar(&topic, "topic", "", "with --bootstrap: also check the client may describe this topic")
	f.StringVar(&serverName, "server-name", "", "with --bootstrap: verify the broker certificate against this name (default: the bootstrap host)")
	f.DurationVar(&timeout, "timeout", 15*time.Second, "bound for each connection check")
	return c
}

func runVerifyBundle(g *globals, cmd *cobra.Command, rules string, timeout time.Duration) error {
	o := verify.Options{Dir: g.dir, Rules: rules, Timeout: timeout}
	if !g.json {
		fmt.Fprintf(g.stderr, "Verifying %s with the test broker...\n", g.dir)
	}
	rep, err := verify.Bundle(cmd.Context(), o)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return g.canceled()
		}
		return err
	}
	if err := g.emit(rep, func(w io.Writer) { printChecks(w, rep) }); err != nil {
		return err
	}
	if !rep.Passed {
		return fmt.Errorf("verify: %d of %d checks failed (marked FAIL above)", failed(rep), len(rep.Checks))
	}
	return nil
}

func failed(rep *verify.Report) int {
	n := 0
	for _, c := range rep.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

func printChecks(w io.Writer, rep *verify.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSERVER\tIDENTITY\tSTORE\tEXPECT\tRESULT\tTLS\tPRINCIPAL / DIAGNOSIS")
	for _, c := range rep.Checks {
		mark := "ok"
		if !c.OK {
			mark = "FAIL"
		}
		detail := c.Principal
		if c.Diagnosis != "" {
			detail = c.Diagnosis
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, c.Server, c.Identity, c.Store, c.Expect, c.Result, c.TLSVersion, detail)
	}
	tw.Flush()
	if rep.Passed {
		fmt.Fprintf(w, "All %d checks passed: every identity connects with every store format (SASL identities with their credentials), and bad certificates and credentials are refused.\n", len(rep.Checks))
	}
}

func runVerifyRemote(g *globals, cmd *cobra.Command, o verify.RemoteOptions) error {
	rep, err := verify.Remote(cmd.Context(), o)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return g.canceled()
		}
		return err
	}
	if err := g.emit(rep, func(w io.Writer) {
		fmt.Fprintf(w, "Client %s (%s store) -> %s\n  principal  %s\n", rep.Client, rep.Store, rep.Bootstrap, rep.Principal)
		for i, c := range rep.ServerChain {
			fmt.Fprintf(w, "  broker cert %d  %s (issuer %s, %s, until %s)\n", i, c.Subject, c.Issuer, c.SANs, c.NotAfter.Format(time.DateOnly))
		}
		for _, f := range rep.Findings {
			mark := "ok  "
			switch {
			case !f.OK:
				mark = "FAIL"
			case f.Warning:
				mark = "warn"
			}
			fmt.Fprintf(w, "%s %-22s %s\n", mark, f.Step, f.Message)
			if f.Fix != "" && (!f.OK || f.Warning) {
				fmt.Fprintf(w, "     %-22s fix: %s\n", "", f.Fix)
			}
		}
		if rep.Passed {
			how := "mutual TLS"
			if m, ok := strings.CutPrefix(rep.Store, "SASL "); ok {
				how = "SASL_SSL with " + m
			}
			fmt.Fprintf(w, "The client can talk to this broker over %s.\n", how)
		}
	}); err != nil {
		return err
	}
	if !rep.Passed {
		return fmt.Errorf("verify: %s cannot use %s (see FAIL above)", rep.Client, rep.Bootstrap)
	}
	return nil
}
