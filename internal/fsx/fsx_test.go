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

func TestBatchCommit(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "sub", "b")
	if err := os.WriteFile(a, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var batch Batch
	if err := batch.WriteFile(a, []byte("new a"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.WriteFile(b, []byte("new b"), PublicFile); err != nil {
		t.Fatal(err)
	}
	// Nothing is visible before Commit.
	if got, _ := os.ReadFile(a); string(got) != "old" {
		t.Fatalf("before Commit a = %q", got)
	}
	if Exists(b) {
		t.Fatal("b exists before Commit")
	}
	if err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		data string
		perm os.FileMode
	}{a: {"new a", 0o600}, b: {"new b", 0o644}} {
		got, err := os.ReadFile(path)
		st, _ := os.Stat(path)
		if err != nil || string(got) != want.data || st.Mode().Perm() != want.perm {
			t.Errorf("%s: %q %v (err %v), want %q %v", path, got, st.Mode().Perm(), err, want.data, want.perm)
		}
	}
	assertNoTemps(t, dir, 2)
	assertNoTemps(t, filepath.Dir(b), 1)
}

func TestBatchAbortAndFailure(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var batch Batch
	if err := batch.WriteFile(a, []byte("new"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	batch.Abort()
	if got, _ := os.ReadFile(a); string(got) != "old" {
		t.Fatalf("after Abort a = %q", got)
	}
	assertNoTemps(t, dir, 1)

	// A target that cannot be replaced (a non-empty directory) fails the
	// Commit and leaves no temporaries behind.
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := batch.WriteFile(sub, []byte("x"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.WriteFile(a, []byte("new"), PrivateFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.Commit(); err == nil {
		t.Fatal("Commit over a directory succeeded")
	}
	if got, _ := os.ReadFile(a); string(got) != "old" {
		t.Errorf("a staged after the failing file was replaced: %q", got)
	}
	assertNoTemps(t, dir, 2)
}

// assertNoTemps checks dir holds exactly n entries (no leftover temporaries).
func assertNoTemps(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want %d entries", dir, names, n)
	}
}

// IncludeDirs: the directories are synced with the batch, before any
// rename, so one that cannot be synced fails the Commit with nothing
// renamed.
func TestBatchIncludeDirs(t *testing.T) {
	dir := t.TempDir()
	filled := filepath.Join(dir, "filled")
	if err := os.MkdirAll(filled, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filled, "x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "index")
	var batch Batch
	batch.IncludeDirs(filled)
	if err := batch.WriteFile(index, []byte("v1"), PublicFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(index); string(got) != "v1" {
		t.Fatalf("index = %q, want v1", got)
	}

	batch.IncludeDirs(filepath.Join(dir, "missing"))
	if err := batch.WriteFile(index, []byte("v2"), PublicFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.Commit(); err == nil {
		t.Fatal("Commit with a missing included directory succeeded")
	}
	if got, _ := os.ReadFile(index); string(got) != "v1" {
		t.Fatalf("index = %q after a failed Commit, want v1 untouched", got)
	}
	assertNoTemps(t, dir, 2)

	// The failed Commit emptied the batch: the next one does not see the
	// missing directory again.
	if err := batch.WriteFile(index, []byte("v3"), PublicFile); err != nil {
		t.Fatal(err)
	}
	if err := batch.Commit(); err != nil {
		t.Fatalf("Commit after a failed one: %v", err)
	}
}
