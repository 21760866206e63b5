package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/engine"
	"github.com/kafkatls/kafkatls/pki"
)

func init() { extraCommands = append(extraCommands, newReconcileCmd) }

// reconcileReport is reconcile's --json document.
type reconcileReport struct {
	Engine string `json:"engine"`
	// CannotList: the engine has no API that lists what it signed
	// (step-ca): a lost answer cannot be reconciled.
	CannotList bool `json:"cannotList"`
	*pki.ReconcileResult
	// Unfound are the sought requests for which the engine holds no
	// certificate (every certificate read): it never signed them.
	Unfound []pki.Record `json:"unfound"`
}

func newReconcileCmd(g *globals) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "reconcile",
		Short: "Find at the engine the certificates whose answer was lost, and record them in the index",
		Long: `reconcile asks the engine that signs for this PKI directory (Vault/OpenBao)
for the certificates it holds that the index does not name, and records those
issued for the key of a request whose answer never arrived (a 5xx or a cut
connection after the engine signed, a run killed while it waited) or that was
sent twice (a retry after such an answer). Each is recorded unplaced: list
shows it, revoke NAME revokes it at the engine.

Every write to the directory (issue, bundle, renew, revoke...) does the same on
its own when such a request was never looked for; reconcile looks again for all
of them and prints what it found.

It needs the token to list and read the mount's certificates (LIST MOUNT/certs,
READ MOUNT/cert/*: see docs/engines.md). step-ca has no API that lists the
certificates it signed: for a step-ca directory reconcile says which requests
it cannot find (exit 1), or that there are none. A local CA records every
serial before signing: there is nothing to reconcile.`,
		Example: `  kafkatls reconcile
  kafkatls reconcile --limit 0 --json`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usageErr("--limit %d: must be 0 (no limit) or more", limit)
			}
			var rep reconcileReport
			var rerr error
			err := pki.Update(cmd.Context(), g.dir, pki.UpdateOptions{Engines: g.engines(), NoAutoReconcile: true}, func(tx *pki.Tx) error {
				if tx.PKI.External() {
					rep.Engine = tx.PKI.Settings.Engine.String()
					rep.CannotList = tx.PKI.Settings.Engine.Type == engine.TypeStepCA
				}
				rep.ReconcileResult, rerr = tx.Reconcile(true, limit)
				if rerr != nil && !errors.Is(rerr, pki.ErrEngineCannotList) {
					return rerr
				}
				return nil
			})
			if err != nil {
				return err
			}
			if rerr == nil && rep.CannotList && len(rep.Sought) == 0 {
				return g.emit(rep, func(w io.Writer) {
					fmt.Fprintf(w, "Nothing to reconcile: every request sent to %s came back with its serial.\n", rep.Engine)
					fmt.Fprintln(w, "(step-ca has no API that lists the certificates it signed: a lost answer could not be reconciled.)")
				})
			}
			if rerr != nil { // step-ca, with requests whose answer was lost
				rep.CannotList = true
				return fmt.Errorf("%w: kafkatls cannot find the certificates of %d request(s) whose answer was lost: %s; "+
					"step-ca keeps every certificate it signs in its database: find them there (or by the request time in step-ca's log) and revoke them with `step ca revoke SERIAL`",
					rerr, len(rep.Sought), describeSought(rep.Sought))
			}
			rep.Unfound = []pki.Record{}
			if rep.Complete {
				for _, s := range rep.Sought {
					if !foundFor(rep.Found, s) {
						rep.Unfound = append(rep.Unfound, s)
					}
				}
			}
			return g.emit(rep, func(w io.Writer) {
				if rep.Engine == "" {
					fmt.Fprintln(w, "A local CA signs here: every serial is in the index before it is signed; nothing to reconcile.")
					return
				}
				if len(rep.Sought) == 0 {
					fmt.Fprintf(w, "Nothing to reconcile: every request sent to %s is in the index by its serial.\n", rep.Engine)
					return
				}
				fmt.Fprintf(w, "Looked at %s for %d request(s) whose answer was lost or sent twice: %s\n", rep.Engine, len(rep.Sought), describeSought(rep.Sought))
				fmt.Fprintf(w, "Read %d certificate(s) the index did not name.\n", rep.Read)
				if len(rep.Found) == 0 {
					fmt.Fprintln(w, "Found none for these keys.")
				} else {
					fmt.Fprintf(w, "Recorded %d certificate(s) (revoke NAME revokes them at the engine):\n", len(rep.Found))
					tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tROLE\tSERIAL\tNOT AFTER\tSTATUS")
					for _, r := range rep.Found {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Role, r.Serial, r.NotAfter.Format(time.DateOnly), r.Status)
					}
					tw.Flush()
				}
				if !rep.Complete {
					fmt.Fprintf(w, "Stopped after %d certificate(s) (--limit): run again with --limit 0 to read them all.\n", rep.Read)
				}
				for _, r := range rep.Unfound {
					if r.Serial == "" {
						fmt.Fprintf(w, "%s: the engine holds no certificate for key sha256 %s: the request never reached it, or was refused.\n", r.Name, r.EngineKey)
					}
				}
			})
		},
	}
	c.Flags().IntVar(&limit, "limit", pki.DefaultReconcileLimit, "read at most this many certificates the index does not name (0: all)")
	return c
}

// foundFor reports whether found holds a certificate for s's key.
func foundFor(found []pki.Record, s pki.Record) bool {
	for _, f := range found {
		if f.EngineKey == s.EngineKey {
			return true
		}
	}
	return false
}

// describeSought names sought requests: "c1 (key sha256 0123456789abcdef…, sent 2026-12-03 19:40)".
func describeSought(recs []pki.Record) string {
	var s []string
	for _, r := range recs {
		d := fmt.Sprintf("%s (key sha256 %s", r.Name, r.EngineKey)
		if r.Serial != "" {
			d += ", serial " + r.Serial + " and perhaps another"
		}
		s = append(s, d+", sent "+r.IssuedAt.Format("2006-01-02 15:04")+" UTC)")
	}
	return strings.Join(s, "; ")
}
