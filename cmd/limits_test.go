package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputsAreBounded: every input a user names is read with a limit.
// Pointed at a huge file or at /dev/zero, each fails at once with a message
// naming the file and the limit, instead of growing memory until killed.
// The /dev/zero run of an input only happens once its huge-file run passed,
// so an unbounded reader fails the test instead of exhausting memory.
func TestInputsAreBounded(t *testing.T) {
	dir := newTestPKI(t)
	work := t.TempDir()
	huge := filepath.Join(work, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	some := filepath.Join(dir, "ca.crt") // an existing file, for arguments
	fresh := filepath.Join(work, "fresh")
	spec := func(name, body string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, stderr, code := run(t, "--dir", dir, "issue", "kafka-1", "--role", "broker", "--formats", "pem"); code != 0 {
		t.Fatalf("issue: exit %d %s", code, stderr)
	}
	tests := []struct {
		name  string
		args  func(in string) []string
		limit string
	}{
		{"--ca-passphrase-file", func(in string) []string {
			return []string{"--dir", fresh, "init", "--ca-passphrase-file", in}
		}, "4 KiB"},
		{"issue --password-file", func(in string) []string {
			return []string{"--dir", dir, "issue", "c", "--password-file", in}
		}, "4 KiB"},
		{"inspect --password-file", func(in string) []string {
			return []string{"--dir", dir, "inspect", some, "--password-file", in}
		}, "4 KiB"},
		{"principal --password-file", func(in string) []string {
			return []string{"--dir", dir, "principal", some, "--password-file", in}
		}, "4 KiB"},
		{"lint --password-file", func(in string) []string {
			return []string{"--dir", dir, "lint", some, "--password-file", in}
		}, "4 KiB"},
		{"init --import-ca", func(in string) []string {
			return []string{"--dir", fresh, "init", "--import-ca", in, "--import-key", some}
		}, "1 MiB"},
		{"init --import-key", func(in string) []string {
			return []string{"--dir", fresh, "init", "--import-ca", some, "--import-key", in}
		}, "1 MiB"},
		{"ca rotate start --import-ca", func(in string) []string {
			return []string{"--dir", dir, "ca", "rotate", "start", "--import-ca", in, "--import-key", some}
		}, "1 MiB"},
		{"sign CSR", func(in string) []string {
			return []string{"--dir", dir, "sign", in}
		}, "1 MiB"},
		{"lint --ca", func(in string) []string {
			return []string{"--dir", dir, "lint", some, "--ca", in}
		}, "1 MiB"},
		{"bundle -f", func(in string) []string {
			return []string{"--dir", dir, "bundle", "-f", in}
		}, "4 MiB"},
		{"broker --spec", func(in string) []string {
			return []string{"--dir", dir, "broker", "kafka-1", "--acls", "--spec", in}
		}, "4 MiB"},
		{"verify --client-dir keystore", func(in string) []string {
			cd := filepath.Join(work, "client-"+filepath.Base(in))
			if err := os.MkdirAll(cd, 0o700); err != nil {
				t.Fatal(err)
			}
			placeInside(t, in, filepath.Join(cd, "keystore.p12"))
			return []string{"--dir", dir, "verify", "--bootstrap", "127.0.0.1:1", "--client-dir", cd}
		}, "32 MiB"},
		{"spec password.file", func(in string) []string {
			return []string{"--dir", dir, "bundle", "--dry-run", "-f", spec("pw-"+filepath.Base(in)+".yaml", "clients:\n  - name: c\n    password:\n      file: "+in+"\n")}
		}, "4 KiB"},
		{"spec ca.importCert", func(in string) []string {
			return []string{"--dir", fresh, "bundle", "-f", spec("ca-"+filepath.Base(in)+".yaml", "ca:\n  importCert: "+in+"\n  importKey: "+some+"\nclients:\n  - name: c\n")}
		}, "1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, in := range []string{huge, "/dev/zero"} {
				if !t.Run(filepath.Base(in), func(t *testing.T) {
					_, stderr, code := run(t, tt.args(in)...)
					file := in
					if strings.HasPrefix(tt.name, "verify") {
						file = filepath.Join(work, "client-"+filepath.Base(in), "keystore.p12")
					}
					want := file + " is larger than " + tt.limit
					if strings.HasPrefix(tt.name, "verify") && in == "/dev/zero" {
						want = file + " is a symbolic link" // see placeInside
					}
					if code == 0 || !strings.Contains(stderr, want) {
						t.Errorf("exit %d, stderr %q; want a failure containing %q", code, stderr, want)
					}
				}) {
					return // never feed /dev/zero to a reader that read a huge file whole
				}
			}
		})
	}
	// Files inside the PKI directory are inputs too (--dir can be anything).
	for _, in := range []string{huge, "/dev/zero"} {
		if !t.Run("renew password file "+filepath.Base(in), func(t *testing.T) {
			if _, stderr, code := run(t, "--dir", dir, "issue", "r", "--force"); code != 0 {
				t.Fatalf("issue: exit %d %s", code, stderr)
			}
			pw := filepath.Join(dir, "certs", "r", "password")
			os.Remove(pw)
			placeInside(t, in, pw)
			_, stderr, code := run(t, "--dir", dir, "renew", "r")
			want := pw + " is larger than 4 KiB"
			if in == "/dev/zero" {
				want = pw + " is a symbolic link"
			}
			if code == 0 || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr %q; want a failure containing %q", code, stderr, want)
			}
		}) {
			break
		}
	}
	if t.Failed() {
		return // bundle -f may be unbounded: keep /dev/zero away from it
	}
	stdout, _, code := run(t, "--dir", dir, "--json", "bundle", "-f", "/dev/zero")
	if code != ExitError || !strings.Contains(stdout, `"code": "too_large"`) {
		t.Errorf("--json: exit %d, stdout %q; want exit 1 and code too_large", code, stdout)
	}
}

// placeInside puts input in at path inside an identity directory: a huge
// regular file as a sparse file of the same size (a link there would be
// refused before any read), /dev/zero as a link to it, which the no-follow
// reader must refuse instead of reading forever.
func placeInside(t *testing.T, in, path string) {
	t.Helper()
	if in == "/dev/zero" {
		if err := os.Symlink(in, path); err != nil {
			t.Fatal(err)
		}
		return
	}
	st, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(st.Size()); err != nil {
		t.Fatal(err)
	}
}
