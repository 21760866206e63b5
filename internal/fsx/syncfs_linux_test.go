package fsx

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestPendingWriteback(t *testing.T) {
	if n := pendingWriteback(); n == ^uint64(0) {
		t.Fatal("could not read Dirty and Writeback from /proc/meminfo")
	}
}

func openN(t *testing.T, dir string, n int) []*os.File {
	t.Helper()
	var files []*os.File
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint("f", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if _, err := f.WriteString("data"); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func TestSyncWholeChoosesSyncfs(t *testing.T) {
	dir := t.TempDir()
	if ok, err := syncWhole(openN(t, dir, syncfsMinFiles-1)); ok || err != nil {
		t.Errorf("%d files: syncfs used (%v, %v), want fsync", syncfsMinFiles-1, ok, err)
	}
	if pendingWriteback() > syncfsMaxDirty {
		t.Skip("too much dirty data on this machine right now for syncfs to be chosen")
	}
	if ok, err := syncWhole(openN(t, t.TempDir(), syncfsMinFiles)); !ok || err != nil {
		t.Errorf("%d files on one file system: (%v, %v), want one syncfs", syncfsMinFiles, ok, err)
	}
	// Files on two file systems: one syncfs would not cover them.
	shm, err := os.MkdirTemp("/dev/shm", "fsx-test-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.RemoveAll(shm)
	mixed := append(openN(t, dir, syncfsMinFiles), openN(t, shm, 1)...)
	if sameFS(t, dir, shm) {
		t.Skip("the temporary directory is on /dev/shm's file system")
	}
	if ok, err := syncWhole(mixed); ok || err != nil {
		t.Errorf("files on two file systems: (%v, %v), want fsync each", ok, err)
	}
}

func sameFS(t *testing.T, a, b string) bool {
	t.Helper()
	sa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return sa.Sys().(*syscall.Stat_t).Dev == sb.Sys().(*syscall.Stat_t).Dev
}

func TestSyncDirs(t *testing.T) {
	dir := t.TempDir()
	openN(t, dir, 3)
	if ok, err := syncDirsWhole([]string{dir}); pendingWriteback() <= syncfsMaxDirty && (!ok || err != nil) {
		t.Errorf("one directory: (%v, %v), want one syncfs", ok, err)
	}
	shm, err := os.MkdirTemp("/dev/shm", "fsx-test-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.RemoveAll(shm)
	openN(t, shm, 2)
	if sameFS(t, dir, shm) {
		t.Skip("the temporary directory is on /dev/shm's file system")
	}
	if ok, err := syncDirsWhole([]string{dir, shm}); ok || err != nil {
		t.Errorf("directories on two file systems: (%v, %v), want fsync each", ok, err)
	}
	// The fallback opens and fsyncs every file; a missing directory is an error.
	if err := SyncDirs([]string{dir, shm}); err != nil {
		t.Fatal(err)
	}
	if err := SyncDirs([]string{dir, filepath.Join(shm, "missing")}); err == nil {
		t.Error("SyncDirs of a missing directory succeeded")
	}
}
