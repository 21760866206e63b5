package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// handshake runs a JSSE server with the broker's stores and a JSSE client
// with the client's, in the given store format, with hostname verification.
func handshake(t *testing.T, broker, client, ext string) (string, error) {
	t.Helper()
	typ := map[string]string{"jks": "JKS", "p12": "PKCS12"}[ext]
	return realpeer.JavaHandshake(t, realpeer.HandshakeStores{
		ServerKeystore: filepath.Join(broker, "keystore."+ext), ServerTruststore: filepath.Join(broker, "truststore."+ext),
		ClientKeystore: filepath.Join(client, "keystore."+ext), ClientTruststore: filepath.Join(client, "truststore."+ext),
		Type: typ, Password: readTrim(t, filepath.Join(broker, "password")), ClientPassword: readTrim(t, filepath.Join(client, "password")),
	})
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func serialOf(t *testing.T, certFile string) string {
	t.Helper()
	out := realpeer.Run(t, "openssl", "x509", "-in", certFile, "-noout", "-serial")
	return strings.TrimPrefix(strings.TrimSpace(out), "serial=")
}

// TestRenewKeepsStoresWorking: after renew the stores still complete mutual
// TLS with Java, with the same key, password and configs, and the index
// keeps the history.
func TestRenewKeepsStoresWorking(t *testing.T) {
	realpeer.Need(t, "java", "openssl")
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com")
	ok(t, dir, "issue", "client1", "--p12-compat", "legacy")
	b, c := filepath.Join(dir, "kafka-pki/certs/kafka-1"), filepath.Join(dir, "kafka-pki/certs/client1")
	keep := map[string]string{}
	for _, f := range []string{"server.properties", "client.properties", "password", "tls.key", "principal.txt"} {
		keep[f] = readTrim(t, filepath.Join(b, f))
	}
	oldSerial := serialOf(t, filepath.Join(b, "tls.crt"))

	out := ok(t, dir, "renew", "kafka-1", "--node-id", "kafka-1=1", "--bootstrap", "kafka-1.example.com:9093", "--command-config", "/etc/kafka/admin.properties")
	if !strings.Contains(out, "kafka-configs.sh --bootstrap-server kafka-1.example.com:9093 --command-config /etc/kafka/admin.properties --entity-type brokers --entity-name 1 --alter --add-config listener.name.ssl.ssl.keystore.location="+filepath.Join(b, "keystore.p12")) {
		t.Errorf("renew output lacks the reload command:\n%s", out)
	}
	ok(t, dir, "renew", "client1", "--rekey", "--days", "90")
	for f, before := range keep {
		if readTrim(t, filepath.Join(b, f)) != before {
			t.Errorf("renew changed %s", f)
		}
	}
	if serialOf(t, filepath.Join(b, "tls.crt")) == oldSerial {
		t.Error("renew kept the serial")
	}
	// The PKCS12 profile of client1 (legacy 3DES) is kept: OpenSSL 3 reads it without -legacy.
	info := realpeer.Run(t, "openssl", "pkcs12", "-info", "-noout", "-in", filepath.Join(c, "keystore.p12"), "-passin", "pass:"+readTrim(t, filepath.Join(c, "password")))
	if !strings.Contains(info, "TripleDES") {
		t.Errorf("client1 keystore.p12 is no longer legacy 3DES:\n%s", info)
	}
	for _, ext := range []string{"jks", "p12"} {
		got, err := handshake(t, b, c, ext)
		if err != nil {
			t.Fatalf("%s handshake after renew: %v", ext, err)
		}
		if "User:"+got != readTrim(t, filepath.Join(c, "principal.txt")) {
			t.Errorf("principal %q changed", got)
		}
	}
	// The index keeps both certificates; list shows the current one.
	var recs []struct{ Name, Status, Serial string }
	json.Unmarshal([]byte(ok(t, dir, "list", "--all", "--json")), &recs)
	var statuses []string
	for _, r := range recs {
		if r.Name == "kafka-1" {
			statuses = append(statuses, r.Status)
		}
	}
	if strings.Join(statuses, ",") != "superseded,valid" {
		t.Errorf("kafka-1 history %v", statuses)
	}
	if out := ok(t, dir, "list"); strings.Count(out, "kafka-1") != 1 || !regexp.MustCompile(`client1\s+client\s+[0-9a-f]+\s+\d{4}-\d\d-\d\d\s+valid`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	// expiring: client1 now expires in 90 days.
	if r := kt(t, dir, "expiring", "--within", "100d"); r.code != 3 || !strings.Contains(r.stdout, "client1") || strings.Contains(r.stdout, "kafka-1") {
		t.Errorf("expiring --within 100d: exit %d\n%s", r.code, r.stdout)
	}
	if r := kt(t, dir, "expiring", "--within", "30d"); r.code != 0 {
		t.Errorf("expiring --within 30d: exit %d\n%s", r.code, r.stdout)
	}
	if r := kt(t, dir, "expiring", "--within", "forever"); r.code != 2 {
		t.Errorf("bad --within: exit %d", r.code)
	}
	if r := kt(t, dir, "renew", "nobody"); r.code != 1 || !strings.Contains(r.stderr, "kafkatls list") {
		t.Errorf("renew unknown: exit %d %q", r.code, r.stderr)
	}
}

// TestRevokeWritesCRLOpenSSLHonours: the revoked serial is in crl.pem as
// OpenSSL reads it, and openssl verify -crl_check refuses the certificate.
func TestRevokeWritesCRLOpenSSLHonours(t *testing.T) {
	realpeer.Need(t, "openssl")
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker")
	ok(t, dir, "issue", "client1")
	pki := filepath.Join(dir, "kafka-pki")
	c := filepath.Join(pki, "certs/client1")
	serial := serialOf(t, filepath.Join(c, "tls.crt"))
	out := ok(t, dir, "revoke", "client1", "--bootstrap", "kafka-1:9093")
	for _, want := range []string{"--list --principal 'User:CN=client1,O=Acme,C=GB'", "Kafka does not read CRLs", "ssl.crl.location", "kafkatls ca rotate"} {
		if !strings.Contains(out, want) {
			t.Errorf("revoke output lacks %q:\n%s", want, out)
		}
	}
	crl := realpeer.Run(t, "openssl", "crl", "-text", "-noout", "-in", filepath.Join(pki, "crl.pem"))
	if !strings.Contains(crl, "Serial Number: "+serial) || !strings.Contains(crl, "X509v3 CRL Number: \n                1") && !regexp.MustCompile(`CRL Number:\s*\n\s*1\b`).MatchString(crl) {
		t.Errorf("CRL lacks serial %s (or number 1):\n%s", serial, crl)
	}
	verify := func(cert string) (string, error) {
		return realpeer.RunErr("openssl", "verify", "-crl_check", "-CAfile", filepath.Join(pki, "ca.crt"), "-CRLfile", filepath.Join(pki, "crl.pem"), cert)
	}
	if out, err := verify(filepath.Join(c, "tls.crt")); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("openssl accepts the revoked certificate: %v\n%s", err, out)
	}
	if out, err := verify(filepath.Join(pki, "certs/kafka-1/tls.crt")); err != nil {
		t.Errorf("openssl refuses a valid certificate with the CRL: %v\n%s", err, out)
	}
	// The index says revoked; a second revoke has nothing left; renew refuses.
	if out := ok(t, dir, "list"); !regexp.MustCompile(`client1\s+client\s+\S+\s+\S+\s+revoked`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	if r := kt(t, dir, "revoke", "client1"); r.code != 1 || !strings.Contains(r.stderr, "already revoked") {
		t.Errorf("second revoke: exit %d %q", r.code, r.stderr)
	}
	if r := kt(t, dir, "renew", "client1"); r.code != 1 || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("renew revoked: exit %d %q", r.code, r.stderr)
	}
	// Re-signing bumps the CRL number and keeps the serial.
	ok(t, dir, "revoke", "--crl")
	crl = realpeer.Run(t, "openssl", "crl", "-text", "-noout", "-in", filepath.Join(pki, "crl.pem"))
	if !strings.Contains(crl, "Serial Number: "+serial) || !regexp.MustCompile(`CRL Number:\s*\n\s*2\b`).MatchString(crl) {
		t.Errorf("re-signed CRL:\n%s", crl)
	}
	if r := kt(t, dir, "revoke"); r.code != 2 {
		t.Errorf("revoke without NAME: exit %d", r.code)
	}
}

// TestCARotationKeepsEveryoneTalking: during a rotation, clients with old
// and with new certificates both complete mutual TLS with a broker whose
// truststore holds both CAs; after finish the old certificates are refused.
func TestCARotationKeepsEveryoneTalking(t *testing.T) {
	realpeer.Need(t, "java", "openssl")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pass"), []byte("rotation passphrase\n"), 0o600)
	ok(t, dir, "init", "--key-type", "ecdsa", "--org", "Acme", "--ca-passphrase-file", "pass")
	ok(t, dir, "issue", "kafka-1", "--role", "broker", "--ca-passphrase-file", "pass")
	ok(t, dir, "issue", "client1", "--ca-passphrase-file", "pass")
	pki := filepath.Join(dir, "kafka-pki")
	b, c := filepath.Join(pki, "certs/kafka-1"), filepath.Join(pki, "certs/client1")
	oldCA := readTrim(t, filepath.Join(pki, "ca/ca.crt"))

	if r := kt(t, dir, "ca", "rotate", "start"); r.code != 1 || !strings.Contains(r.stderr, "passphrase") {
		t.Fatalf("start without the CA passphrase: exit %d %q", r.code, r.stderr)
	}
	out := ok(t, dir, "ca", "rotate", "start", "--ca-passphrase-file", "pass", "--node-id", "kafka-1=1")
	if !strings.Contains(out, "--entity-name 1 --alter --add-config listener.name.ssl.ssl.truststore.location="+filepath.Join(b, "truststore.p12")) {
		t.Errorf("start output lacks the truststore reload:\n%s", out)
	}
	if !strings.Contains(readTrim(t, filepath.Join(pki, "ca/ca.key")), "ENCRYPTED PRIVATE KEY") {
		t.Error("the new CA key is not encrypted")
	}
	if readTrim(t, filepath.Join(pki, "ca/previous/ca.crt")) != oldCA {
		t.Error("the previous CA is not kept in ca/previous")
	}
	for _, d := range []string{b, c} {
		list := realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(d, "truststore.p12"), "-storepass", readTrim(t, filepath.Join(d, "password")))
		if !strings.Contains(list, "Your keystore contains 2 entries") {
			t.Errorf("%s truststore after start:\n%s", filepath.Base(d), list)
		}
	}
	if out := ok(t, dir, "ca", "rotate", "status", "--json"); !strings.Contains(out, `"phase": "started"`) {
		t.Errorf("status: %s", out)
	}
	// Snapshot the identities as deployed before reissue: old certificates,
	// truststores with both CAs.
	oldB, oldC := filepath.Join(dir, "old-kafka-1"), filepath.Join(dir, "old-client1")
	copyDir(t, b, oldB)
	copyDir(t, c, oldC)
	if r := kt(t, dir, "ca", "rotate", "finish"); r.code != 1 || !strings.Contains(r.stderr, "reissue") {
		t.Errorf("finish before reissue: exit %d %q", r.code, r.stderr)
	}

	if r := kt(t, dir, "ca", "rotate", "reissue"); r.code != 1 || !strings.Contains(r.stderr, "passphrase") {
		t.Errorf("reissue without the passphrase: exit %d %q", r.code, r.stderr)
	}
	ok(t, dir, "ca", "rotate", "reissue", "--ca-passphrase-file", "pass")
	// The reissued keystore chains to the new CA.
	newCA := filepath.Join(pki, "ca/ca.crt")
	if out := realpeer.Run(t, "openssl", "verify", "-CAfile", newCA, filepath.Join(b, "tls.crt")); !strings.Contains(out, ": OK") {
		t.Errorf("reissued broker certificate: %s", out)
	}
	if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", newCA, filepath.Join(oldC, "tls.crt")); err == nil {
		t.Errorf("old client certificate verifies against the new CA alone: %s", out)
	}
	// Mid-rotation, every combination completes mutual TLS.
	for _, pair := range []struct{ name, broker, client string }{
		{"new broker, old client", b, oldC},
		{"new broker, new client", b, c},
		{"old broker, new client", oldB, c},
		{"old broker, old client", oldB, oldC},
	} {
		if _, err := handshake(t, pair.broker, pair.client, "p12"); err != nil {
			t.Errorf("%s: %v", pair.name, err)
		}
	}
	if out := ok(t, dir, "lint", "kafka-pki"); !strings.Contains(out, "0 error(s), 0 warning(s)") {
		t.Errorf("lint mid-rotation:\n%s", out)
	}

	ok(t, dir, "ca", "rotate", "finish")
	if _, err := os.Stat(filepath.Join(pki, "ca/previous")); !os.IsNotExist(err) {
		t.Error("ca/previous still there after finish")
	}
	if _, err := handshake(t, b, c, "jks"); err != nil {
		t.Errorf("after finish, new certificates: %v", err)
	}
	if _, err := handshake(t, b, oldC, "jks"); err == nil {
		t.Error("after finish the broker still accepts a certificate of the dropped CA")
	}
	if out := ok(t, dir, "ca", "rotate", "status"); !strings.Contains(out, "phase      none") {
		t.Errorf("status after finish:\n%s", out)
	}
}

