package inspect

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// fuzzSeeds are real files of every format inspect reads, plus near misses.
func fuzzSeeds(f testing.TB) [][]byte {
	_, dir := testPKI(f)
	var seeds [][]byte
	for _, name := range []string{"keystore.jks", "truststore.jks", "keystore.p12", "truststore.p12", "keystore.pem", "tls.key", "ca.crt"} {
		b, err := os.ReadFile(filepath.Join(dir, "certs", "kafka-1", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	ca := mkCert(f, certOpts{cn: "CA", ca: true}, nil)
	leaf := mkCert(f, certOpts{cn: "leaf", dns: []string{"leaf"}}, ca)
	rc2, _ := pkcs12.LegacyRC2.Encode(leaf.key, leaf.cert, []*x509.Certificate{ca.cert}, testPW)
	des, _ := pkcs12.LegacyDES.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}}, testPW)
	crl, _ := x509.CreateRevocationList(nil, &x509.RevocationList{Number: bigOne(), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, ca.cert, ca.key)
	seeds = append(seeds, rc2, des, crl, leaf.cert.Raw,
		[]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff},
		[]byte{0xce, 0xce, 0xce, 0xce},
		[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"),
		[]byte{0x30, 0x03, 0x02, 0x01, 0x03})
	return seeds
}

// FuzzInspect: any input gives a report or an error, never a panic or a
// hang, and whatever is reported lints without panicking.
func FuzzInspect(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, testPW)
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		r, err := Inspect(data, Options{Passwords: []Password{{Value: password, Source: "fuzz"}}})
		if err != nil {
			if r != nil {
				t.Fatal("Inspect returned a report and an error")
			}
			return
		}
		if r.Format == "" || r.Entries == nil {
			t.Fatalf("report without format or entries: %+v", r)
		}
		if Detect(data) != r.Format {
			t.Fatalf("Inspect says %s, Detect says %s", r.Format, Detect(data))
		}
		r.File = "fuzz"
		Lint(r, LintOptions{Role: "broker", Within: time.Hour})
		r.EndEntities()
	})
}

// FuzzDetect: the detector never panics and agrees with itself.
func FuzzDetect(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if Detect(data) != Detect(append([]byte{}, data...)) {
			t.Fatal("Detect is not deterministic")
		}
	})
}

// FuzzScanP12: the structure reader of PKCS#12 files (stores.ScanPKCS12,
// no password, no decryption) and inspect's description of what it reads
// stay in bounds, and what they report is consistent. (The go-pkcs12 side
// runs in FuzzInspect, behind stores.Read's iteration guard.)
func FuzzScanP12(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, s := range [][]byte{seeds[2], seeds[3], seeds[7], seeds[8]} {
		f.Add(s)
	}
	ca := mkCert(f, certOpts{cn: "CA", ca: true}, nil)
	if pl, err := pkcs12.Passwordless.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}}, ""); err == nil {
		f.Add(pl)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := scanP12(data)
		if err == nil && m.mac == "" {
			t.Fatal("no MAC description for a PKCS12 structure")
		}
		if m.encryptedSafes+m.otherSafes > m.safes {
			t.Fatalf("%d encrypted and %d other safes of %d", m.encryptedSafes, m.otherSafes, m.safes)
		}
		for _, b := range m.bags {
			if b.kind == "cert" && b.certDER == nil {
				t.Fatal("certificate bag without certificate")
			}
		}
	})
}
