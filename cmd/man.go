package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() { extraCommands = append(extraCommands, newManCmd) }

// newManCmd writes man pages for every command (used by `make man` and
// packagers; hidden from help).
func newManCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Args:   exactArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, &doc.GenManHeader{Title: "KAFKATLS", Section: "1", Source: "kafkatls"}, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "man pages written to %s\n", args[0])
			return nil
		},
	}
}
