package inspect

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
)

func TestLintChecks(t *testing.T) {
	day := 24 * time.Hour
	root := mkCert(t, certOpts{cn: "Root", ca: true, notAfter: time.Now().Add(3650 * day)}, nil)
	inter := mkCert(t, certOpts{cn: "Intermediate", ca: true, notAfter: time.Now().Add(365 * day)}, root)
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	broker := mkCert(t, certOpts{cn: "kafka-1", eku: both, dns: []string{"kafka-1"}}, inter)
	other := mkCert(t, certOpts{cn: "Other Root", ca: true}, nil)

	type tc struct {
		name  string
		file  string
		data  []byte
		o     LintOptions
		want  map[string]Severity
		clean bool // no error or warning at all
	}
	cases := []tc{
		{name: "good chain", file: "keystore.pem", data: pemOf(t, broker.key, broker.cert, inter.cert, root.cert), o: LintOptions{Role: pki.RoleBroker}, clean: true},
		{name: "wrong order", file: "keystore.pem", data: pemOf(t, broker.key, broker.cert, root.cert, inter.cert), o: LintOptions{Role: pki.RoleBroker},
			want: map[string]Severity{"chain-order": SevError}},
		{name: "foreign certificate", file: "chain.pem", data: pemOf(t, broker.cert, other.cert), want: map[string]Severity{"chain-broken": SevError}},
		{name: "incomplete", file: "chain.pem", data: pemOf(t, broker.cert, inter.cert), want: map[string]Severity{"chain-incomplete": SevWarning}},
		{name: "incomplete but root known", file: "chain.pem", data: pemOf(t, broker.cert, inter.cert), o: LintOptions{IntendedCA: []*x509.Certificate{root.cert}}, clean: true},
		{name: "key mismatch", file: "keystore.pem", data: pemOf(t, other.key, broker.cert, inter.cert, root.cert), want: map[string]Severity{"key-mismatch": SevError}},
		{name: "expired", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "old", notBefore: time.Now().Add(-90 * day), notAfter: time.Now().Add(-day)}, root).cert),
			want: map[string]Severity{"expired": SevError}},
		{name: "not yet valid", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "future", notBefore: time.Now().Add(day)}, root).cert),
			want: map[string]Severity{"not-yet-valid": SevError}},
		{name: "expiring", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "soon", notAfter: time.Now().Add(10 * day)}, root).cert),
			o: LintOptions{Within: 30 * day}, want: map[string]Severity{"expiring": SevWarning}},
		{name: "not expiring outside window", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "soon", notAfter: time.Now().Add(10 * day)}, root).cert),
			o: LintOptions{Within: 5 * day, IntendedCA: []*x509.Certificate{root.cert}}, clean: true},
		{name: "outlives CA", file: "chain.pem", data: pemOf(t, mkCert(t, certOpts{cn: "long", notAfter: time.Now().Add(400 * day)}, inter).cert, inter.cert, root.cert),
			want: map[string]Severity{"outlives-ca": SevWarning}},
		{name: "rsa 1024", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "weak", key: rsaKey(t, 1024)}, root).cert), want: map[string]Severity{"weak-key": SevError}},
		{name: "broker without SAN", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "b", eku: both}, root).cert), o: LintOptions{Role: pki.RoleBroker},
			want: map[string]Severity{"missing-san": SevError}},
		{name: "broker without clientAuth", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "b", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, dns: []string{"b"}}, root).cert),
			o: LintOptions{Role: pki.RoleBroker}, want: map[string]Severity{"eku": SevError}},
		{name: "serverAuth only, role unknown", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "b", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, dns: []string{"b"}}, root).cert),
			want: map[string]Severity{"eku": SevWarning}},
		{name: "server role, serverAuth only", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "idp", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, dns: []string{"idp.example.com"}}, root).cert),
			o: LintOptions{Role: pki.RoleServer, IntendedCA: []*x509.Certificate{root.cert}}, clean: true},
		{name: "server role without serverAuth", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "idp", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, dns: []string{"idp.example.com"}}, root).cert),
			o: LintOptions{Role: pki.RoleServer}, want: map[string]Severity{"eku": SevError}},
		{name: "server role without SAN", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "idp", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, root).cert),
			o: LintOptions{Role: pki.RoleServer}, want: map[string]Severity{"missing-san": SevError}},
		{name: "client with serverAuth only", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "c", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, root).cert),
			o: LintOptions{Role: pki.RoleClient}, want: map[string]Severity{"eku": SevError}},
		{name: "mirrormaker with serverAuth only", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "mm2", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, root).cert),
			o: LintOptions{Role: pki.RoleMirrorMaker}, want: map[string]Severity{"eku": SevError}},
		{name: "mirrormaker, clientAuth only, no SAN", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "mm2", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, root).cert),
			o: LintOptions{Role: pki.RoleMirrorMaker, IntendedCA: []*x509.Certificate{root.cert}}, clean: true},
		{name: "client without EKU extension", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "c"}, root).cert),
			o: LintOptions{Role: pki.RoleClient, IntendedCA: []*x509.Certificate{root.cert}}, clean: true},
		{name: "self-signed leaf", file: "tls.crt", data: pemOf(t, mkCert(t, certOpts{cn: "self", dns: []string{"self"}}, nil).cert), want: map[string]Severity{"self-signed": SevWarning}},
		{name: "wrong CA", file: "keystore.pem", data: pemOf(t, broker.key, broker.cert, inter.cert, root.cert),
			o: LintOptions{Role: pki.RoleBroker, IntendedCA: []*x509.Certificate{other.cert}}, want: map[string]Severity{"wrong-ca": SevError}},
	}
	// Truststores.
	var bundle []stores.TrustEntry
	for i := 0; i < 12; i++ {
		bundle = append(bundle, stores.TrustEntry{Alias: "public" + string(rune('a'+i)), Cert: mkCert(t, certOpts{cn: "Public Root", ca: true}, nil).cert})
	}
	bundle = append(bundle, stores.TrustEntry{Alias: "caroot", Cert: root.cert})
	big, err := stores.JKSTruststore(bundle, testPW, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc{name: "cacerts imported", file: "truststore.jks", data: big, o: LintOptions{IntendedCA: []*x509.Certificate{root.cert}},
		want: map[string]Severity{"trusts-too-much": SevError}})
	cases = append(cases, tc{name: "cacerts, no intended CA", file: "truststore.jks", data: big, want: map[string]Severity{"trusts-too-much": SevError}})
	two, _ := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: root.cert}, {Alias: "other", Cert: other.cert}}, testPW, time.Now())
	cases = append(cases, tc{name: "one extra CA", file: "truststore.jks", data: two, o: LintOptions{IntendedCA: []*x509.Certificate{root.cert}},
		want: map[string]Severity{"trusts-extra": SevWarning}})
	cases = append(cases, tc{name: "missing the CA", file: "truststore.jks", data: two, o: LintOptions{IntendedCA: []*x509.Certificate{inter.cert}},
		want: map[string]Severity{"ca-not-trusted": SevError}})
	rotation, _ := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: root.cert}, {Alias: "caroot-2", Cert: other.cert}}, testPW, time.Now())
	cases = append(cases, tc{name: "rotation trusts both", file: "truststore.jks", data: rotation, o: LintOptions{IntendedCA: []*x509.Certificate{root.cert, other.cert}}, clean: true})
	leafTrust, _ := stores.JKSTruststore([]stores.TrustEntry{{Alias: "peer", Cert: broker.cert}}, testPW, time.Now())
	cases = append(cases, tc{name: "trusts a leaf", file: "truststore.jks", data: leafTrust, want: map[string]Severity{"trusted-leaf": SevWarning}})
	ks, _ := stores.JKSKeystore("kafka-1", broker.key, []*x509.Certificate{broker.cert, inter.cert, root.cert}, testPW, time.Now())
	cases = append(cases, tc{name: "key in truststore", file: "truststore.jks", data: ks, want: map[string]Severity{"key-in-truststore": SevError}})
	cases = append(cases, tc{name: "keystore without key", file: "keystore.jks", data: two, want: map[string]Severity{"no-key-entry": SevError}})
	rc2, _ := pkcs12.LegacyRC2.Encode(broker.key, broker.cert, []*x509.Certificate{inter.cert, root.cert}, testPW)
	cases = append(cases, tc{name: "legacy RC2", file: "keystore.p12", data: rc2, o: LintOptions{Role: pki.RoleBroker}, want: map[string]Severity{"legacy-rc2": SevWarning}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := lintData(t, c.file, c.data, c.o)
			got := checks(fs)
			if c.clean {
				if e, w := Count(fs); e+w > 0 {
					t.Errorf("want no error or warning:%s", dump(fs))
				}
				return
			}
			for check, sev := range c.want {
				if got[check] != sev {
					t.Errorf("check %s: got %q, want %q:%s", check, got[check], sev, dump(fs))
				}
			}
		})
	}
}

