package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

// TestBundleStoresWorkWithJava: every store of a 3-broker, 1-ZooKeeper,
// 2-client bundle is read by keytool, and the JSSE program connects each
// client to each broker with hostname verification on.
func TestBundleStoresWorkWithJava(t *testing.T) {
	realpeer.Need(t, "keytool", "java", "openssl")
	dir := t.TempDir()
	ok(t, dir, "bundle", "--brokers", "kafka-1,kafka-2,kafka-3", "--zookeepers", "zookeeper", "--clients", "client1,client2", "--key-type", "ecdsa")
	pkiDir := filepath.Join(dir, "kafka-pki")
	for _, n := range []string{"kafka-1", "kafka-2", "kafka-3", "zookeeper"} {
		checkStores(t, identity.Dir(pkiDir, n), true)
	}
	for _, n := range []string{"client1", "client2"} {
		checkStores(t, identity.Dir(pkiDir, n), false)
	}
	tspw := readTrim(t, filepath.Join(pkiDir, "truststore.password"))
	for _, ts := range []string{"truststore.jks", "truststore.p12"} {
		out := realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(pkiDir, ts), "-storepass", tspw)
		if !strings.Contains(out, "caroot") || !strings.Contains(out, "trustedCertEntry") {
			t.Errorf("bundle %s:\n%s", ts, out)
		}
	}
	for _, b := range []string{"kafka-1", "kafka-2", "kafka-3"} {
		for i, c := range []string{"client1", "client2"} {
			typ, ext := "JKS", "jks"
			if i == 1 {
				typ, ext = "PKCS12", "p12"
			}
			bd, cd := identity.Dir(pkiDir, b), identity.Dir(pkiDir, c)
			got, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
				ServerKeystore: filepath.Join(bd, "keystore."+ext), ServerTruststore: filepath.Join(bd, "truststore."+ext),
				ClientKeystore: filepath.Join(cd, "keystore."+ext), ClientTruststore: filepath.Join(cd, "truststore."+ext),
				Type: typ, Password: readTrim(t, filepath.Join(bd, "password")), ClientPassword: readTrim(t, filepath.Join(cd, "password")),
				Host: b,
			})
			if err != nil {
				t.Errorf("%s -> %s (%s): %v", c, b, typ, err)
				continue
			}
			if want := strings.TrimPrefix(readTrim(t, filepath.Join(cd, "principal.txt")), "User:"); got != want {
				t.Errorf("%s -> %s: principal %q, want %q", c, b, got, want)
			}
		}
	}
	// The flag form wrote its spec; a bare re-run changes nothing (exit 0 with --check).
	if _, err := os.Stat(filepath.Join(pkiDir, "kafkatls.yaml")); err != nil {
		t.Fatal("flag form did not write kafkatls.yaml")
	}
	if r := kt(t, dir, "bundle", "--check"); r.code != 0 {
		t.Fatalf("bundle --check after apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := kt(t, dir, "bundle", "--brokers", "kafka-1,kafka-2,kafka-3", "--zookeepers", "zookeeper", "--clients", "client1,client2,client3", "--check"); r.code != 3 || !strings.Contains(r.stdout, "client3") {
		t.Fatalf("bundle --check with a new client: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestConcurrentIssueProcesses: several processes issuing into one PKI
// directory at once; every certificate valid, serials unique, index whole.
func TestConcurrentIssueProcesses(t *testing.T) {
	dir := newPKI(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := kt(t, dir, "issue", fmt.Sprintf("c%d", i)); r.code != 0 {
				errs <- r.stderr
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	pkiDir := filepath.Join(dir, "kafka-pki")
	idx, err := pki.LoadIndex(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	serials := map[string]bool{}
	for _, r := range idx.Records {
		serials[r.Serial] = true
	}
	if len(idx.Records) != n || len(serials) != n {
		t.Fatalf("index has %d records with %d distinct serials, want %d", len(idx.Records), len(serials), n)
	}
	ca := mustCerts(t, filepath.Join(pkiDir, "ca.crt"))[0]
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for i := range n {
		leaf := mustCerts(t, filepath.Join(identity.Dir(pkiDir, fmt.Sprintf("c%d", i)), "tls.crt"))[0]
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("c%d: %v", i, err)
		}
	}
}

func mustCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pem.DecodeCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBundleKilledMidwayThenRerun: a bundle killed with SIGKILL while
// issuing leaves only complete identities, and nothing recorded that is
// not on disk; a re-run completes the bundle. With a CA of its own the
// killed run had only staged the CA's files (they land with the index at
// the end): the re-run removes them and starts over with a new CA.
func TestBundleKilledMidwayThenRerun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		init     bool
		extraArg []string
	}{
		{"existing CA", true, nil},
		{"CA created by the killed run", false, []string{"--key-type", "rsa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.init {
				ok(t, dir, "init") // RSA-2048: slow enough keys to be killed mid-run
			}
			var clients []string
			for i := range 24 {
				clients = append(clients, fmt.Sprintf("client%02d", i))
			}
			args := append([]string{"bundle", "--brokers", "kafka-1", "--clients", strings.Join(clients, ",")}, tc.extraArg...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pkiDir := filepath.Join(dir, "kafka-pki")
			// Kill once the first identities land (or after a bound).
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				if entries, _ := os.ReadDir(filepath.Join(pkiDir, "certs")); len(entries) >= 3 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			entries, _ := os.ReadDir(filepath.Join(pkiDir, "certs"))
			done := 0
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue // a temporary build directory: never visible as an identity
				}
				done++
				if _, err := identity.Load(filepath.Join(pkiDir, "certs", e.Name()), ""); err != nil {
					t.Errorf("identity %s is incomplete after the kill: %v", e.Name(), err)
				}
			}
			idx, _ := pki.LoadIndex(pkiDir)
			_, statErr := os.Stat(filepath.Join(pkiDir, pki.CACertFile))
			caInPlace := statErr == nil
			if !tc.init {
				settled := 0
				for _, r := range idx.Records {
					if r.Status != pki.StatusPending {
						settled++
					}
				}
				// Only the serials it reserved: recovery drops them with the staged CA.
				if caInPlace || settled > 0 {
					t.Fatalf("killed before its commit, the run left a CA (%v) or settled index records (%d)", caInPlace, settled)
				}
				if staged, _ := filepath.Glob(filepath.Join(pkiDir, "ca", ".ca.key.tmp-*")); len(staged) != 1 {
					t.Fatalf("killed while issuing, the run left %v, want its staged CA key", staged)
				}
			}
			t.Logf("killed with %d of 25 identities in place, %d recorded", done, len(idx.Records))

			out := ok(t, dir, append(args, "--json")...)
			var res struct{ Issued []struct{ Name string } }
			json.Unmarshal([]byte(out), &res)
			idx, _ = pki.LoadIndex(pkiDir)
			valid := 0
			for _, r := range idx.Records {
				if r.Status == pki.StatusValid {
					valid++
				}
			}
			if valid != 25 {
				t.Fatalf("after re-run the index has %d valid identities, want 25 (re-run issued %d)", valid, len(res.Issued))
			}
			for _, pattern := range []string{"certs/.*", ".*.tmp-*", "ca/.*.tmp-*"} {
				if leftovers, _ := filepath.Glob(filepath.Join(pkiDir, pattern)); len(leftovers) > 0 {
					t.Errorf("temporaries left behind: %v", leftovers)
				}
			}
			if r := kt(t, dir, "verify"); r.code != 0 {
				t.Fatalf("verify after re-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestConcurrentFlagBundles: flag-form bundle runs with different clients
// into one directory at once. Each run merges its identities into the
// saved spec under the directory's lock, so every run succeeds (before:
// one run's recovery removed another's staged spec, "rename
// .kafkatls.yaml.tmp-…: no such file or directory", and the spec kept
// only the last writer's clients), the spec lists every client, and a
// later --prune from it deletes nothing.
func TestConcurrentFlagBundles(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "bundle", "--key-type", "ecdsa", "--brokers", "kafka-1")
	const n = 4
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Go(func() {
			results[i] = kt(t, dir, "bundle", "--clients", fmt.Sprintf("app%d-a,app%d-b", i, i))
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || !strings.Contains(r.stdout, "Plan for") {
			t.Errorf("run %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	pkiDir := filepath.Join(dir, "kafka-pki")
	spec, err := bundle.LoadSpec(filepath.Join(pkiDir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	inSpec := map[string]bool{}
	for _, e := range spec.Entities() {
		inSpec[e.Name] = true
	}
	for i := range n {
		for _, c := range []string{"a", "b"} {
			if name := fmt.Sprintf("app%d-%s", i, c); !inSpec[name] {
				t.Errorf("the saved spec lacks %s", name)
			}
		}
	}
	r := kt(t, dir, "bundle", "--prune", "--json")
	if r.code != 0 {
		t.Fatalf("bundle --prune: exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		Plan struct {
			Steps []struct{ Action, Name string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Plan.Steps {
		if s.Action != "keep" {
			t.Errorf("bundle --prune from the merged spec: %s %s, want keep", s.Action, s.Name)
		}
	}

	// A flag-form run that defines a saved name differently is refused.
	if r := kt(t, dir, "bundle", "--brokers", "app0-a"); r.code != 2 || !strings.Contains(r.stderr, `"app0-a"`) {
		t.Errorf("bundle --brokers app0-a (a client in the spec): exit %d\n%s", r.code, r.stderr)
	}
}

// TestBundleCheckAndDryRunWriteNothing: --check and --dry-run are plans
// read from the directory. They create no lock file, change no mode, and
// touch no file (before: they took the write lock, which creates DIR/.lock
// and chmods DIR to 0700). CI runs as root, where a read-only tree proves
// nothing, so the test compares every path's mode and mtime instead.
func TestBundleCheckAndDryRunWriteNothing(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "bundle", "--key-type", "ecdsa", "--brokers", "kafka-1", "--clients", "c1")
	pkiDir := filepath.Join(dir, "kafka-pki")
	if err := os.Remove(filepath.Join(pkiDir, ".lock")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pkiDir, 0o750); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, pkiDir)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"bundle", "--check"}, 0},
		{[]string{"bundle", "--dry-run"}, 0},
		{[]string{"bundle", "--clients", "c2", "--check"}, 3},
		{[]string{"bundle", "--clients", "c2", "--dry-run"}, 0},
		{[]string{"bundle", "--brokers", "kafka-1", "--clients", "c1", "--prune", "--dry-run", "--json"}, 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if r := kt(t, dir, tc.args...); r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if after := treeState(t, pkiDir); after != before {
				t.Fatalf("the directory changed:\n%s", diffLines(before, after))
			}
		})
	}
}

// treeState lists every path under dir with its mode, size and mtime.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s %d %s\n", p, info.Mode(), info.Size(), info.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func diffLines(a, b string) string {
	as, bs := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		as[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		bs[l] = true
	}
	var d []string
	for l := range as {
		if !bs[l] {
			d = append(d, "- "+l)
		}
	}
	for l := range bs {
		if !as[l] {
			d = append(d, "+ "+l)
		}
	}
	return strings.Join(d, "\n")
}
