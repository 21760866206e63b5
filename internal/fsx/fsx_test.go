package fsx

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "secret")
	if err := WriteFile(p, []byte("one"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v", b, st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(p)); st.Mode().Perm() != 0o700 {
		t.Errorf("created directory mode %v, want 0700", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A failed write (target is a directory) leaves no temp file and the old content.
	if err := WriteFile(filepath.Dir(p), []byte("x"), PrivateFile); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("failed write left files: %v", entries)
	}
}

func TestLockExcludes(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Bool
	done := make(chan struct{})
	go func() {
		u, err := Lock(dir) // a second open file description: blocks like another process
		if err == nil {
			got.Store(true)
			u()
		}
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	if got.Load() {
		t.Fatal("second Lock did not wait for the first")
	}
	unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second Lock never acquired the lock")
	}
	if !got.Load() {
		t.Fatal("second Lock failed")
	}
}
