package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

func hasTool(name string) bool { _, err := exec.LookPath(name); return err == nil }

// checkStores has keytool list every store of an identity and OpenSSL
// verify its certificate and parse its PKCS12 files without -legacy.
func checkStores(t *testing.T, edir string, server bool) {
	t.Helper()
	realpeer.Need(t, "keytool", "openssl")
	pw := readTrim(t, filepath.Join(edir, "password"))
	name := filepath.Base(edir)
	for _, ks := range []string{"keystore.jks", "keystore.p12"} {
		out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", filepath.Join(edir, ks), "-storepass", pw)
		if !strings.Contains(out, "Entry type: PrivateKeyEntry") || !strings.Contains(out, "Certificate chain length: 2") {
			t.Errorf("%s/%s: keytool sees no key entry with a 2-certificate chain:\n%s", name, ks, out)
		}
		if ks == "keystore.jks" && !strings.Contains(out, "Alias name: "+strings.ToLower(name)) {
			t.Errorf("%s/%s: alias is not %q", name, ks, strings.ToLower(name))
		}
	}
	for _, ts := range []string{"truststore.jks", "truststore.p12"} {
		out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", filepath.Join(edir, ts), "-storepass", pw)
		if !strings.Contains(out, "Alias name: caroot") || !strings.Contains(out, "Entry type: trustedCertEntry") {
			t.Errorf("%s/%s: no trusted caroot entry:\n%s", name, ts, out)
		}
	}
	purpose := "sslclient"
	if server {
		purpose = "sslserver"
	}
	for _, p := range []string{purpose, "sslclient"} {
		out := realpeer.Run(t, "openssl", "verify", "-purpose", p, "-CAfile", filepath.Join(edir, "ca.crt"), filepath.Join(edir, "tls.crt"))
		if !strings.Contains(out, ": OK") {
			t.Errorf("%s: openssl verify -purpose %s: %s", name, p, out)
		}
	}
	if !server {
		if out, err := realpeer.RunErr("openssl", "verify", "-purpose", "sslserver", "-CAfile", filepath.Join(edir, "ca.crt"), filepath.Join(edir, "tls.crt")); err == nil {
			t.Errorf("%s: a client certificate verifies for sslserver:\n%s", name, out)
		}
	}
	for _, p12 := range []string{"keystore.p12", "truststore.p12"} {
		realpeer.Run(t, "openssl", "pkcs12", "-info", "-noout", "-in", filepath.Join(edir, p12), "-passin", "pass:"+pw)
	}
	// keystore.pem holds the PKCS#8 key and the chain, as Kafka's PEM store type wants.
	pemStore := readTrim(t, filepath.Join(edir, "keystore.pem"))
	if !strings.HasPrefix(pemStore, "-----BEGIN PRIVATE KEY-----") || strings.Count(pemStore, "BEGIN CERTIFICATE") != 2 {
		t.Errorf("%s/keystore.pem: not key + 2-certificate chain", name)
	}
}

func TestRealPeersReadIssuedStores(t *testing.T) {
	for _, keyType := range []string{"ecdsa", "rsa"} {
		t.Run(keyType, func(t *testing.T) {
			dir := t.TempDir()
			ok(t, dir, "init", "--key-type", keyType)
			ok(t, dir, "issue", "Kafka-1", "--role", "broker")
			ok(t, dir, "issue", "client1", "--subject", "CN=client1.kafka.lydtechconsulting.com,OU=TEST,O=LYDTECH,L=London,S=LN,C=UK")
			checkStores(t, filepath.Join(dir, "kafka-pki/certs/Kafka-1"), true)
			checkStores(t, filepath.Join(dir, "kafka-pki/certs/client1"), false)
		})
	}
}

