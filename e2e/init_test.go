package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitNeverDestroysTheCAKey is the reported repro: with ca/ca.crt gone
// and ca/ca.key present, init used to exit 0 having overwritten the key.
// Now every command names the missing file, init refuses and changes
// nothing, and init --force keeps the old key aside and says what it
// orphaned.
func TestInitNeverDestroysTheCAKey(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "init", "--dir", "p")
	ok(t, dir, "issue", "c1", "--dir", "p")
	keyPath := filepath.Join(dir, "p/ca/ca.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	// Re-running the first command with the same settings is a no-op.
	r := kt(t, dir, "init", "--dir", "p")
	if r.code != 0 || !strings.Contains(r.stdout, "already initialised") || !strings.Contains(r.stdout, "sha256") {
		t.Errorf("init again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Other settings: exit 1 naming the difference.
	r = kt(t, dir, "init", "--dir", "p", "--key-type", "ecdsa")
	if r.code != 1 || !strings.Contains(r.stderr, "the key is RSA-2048, not ECDSA P-256") || !strings.Contains(r.stderr, "kafkatls ca rotate") {
		t.Errorf("init with other settings: exit %d\n%s", r.code, r.stderr)
	}

	if err := os.Rename(filepath.Join(dir, "p/ca/ca.crt"), filepath.Join(dir, "ca.crt.saved")); err != nil {
		t.Fatal(err)
	}
	r = kt(t, dir, "list", "--dir", "p")
	if r.code == 0 || strings.Contains(r.stderr, "run `kafkatls init") || !strings.Contains(r.stderr, "will not replace the key") {
		t.Errorf("list with ca.key but no ca.crt: exit %d\n%s", r.code, r.stderr)
	}
	r = kt(t, dir, "init", "--dir", "p")
	if r.code != 1 || !strings.Contains(r.stderr, "holds a CA key (ca/ca.key) but no CA certificate (ca/ca.crt)") {
		t.Errorf("init over a CA key: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(keyPath); err != nil || string(b) != string(key) {
		t.Fatalf("init replaced the CA key (%v)", err)
	}

	// --force: the key is kept aside, 0600, and c1 is named as orphaned.
	r = kt(t, dir, "init", "--dir", "p", "--force")
	if r.code != 0 {
		t.Fatalf("init --force: exit %d\n%s", r.code, r.stderr)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "p/ca/replaced-*/ca/ca.key"))
	if len(kept) != 1 {
		t.Fatalf("old key not kept: %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != string(key) {
		t.Error("the kept key is not the old key")
	}
	if st, _ := os.Stat(kept[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("kept key mode %v", st.Mode().Perm())
	}
	if !strings.Contains(r.stderr, "1 identities signed by the old CA are orphaned (c1)") || !strings.Contains(r.stderr, "kafkatls ca rotate") {
		t.Errorf("init --force does not say what it orphaned:\n%s", r.stderr)
	}
	if out := ok(t, dir, "list", "--dir", "p"); strings.Contains(out, "c1") {
		t.Errorf("list still shows the orphaned c1 as the new CA's:\n%s", out)
	}
}

// TestInitWarnsOfReadablePassphraseFile: init says, in one stderr line,
// when the passphrase protecting the CA key can be read by others.
func TestInitWarnsOfReadablePassphraseFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"world-readable", 0o644, true},
		{"group-readable", 0o640, true},
		{"owner only", 0o600, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pf := filepath.Join(dir, "ca-pass")
			if err := os.WriteFile(pf, []byte("correct horse battery\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(pf, tc.mode); err != nil {
				t.Fatal(err)
			}
			r := kt(t, dir, "init", "--key-type", "ecdsa", "--ca-passphrase-file", pf)
			if r.code != 0 {
				t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
			}
			var lines []string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.Contains(l, "passphrase file") {
					lines = append(lines, l)
				}
			}
			switch {
			case tc.warn && (len(lines) != 1 || !strings.Contains(lines[0], "readable by group or others") || !strings.Contains(lines[0], "chmod 600 "+pf)):
				t.Errorf("want one warning line for mode %04o, stderr:\n%s", tc.mode, r.stderr)
			case !tc.warn && len(lines) != 0:
				t.Errorf("warned for mode %04o:\n%s", tc.mode, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "correct horse") {
				t.Error("the passphrase was printed")
			}
		})
	}
}
