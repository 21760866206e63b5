package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

// faultCase is a command the fault suite kills at each of its durable
// steps in turn.
type faultCase struct {
	name  string
	setup [][]string // run once in a template directory, copied for each attempt
	cmd   []string
	// done reports that cmd's effect is complete, for a re-run that
	// refuses because it is (issue: "already exists", init: "already
	// holds a CA", revoke: "already revoked", finish: "nothing to finish").
	done func(t *testing.T, pkiDir string) bool
	// verify: the directory holds a broker, so kafkatls verify can run.
	verify bool
}

var bundleSetup = [][]string{{"bundle", "--key-type", "ecdsa", "--brokers", "kafka-1", "--clients", "c1,c2"}}

func faultCases() []faultCase {
	current := func(name string) func(t *testing.T, dir string) bool {
		return func(t *testing.T, dir string) bool {
			_, ok := loadIndex(t, dir).Current(name)
			return ok
		}
	}
	return []faultCase{
		{name: "init", cmd: []string{"init", "--key-type", "ecdsa"}, done: func(t *testing.T, dir string) bool {
			_, err := pki.Open(dir, nil)
			return err == nil
		}},
		{name: "issue", setup: [][]string{{"init", "--key-type", "ecdsa"}, {"issue", "kafka-1", "--role", "broker", "--dns", "kafka-1"}},
			cmd: []string{"issue", "c1"}, done: current("c1"), verify: true},
		{name: "issue --force", setup: [][]string{{"init", "--key-type", "ecdsa"}, {"issue", "kafka-1", "--role", "broker", "--dns", "kafka-1"}, {"issue", "c1"}},
			cmd: []string{"issue", "c1", "--force"}, verify: true},
		{name: "sign", setup: [][]string{{"init", "--key-type", "ecdsa"}, {"issue", "kafka-1", "--role", "broker", "--dns", "kafka-1"}, {"csr", "ext", "--out-dir", "req"}},
			cmd: []string{"sign", "req/ext.csr"}, done: current("ext"), verify: true},
		{name: "bundle with a new CA", cmd: bundleSetup[0], verify: true},
		{name: "bundle with an existing CA", setup: [][]string{{"init", "--key-type", "ecdsa"}}, cmd: bundleSetup[0], verify: true},
		{name: "bundle adding a client", setup: bundleSetup, cmd: []string{"bundle", "--clients", "c3"}, verify: true},
		{name: "renew", setup: bundleSetup, cmd: []string{"renew", "c1"}, verify: true},
		{name: "revoke", setup: bundleSetup, cmd: []string{"revoke", "c2"}, verify: true, done: func(t *testing.T, dir string) bool {
			_, ok := loadIndex(t, dir).Current("c2")
			return !ok
		}},
		{name: "ca rotate start", setup: bundleSetup, cmd: []string{"ca", "rotate", "start"}, verify: true},
		{name: "ca rotate reissue", setup: append(bundleSetup, []string{"ca", "rotate", "start"}), cmd: []string{"ca", "rotate", "reissue"}, verify: true},
		{name: "ca rotate finish", setup: append(bundleSetup, []string{"ca", "rotate", "start"}, []string{"ca", "rotate", "reissue"}),
			cmd: []string{"ca", "rotate", "finish"}, verify: true, done: func(t *testing.T, dir string) bool {
				return !fsx.Exists(filepath.Join(dir, "ca", "previous"))
			}},
	}
}