// TestJavaMutualTLS: a JSSE server with the broker's stores and a JSSE
// client with the client's stores complete mutual TLS with hostname
// verification on, for JKS and PKCS12; the principal the server sees is
// principal.txt without "User:".
func TestJavaMutualTLS(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker")
	ok(t, dir, "issue", "client1", "--subject", `CN=Tkac\, Adam,OU=ITZ,O=Acme+L=Praha`)
	b := filepath.Join(dir, "kafka-pki/certs/kafka-1")
	c := filepath.Join(dir, "kafka-pki/certs/client1")
	want := strings.TrimPrefix(readTrim(t, filepath.Join(c, "principal.txt")), "User:")
	for _, tc := range []struct{ ext, typ string }{{"jks", "JKS"}, {"p12", "PKCS12"}} {
		got, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
			ServerKeystore: filepath.Join(b, "keystore."+tc.ext), ServerTruststore: filepath.Join(b, "truststore."+tc.ext),
			ClientKeystore: filepath.Join(c, "keystore."+tc.ext), ClientTruststore: filepath.Join(c, "truststore."+tc.ext),
			Type: tc.typ, Password: readTrim(t, filepath.Join(b, "password")), ClientPassword: readTrim(t, filepath.Join(c, "password")),
		})
		if err != nil {
			t.Fatalf("%s handshake: %v", tc.typ, err)
		}
		if got != want {
			t.Errorf("%s: Java server saw %q, principal.txt says %q", tc.typ, got, want)
		}
	}
	// A broker certificate whose SANs lack the dialled host is refused.
	_, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
		ServerKeystore: filepath.Join(b, "keystore.jks"), ServerTruststore: filepath.Join(b, "truststore.jks"),
		ClientKeystore: filepath.Join(c, "keystore.jks"), ClientTruststore: filepath.Join(c, "truststore.jks"),
		Type: "JKS", Password: readTrim(t, filepath.Join(b, "password")), ClientPassword: readTrim(t, filepath.Join(c, "password")),
		Host: "not-in-sans.example.com",
	})
	if err == nil {
		t.Error("hostname verification accepted a host missing from the SANs")
	}
}

// TestKeytoolCSRSignedKeepsSANs: the classic keytool flow, with kafkatls
// as the CA: SANs from -certreq survive and the reply imports back.
func TestKeytoolCSRSignedKeepsSANs(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl")
	dir := newPKI(t)
	ks := filepath.Join(dir, "kafka-3.jks")
	kt := func(args ...string) string {
		return realpeer.Run(t, "keytool", append(args, "-keystore", ks, "-storepass", "kafka3pass", "-noprompt")...)
	}
	kt("-genkeypair", "-alias", "kafka-3", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30",
		"-dname", "CN=kafka-3,OU=Kafka,O=Acme", "-ext", "SAN=dns:kafka-3.internal,ip:10.0.0.3", "-storetype", "JKS")
	csr := filepath.Join(dir, "kafka-3.csr")
	kt("-certreq", "-alias", "kafka-3", "-file", csr, "-ext", "SAN=dns:kafka-3.internal,ip:10.0.0.3")
	chain := filepath.Join(dir, "kafka-3-chain.pem")
	ok(t, dir, "sign", csr, "--role", "broker", "--dns", "kafka.example.com", "--out", chain)
	text := realpeer.Run(t, "openssl", "x509", "-in", filepath.Join(dir, "kafka-pki/certs/kafka-3/tls.crt"), "-noout", "-ext", "subjectAltName,extendedKeyUsage")
	for _, want := range []string{"DNS:kafka-3.internal", "IP Address:10.0.0.3", "DNS:kafka.example.com", "TLS Web Server Authentication", "TLS Web Client Authentication"} {
		if !strings.Contains(text, want) {
			t.Errorf("signed certificate lacks %s:\n%s", want, text)
		}
	}
	kt("-importcert", "-alias", "caroot", "-file", filepath.Join(dir, "kafka-pki/ca.crt"))
	out := kt("-importcert", "-alias", "kafka-3", "-file", chain)
	if !strings.Contains(out, "Certificate reply was installed") {
		t.Fatalf("keytool did not install the reply:\n%s", out)
	}
	list := kt("-list", "-v", "-alias", "kafka-3")
	if !regexp.MustCompile(`Certificate chain length: 2`).MatchString(list) {
		t.Errorf("imported chain:\n%s", list)
	}
	if got := readTrim(t, filepath.Join(dir, "kafka-pki/certs/kafka-3/principal.txt")); got != "User:CN=kafka-3,OU=Kafka,O=Acme" {
		t.Errorf("principal %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki/certs/kafka-3/tls.key")); !os.IsNotExist(err) {
		t.Error("sign wrote a key it never had")
	}
}

