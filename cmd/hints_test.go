package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoreErrorsGetFlagHints: the core reports problems in domain words;
// the CLI message still tells the user which flag or command fixes them.
func TestCoreErrorsGetFlagHints(t *testing.T) {
	dir := newTestPKI(t)
	work := t.TempDir()
	t.Setenv("KAFKATLS_CA_PASSPHRASE", "a-good-passphrase")
	enc := filepath.Join(work, "enc")
	if _, stderr, code := run(t, "--dir", enc, "init", "--key-type", "ecdsa"); code != 0 {
		t.Fatalf("init encrypted: exit %d %s", code, stderr)
	}
	t.Setenv("KAFKATLS_CA_PASSPHRASE", "")
	for _, args := range [][]string{
		{"issue", "c"},
		{"csr", "nocn", "--subject", "OU=Apps", "--out-dir", work},
	} {
		if _, stderr, code := run(t, append([]string{"--dir", dir}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
	}
	leaf := filepath.Join(dir, "certs", "c")
	keyOnly := filepath.Join(work, "key-only")
	if _, stderr, code := run(t, "--dir", keyOnly, "init"); code != 0 {
		t.Fatalf("init: exit %d %s", code, stderr)
	}
	if err := os.Remove(filepath.Join(keyOnly, "ca", "ca.crt")); err != nil {
		t.Fatal(err)
	}
	wrongPass := filepath.Join(work, "wrong-pass")
	if err := os.WriteFile(wrongPass, []byte("not-the-passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"IP given as --dns", []string{"issue", "b", "--role", "broker", "--dns", "10.0.0.1"}, ExitUsage, "use --ip 10.0.0.1"},
		{"bad --country", []string{"--dir", filepath.Join(work, "x"), "init", "--country", "GBR"}, ExitUsage, "--country: "},
		{"bad --subject", []string{"issue", "d", "--subject", "CN=d,XX=1"}, ExitUsage, "--subject: "},
		{"server without SANs", []string{"issue", "b", "--role", "broker", "--no-default-sans"}, ExitUsage, "give --dns and/or --ip"},
		{"CSR without CN", []string{"sign", filepath.Join(work, "nocn.csr")}, ExitUsage, "--name"},
		{"--import-ca not a CA", []string{"--dir", filepath.Join(work, "y"), "init", "--import-ca", filepath.Join(leaf, "tls.crt"), "--import-key", filepath.Join(leaf, "tls.key")}, ExitUsage, "--import-ca: "},
		{"--import-key encrypted", []string{"--dir", filepath.Join(work, "z"), "init", "--import-ca", filepath.Join(enc, "ca", "ca.crt"), "--import-key", filepath.Join(enc, "ca", "ca.key")}, ExitError, "--ca-passphrase-file FILE or KAFKATLS_CA_PASSPHRASE"},
		{"--import-key wrong passphrase", []string{"--dir", filepath.Join(work, "z"), "init", "--import-ca", filepath.Join(enc, "ca", "ca.crt"), "--import-key", filepath.Join(enc, "ca", "ca.key"), "--ca-passphrase-file", wrongPass}, ExitError, "wrong CA passphrase: the CA key did not decrypt; check --ca-passphrase-file"},
		{"--days beyond the CA", []string{"issue", "e", "--days", "4000"}, ExitError, "or less, or rotate the CA"},
		{"CA exists", []string{"init"}, ExitError, "use --force"},
		{"CA exists with identities", []string{"init"}, ExitError, "to move its 1 identity to a new CA without breaking them, run `kafkatls ca rotate start`"},
		{"CA key without certificate", []string{"--dir", keyOnly, "issue", "k"}, ExitError, "`kafkatls init` will not replace the key; to give up this CA, `kafkatls init --force`"},
		{"identity exists", []string{"issue", "c"}, ExitError, "use --force to replace it"},
		{"no CA", []string{"--dir", filepath.Join(work, "none"), "issue", "c"}, ExitError, "kafkatls init --dir " + filepath.Join(work, "none")},
		{"encrypted CA key", []string{"--dir", enc, "issue", "c"}, ExitError, "--ca-passphrase-file FILE or KAFKATLS_CA_PASSPHRASE"},
		{"renew unknown", []string{"renew", "nobody"}, ExitError, "kafkatls list"},
		{"revoke unknown", []string{"revoke", "nobody"}, ExitError, "kafkatls list --all"},
		{"finish without rotation", []string{"ca", "rotate", "finish"}, ExitError, "kafkatls ca rotate status"},
		{"reissue without rotation", []string{"ca", "rotate", "reissue"}, ExitError, "kafkatls ca rotate start"},
		{"verify without a broker", []string{"verify"}, ExitError, "kafkatls issue NAME --role broker"},
		{"bad --bootstrap", []string{"verify", "--bootstrap", "nohost", "--client", "c"}, ExitUsage, "--bootstrap: "},
		{"inspect a directory", []string{"inspect", dir}, ExitError, "kafkatls lint DIR"},
		{"consumer without group", []string{"acls", "c", "--consumer", "--topic", "t"}, ExitUsage, "give --group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args[0] != "--dir" {
				args = append([]string{"--dir", dir}, args...)
			}
			_, stderr, code := run(t, args...)
			if code != tt.exit || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d containing %q", code, stderr, tt.exit, tt.want)
			}
		})
	}
}
