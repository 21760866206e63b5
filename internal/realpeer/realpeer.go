// Package realpeer lets tests check kafkatls output against the real
// consumers of it (keytool, java, openssl, kcat, ZooKeeper, Kafka). On a
// developer machine without a tool the test is skipped with a message
// naming it; under CI (CI=true) a missing tool fails the test, because CI
// installs every peer and a silent skip would hide a broken check.
package realpeer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the tests run under CI, where every peer is required.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need returns the path of each named executable, skipping the test when one
// is missing (or failing it under CI). Under -short every real-peer test
// skips: -short means unit tests only, with no external process.
func Need(t testing.TB, tools ...string) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("real peer " + strings.Join(tools, ", ") + ": skipped under -short (unit tests only)")
	}
	paths := make([]string, len(tools))
	for i, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			msg := "real peer " + tool + " not found on PATH (install it, or run .ci/run which does)"
			if InCI() {
				t.Fatal(msg + "; CI=true requires it")
			}
			t.Skip(msg)
		}
		paths[i] = p
	}
	return paths
}

// Run runs a command and fails the test with its combined output if it
// exits non-zero. It returns the combined output.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// RunErr runs a command and returns its combined output and error without
// failing the test, for checks that expect a refusal.
func RunErr(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

var javacMu sync.Mutex

// JavaClasses compiles the Java sources under testdata/java of the module
// root (javac, no build tool) into a cache directory keyed by the sources'
// hash and returns that directory for use as a classpath.
func JavaClasses(t testing.TB) string {
	t.Helper()
	Need(t, "javac", "java")
	javacMu.Lock()
	defer javacMu.Unlock()
	src := filepath.Join(ModuleRoot(t), "testdata", "java")
	files, _ := filepath.Glob(filepath.Join(src, "*.java"))
	if len(files) == 0 {
		t.Fatalf("no Java sources in %s", src)
	}
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "kafkatls-test-java", hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(out, ".ok")); err == nil {
		return out
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("javac", append([]string{"-d", out}, files...)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("javac: %v\n%s", err, stderr.String())
	}
	os.WriteFile(filepath.Join(out, ".ok"), nil, 0o644)
	return out
}

// ModuleRoot returns the repository root (the directory holding go.mod).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
