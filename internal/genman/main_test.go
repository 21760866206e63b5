package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every visible command gets a page, with its flags documented.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	for page, want := range map[string]string{
		"kafkatls.1":        `.TH "KAFKATLS" "1"`,
		"kafkatls-bundle.1": `\fB--dry-run\fP`,
		"kafkatls-issue.1":  `\fB--role\fP`,
		"kafkatls-verify.1": `\fB--bootstrap\fP`,
	} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s: %v", page, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not mention %s", page, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kafkatls-man.1")); err == nil {
		t.Error("a page for a man command: the generator is no longer a kafkatls command")
	}
}
