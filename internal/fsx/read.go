package fsx

import (
	"fmt"
	"io"
	"os"
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
