package cmd

import "github.com/spf13/cobra"

// withCompletionExamples adds cobra's completion command now (cobra would
// add it lazily at Execute) so that its help can show how to install it.
func withCompletionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find([]string{"completion"})
	if err != nil || c == root {
		return
	}
	c.Example = `  # bash, this shell only / every new shell:
  source <(kafkatls completion bash)
  kafkatls completion bash > /etc/bash_completion.d/kafkatls
  # zsh (with compinit enabled):
  kafkatls completion zsh > "${fpath[1]}/_kafkatls"
  # fish:
  kafkatls completion fish > ~/.config/fish/completions/kafkatls.fish`
}
