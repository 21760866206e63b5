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
