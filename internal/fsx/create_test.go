package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// CreateNew leaves exactly the mode asked for, whatever the umask, and
// never opens an existing file.
func TestCreateNewExactMode(t *testing.T) {
	if got := umask(); got == 0o777 {
		t.Fatal("umask not read from /proc/self/status")
	}
	for _, mask := range []uint32{0o022, 0o077, 0o277, 0} {
		t.Run(fs.FileMode(mask).String(), func(t *testing.T) {
			old := syscall.Umask(int(mask))
			defer syscall.Umask(old)
			dir := t.TempDir()
			for _, perm := range []fs.FileMode{PrivateFile, PublicFile, 0o755} {
				path := filepath.Join(dir, perm.String())
				f, err := createNew(path, perm, mask)
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != perm {
					t.Errorf("umask %03o: created %v, want %v", mask, st.Mode().Perm(), perm)
				}
				if _, err := createNew(path, perm, mask); !errors.Is(err, fs.ErrExist) {
					t.Errorf("creating an existing file: %v, want ErrExist", err)
				}
			}
		})
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	var b Batch
	if err := b.WriteFile(filepath.Join(dir, "ca.key"), []byte("staged"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	// What a killed process leaves: the staged temporary, never renamed.
	for _, s := range b.staged {
		s.f.Close()
	}
	keep := []string{"ca.key.tmp-0123456789ab", ".ca.key.tmp-xyz", ".x.tmp-0123456789abcd", ".lock", "index.json"}
	for _, n := range keep {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveTemps(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Fatalf("after RemoveTemps: %v, want exactly %v", left, keep)
	}
	if err := RemoveTemps(filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("RemoveTemps of a missing directory: %v", err)
	}
}
