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
