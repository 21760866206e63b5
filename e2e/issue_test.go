package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// newPKI runs init (ECDSA keeps tests fast; RSA is covered separately).
func newPKI(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	ok(t, dir, append([]string{"init", "--key-type", "ecdsa", "--org", "Acme", "--country", "GB"}, extra...)...)
	return dir
}

func TestIssueWritesEverythingWithTightModes(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com")
	out := ok(t, dir, "issue", "client1", "--json")
	var res struct {
		Principal string
		Files     []string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if res.Principal != "User:CN=client1,O=Acme,C=GB" {
		t.Errorf("principal %q", res.Principal)
	}
	want := map[string]fs.FileMode{
		"keystore.jks": 0o600, "keystore.p12": 0o600, "tls.key": 0o600, "keystore.pem": 0o600, "password": 0o600,
		"client.properties": 0o600, "kcat.conf": 0o600, "truststore.jks": 0o644, "truststore.p12": 0o644,
		"tls.crt": 0o644, "chain.pem": 0o644, "ca.crt": 0o644, "principal.txt": 0o644,
	}
	cdir := filepath.Join(dir, "kafka-pki/certs/client1")
	for f, mode := range want {
		st, err := os.Stat(filepath.Join(cdir, f))
		if err != nil {
			t.Errorf("missing %s", f)
			continue
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", f, st.Mode().Perm(), mode)
		}
	}
	for _, d := range []string{"kafka-pki", "kafka-pki/certs", "kafka-pki/certs/client1", "kafka-pki/ca"} {
		if st, _ := os.Stat(filepath.Join(dir, d)); st.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", d, st.Mode().Perm())
		}
	}
	if got := readTrim(t, filepath.Join(cdir, "principal.txt")); got != res.Principal {
		t.Errorf("principal.txt %q", got)
	}
	if pw := readTrim(t, filepath.Join(cdir, "password")); !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(pw) {
		t.Errorf("generated password %q is not 32 properties-safe characters", pw)
	}
	// The index records both certificates.
	idx := readTrim(t, filepath.Join(dir, "kafka-pki/index.json"))
	for _, s := range []string{`"name": "kafka-1"`, `"role": "broker"`, `"name": "client1"`, `"sha256"`} {
		if !strings.Contains(idx, s) {
			t.Errorf("index lacks %s", s)
		}
	}
}

