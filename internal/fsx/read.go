package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ReadLimited reads the file a user named (a CSR, a spec), refusing one
// larger than limit bytes rather than reading it whole into memory.
func ReadLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAtMost(f, path, limit)
}

func readAtMost(f *os.File, path string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a file kafkatls expects here", path, limit)
	}
	return b, nil
}

// SymlinkError is ReadNoFollow's refusal of a symbolic link.
type SymlinkError struct{ Path string }

func (e *SymlinkError) Error() string {
	return e.Path + " is a symbolic link: kafkatls does not follow links where it keeps secrets (a link can point anywhere); replace it with the file itself"
}

// ReadNoFollow reads a regular file of a directory kafkatls owns (an
// identity's password, keys, stores, configs) without following a
// symbolic link in its last component (O_NOFOLLOW: no window between a
// check and the open), refusing a link with a *SymlinkError, anything but
// a regular file, and a file larger than limit. It is the one reader of
// those files, so the rule lives here.
func ReadNoFollow(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &SymlinkError{Path: path}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return readAtMost(f, path, limit)
}

// CheckNotSymlink refuses a path that is a symbolic link (a directory
// kafkatls writes into by renames, whose links O_NOFOLLOW on the files
// inside would not catch); a missing path is not its concern.
func CheckNotSymlink(path string) error {
	st, err := os.Lstat(path)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return &SymlinkError{Path: path}
	}
	return nil
}
