package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newTestPKI creates a PKI directory with an ECDSA CA (fast to generate).
func newTestPKI(t *testing.T) string {
	t.Helper()
	t.Setenv("KAFKATLS_CA_PASSPHRASE", "")
	dir := filepath.Join(t.TempDir(), "pki")
	if _, stderr, code := run(t, "--dir", dir, "init", "--key-type", "ecdsa"); code != 0 {
		t.Fatalf("init: exit %d %s", code, stderr)
	}
	return dir
}

// TestUsageErrorsExit2: every bad flag value, argument or spec value is a
// usage error (exit 2), and an explicit --days 0 is refused rather than
// read as the default.
func TestUsageErrorsExit2(t *testing.T) {
	dir := newTestPKI(t)
	work := t.TempDir()
	badType := filepath.Join(work, "type.yaml")
	if err := os.WriteFile(badType, []byte("brokers:\n  - name: kafka-1\ndefaults:\n  days: ten\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badSubject := filepath.Join(work, "subject.yaml")
	if err := os.WriteFile(badSubject, []byte("clients:\n  - name: c\n    subject: CN=c,C=GBR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(work, "fresh")
	t.Setenv("KAFKATLS_TEST_SHORT_PW", "abc")
	t.Setenv("STEP_CA_URL", "") // the step-ca flags' defaults
	t.Setenv("STEP_ROOT", "")
	tests := []struct {
		name string
		args []string
		want string // in the message
	}{
		{"issue --subject syntax", []string{"--dir", dir, "issue", "c", "--subject", "CN=c,XX=1"}, "XX"},
		{"issue --subject country", []string{"--dir", dir, "issue", "c", "--subject", "CN=c,C=GBR"}, "two-letter"},
		{"init --country GBR", []string{"--dir", fresh, "init", "--country", "GBR"}, "two-letter"},
		{"init --days -1", []string{"--dir", fresh, "init", "--days", "-1"}, "--days -1"},
		{"init --days 0", []string{"--dir", fresh, "init", "--days", "0"}, "--days 0"},
		{"init --leaf-days 0", []string{"--dir", fresh, "init", "--leaf-days", "0"}, "--leaf-days 0"},
		{"init --engine step-ca without --ca-url", []string{"--dir", fresh, "init", "--engine", "step-ca", "--ca-root", badType}, "--ca-url"},
		{"init --engine step-ca without --ca-root", []string{"--dir", fresh, "init", "--engine", "step-ca", "--ca-url", "https://ca:9000"}, "--ca-root"},
		{"init --ca-url without --engine", []string{"--dir", fresh, "init", "--ca-url", "https://ca:9000"}, "--ca-url needs --engine step-ca"},
		{"init --engine vault --provisioner", []string{"--dir", fresh, "init", "--engine", "vault", "--provisioner", "kafka"}, "--provisioner needs --engine step-ca"},
		{"init --engine step-ca --setup", []string{"--dir", fresh, "init", "--engine", "step-ca", "--setup"}, "--setup needs --engine vault"},
		{"init --engine unknown", []string{"--dir", fresh, "init", "--engine", "acme"}, "vault, step-ca"},
		{"init --key-size", []string{"--dir", fresh, "init", "--key-size", "1024"}, "2048"},
		{"issue --days 0", []string{"--dir", dir, "issue", "c", "--days", "0"}, "--days 0"},
		{"issue --days -1", []string{"--dir", dir, "issue", "c", "--days", "-1"}, "--days -1"},
		{"issue --ip", []string{"--dir", dir, "issue", "b", "--role", "broker", "--ip", "10.0.0.300"}, "10.0.0.300"},
		{"issue --role", []string{"--dir", dir, "issue", "c", "--role", "admin"}, "admin"},
		{"issue connect --formats pem", []string{"--dir", dir, "issue", "w", "--role", "connect", "--formats", "pem"}, "p12 or jks"},
		{"issue --group for a client", []string{"--dir", dir, "issue", "c", "--group", "g"}, "--group: only a Connect worker"},
		{"issue connect same topics", []string{"--dir", dir, "issue", "w", "--role", "connect", "--status-topic", "connect-configs"}, "three different topics"},
		{"issue connect --port 0", []string{"--dir", dir, "issue", "w", "--role", "connect", "--port", "0"}, "--port 0"},
		{"acls both connectors", []string{"--dir", dir, "acls", "w", "--source-connector", "a", "--sink-connector", "b", "--topic", "t"}, "one connector at a time"},
		{"acls sink without topic", []string{"--dir", dir, "acls", "w", "--sink-connector", "b"}, "needs --topic"},
		{"acls sink with operations", []string{"--dir", dir, "acls", "w", "--sink-connector", "b", "--topic", "t", "--operation", "All"}, "operations are fixed"},
		{"issue --password-env short", []string{"--dir", dir, "issue", "c", "--password-env", "KAFKATLS_TEST_SHORT_PW"}, "at least 6"},
		{"csr --days 0", []string{"--dir", dir, "csr", "c", "--days", "0", "--out-dir", work}, "--days 0"},
		{"sign --days 0", []string{"--dir", dir, "sign", filepath.Join(work, "x.csr"), "--days", "0"}, "--days 0"},
		{"renew --days 0", []string{"--dir", dir, "renew", "c", "--days", "0"}, "--days 0"},
		{"ca rotate start --days 0", []string{"--dir", dir, "ca", "rotate", "start", "--days", "0"}, "--days 0"},
		{"ca rotate reissue --days 0", []string{"--dir", dir, "ca", "rotate", "reissue", "--days", "0"}, "--days 0"},
		{"bundle --days 0", []string{"--dir", dir, "bundle", "--clients", "c", "--days", "0"}, "--days 0"},
		{"spec type error", []string{"--dir", dir, "bundle", "-f", badType}, "line 4: cannot unmarshal !!str `ten` into int"},
		{"spec subject", []string{"--dir", dir, "bundle", "-f", badSubject}, "two-letter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 containing %q", code, stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.HasPrefix(tt.name, "spec subject") {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused init left %s behind (%v)", fresh, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs", "c")); !os.IsNotExist(err) {
		t.Errorf("a refused issue left certs/c behind (%v)", err)
	}
}