// TestFaultKilledAtEveryDurableStep kills each writing command at its
// first, second, ... durable step (KAFKATLS_FAULT_KILL_AT=N: SIGKILL, no
// cleanup) until a run gets through, and after every kill checks the
// directory: no half-written identity, every certificate on disk signed by
// a CA on disk is in the index; then the command run again completes,
// leaves nothing pending, and kafkatls verify passes.
func TestFaultKilledAtEveryDurableStep(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			template := t.TempDir()
			for _, args := range tc.setup {
				ok(t, template, args...)
			}
			for n := 1; ; n++ {
				if n > 200 {
					t.Fatal("more than 200 durable steps: the hook never lets the run through")
				}
				dir := filepath.Join(t.TempDir(), "run")
				copyTree(t, template, dir)
				pkiDir := filepath.Join(dir, "kafka-pki")
				r := runEnv(t, dir, []string{fsx.FaultEnv + "=" + fmt.Sprint(n)}, tc.cmd...)
				if !r.killed {
					if r.code != 0 {
						t.Fatalf("with the kill point %d past its last step: exit %d\n%s%s", n, r.code, r.stdout, r.stderr)
					}
					t.Logf("%d durable steps, each killed once", n-1)
					checkFaultInvariants(t, pkiDir, true)
					break
				}
				step := strings.TrimSpace(r.stderr[strings.LastIndex(r.stderr, "killed at durable step"):])
				t.Run(fmt.Sprintf("kill %d", n), func(t *testing.T) {
					t.Logf("%s", step)
					checkFaultInvariants(t, pkiDir, false)
					again := kt(t, dir, tc.cmd...)
					if again.code != 0 && (tc.done == nil || !tc.done(t, pkiDir)) {
						t.Fatalf("re-run after the kill: exit %d\n%s%s", again.code, again.stdout, again.stderr)
					}
					checkFaultInvariants(t, pkiDir, true)
					if tc.verify {
						if v := kt(t, dir, "verify"); v.code != 0 {
							t.Fatalf("verify after the re-run: exit %d\n%s%s", v.code, v.stdout, v.stderr)
						}
					}
				})
			}
		})
	}
}

// checkFaultInvariants checks what the index guarantees after a crash
// (docs/architecture.md). settled: a transaction ran since, so nothing
// is pending any more.
func checkFaultInvariants(t *testing.T, pkiDir string, settled bool) {
	t.Helper()
	certs := filepath.Join(pkiDir, pki.CertsDir)
	idx := loadIndex(t, pkiDir)
	external := map[string]bool{} // signed from a CSR: certificates only, no key or stores
	for _, r := range idx.Records {
		external[r.Name] = r.ExternalKey
	}
	entries, _ := os.ReadDir(certs)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a temporary: never visible as an identity
		}
		if external[e.Name()] {
			for _, f := range []string{identity.CertPEM, identity.ChainPEM, identity.CAPEM} {
				if b, err := os.ReadFile(filepath.Join(certs, e.Name(), f)); err != nil || len(b) == 0 {
					t.Errorf("identity %s (signed from a CSR) is half-written: %s: %v", e.Name(), f, err)
				}
			}
			continue
		}
		if _, err := identity.Load(filepath.Join(certs, e.Name()), ""); err != nil {
			t.Errorf("identity %s is half-written: %v", e.Name(), err)
		}
	}
	known := map[string]string{}
	for _, r := range idx.Records {
		known[r.Serial] = r.Status
		if settled && r.Status == pki.StatusPending {
			t.Errorf("%s serial %s still pending after a transaction", r.Name, r.Serial)
		}
	}
	cas := diskCAs(t, pkiDir)
	filepath.WalkDir(certs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != identity.CertPEM {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		leafs, err := pem.DecodeCerts(b)
		if err != nil {
			if !strings.Contains(p, "/.") { // a temporary being written may be short
				t.Errorf("%s: %v", p, err)
			}
			return nil
		}
		for _, ca := range cas {
			if leafs[0].CheckSignatureFrom(ca) == nil {
				if _, ok := known[pki.SerialHex(leafs[0])]; !ok {
					t.Errorf("%s: serial %s, signed by %s, is not in the index", p, pki.SerialHex(leafs[0]), ca.Subject)
				}
				break
			}
		}
		return nil
	})
}

// diskCAs is every CA certificate in the PKI directory: the current one,
// a rotation's previous one, replaced and retired ones.
func diskCAs(t *testing.T, pkiDir string) []*x509.Certificate {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(pkiDir, "ca", "*", "ca.crt"))
	paths = append(paths, filepath.Join(pkiDir, pki.CACertFile))
	var out []*x509.Certificate
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			if c, err := pem.DecodeCerts(b); err == nil {
				out = append(out, c[0])
			}
		}
	}
	return out
}