func TestIssueErrors(t *testing.T) {
	dir := newPKI(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"issue", "c", "--role", "admin"}, 2, `role "admin"`},
		{[]string{"issue", "b", "--role", "broker", "--ip", "10.0.0.300"}, 2, `invalid IP address "10.0.0.300"`},
		{[]string{"issue", "b", "--role", "broker", "--dns", "bad_host..x"}, 2, `invalid DNS name "bad_host..x"`},
		{[]string{"issue", "c", "--days", "4000"}, 1, "would outlive its CA"},
		{[]string{"issue", "c", "--formats", "der"}, 2, `format "der"`},
		{[]string{"issue", "c", "--subject", "CN=c,XX=1"}, 2, "XX"},
		{[]string{"issue", "c", "--days", "0"}, 2, "--days 0"},
		{[]string{"issue"}, 2, "takes 1 argument"},
		{[]string{"issue", "c", "--bogus"}, 2, "unknown flag"},
		{[]string{"issue", "../evil"}, 2, "not allowed"},
		{[]string{"init"}, 1, "--force"},
		{[]string{"init", "--key-size", "1024", "--force"}, 2, "under 2048"},
		{[]string{"issue", "c", "--password-env", "NO_SUCH_VAR_KAFKATLS"}, 1, "NO_SUCH_VAR_KAFKATLS is not set"},
		{[]string{"issue", "c", "--dir", "/nonexistent/kafkatls"}, 1, "kafkatls init --dir"},
	}
	for _, tt := range tests {
		r := kt(t, dir, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("kafkatls %s: exit %d, stderr %q; want exit %d containing %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.code, tt.want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && tt.code != 0 {
			t.Errorf("kafkatls %s: error is not one line: %q", strings.Join(tt.args, " "), r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki/certs/c")); !os.IsNotExist(err) {
		t.Error("a failed issue left files behind")
	}
}

func TestIssueRefusesOverwrite(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "client1")
	ks := filepath.Join(dir, "kafka-pki/certs/client1/keystore.jks")
	before, _ := os.ReadFile(ks)
	r := kt(t, dir, "issue", "client1")
	if r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("second issue: exit %d %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(ks); string(after) != string(before) {
		t.Fatal("refused issue still changed the keystore")
	}
	ok(t, dir, "issue", "client1", "--force")
	if after, _ := os.ReadFile(ks); string(after) == string(before) {
		t.Fatal("--force did not replace the keystore")
	}
	out := readTrim(t, filepath.Join(dir, "kafka-pki/index.json"))
	if strings.Count(out, `"status": "superseded"`) != 1 || strings.Count(out, `"status": "valid"`) != 1 {
		t.Errorf("index after --force:\n%s", out)
	}
}

func TestUserPasswordAndEncryptedCA(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pass"), []byte("ca secret phrase\n"), 0o600)
	ok(t, dir, "init", "--key-type", "ecdsa", "--ca-passphrase-file", "pass")
	key := readTrim(t, filepath.Join(dir, "kafka-pki/ca/ca.key"))
	if !strings.Contains(key, "ENCRYPTED PRIVATE KEY") {
		t.Fatal("CA key not encrypted")
	}
	r := kt(t, dir, "issue", "c1")
	if r.code != 1 || !strings.Contains(r.stderr, "KAFKATLS_CA_PASSPHRASE") {
		t.Fatalf("issue without passphrase: %d %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "wrong"), []byte("nope\n"), 0o600)
	if r := kt(t, dir, "issue", "c1", "--ca-passphrase-file", "wrong"); r.code != 1 || !strings.Contains(r.stderr, "wrong CA passphrase") {
		t.Fatalf("issue with wrong passphrase: %d %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "pw"), []byte("My$ecret#Pass!word\n"), 0o600)
	ok(t, dir, "issue", "c1", "--ca-passphrase-file", "pass", "--password-file", "pw")
	if got := readTrim(t, filepath.Join(dir, "kafka-pki/certs/c1/password")); got != "My$ecret#Pass!word" {
		t.Errorf("password file %q", got)
	}
	if realpeer.InCI() || hasTool("keytool") {
		realpeer.Need(t, "keytool")
		realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(dir, "kafka-pki/certs/c1/keystore.jks"), "-storepass", "My$ecret#Pass!word")
	}
	// The CA key is also readable by OpenSSL with the passphrase.
	realpeer.Need(t, "openssl")
	realpeer.Run(t, "openssl", "pkey", "-in", filepath.Join(dir, "kafka-pki/ca/ca.key"), "-passin", "file:"+filepath.Join(dir, "pass"), "-noout")
}

func TestRolesAndMountPath(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "controller-1", "--role", "controller", "--mount-path", "/etc/kafka/secrets")
	ok(t, dir, "issue", "zk-1", "--role", "zookeeper", "--dns", "zk-1.internal", "--formats", "p12")
	sp := readTrim(t, filepath.Join(dir, "kafka-pki/certs/controller-1/server.properties"))
	for _, want := range []string{"listener.name.controller.ssl.keystore.location=/etc/kafka/secrets/keystore.p12", "ssl.client.auth=required", "ssl.endpoint.identification.algorithm=https"} {
		if !strings.Contains(sp, want) {
			t.Errorf("controller server.properties lacks %q", want)
		}
	}
	if strings.Contains(sp, dir) {
		t.Error("--mount-path config still mentions the host path")
	}
	zoo := readTrim(t, filepath.Join(dir, "kafka-pki/certs/zk-1/zoo.cfg"))
	for _, want := range []string{"secureClientPort=2182", "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider", "ssl.keyStore.type=PKCS12", "ssl.clientAuth=need", "sslQuorum=true"} {
		if !strings.Contains(zoo, want) {
			t.Errorf("zoo.cfg lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki/certs/zk-1/keystore.jks")); !os.IsNotExist(err) {
		t.Error("--formats p12 still wrote a JKS keystore")
	}
	if !hasTool("openssl") && !realpeer.InCI() {
		return
	}
	realpeer.Need(t, "openssl")
	text := realpeer.Run(t, "openssl", "x509", "-in", filepath.Join(dir, "kafka-pki/certs/zk-1/tls.crt"), "-noout", "-ext", "subjectAltName,extendedKeyUsage,keyUsage,basicConstraints")
	for _, want := range []string{"DNS:zk-1", "DNS:localhost", "DNS:zk-1.internal", "IP Address:127.0.0.1", "TLS Web Server Authentication", "TLS Web Client Authentication", "Digital Signature", "CA:FALSE"} {
		if !strings.Contains(text, want) {
			t.Errorf("zookeeper certificate lacks %q:\n%s", want, text)
		}
	}
}
