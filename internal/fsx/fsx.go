// Package fsx holds the file-system primitives every writer in kafkatls
// uses: atomic writes (so a crash leaves each file old or new, never
// half-written), private directories, and an exclusive lock on a PKI
// directory so concurrent writers never interleave.
package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Permissions used throughout: secrets and the directories that hold them
// are private to the owner; public material (certificates) is world-readable.
const (
	PrivateDir  fs.FileMode = 0o700
	PrivateFile fs.FileMode = 0o600
	PublicFile  fs.FileMode = 0o644
)

// WriteFile writes data to path atomically: it writes a temporary file in
// the same directory, fsyncs it, renames it over path and fsyncs the
// directory. Readers see either the old content or the new one. To replace
// several files, a Batch costs two rounds of concurrent fsyncs instead of
// two serial fsyncs per file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	var b Batch
	if err := b.WriteFile(path, data, perm); err != nil {
		return err
	}
	return b.Commit()
}

// SyncDir fsyncs a directory so a rename inside it is durable.
func SyncDir(dir string) error {
	return SyncPaths([]string{dir})
}

// MkdirPrivate creates dir (and parents) with mode 0700 and tightens the
// mode of dir itself if it already existed with looser permissions.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, PrivateDir); err != nil {
		return err
	}
	return os.Chmod(dir, PrivateDir)
}

// Exists reports whether path exists (any error other than "not exist"
// counts as existing, so callers refuse rather than overwrite).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// Lock takes an exclusive advisory lock on dir (via DIR/.lock), waiting for
// any other kafkatls process that holds it. The lock is released by the
// returned function or when the process exits, so a killed run never leaves
// a stale lock behind.
func Lock(dir string) (unlock func() error, err error) {
	if err := MkdirPrivate(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, PrivateFile)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() error {
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}, nil
}

// LockShared takes dir's lock shared, for a reader that must not see a
// writer's half-done work, without writing anything: it opens DIR/.lock
// read-only and, when dir has no lock file (no writer ever ran there, or
// dir does not exist), takes no lock at all rather than create one.
func LockShared(dir string) (unlock func() error, err error) {
	f, err := os.Open(filepath.Join(dir, ".lock"))
	if errors.Is(err, fs.ErrNotExist) {
		return func() error { return nil }, nil
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f.Close, nil
}