func TestLintDirectoryCrossChecks(t *testing.T) {
	root := mkCert(t, certOpts{cn: "Root", ca: true}, nil)
	other := mkCert(t, certOpts{cn: "Other", ca: true}, nil)
	leaf := mkCert(t, certOpts{cn: "app", dns: []string{"app"}}, root)
	dir := t.TempDir()
	ks, _ := stores.JKSKeystore("app", leaf.key, []*x509.Certificate{leaf.cert, root.cert}, testPW, time.Now())
	ts, _ := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: other.cert}}, testPW, time.Now())
	writeFile(t, dir, "server.keystore.jks", ks)
	writeFile(t, dir, "server.truststore.jks", ts)
	writeFile(t, dir, "password", []byte(testPW+"\n"))
	writeFile(t, dir, "tls.crt", pemOf(t, leaf.cert))
	writeFile(t, dir, "tls.key", pemOf(t, other.key))
	writeFile(t, dir, "server.properties", []byte("listeners=SSL://:9093\n"))
	res, err := LintPaths([]string{dir}, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := checks(res.Findings)
	for _, want := range []string{"ca-not-trusted", "key-mismatch"} {
		if got[want] != SevError {
			t.Errorf("no %s error:%s", want, dump(res.Findings))
		}
	}
	// The layout says broker; the config and the password file are read.
	if len(res.Skipped) != 0 || len(res.Files) != 6 {
		t.Errorf("files %v skipped %v", res.Files, res.Skipped)
	}
}

