package inspect

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSiblingPasswordIsBounded: a password file next to a store that is a
// special file (here /dev/zero) is skipped after 4 KiB, not read forever.
func TestSiblingPasswordIsBounded(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "password")); err != nil {
		t.Fatal(err)
	}
	if got := SiblingPasswords(filepath.Join(dir, "keystore.p12")); len(got) != 0 {
		t.Errorf("SiblingPasswords = %d passwords from /dev/zero, want none", len(got))
	}
	// lint DIR reads every file it walks the same way.
	if certs := readCerts("/dev/zero"); certs != nil {
		t.Errorf("readCerts(/dev/zero) = %d certificates", len(certs))
	}
}