// TestCSRCommand: kafkatls csr + sign round trip.
func TestCSRCommand(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "csr", "kafka-9", "--role", "broker", "--dns", "kafka-9.internal")
	if st, _ := os.Stat(filepath.Join(dir, "kafka-9.key")); st == nil || st.Mode().Perm() != 0o600 {
		t.Fatal("csr key missing or not 0600")
	}
	ok(t, dir, "sign", "kafka-9.csr", "--role", "broker")
	realpeer.Need(t, "openssl")
	text := realpeer.Run(t, "openssl", "x509", "-in", filepath.Join(dir, "kafka-pki/certs/kafka-9/tls.crt"), "-noout", "-ext", "subjectAltName")
	if !strings.Contains(text, "DNS:kafka-9.internal") || !strings.Contains(text, "DNS:localhost") {
		t.Errorf("SANs: %s", text)
	}
	if r := kt(t, dir, "csr", "kafka-9"); r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("csr overwrite: %d %q", r.code, r.stderr)
	}
}

// TestImportedIntermediateCA: an intermediate made by OpenSSL is adopted;
// keystores carry leaf + intermediate + root, truststores the root, and
// Java completes mutual TLS with them.
func TestImportedIntermediateCA(t *testing.T) {
	realpeer.Need(t, "openssl", "keytool", "java")
	dir := t.TempDir()
	run := func(args ...string) { realpeer.Run(t, "openssl", args...) }
	p := func(n string) string { return filepath.Join(dir, n) }
	run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("root.key"), "-out", p("root.crt"),
		"-days", "3650", "-subj", "/O=Corp/CN=Corp Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("int.key"), "-out", p("int.csr"), "-subj", "/O=Corp/CN=Corp Kafka Intermediate")
	os.WriteFile(p("int.ext"), []byte("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"), 0o644)
	run("x509", "-req", "-in", p("int.csr"), "-CA", p("root.crt"), "-CAkey", p("root.key"), "-CAcreateserial", "-days", "1825", "-extfile", p("int.ext"), "-out", p("int.crt"))
	chain, _ := os.ReadFile(p("int.crt"))
	root, _ := os.ReadFile(p("root.crt"))
	os.WriteFile(p("int-chain.pem"), append(chain, root...), 0o644)

	ok(t, dir, "init", "--import-ca", "int-chain.pem", "--import-key", "int.key")
	ok(t, dir, "issue", "kafka-1", "--role", "broker")
	ok(t, dir, "issue", "client1")
	b, c := filepath.Join(dir, "kafka-pki/certs/kafka-1"), filepath.Join(dir, "kafka-pki/certs/client1")
	out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", filepath.Join(c, "keystore.p12"), "-storepass", readTrim(t, filepath.Join(c, "password")))
	if !strings.Contains(out, "Certificate chain length: 3") {
		t.Errorf("keystore chain is not leaf + intermediate + root:\n%s", out)
	}
	if ca := readTrim(t, filepath.Join(c, "ca.crt")); ca != strings.TrimRight(string(root), "\n") {
		t.Error("ca.crt is not the root")
	}
	if out := realpeer.Run(t, "openssl", "verify", "-CAfile", p("root.crt"), "-untrusted", p("int.crt"), "-purpose", "sslserver", filepath.Join(b, "tls.crt")); !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify through the intermediate: %s", out)
	}
	got, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
		ServerKeystore: filepath.Join(b, "keystore.jks"), ServerTruststore: filepath.Join(b, "truststore.jks"),
		ClientKeystore: filepath.Join(c, "keystore.jks"), ClientTruststore: filepath.Join(c, "truststore.jks"),
		Type: "JKS", Password: readTrim(t, filepath.Join(b, "password")), ClientPassword: readTrim(t, filepath.Join(c, "password")),
	})
	if err != nil || got != "CN=client1" {
		t.Fatalf("Java handshake through the intermediate: %q %v", got, err)
	}
}
