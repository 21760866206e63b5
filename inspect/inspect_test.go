package inspect

import (
	"crypto/x509"
	stdpem "encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	kpem "github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
)

func TestInspectKafkatlsIdentity(t *testing.T) {
	_, dir := testPKI(t)
	edir := filepath.Join(dir, "certs", "kafka-1")
	for _, tc := range []struct {
		file, format, firstType, alias string
		entries, chain                 int
	}{
		{"keystore.jks", "JKS", EntryKey, "kafka-1", 1, 2},
		{"truststore.jks", "JKS", EntryTrusted, "caroot", 1, 1},
		{"keystore.p12", "PKCS12", EntryKey, "", 1, 2},
		// go-pkcs12 encrypts the certificate bags and does not expose their
		// friendlyName: the alias ("caroot") is not shown.
		{"truststore.p12", "PKCS12", EntryTrusted, "", 1, 1},
		{"keystore.pem", "PEM", EntryKey, "", 1, 2},
		{"chain.pem", "PEM", EntryCert, "", 2, 1},
		{"tls.key", "PEM", EntryPrivateKey, "", 1, 0},
		{"ca.crt", "PEM", EntryCert, "", 1, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := File(filepath.Join(edir, tc.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Format) != tc.format || len(r.Entries) != tc.entries {
				t.Fatalf("format %s with %d entries, want %s with %d", r.Format, len(r.Entries), tc.format, tc.entries)
			}
			e := r.Entries[0]
			if e.Type != tc.firstType || e.Alias != tc.alias || len(e.Chain) != tc.chain {
				t.Fatalf("entry %s %q chain %d, want %s %q chain %d", e.Type, e.Alias, len(e.Chain), tc.firstType, tc.alias, tc.chain)
			}
			if tc.file == "truststore.p12" && e.Note != noteAliasUnreadable {
				t.Errorf("note %q, want %q", e.Note, noteAliasUnreadable)
			}
			if tc.format != "PEM" && (r.Integrity != "verified" || !strings.HasSuffix(r.PasswordSource, "password")) {
				t.Errorf("integrity %q via %q: the sibling password file should open it", r.Integrity, r.PasswordSource)
			}
			if e.Type == EntryKey {
				if e.KeyMatches == nil || !*e.KeyMatches || e.Key.Type != "ECDSA" || e.Key.Bits != 256 {
					t.Errorf("key %+v matches=%v", e.Key, e.KeyMatches)
				}
				leaf := e.Chain[0]
				if leaf.Principal != "User:CN=kafka-1,O=Acme" || leaf.Subject != "CN=kafka-1,O=Acme" || leaf.Issuer != "CN=Test CA,O=Acme" {
					t.Errorf("leaf %+v", leaf)
				}
				if strings.Join(leaf.EKU, ",") != "serverAuth,clientAuth" || strings.Join(leaf.SANs, ",") != "DNS:kafka-1,DNS:localhost,IP:127.0.0.1" {
					t.Errorf("EKU %v SANs %v", leaf.EKU, leaf.SANs)
				}
				if !e.Chain[1].CA || !e.Chain[1].SelfSigned || len(leaf.SHA256) != 95 {
					t.Errorf("CA %+v", e.Chain[1])
				}
			}
			// kafkatls's own output lints clean for its role.
			fs := Lint(r, LintOptions{Role: "broker", Within: 30 * 24 * time.Hour, IntendedCA: readCerts(filepath.Join(dir, "ca.crt"))})
			if e, w := Count(fs); e+w > 0 {
				t.Errorf("findings on a kafkatls store:%s", dump(fs))
			}
		})
	}
	res, err := LintPaths([]string{dir}, LintOptions{Within: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if e, w := Count(res.Findings); e+w > 0 || len(res.Files) < 18 {
		t.Errorf("lint of a fresh PKI directory: %d files%s", len(res.Files), dump(res.Findings))
	}
}

func TestInspectPasswords(t *testing.T) {
	_, dir := testPKI(t)
	edir := filepath.Join(dir, "certs", "client1")
	tmp := t.TempDir()
	for _, f := range []string{"keystore.jks", "keystore.p12"} {
		b, _ := os.ReadFile(filepath.Join(edir, f))
		writeFile(t, tmp, f, b) // no sibling password file here
	}
	// JKS without a password: listed, unverified, key not decrypted.
	r, err := File(filepath.Join(tmp, "keystore.jks"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Integrity, "not verified") || r.Entries[0].Alias != "client1" || r.Entries[0].key != nil || len(r.Entries[0].Chain) != 2 {
		t.Errorf("unverified JKS: %+v", r)
	}
	// PKCS12 without a password: a clear error.
	if _, err := File(filepath.Join(tmp, "keystore.p12"), Options{}); !errors.Is(err, ErrPasswordRequired) {
		t.Errorf("PKCS12 without password: %v", err)
	}
	// An explicit wrong password is an error for both.
	wrong := Options{Passwords: []Password{{Value: "not-it-at-all", Source: "--password-file x", Explicit: true}}}
	for _, f := range []string{"keystore.jks", "keystore.p12"} {
		if _, err := File(filepath.Join(tmp, f), wrong); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("%s with a wrong password: %v", f, err)
		}
	}
	// The right one opens them.
	pw, _ := os.ReadFile(filepath.Join(edir, "password"))
	right := Options{Passwords: []Password{{Value: strings.TrimSpace(string(pw)), Source: "--password-file p", Explicit: true}}}
	for _, f := range []string{"keystore.jks", "keystore.p12"} {
		r, err := File(filepath.Join(tmp, f), right)
		if err != nil || r.Integrity != "verified" || r.Entries[0].key == nil {
			t.Errorf("%s with the right password: %v %+v", f, err, r)
		}
	}
}

func TestDetectAndErrors(t *testing.T) {
	ca := mkCert(t, certOpts{cn: "CA", ca: true}, nil)
	for _, tc := range []struct {
		name string
		data []byte
		want Format
	}{
		{"pem", pemOf(t, ca.cert), FormatPEM},
		{"der", ca.cert.Raw, FormatDER},
		{"jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0}, FormatJKS},
		{"junk", []byte("hello world"), ""},
		{"json", []byte(`{"records":[]}`), ""},
	} {
		if got := Detect(tc.data); got != tc.want {
			t.Errorf("%s: Detect %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"junk", []byte("hello"), "not a keystore"},
		{"jceks", []byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2}, "JCEKS"},
		{"truncated jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 2}, "truncated"},
		{"pem junk", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), "not a keystore"},
		{"bad cert", []byte("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"), "does not parse"},
		{"der seq", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, "not a keystore"},
	} {
		_, err := Inspect(tc.data, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestInspectPEMObjects(t *testing.T) {
	ca := mkCert(t, certOpts{cn: "CA", ca: true}, nil)
	leaf := mkCert(t, certOpts{cn: "app", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	csr, err := x509.CreateCertificateRequest(nil, &x509.CertificateRequest{DNSNames: []string{"app.example.com"}}, leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(nil, &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.cert.SerialNumber, RevocationTime: time.Now()}}}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(stdpem.EncodeToMemory(&stdpem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}),
		stdpem.EncodeToMemory(&stdpem.Block{Type: "X509 CRL", Bytes: crl})...)
	r, err := Inspect(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Entries) != 2 || r.Entries[0].CSR == nil || !r.Entries[0].CSR.SignatureValid || r.Entries[0].CSR.SANs[0] != "DNS:app.example.com" {
		t.Fatalf("CSR: %+v", r.Entries)
	}
	if c := r.Entries[1].CRL; c == nil || c.Number != "7" || len(c.Revoked) != 1 || c.Revoked[0] != pki.SerialHex(leaf.cert) {
		t.Fatalf("CRL: %+v", r.Entries[1])
	}
	// DER forms.
	for _, der := range [][]byte{csr, crl, leaf.cert.Raw} {
		if _, err := Inspect(der, Options{}); err != nil {
			t.Errorf("DER: %v", err)
		}
	}
	// An encrypted PKCS#8 key: described without a password, read with it.
	enc, err := kpem.EncodeEncryptedKey(leaf.key, []byte(testPW))
	if err != nil {
		t.Fatal(err)
	}
	r, err = Inspect(enc, Options{})
	if err != nil || r.Entries[0].Type != EntryEncryptedKey || !strings.Contains(r.Entries[0].Key.Encryption, "PBES2 AES-256-CBC") {
		t.Fatalf("encrypted key without password: %v %+v", err, r)
	}
	r, err = Inspect(enc, Options{Passwords: []Password{{Value: testPW, Source: "test"}}})
	if err != nil || r.Entries[0].Type != EntryPrivateKey || r.Entries[0].Key.Type != "ECDSA" {
		t.Fatalf("encrypted key with password: %v %+v", err, r)
	}
}

func TestPKCS12Reader(t *testing.T) {
	ca := mkCert(t, certOpts{cn: "CA", ca: true}, nil)
	leaf := mkCert(t, certOpts{cn: "broker", dns: []string{"broker"}}, ca)
	for _, enc := range []struct {
		name   string
		e      *pkcs12.Encoder
		pw     string
		rc2    bool
		alias  bool // the truststore's aliases are readable: its bags are not encrypted
		cipher string
	}{
		{"modern", pkcs12.Modern2023, testPW, false, false, "PBES2 AES-256-CBC"},
		{"legacyDES", pkcs12.LegacyDES, testPW, false, false, "PBE-SHA1-3DES"},
		{"legacyRC2", pkcs12.LegacyRC2, testPW, true, false, "RC2"},
		{"passwordless", pkcs12.Passwordless, "", false, true, ""},
	} {
		t.Run(enc.name, func(t *testing.T) {
			ks, err := enc.e.Encode(leaf.key, leaf.cert, []*x509.Certificate{ca.cert}, enc.pw)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Inspect(ks, Options{Passwords: []Password{{Value: testPW, Source: "test", Explicit: true}}})
			if err != nil {
				t.Fatal(err)
			}
			if r.LegacyRC2 != enc.rc2 || !strings.Contains(r.CertEncryption, enc.cipher) {
				t.Errorf("rc2=%v cert encryption %q", r.LegacyRC2, r.CertEncryption)
			}
			e := r.Entries[0]
			if e.Type != EntryKey || len(e.Chain) != 2 || e.KeyMatches == nil || !*e.KeyMatches {
				t.Fatalf("entry %+v", e)
			}
			ts, err := enc.e.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}, {Cert: leaf.cert, FriendlyName: "Other"}}, enc.pw)
			if err != nil {
				t.Fatal(err)
			}
			r, err = Inspect(ts, Options{Passwords: []Password{{Value: testPW, Source: "test", Explicit: true}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Entries) != 2 || r.Entries[0].Type != EntryTrusted {
				t.Fatalf("truststore entries %+v", r.Entries)
			}
			if enc.alias && (r.Entries[0].Alias != "caroot" || r.Entries[1].Alias != "Other") {
				t.Errorf("aliases %q %q", r.Entries[0].Alias, r.Entries[1].Alias)
			}
			// Encrypted certificate bags: go-pkcs12 does not expose friendlyName.
			if !enc.alias && (r.Entries[0].Alias != "" || r.Entries[0].Note != noteAliasUnreadable) {
				t.Errorf("alias %q note %q", r.Entries[0].Alias, r.Entries[0].Note)
			}
		})
	}
}

func TestAliasCollision(t *testing.T) {
	ca := mkCert(t, certOpts{cn: "CA", ca: true}, nil)
	other := mkCert(t, certOpts{cn: "Other CA", ca: true}, nil)
	ks := keystore.New(keystore.WithCaseExactAliases())
	for alias, c := range map[string]*x509.Certificate{"CARoot": ca.cert, "caroot": other.cert} {
		ks.SetTrustedCertificateEntry(alias, keystore.TrustedCertificateEntry{CreationTime: time.Now(), Certificate: keystore.Certificate{Type: "X.509", Content: c.Raw}})
	}
	w := &byteWriter{}
	if err := ks.Store(w, []byte(testPW)); err != nil {
		t.Fatal(err)
	}
	fs := lintData(t, "truststore.jks", w.b, LintOptions{})
	if checks(fs)["alias-collision"] != SevError {
		t.Errorf("no alias-collision error:%s", dump(fs))
	}
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func TestStoreEntriesFromJKSRead(t *testing.T) {
	// stores.Read and the raw walker agree on a kafkatls truststore.
	ca := mkCert(t, certOpts{cn: "CA", ca: true}, nil)
	ts, err := stores.JKSTruststore([]stores.TrustEntry{{Alias: "caroot", Cert: ca.cert}}, testPW, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stores.ReadUnverified(ts)
	if err != nil || len(raw) != 1 || raw[0].Alias != "caroot" || !raw[0].Certs[0].Equal(ca.cert) {
		t.Fatalf("raw walk: %v %+v", err, raw)
	}
}
