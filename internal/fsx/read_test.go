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

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	over := filepath.Join(dir, "over")
	if err := os.WriteFile(exact, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, make([]byte, 4097), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		limit   int64
		wantLen int
		wantErr string
	}{
		{"at the limit", exact, LimitSecret, 4096, ""},
		{"one byte over", over, LimitSecret, 0, over + " is larger than 4 KiB"},
		{"endless special file", "/dev/zero", LimitPEM, 0, "/dev/zero is larger than 1 MiB"},
		{"missing", filepath.Join(dir, "nope"), LimitSecret, 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadFileLimit(tt.path, tt.limit)
			if tt.wantErr == "" {
				if err != nil || len(b) != tt.wantLen {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(b), err, tt.wantLen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(tt.wantErr, "larger") {
				var tl *TooLargeError
				if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) || tl.Limit != tt.limit || tl.Path != tt.path {
					t.Fatalf("err = %#v, want a *TooLargeError for %s, limit %d", err, tt.path, tt.limit)
				}
			}
		})
	}
}
