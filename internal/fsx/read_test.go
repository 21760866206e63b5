package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
