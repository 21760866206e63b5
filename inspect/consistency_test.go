package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/lifecycle"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, -1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// errorsOf returns the error findings of fs as "file-base check message".
func errorsOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Severity == SevError {
			out = append(out, filepath.Base(f.File)+" "+f.Check+" "+f.Message)
		}
	}
	return out
}

// TestCheckIdentity: each way configs, password file and stores come
// apart is found and named; an identity as kafkatls writes it, or in the
// middle of a CA rotation, passes. Each case runs lint DIR too, which
// passed all of these before.
func TestCheckIdentity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ident  string
		break_ func(t *testing.T, pkiDir, dir string)
		want   []string // substrings of one error finding each; none: clean
	}{
		{"as written", "client1", nil, nil},
		{"broker as written", "kafka-1", nil, nil},
		{"client.properties password changed", "client1", func(t *testing.T, _, dir string) {
			editFile(t, filepath.Join(dir, "client.properties"), "ssl.keystore.password=", "ssl.keystore.password=x")
		}, []string{"client.properties config-password ssl.keystore.password does not open keystore.p12"}},
		{"truststore password changed in spring-boot.properties", "client1", func(t *testing.T, _, dir string) {
			editFile(t, filepath.Join(dir, "spring-boot.properties"), "trust-store-password=", "trust-store-password=x")
		}, []string{"spring-boot.properties config-password spring.kafka.ssl.trust-store-password does not open truststore.p12"}},
		{"password file edited", "client1", func(t *testing.T, _, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "password"), []byte("not-the-password\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"password config-password the password file does not open keystore.jks", "password config-password the password file does not open keystore.p12",
			"password config-password the password file does not open truststore.jks", "password config-password the password file does not open truststore.p12"}},
		{"server key password differs", "kafka-1", func(t *testing.T, _, dir string) {
			editFile(t, filepath.Join(dir, "server.properties"), "ssl.key.password=", "ssl.key.password=x")
		}, []string{"server.properties config-password ssl.key.password differs from ssl.keystore.password"}},
		{"kcat key missing", "client1", func(t *testing.T, _, dir string) {
			if err := os.Remove(filepath.Join(dir, "tls.key")); err != nil {
				t.Fatal(err)
			}
		}, []string{"kcat.conf config-missing-file ssl.key.location names tls.key, which does not exist"}},
		{"chain.pem from another CA", "client1", func(t *testing.T, _, dir string) {
			ca := mkCert(t, certOpts{cn: "Other CA", ca: true}, nil)
			leaf := mkCert(t, certOpts{cn: "client1"}, ca)
			writeFile(t, dir, "chain.pem", pemOf(t, leaf.cert, ca.cert))
		}, []string{"chain.pem not-from-ca the certificate \"CN=client1\" does not chain to"}},
		{"truststore of another CA", "client1", func(t *testing.T, pkiDir, dir string) {
			ca := mkCert(t, certOpts{cn: "Other CA", ca: true}, nil)
			pw, err := readPassword(filepath.Join(dir, "password"))
			if err != nil {
				t.Fatal(err)
			}
			ts, err := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: ca.cert}}, pw, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "truststore.jks", ts)
		}, []string{"truststore.jks not-from-ca trusts none of the CAs in"}},
		{"CA rotation started", "kafka-1", func(t *testing.T, pkiDir, _ string) {
			rotate(t, pkiDir, false)
		}, nil},
		{"CA rotation reissued", "client1", func(t *testing.T, pkiDir, _ string) {
			rotate(t, pkiDir, true)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, pkiDir := testPKI(t)
			dir := filepath.Join(pkiDir, "certs", tc.ident)
			if tc.break_ != nil {
				tc.break_(t, pkiDir, dir)
			}
			got := errorsOf(CheckIdentity(dir))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("no error %q in:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			// lint DIR runs the same checks.
			res, err := LintPaths([]string{dir}, LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			lintErrs := strings.Join(errorsOf(res.Findings), "\n")
			for _, w := range tc.want {
				if !strings.Contains(lintErrs, w) && !strings.Contains(w, "not-from-ca") {
					t.Errorf("lint DIR does not report %q:\n%s", w, lintErrs)
				}
			}
			if len(tc.want) > 0 && lintErrs == "" {
				t.Error("lint DIR passes")
			}
		})
	}
}

