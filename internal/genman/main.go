// Command genman writes a man page for every kafkatls command (cobra/doc)
// into the directory given; `make man` runs it. It is a program of its own,
// not a hidden kafkatls command, so that the markdown renderer cobra/doc
// pulls in is not linked into (and initialised by) every kafkatls run.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/kafkatls/kafkatls/cmd"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genman DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "man pages written to %s\n", os.Args[1])
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := cmd.NewRoot(io.Discard, io.Discard)
	root.DisableAutoGenTag = true
	return doc.GenManTree(root, &doc.GenManHeader{Title: "KAFKATLS", Section: "1", Source: "kafkatls"}, dir)
}
