package cmd

import (
	"io"
	"testing"

	"github.com/spf13/cobra"
)

// Every command a user can reach shows examples in its --help.
func TestEveryCommandHasExamples(t *testing.T) {
	root := NewRoot(io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Parent().Name() == "completion" {
				continue
			}
			t.Run(sub.CommandPath(), func(t *testing.T) {
				if sub.Example == "" {
					t.Errorf("%s --help has no examples", sub.CommandPath())
				}
			})
			walk(sub)
		}
	}
	walk(root)
}
