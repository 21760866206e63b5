package fsx

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// CreateNew creates path, which must not exist, for writing, with exactly
// mode perm whatever the process umask. It chmods only when the umask
// would strip a bit of perm: on ext4 a chmod is a journalled inode update,
// and a bundle creates a few hundred files.
func CreateNew(path string, perm fs.FileMode) (*os.File, error) {
	return createNew(path, perm, umask())
}

// createNew is CreateNew for a process whose umask is mask.
func createNew(path string, perm fs.FileMode, mask uint32) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	if fs.FileMode(mask)&perm != 0 {
		if err := f.Chmod(perm); err != nil {
			f.Close()
			os.Remove(path)
			return nil, err
		}
	}
	return f, nil
}

// createTemp creates a new file beside path, named ".BASE.tmp-RANDOM",
// with exactly mode perm.
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		f, err := CreateNew(filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(r[:])), perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, &fs.PathError{Op: "createtemp", Path: path, Err: fs.ErrExist}
}

// RemoveTemps removes from dir the temporary files a Batch stages
// (".NAME.tmp-" and 12 hex digits) that a killed process left behind.
// Only a caller that holds the lock of everything written in dir may call
// it: another writer's staged files look the same.
func RemoveTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range entries {
		if isTemp(e.Name()) && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// isTemp reports whether name is one createTemp makes.
func isTemp(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if !strings.HasPrefix(name, ".") || i < 1 || len(name)-i-len(".tmp-") != 12 {
		return false
	}
	_, err := hex.DecodeString(name[i+len(".tmp-"):])
	return err == nil
}

// umask is the process umask, read once from /proc/self/status (reading
// it with umask(2) would briefly change it for every thread). Where that
// is not available it is reported as 0o777, so CreateNew always chmods.
var umask = sync.OnceValue(func() uint32 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o777
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil || m > 0o777 {
				return 0o777
			}
			return uint32(m)
		}
	}
	return 0o777
})
