// Package e2e drives the real kafkatls binary and checks what it writes
// with the real consumers of it: keytool, a JSSE program, OpenSSL.
package e2e

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// -short is unit tests only; every test here runs the built binary.
		fmt.Println("e2e: skipped under -short (these tests run the kafkatls binary and real peers)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "kafkatls-e2e-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "kafkatls")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kafkatls:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// kt runs kafkatls with args in dir (the working directory) and returns
// its output and exit code.
func kt(t testing.TB, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "KAFKATLS_DIR=", "KAFKATLS_CA_PASSPHRASE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs kafkatls and fails the test on a non-zero exit.
func ok(t testing.TB, dir string, args ...string) string {
	t.Helper()
	r := kt(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("kafkatls %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func readTrim(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}