// TestRevokeBundleClientPrintsACLRemovals: for a client of a bundle spec,
// revoke prints the kafka-acls --remove commands of its grants, and lint
// leaves the revoked identity's files alone.
func TestRevokeBundleClientPrintsACLRemovals(t *testing.T) {
	dir := t.TempDir()
	spec := `mode: kraft
brokers:
  - name: kafka-1
clients:
  - name: orders-service
    subject: CN=orders-service,OU=ServiceUsers,O=Acme
    grants:
      - topic: orders
        producer: true
      - topic: orders
        group: billing
        consumer: true
`
	os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o600)
	ok(t, dir, "bundle", "-f", "kafkatls.yaml")
	out := ok(t, dir, "revoke", "orders-service", "--bootstrap", "kafka-1:9093", "--command-config", "admin.properties")
	for _, want := range []string{
		"kafka-acls.sh --bootstrap-server kafka-1:9093 --command-config admin.properties --remove --force --allow-principal 'User:CN=orders-service,OU=ServiceUsers,O=Acme' --producer --topic orders",
		"--remove --force --allow-principal 'User:CN=orders-service,OU=ServiceUsers,O=Acme' --consumer --topic orders --group billing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("revoke output lacks\n%s\n%s", want, out)
		}
	}
	lr := lintJSON(t, dir, "kafka-pki")
	if lr.code != 0 || lr.checks["not-current"] != "info" {
		t.Errorf("lint after revoke: exit %d %v", lr.code, lr.checks)
	}
}

