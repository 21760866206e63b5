package e2e

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// A user filing a bug can say which build they run.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	r := kt(t, dir, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "kafkatls ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Fatalf("--version: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = kt(t, dir, "version", "--json")
	var info struct{ Version, Go, Platform string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &info) != nil || info.Version == "" || info.Go != runtime.Version() {
		t.Fatalf("version --json: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `"platform": "`+runtime.GOOS+"/"+runtime.GOARCH+`"`) {
		t.Errorf("version --json has no platform: %s", r.stdout)
	}
	if r := kt(t, dir, "version", "extra"); r.code != 2 {
		t.Errorf("version extra: code %d, want 2", r.code)
	}
}
