package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Read limits for the inputs kafkatls reads. A user can point any input
// at a special file (/dev/zero, a FIFO fed forever) or a huge file by
// mistake; without a bound the read grows memory until the process is
// killed. Each limit is far above what the input ever needs.
const (
	LimitSecret = 4 << 10  // a password or passphrase file
	LimitPEM    = 1 << 20  // a certificate, chain, key or CSR (PEM or DER)
	LimitSpec   = 4 << 20  // a bundle spec (kafkatls.yaml)
	LimitStore  = 32 << 20 // a keystore or truststore
)

// ErrTooLarge is wrapped by every *TooLargeError.
var ErrTooLarge = errors.New("input too large")

// TooLargeError reports an input longer than the limit its reader allows.
type TooLargeError struct {
	Path  string // the file read ("-" or "stdin" for standard input)
	Limit int64  // the limit in bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, the limit for this input (is it the right file?)", e.Path, sizeString(e.Limit))
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFileLimit reads path whole, as os.ReadFile does, but fails with a
// *TooLargeError naming the file and the limit as soon as it holds more
// than limit bytes, without reading further.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimit(f, path, limit)
}

// ReadLimit reads r to EOF, failing with a *TooLargeError (naming name)
// once more than limit bytes arrive. For standard input and other streams.
func ReadLimit(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: name, Limit: limit}
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
	return ReadLimit(f, path, limit)
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