// TestBundleDuringRotation: a bundle re-run in the middle of a CA rotation
// keeps both CAs in DIR/ca.crt and the bundle truststores, and sees nothing
// to change; finish leaves one.
func TestBundleDuringRotation(t *testing.T) {
	realpeer.Need(t, "keytool")
	dir := t.TempDir()
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "app")
	pki := filepath.Join(dir, "kafka-pki")
	entries := func() string {
		out := realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(pki, "truststore.jks"), "-storepass", readTrim(t, filepath.Join(pki, "truststore.password")))
		return regexp.MustCompile(`Your keystore contains (\d+) entr`).FindStringSubmatch(out)[1]
	}
	ok(t, dir, "ca", "rotate", "start")
	if n := entries(); n != "2" {
		t.Fatalf("bundle truststore after start: %s entries", n)
	}
	// The re-run only updates SUMMARY.md (it names the CA); the trust stays.
	out := ok(t, dir, "bundle")
	if strings.Contains(out, "truststore") {
		t.Errorf("bundle re-run rewrote truststores mid-rotation:\n%s", out)
	}
	if n := entries(); n != "2" || strings.Count(readTrim(t, filepath.Join(pki, "ca.crt")), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("bundle re-run dropped a CA mid-rotation: truststore %s entries", n)
	}
	if r := kt(t, dir, "bundle", "--check"); r.code != 0 {
		t.Errorf("bundle --check mid-rotation: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ok(t, dir, "ca", "rotate", "reissue")
	ok(t, dir, "ca", "rotate", "finish")
	if n := entries(); n != "1" {
		t.Errorf("bundle truststore after finish: %s entries", n)
	}
	if r := kt(t, dir, "bundle", "--check"); r.code != 0 && !strings.Contains(r.stdout, "outputs: SUMMARY.md\n") {
		t.Errorf("bundle --check after finish: exit %d\n%s", r.code, r.stdout)
	}
}