// TestLintDirUnreadable: lint DIR fails on every file its name or content
// makes a store, key, certificate or password file and that does not read
// as one; before, a truncated keystore.p12 was "skipped" and lint passed.
func TestLintDirUnreadable(t *testing.T) {
	_, pkiDir := testPKI(t)
	src := filepath.Join(pkiDir, "certs", "client1")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	junk := make([]byte, 512)
	if _, err := rand.Read(junk); err != nil {
		t.Fatal(err)
	}
	junk[0] = 0x42 // neither JKS magic nor a DER SEQUENCE
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"keystore.p12", read("keystore.p12")[:200], "truncated or corrupt"},
		{"tls.key", read("tls.key")[:60], "truncated or corrupt"},
		{"server.jks", junk, "truncated or corrupt"},
		{"bundle.pem", junk, "truncated or corrupt"},
		{"tls.crt", junk, "truncated or corrupt"},
		{"truststore", junk, "truncated or corrupt"},
		{"password", nil, "empty"},
		{"truststore.password", make([]byte, MaxPasswordSize+1), "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "client.properties", []byte("security.protocol=SSL\n"))
			p := writeFile(t, dir, tc.name, tc.data)
			res, err := LintPaths([]string{dir}, LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var found *Finding
			for i, f := range res.Findings {
				if f.File == p && f.Severity == SevError && f.Check == "unreadable" {
					found = &res.Findings[i]
				}
			}
			if found == nil {
				t.Fatalf("no unreadable error for %s (skipped %v):%s", tc.name, res.Skipped, dump(res.Findings))
			}
			if !strings.Contains(found.Message, tc.want) {
				t.Errorf("message %q does not say %q", found.Message, tc.want)
			}
		})
	}
}

// TestLintDirBounded: every file lint DIR reads has a size limit, and a
// file over it is an error naming the file and the limit. (Sparse files:
// nothing is written.)
func TestLintDirBounded(t *testing.T) {
	for _, tc := range []struct {
		name string // under certs/client1 unless it starts with "/"
		size int64
		want string
	}{
		{"keystore.p12", MaxFileSize + 1, fmt.Sprint("limit ", MaxFileSize)},
		{"client.properties", MaxConfigSize + 1, "larger than 1 MiB, the limit"},
		{"password", MaxPasswordSize + 1, "larger than 4 KiB, the limit"},
		{"/index.json", MaxFileSize + 1, "the index is larger than 32 MiB, the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, pkiDir := testPKI(t)
			path := filepath.Join(pkiDir, "certs", "client1", tc.name)
			if strings.HasPrefix(tc.name, "/") {
				path = filepath.Join(pkiDir, tc.name)
			}
			if err := os.Truncate(path, tc.size); err != nil {
				t.Fatal(err)
			}
			res, err := LintPaths([]string{pkiDir}, LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				if f.File == path && f.Severity == SevError && strings.Contains(f.Message, tc.want) {
					return
				}
			}
			t.Errorf("no error on %s saying %q:%s", path, tc.want, dump(res.Findings))
		})
	}
}

func TestNameKind(t *testing.T) {
	for name, want := range map[string]string{
		"keystore.p12": "store", "tls.key": "store", "ca.CRT": "store", "bundle.pem": "store", "x.pfx": "store", "x.cer": "store", "x.der": "store", "req.csr": "store",
		"truststore": "store", "kafka.server.keystore": "store", "cacerts": "store", "truststore.jks": "store",
		"password": "password", "truststore.password": "password", "ssl.password": "password",
		"keystore.properties": "", "client.properties": "", "principal.txt": "", "README.md": "",
	} {
		if got := nameKind("/x/" + name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
