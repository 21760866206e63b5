package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// TestIssueServerRole: `issue NAME --role server --dns HOST` writes a
// serverAuth-only certificate for exactly HOST, with PEM, PKCS12 and JKS
// stores and no Kafka config; real peers agree: openssl's purpose check
// (SSL server yes, SSL client no), keytool reads the JKS and PKCS12
// keystores with the password file, and openssl s_client completes a
// handshake with openssl s_server serving tls.crt/tls.key, verifying the
// hostname against ca.crt, and refuses another hostname.
func TestIssueServerRole(t *testing.T) {
	tools := realpeer.Need(t, "openssl", "keytool")
	openssl, keytool := tools[0], tools[1]
	dir := newPKI(t)

	// No SAN: a usage error, and nothing on disk.
	r := kt(t, dir, "issue", "idp", "--role", "server")
	if r.code != 2 || !strings.Contains(r.stderr, `server "idp" has no DNS or IP SAN`) || !strings.Contains(r.stderr, "--dns") {
		t.Errorf("issue --role server without SAN: exit %d, stderr %q; want exit 2 naming the missing SAN and --dns", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki/certs/idp")); !os.IsNotExist(err) {
		t.Error("a refused issue left files behind")
	}
	// Nor does --no-default-sans or --advertise make sense for it.
	if r := kt(t, dir, "issue", "idp", "--role", "server", "--advertise", "idp.example.com:443"); r.code != 2 || !strings.Contains(r.stderr, "--advertise") {
		t.Errorf("issue --role server --advertise: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}

	ok(t, dir, "issue", "idp", "--role", "server", "--dns", "idp.example.com")
	idp := filepath.Join(dir, "kafka-pki/certs/idp")
	ents, err := os.ReadDir(idp)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	for _, want := range []string{"keystore.jks", "keystore.p12", "keystore.pem", "tls.key", "tls.crt", "ca.crt", "password", "server-tls.txt"} {
		if !strings.Contains(" "+strings.Join(files, " ")+" ", " "+want+" ") {
			t.Errorf("idp has %v, missing %s", files, want)
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".properties") || f == "kcat.conf" || f == "zoo.cfg" || f == "kafkajs-ssl.js" {
			t.Errorf("a server got the Kafka config %s", f)
		}
	}
	crt := filepath.Join(idp, "tls.crt")

	purpose := realpeer.Run(t, openssl, "x509", "-in", crt, "-noout", "-purpose")
	for _, want := range []string{"SSL server : Yes", "SSL client : No"} {
		if !strings.Contains(purpose, want) {
			t.Errorf("openssl x509 -purpose lacks %q:\n%s", want, purpose)
		}
	}
	// Exactly the SAN given: no name, localhost or 127.0.0.1 added.
	san := realpeer.Run(t, openssl, "x509", "-in", crt, "-noout", "-ext", "subjectAltName")
	if !strings.Contains(san, "DNS:idp.example.com") || strings.Contains(san, "localhost") || strings.Contains(san, "127.0.0.1") || strings.Contains(san, "DNS:idp,") {
		t.Errorf("SANs:\n%s\nwant DNS:idp.example.com only", san)
	}

	pwFile := filepath.Join(idp, "password")
	for _, ks := range []struct{ file, typ string }{{"keystore.jks", "JKS"}, {"keystore.p12", "PKCS12"}} {
		out := realpeer.Run(t, keytool, "-list", "-keystore", filepath.Join(idp, ks.file), "-storetype", ks.typ, "-storepass:file", pwFile)
		if !strings.Contains(out, "PrivateKeyEntry") {
			t.Errorf("keytool -list %s: no PrivateKeyEntry:\n%s", ks.file, out)
		}
	}

	// openssl s_server with the PEM files, s_client verifying the hostname.
	srv := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:0", "-naccept", "2",
		"-cert", crt, "-key", filepath.Join(idp, "tls.key"), "-cert_chain", filepath.Join(idp, "chain.pem"))
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// s_server stops at EOF on its stdin: hold a pipe open until cleanup.
	stdin, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = srv.Stdout
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = srv.Process.Kill(); _ = srv.Wait() })
	sc := bufio.NewScanner(stdout)
	addr := ""
	for sc.Scan() {
		if a, found := strings.CutPrefix(sc.Text(), "ACCEPT "); found {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("openssl s_server printed no ACCEPT line")
	}
	go func() {
		for sc.Scan() { // drain, so s_server never blocks on a full pipe
		}
	}()
	client := func(host string) (string, error) {
		c := exec.Command(openssl, "s_client", "-connect", addr, "-servername", host, "-verify_hostname", host,
			"-CAfile", filepath.Join(idp, "ca.crt"), "-verify_return_error", "-brief")
		c.Stdin = strings.NewReader("")
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := client("idp.example.com")
	if err != nil || !strings.Contains(out, "Verification: OK") {
		t.Errorf("s_client verifying idp.example.com: %v\n%s", err, out)
	}
	out, err = client("other.example.com")
	if err == nil || !strings.Contains(out, "hostname mismatch") {
		t.Errorf("s_client verifying other.example.com must fail on the hostname: %v\n%s", err, out)
	}

	// lint knows the role: serverAuth only is right for it.
	if r := kt(t, dir, "lint", idp); r.code != 0 {
		t.Errorf("lint %s: exit %d\n%s%s", idp, r.code, r.stdout, r.stderr)
	}
}

// TestBundleServersVerify: a bundle spec's servers: entry is issued with
// the cluster, kept out of super.users, and verify checks it as a TLS
// server, not as a Kafka client.
func TestBundleServersVerify(t *testing.T) {
	dir := t.TempDir()
	spec := `ca: {keyType: ecdsa, org: Acme}
brokers: [{name: kafka-1}]
clients: [{name: app}]
servers:
  - name: idp
    dns: [idp.example.com]
    ips: [10.0.0.7]
`
	if err := os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, dir, "bundle", "-f", "kafkatls.yaml")
	su := readTrim(t, filepath.Join(dir, "kafka-pki/super-users.properties"))
	if strings.Contains(su, "idp") {
		t.Errorf("the server is in super.users:\n%s", su)
	}
	out := ok(t, dir, "verify")
	var idpLines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "idp") {
			idpLines = append(idpLines, l)
		}
	}
	if len(idpLines) != 6 || !strings.Contains(out, "TLS server (not Kafka): idp.example.com verified") {
		t.Errorf("verify: want 6 TLS server checks of idp (3 formats, right and wrong hostname):\n%s", out)
	}
	for _, l := range idpLines {
		if strings.HasPrefix(strings.TrimSpace(l), "ok") && strings.Contains(l, "kafka-1") {
			t.Errorf("idp was checked against the Kafka test broker: %s", l)
		}
	}
}
