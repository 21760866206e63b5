package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run executes the CLI in-process as main does.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// decodeOne decodes stdout as exactly one JSON document into v.
func decodeOne(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, stdout)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document:\n%s", stdout)
	}
}

// jsonErrorCases is one failing invocation per command. Every runnable
// command must have one (TestJSONErrorCoversEveryCommand).
func jsonErrorCases(dir string) []struct {
	name string
	args []string
	exit int
	code string
} {
	return []struct {
		name string
		args []string
		exit int
		code string
	}{
		{"kafkatls", []string{"bogus"}, ExitUsage, codeUsage},
		{"init", []string{"init", "--key-type", "dsa"}, ExitUsage, codeUsage},
		{"issue", []string{"issue", "c"}, ExitError, codeNotFound},
		{"csr", []string{"csr", "../evil"}, ExitUsage, codeUsage},
		{"sign", []string{"sign", filepath.Join(dir, "missing.csr")}, ExitError, codeNotFound},
		{"bundle", []string{"bundle"}, ExitUsage, codeUsage},
		{"verify", []string{"verify", "--client", "c"}, ExitUsage, codeUsage},
		{"broker", []string{"broker", "kafka-1"}, ExitError, codeError},
		{"wizard", []string{"wizard"}, ExitUsage, codeUsage},
		{"version", []string{"version", "extra"}, ExitUsage, codeUsage},
		{"list", []string{"list"}, ExitError, codeNotFound},
		{"expiring", []string{"expiring"}, ExitError, codeNotFound},
		{"renew", []string{"renew", "c"}, ExitError, codeNotFound},
		{"revoke", []string{"revoke", "c"}, ExitError, codeNotFound},
		{"reconcile", []string{"reconcile"}, ExitError, codeNotFound},
		{"ca", []string{"ca", "bogus"}, ExitUsage, codeUsage},
		{"ca rotate", []string{"ca", "rotate", "bogus"}, ExitUsage, codeUsage},
		{"ca rotate start", []string{"ca", "rotate", "start"}, ExitError, codeNotFound},
		{"ca rotate reissue", []string{"ca", "rotate", "reissue"}, ExitError, codeNotFound},
		{"ca rotate finish", []string{"ca", "rotate", "finish"}, ExitError, codeNotFound},
		{"ca rotate status", []string{"ca", "rotate", "status"}, ExitError, codeNotFound},
		{"inspect", []string{"inspect", "--password-file", "a", "--password-env", "B", "x"}, ExitUsage, codeUsage},
		{"lint", []string{"lint"}, ExitUsage, codeUsage},
		{"principal", []string{"principal", "a", "b"}, ExitUsage, codeUsage},
		{"acls", []string{"acls", "c", "--consumer", "--topic", "t"}, ExitUsage, codeUsage},
		{"completion bash", []string{"completion", "bash", "extra"}, ExitUsage, codeUsage},
		{"completion zsh", []string{"completion", "zsh", "extra"}, ExitUsage, codeUsage},
		{"completion fish", []string{"completion", "fish", "extra"}, ExitUsage, codeUsage},
		{"completion powershell", []string{"completion", "powershell", "extra"}, ExitUsage, codeUsage},
		{"unknown flag before --json", []string{"list", "--bogus"}, ExitUsage, codeUsage},
		{"mirrormaker", []string{"mirrormaker", "bogus"}, ExitUsage, codeUsage},
		{"mirrormaker config", []string{"mirrormaker", "config", "--source", "a"}, ExitUsage, codeUsage},
		{"oauth init", []string{"oauth", "init", "--alg", "HS256"}, ExitUsage, codeUsage},
		{"token", []string{"token", "c"}, ExitUsage, codeUsage},
	}
}

// TestJSONErrorOnEveryCommand: with --json every failing command prints one
// error object on stdout, with the exit code it has without --json.
func TestJSONErrorOnEveryCommand(t *testing.T) {
	t.Setenv("KAFKATLS_CA_PASSPHRASE", "")
	dir := filepath.Join(t.TempDir(), "pki")
	for _, tt := range jsonErrorCases(dir) {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--dir", dir}, tt.args...)
			_, plainErr, plainCode := run(t, args...)
			if plainCode != tt.exit {
				t.Fatalf("without --json: exit %d, want %d (%s)", plainCode, tt.exit, plainErr)
			}
			stdout, stderr, code := run(t, append(args, "--json")...)
			if code != plainCode {
				t.Errorf("--json changed the exit code: %d, without it %d", code, plainCode)
			}
			var got jsonError
			decodeOne(t, stdout, &got)
			if got.Exit != code || got.Code != tt.code || got.Error == "" {
				t.Errorf("error object %+v, want exit %d code %q and a message", got, code, tt.code)
			}
			if !strings.Contains(stderr, got.Error) {
				t.Errorf("stderr %q does not carry the message %q", stderr, got.Error)
			}
		})
	}
}

// TestJSONErrorCoversEveryCommand keeps the table above complete: a new
// command needs a failing case there.
func TestJSONErrorCoversEveryCommand(t *testing.T) {
	covered := map[string]bool{}
	for _, tt := range jsonErrorCases("") {
		covered[tt.name] = true
	}
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), "kafkatls"), " ")
		if name == "" {
			name = "kafkatls"
		}
		if c.Runnable() && !covered[name] {
			missing = append(missing, name)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := NewRoot(io.Discard, io.Discard)
	root.InitDefaultCompletionCmd()
	walk(root)
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("commands without a --json error case: %s", strings.Join(missing, ", "))
	}
}

// TestJSONErrorCodes: the code of the error object for the core's errors.
func TestJSONErrorCodes(t *testing.T) {
	dir := newTestPKI(t)
	if _, stderr, code := run(t, "--dir", dir, "issue", "c"); code != 0 {
		t.Fatalf("issue: exit %d %s", code, stderr)
	}
	tests := []struct {
		name string
		args []string
		code string
	}{
		{"CA exists", []string{"init"}, codeExists},
		{"identity exists", []string{"issue", "c"}, codeExists},
		{"no such certificate", []string{"renew", "nobody"}, codeNotFound},
		{"no such CSR", []string{"sign", filepath.Join(dir, "nope.csr")}, codeNotFound},
		{"bad value", []string{"issue", "d", "--ip", "x"}, codeUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, _ := run(t, append([]string{"--dir", dir, "--json"}, tt.args...)...)
			var got jsonError
			decodeOne(t, stdout, &got)
			if got.Code != tt.code {
				t.Errorf("code %q, want %q (%s)", got.Code, tt.code, got.Error)
			}
		})
	}
}

// TestJSONReportIsTheOnlyDocument: a command that prints its report and
// then fails with its exit code (expiring: 3) adds no error object.
func TestJSONReportIsTheOnlyDocument(t *testing.T) {
	t.Setenv("KAFKATLS_CA_PASSPHRASE", "")
	dir := filepath.Join(t.TempDir(), "pki")
	if _, stderr, code := run(t, "--dir", dir, "init", "--key-type", "ecdsa", "--days", "10"); code != 0 {
		t.Fatalf("init: exit %d %s", code, stderr)
	}
	stdout, _, code := run(t, "--dir", dir, "expiring", "--within", "30d", "--json")
	if code != ExitChanges {
		t.Fatalf("expiring: exit %d, want %d", code, ExitChanges)
	}
	var rep struct {
		Within   string            `json:"within"`
		Expiring []json.RawMessage `json:"expiring"`
	}
	decodeOne(t, stdout, &rep)
	if len(rep.Expiring) != 1 {
		t.Errorf("report lists %d expiring certificates, want the CA", len(rep.Expiring))
	}
}