func rotate(t *testing.T, pkiDir string, reissue bool) {
	t.Helper()
	p, err := pki.Open(pkiDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := pki.LoadIndex(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	tx := &pki.Tx{Dir: pkiDir, PKI: p, Index: idx}
	if _, err := lifecycle.Start(tx, lifecycle.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if reissue {
		if _, err := lifecycle.Reissue(tx, lifecycle.RenewOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Save(); err != nil {
		t.Fatal(err)
	}
}

// TestCheckIdentityMountPath: configs written for a container mount point
// name /etc/kafka/secrets/...; the files of the same names in the identity
// directory are checked, and a note says so.
func TestCheckIdentityMountPath(t *testing.T) {
	p, pkiDir := testPKI(t)
	idx, err := pki.LoadIndex(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.Issue(&pki.Tx{Dir: p.Dir, PKI: p, Index: idx}, pki.CertRequest{Name: "app", Role: pki.RoleClient}, pki.KeySpec{Type: pki.ECDSA}, identity.Options{MountPath: "/etc/kafka/secrets"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(pkiDir, "certs", "app")
	fs := CheckIdentity(dir)
	if errs := errorsOf(fs); len(errs) != 0 {
		t.Fatalf("errors for a clean mount-path identity:\n%s", strings.Join(errs, "\n"))
	}
	if c := checks(fs); c[CheckMountPath] != SevInfo {
		t.Errorf("no mount-path note:%s", dump(fs))
	}
	if err := os.Remove(filepath.Join(dir, "keystore.p12")); err != nil {
		t.Fatal(err)
	}
	errs := strings.Join(errorsOf(CheckIdentity(dir)), "\n")
	if !strings.Contains(errs, "client.properties config-missing-file ssl.keystore.location names keystore.p12, which does not exist") {
		t.Errorf("missing keystore.p12 not reported:\n%s", errs)
	}
}

// TestConfigPasswordKeytool: keytool, the real peer, refuses the keystore
// with the password client.properties gives once it was changed, and lint
// DIR fails too; with the password as written keytool and lint both pass.
func TestConfigPasswordKeytool(t *testing.T) {
	keytool := realpeer.Need(t, "keytool")[0]
	_, pkiDir := testPKI(t)
	dir := filepath.Join(pkiDir, "certs", "client1")
	configured := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "client.properties"))
		if err != nil {
			t.Fatal(err)
		}
		return templates.ParseProperties(b)["ssl.keystore.password"]
	}
	pwFile := filepath.Join(t.TempDir(), "storepass")
	keytoolOpens := func() bool {
		if err := os.WriteFile(pwFile, []byte(configured()), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := realpeer.RunErr(keytool, "-list", "-keystore", filepath.Join(dir, "keystore.p12"), "-storepass:file", pwFile)
		return err == nil
	}
	lintErrors := func() int {
		res, err := LintPaths([]string{dir}, LintOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := Count(res.Findings)
		return n
	}
	if !keytoolOpens() || lintErrors() != 0 {
		t.Fatalf("as written: keytool opens %v, lint errors %d", keytoolOpens(), lintErrors())
	}
	editFile(t, filepath.Join(dir, "client.properties"), "ssl.keystore.password=", "ssl.keystore.password=changed")
	if keytoolOpens() {
		t.Fatal("keytool opens the keystore with the changed password")
	}
	if lintErrors() == 0 {
		t.Error("keytool refuses the keystore with the configured password, and lint DIR passes")
	}
}

// TestCheckIdentityThroughSymlink: a PKI reached through a symlink is the
// directory its configs name, not a mount path.
func TestCheckIdentityThroughSymlink(t *testing.T) {
	_, pkiDir := testPKI(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(pkiDir, link); err != nil {
		t.Fatal(err)
	}
	fs := CheckIdentity(filepath.Join(link, "certs", "client1"))
	if len(fs) != 0 {
		t.Errorf("findings for an identity reached through a symlink:%s", dump(fs))
	}
}

// TestLintBundleTruststorePassword: a bundle's truststore.password that no
// longer opens its truststores fails lint DIR (the JKS one was listed
// unverified, with a note, before).
func TestLintBundleTruststorePassword(t *testing.T) {
	_, pkiDir := testPKI(t)
	ca := readCerts(filepath.Join(pkiDir, "ca.crt"))
	ts, err := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: ca[0]}}, testPW, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, pkiDir, "truststore.jks", ts)
	writeFile(t, pkiDir, "truststore.password", []byte(testPW+"\n"))
	res, err := LintPaths([]string{pkiDir}, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := Count(res.Findings); n != 0 {
		t.Fatalf("errors for a consistent bundle:%s", dump(res.Findings))
	}
	writeFile(t, pkiDir, "truststore.password", []byte("changed\n"))
	res, err = LintPaths([]string{pkiDir}, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "truststore.password config-password the password file does not open truststore.jks"
	if got := strings.Join(errorsOf(res.Findings), "\n"); !strings.Contains(got, want) {
		t.Errorf("no %q in:\n%s", want, got)
	}
}

// TestCheckIdentityIntermediate: with an intermediate CA, ca.crt holds the
// root and tls.crt the leaf alone; the path through the intermediate in
// chain.pem and the keystore counts.
func TestCheckIdentityIntermediate(t *testing.T) {
	root := mkCert(t, certOpts{cn: "Root", ca: true}, nil)
	inter := mkCert(t, certOpts{cn: "Intermediate", ca: true}, root)
	leaf := mkCert(t, certOpts{cn: "app"}, inter)
	dir := t.TempDir()
	writeFile(t, dir, "ca.crt", pemOf(t, root.cert))
	writeFile(t, dir, "tls.crt", pemOf(t, leaf.cert))
	writeFile(t, dir, "chain.pem", pemOf(t, leaf.cert, inter.cert, root.cert))
	writeFile(t, dir, "kcat.conf", []byte("ssl.ca.location="+filepath.Join(dir, "ca.crt")+"\nssl.certificate.location="+filepath.Join(dir, "chain.pem")+"\n"))
	if fs := CheckIdentity(dir); len(fs) != 0 {
		t.Errorf("findings:%s", dump(fs))
	}
	// Without the intermediate anywhere, tls.crt does not reach the root.
	writeFile(t, dir, "chain.pem", pemOf(t, leaf.cert))
	if errs := strings.Join(errorsOf(CheckIdentity(dir)), "\n"); !strings.Contains(errs, "tls.crt not-from-ca") {
		t.Errorf("no not-from-ca for tls.crt:\n%s", errs)
	}
}
