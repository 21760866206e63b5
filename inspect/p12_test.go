package inspect

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// TestNoOwnCrypto: inspect reads structure only; key derivation, MACs and
// decryption belong to go-pkcs12 and youmark/pkcs8.
func TestNoOwnCrypto(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	forbidden := []string{"crypto/aes", "crypto/des", "crypto/cipher", "crypto/pbkdf2", "crypto/hmac", "crypto/sha1", "crypto/sha256", "crypto/sha512", "crypto/md5", "crypto/rc4", "hash", "golang.org/x/crypto/"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad)) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}

func TestScanP12Metadata(t *testing.T) {
	_, dir := testPKI(t)
	ks, err := os.ReadFile(filepath.Join(dir, "certs", "kafka-1", "keystore.p12"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := scanP12(ks)
	if err != nil {
		t.Fatal(err)
	}
	// go-pkcs12 Modern2023: an encrypted certificate safe and a clear key safe.
	if !m.hasMAC || m.mac != "HmacPBESHA256" || m.macIterations != 2048 || m.safes != 2 || m.encryptedSafes != 1 {
		t.Errorf("meta %+v", m)
	}
	if !strings.HasPrefix(m.certEncryption, "PBES2 AES-256-CBC (PBKDF2-HMAC-SHA256, 2048 iterations)") || m.certEncryption != m.keyEncryption {
		t.Errorf("encryption %q / %q", m.certEncryption, m.keyEncryption)
	}
	if kb := m.keyBags(); len(kb) != 1 || kb[0].hasName || len(kb[0].localKeyID) == 0 {
		t.Errorf("key bags %+v", kb)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x03, 0x02, 0x01, 0x03}, ks[:len(ks)/2]} {
		if _, err := scanP12(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

// TestPKCS12Foreign: stores made by OpenSSL and keytool, read through
// go-pkcs12 only.
func TestPKCS12Foreign(t *testing.T) {
	realpeer.Need(t, "openssl", "keytool")
	dir := t.TempDir()
	at := func(f string) string { return filepath.Join(dir, f) }
	openssl := func(args ...string) { realpeer.Run(t, "openssl", args...) }
	keytool := func(args ...string) { realpeer.Run(t, "keytool", args...) }
	openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", at("root.key"), "-out", at("root.pem"), "-days", "365", "-subj", "/CN=Root",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", at("other.key"), "-out", at("other.pem"), "-days", "365", "-subj", "/CN=Other",
		"-addext", "basicConstraints=critical,CA:TRUE")
	openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", at("leaf.key"), "-out", at("leaf.csr"), "-subj", "/CN=leaf")
	openssl("x509", "-req", "-in", at("leaf.csr"), "-CA", at("root.pem"), "-CAkey", at("root.key"), "-CAcreateserial", "-out", at("leaf.pem"), "-days", "30")
	cat := func(out string, files ...string) {
		var b []byte
		for _, f := range files {
			d, _ := os.ReadFile(at(f))
			b = append(b, d...)
		}
		os.WriteFile(at(out), b, 0o600)
	}
	cat("extra.pem", "root.pem", "other.pem")
	inspectFile := func(f string) *Report {
		t.Helper()
		data, err := os.ReadFile(at(f))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Inspect(data, Options{Passwords: []Password{{Value: testPW, Source: "test", Explicit: true}}})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r.File = f
		return r
	}

	t.Run("OpenSSL keystore", func(t *testing.T) {
		// The key bag is in the clear (its alias), the certificates'
		// attributes come from go-pkcs12's ToPEM.
		openssl("pkcs12", "-export", "-in", at("leaf.pem"), "-inkey", at("leaf.key"), "-certfile", at("extra.pem"), "-name", "broker", "-caname", "rootca", "-caname", "otherca",
			"-out", at("ossl.p12"), "-passout", "pass:"+testPW)
		r := inspectFile("ossl.p12")
		if len(r.Entries) != 2 || r.Entries[0].Type != EntryKey || r.Entries[0].Alias != "broker" || len(r.Entries[0].Chain) != 2 {
			t.Fatalf("entries %+v", r.Entries)
		}
		if e := r.Entries[1]; e.Type != EntryCert || e.Alias == "" || !strings.Contains(e.Note, "no Java trusted-certificate attribute") {
			t.Errorf("extra certificate %+v", e)
		}
		if c := checks(Lint(r, LintOptions{})); c["p12-not-trusted"] != SevWarning {
			t.Errorf("lint %v", c)
		}
	})

	t.Run("OpenSSL truststore", func(t *testing.T) {
		openssl("pkcs12", "-export", "-nokeys", "-in", at("root.pem"), "-out", at("ossl-trust.p12"), "-passout", "pass:"+testPW)
		r := inspectFile("ossl-trust.p12")
		if !r.p12NotTrusted || r.Integrity != "verified" || len(r.Entries) != 0 {
			t.Fatalf("report %+v", r)
		}
		fs := Lint(r, LintOptions{})
		if c := checks(fs); c["p12-not-trusted"] != SevError || c["empty-store"] != "" {
			t.Errorf("lint:%s", dump(fs))
		}
	})

	t.Run("keytool truststore", func(t *testing.T) {
		keytool("-importcert", "-alias", "caroot", "-file", at("root.pem"), "-keystore", at("kt-trust.p12"), "-storetype", "PKCS12", "-storepass", testPW, "-noprompt")
		r := inspectFile("kt-trust.p12")
		if len(r.Entries) != 1 || r.Entries[0].Type != EntryTrusted || r.Entries[0].Alias != "" || r.Entries[0].Note != noteAliasUnreadable {
			t.Fatalf("entries %+v", r.Entries)
		}
		if fs := Lint(r, LintOptions{}); len(fs) != 0 {
			t.Errorf("lint:%s", dump(fs))
		}
	})

	t.Run("keytool keystore with a trusted CA", func(t *testing.T) {
		ks := at("kt-ks.p12")
		keytool("-genkeypair", "-alias", "Kafka", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=kafka", "-keystore", ks, "-storetype", "PKCS12", "-storepass", testPW)
		keytool("-importcert", "-alias", "caroot", "-file", at("root.pem"), "-keystore", ks, "-storepass", testPW, "-noprompt")
		r := inspectFile("kt-ks.p12")
		if len(r.Entries) != 2 || r.Entries[0].Type != EntryKey || r.Entries[0].Alias != "kafka" || len(r.Entries[0].Chain) != 1 {
			t.Fatalf("entries %+v", r.Entries)
		}
		if e := r.Entries[1]; e.Type != EntryTrusted || !strings.Contains(e.Note, "taken as a trusted entry") {
			t.Errorf("trusted entry %+v", e)
		}
		fs := Lint(r, LintOptions{Now: time.Now()})
		if c := checks(fs); c["keystore-trusts"] != SevInfo || c["p12-not-trusted"] != "" {
			t.Errorf("lint:%s", dump(fs))
		}
	})

	t.Run("PBES1 PEM key", func(t *testing.T) {
		// Described, not decrypted: youmark/pkcs8 reads PBES2 only.
		openssl("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", at("leaf.key"), "-out", at("pbes1.key"), "-passout", "pass:"+testPW)
		r := inspectFile("pbes1.key")
		if e := r.Entries[0]; e.Type != EntryEncryptedKey || !strings.Contains(e.Note, "PBE-SHA1-3DES") || !strings.Contains(e.Note, "not decrypted") {
			t.Errorf("entry %+v", e)
		}
		openssl("pkcs8", "-topk8", "-v2", "aes-128-cbc", "-in", at("leaf.key"), "-out", at("pbes2.key"), "-passout", "pass:"+testPW)
		if e := inspectFile("pbes2.key").Entries[0]; e.Type != EntryPrivateKey || e.Key.Type != "ECDSA" {
			t.Errorf("PBES2 key %+v", e)
		}
	})
}
