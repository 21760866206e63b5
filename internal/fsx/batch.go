package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
)

// A Batch replaces several files, each atomically, and makes them durable
// together. WriteFile stages a file as a temporary sibling of its target;
// Commit makes every staged file durable at once (SyncFiles: concurrent
// fsyncs, or one syncfs), renames each over its target in the order staged,
// and fsyncs each directory involved once. So a batch of ten files costs
// about what one file costs through WriteFile: two rounds of syncing, not
// twenty serial fsyncs.
//
// Each file is replaced atomically (readers and a crash see it old or new);
// the batch as a whole is not: a crash during Commit can leave some targets
// replaced and others not. Writers that need "A before B" on disk commit A
// in a batch of its own first.
//
// The zero Batch is ready to use. After a failed WriteFile or Commit the
// staged temporaries are removed; Abort removes them when the caller gives
// up between the two.
type Batch struct {
	staged []staged
	dirs   []string // see IncludeDirs
}

type staged struct {
	f         *os.File // the open temporary, closed by Commit or Abort
	tmp, path string
}

// WriteFile stages data for path with mode perm (exactly, whatever the
// umask). It creates path's directory (0700) if needed.
func (b *Batch) WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, PrivateDir); err != nil {
		b.Abort()
		return err
	}
	tmp, err := createTemp(path, perm)
	if err != nil {
		b.Abort()
		return err
	}
	b.staged = append(b.staged, staged{f: tmp, tmp: tmp.Name(), path: path})
	if _, werr := tmp.Write(data); werr != nil {
		err = fmt.Errorf("write %s: %w", path, werr)
	}
	if err != nil {
		b.Abort()
	}
	return err
}

// IncludeDirs adds directories that Commit makes durable, with the regular
// files directly in them, together with the staged files and before its
// first rename: for files a caller wrote in place without syncing (say, a
// directory it filled and renamed into place itself) which must be on disk
// before the batch's renames are. On Linux the lot usually costs one
// syncfs(2) (see SyncDirs) instead of one round of syncing for them and
// another for the batch.
func (b *Batch) IncludeDirs(dirs ...string) { b.dirs = append(b.dirs, dirs...) }

// Commit makes the staged files (and IncludeDirs' directories) durable and
// renames the files into place, then makes the renames durable. The Batch
// is empty afterwards.
func (b *Batch) Commit() error {
	files := make([]*os.File, len(b.staged))
	for i, s := range b.staged {
		files[i] = s.f
	}
	err := b.syncStaged(files)
	b.dirs = nil
	for i := range b.staged {
		if cerr := b.staged[i].f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		b.staged[i].f = nil
	}
	if err != nil {
		b.Abort()
		return err
	}
	var dirs []string
	seen := map[string]bool{}
	for i, s := range b.staged {
		Fault("rename " + filepath.Base(s.path))
		if err := os.Rename(s.tmp, s.path); err != nil {
			b.staged = b.staged[i:]
			b.Abort()
			return err
		}
		if d := filepath.Dir(s.path); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	b.staged = nil
	return SyncPaths(dirs)
}

// syncStaged makes the staged temporaries and the included directories
// durable: one syncfs when the directories and the temporaries' directories
// allow it, else SyncDirs and SyncFiles.
func (b *Batch) syncStaged(files []*os.File) error {
	if len(b.dirs) == 0 {
		return SyncFiles(files)
	}
	all := slices.Clone(b.dirs)
	for _, s := range b.staged {
		all = append(all, filepath.Dir(s.path))
	}
	if ok, err := syncDirsWhole(all); ok {
		return err
	}
	return errors.Join(SyncDirs(b.dirs), SyncFiles(files))
}

// Abort removes the staged temporaries; the targets are untouched.
func (b *Batch) Abort() {
	for _, s := range b.staged {
		if s.f != nil {
			s.f.Close()
		}
		os.Remove(s.tmp)
	}
	b.staged, b.dirs = nil, nil
}

// SyncFiles makes open files (and directories) durable and reports every
// failure. On Linux, for more than a few files on one file system and while
// little else waits to be written back, that is one syncfs(2); otherwise it
// fsyncs them concurrently. A directory whose file system cannot fsync
// directories (EINVAL) counts as synced.
func SyncFiles(files []*os.File) error {
	if ok, err := syncWhole(files); ok {
		return err
	}
	errs := make([]error, len(files))
	each(len(files), func(i int) {
		f := files[i]
		err := f.Sync()
		if errors.Is(err, syscall.EINVAL) {
			if st, serr := f.Stat(); serr == nil && st.IsDir() {
				err = nil
			}
		}
		if err != nil {
			errs[i] = fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	})
	return errors.Join(errs...)
}

// SyncPaths is SyncFiles for files and directories named by path.
func SyncPaths(paths []string) error {
	files := make([]*os.File, 0, len(paths))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	return SyncFiles(files)
}

// SyncDirs makes each directory and the regular files directly in it
// durable, for directories a caller has just filled. On Linux, while little
// else is dirty and the directories share a file system, that is one
// syncfs(2) without opening a single file; otherwise every file and
// directory is opened and fsynced concurrently.
func SyncDirs(dirs []string) error {
	if ok, err := syncDirsWhole(dirs); ok {
		return err
	}
	var paths []string
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		paths = append(paths, dir)
		for _, e := range entries {
			if e.Type().IsRegular() {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	return SyncPaths(paths)
}

// each runs fn(0..n-1) concurrently (inline when n is 1: no goroutine for
// the common single-file write).
func each(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}
