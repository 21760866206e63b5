package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadNoFollow(t *testing.T) {
	dir := t.TempDir()
	at := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(at("file"), []byte("secret"), 0o600)
	os.Symlink(at("file"), at("link"))
	if err := syscall.Mkfifo(at("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(at("big"), make([]byte, 11), 0o600)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"regular file", "file", ""},
		{"symbolic link", "link", "is a symbolic link"},
		{"fifo (would block a plain read)", "fifo", "is not a regular file"},
		{"over the limit", "big", "larger than 10 bytes"},
		{"missing", "none", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadNoFollow(at(tc.path), 10)
			if tc.want == "" {
				if err != nil || string(b) != "secret" {
					t.Fatalf("got %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var link *SymlinkError
			if errors.As(err, &link) != (tc.path == "link") {
				t.Errorf("SymlinkError = %v", errors.As(err, &link))
			}
		})
	}
	if err := CheckNotSymlink(at("link")); err == nil {
		t.Error("CheckNotSymlink passed a link")
	}
	if err := CheckNotSymlink(at("file")); err != nil {
		t.Error(err)
	}
}
