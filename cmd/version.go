package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/internal/buildinfo"
)

func init() { extraCommands = append(extraCommands, newVersionCmd) }

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print which build of kafkatls this is (version, VCS revision, build time, Go)",
		Long: `Print the version of this kafkatls binary: the module version (or the one
make build stamped), the VCS revision and commit time it was built from, the
build time, and the Go toolchain. Quote it when you report a bug.
kafkatls --version prints the same on one line.`,
		Example: `  kafkatls version
  kafkatls version --json
  kafkatls --version`,
		Args: exactArgs(0, "none"),
		RunE: func(c *cobra.Command, args []string) error {
			info := buildinfo.Read()
			return g.emit(info, func(w io.Writer) {
				fmt.Fprintf(w, "kafkatls %s\n", info.Version)
				row := func(k, v string) {
					if v != "" {
						fmt.Fprintf(w, "  %-10s %s\n", k, v)
					}
				}
				rev := info.Revision
				if info.Modified {
					rev += " (modified work tree)"
				}
				row("revision", rev)
				row("committed", info.Committed)
				row("built", info.Built)
				row("go", info.Go)
				row("platform", info.Platform)
			})
		},
	}
}