func loadIndex(t *testing.T, pkiDir string) *pki.Index {
	t.Helper()
	idx, err := pki.LoadIndex(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// faultResult is a run that may have been killed.
type faultResult struct {
	result
	killed bool
}

// runEnv runs kafkatls with extra environment variables.
func runEnv(t *testing.T, dir string, env []string, args ...string) faultResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "KAFKATLS_DIR=", "KAFKATLS_CA_PASSPHRASE="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	r := faultResult{result: result{out.String(), errb.String(), 0}}
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", from, to, err, out)
	}
}

// tmpfs mounts a small tmpfs of size bytes under a fresh directory and
// returns it, with a function that resizes it. It needs root: skipped
// with a message otherwise, except under CI=true, which runs as root.
func tmpfs(t *testing.T, size int) (dir string, resize func(size int)) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the ENOSPC tests mount a tmpfs: CI runs them as root")
		}
		t.Skip("the ENOSPC tests mount a tmpfs and need root (CI runs them)")
	}
	dir = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir, func(size int) {
		if out, err := exec.Command("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir).CombinedOutput(); err != nil {
			t.Fatalf("remount tmpfs: %v\n%s", err, out)
		}
	}
}

// TestFaultDiskFull fills a small file system with issue and bundle runs
// until one fails for lack of space. Whatever it had signed and placed is
// in the index (before: certs/NAME complete and CA-signed, unknown to
// list, revoke and renew, and issue refused to redo it); with room again,
// the same commands complete and verify passes.
func TestFaultDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmds [][]string
	}{
		{"issue", [][]string{{"issue", "c%d"}}},
		{"bundle", [][]string{{"bundle", "--clients", "b%d,bb%d"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, resize := tmpfs(t, 400<<10)
			pkiDir := filepath.Join(dir, "pki")
			ok(t, dir, "bundle", "--dir", pkiDir, "--key-type", "ecdsa", "--brokers", "kafka-1")
			var failed []string
			for i := 0; i < 200 && failed == nil; i++ {
				for _, c := range tc.cmds {
					args := make([]string, len(c))
					for j, a := range c {
						args[j] = strings.ReplaceAll(a, "%d", fmt.Sprint(i))
					}
					args = append(args, "--dir", pkiDir)
					r := kt(t, dir, args...)
					if r.code == 0 {
						continue
					}
					if !strings.Contains(r.stderr, "no space left") {
						t.Fatalf("kafkatls %s: exit %d, not for lack of space\n%s", strings.Join(args, " "), r.code, r.stderr)
					}
					failed = args
					break
				}
			}
			if failed == nil {
				t.Fatal("the file system never filled up")
			}
			t.Logf("full at: kafkatls %s", strings.Join(failed, " "))
			checkFaultInvariants(t, pkiDir, false)
			// A reader sees every placed identity, pending or not.
			var listed []pki.Record
			if err := json.Unmarshal([]byte(ok(t, dir, "list", "--dir", pkiDir, "--json")), &listed); err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, r := range listed {
				names[r.Name] = true
			}
			entries, _ := os.ReadDir(filepath.Join(pkiDir, pki.CertsDir))
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), ".") && !names[e.Name()] {
					t.Errorf("certs/%s is in place but list does not show it", e.Name())
				}
			}

			resize(64 << 20)
			r := kt(t, dir, failed...)
			if r.code != 0 && !strings.Contains(r.stderr, "already exists") {
				t.Fatalf("re-run with room: exit %d\n%s", r.code, r.stderr)
			}
			checkFaultInvariants(t, pkiDir, true)
			if v := kt(t, dir, "verify", "--dir", pkiDir); v.code != 0 {
				t.Fatalf("verify: exit %d\n%s%s", v.code, v.stdout, v.stderr)
			}
		})
	}
}
