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

// TestIssueConnectRole: `issue NAME --role connect` writes a certificate
// for serverAuth and clientAuth with the default SANs, stores keytool
// reads, and the worker's configs; its connect-rest-curl.sh, run as an
// operator (a client identity) with the real curl, gets through an
// openssl s_server that requires client certificates of the CA, and the
// same script without a usable certificate is refused. acls, lint and
// renew know the role. (interop/scenarios/connect.sh runs a real worker.)
func TestIssueConnectRole(t *testing.T) {
	tools := realpeer.Need(t, "openssl", "keytool", "curl", "sh")
	openssl, keytool, curl, sh := tools[0], tools[1], tools[2], tools[3]
	dir := newPKI(t)

	// Jetty reads no PEM: refused before signing, nothing on disk.
	if r := kt(t, dir, "issue", "w0", "--role", "connect", "--formats", "pem"); r.code != 2 || !strings.Contains(r.stderr, "p12 or jks") {
		t.Errorf("issue --role connect --formats pem: exit %d, stderr %q; want a usage error naming p12 or jks", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki/certs/w0")); !os.IsNotExist(err) {
		t.Error("a refused issue left files behind")
	}

	ok(t, dir, "issue", "connect-1", "--role", "connect", "--bootstrap", "kafka-1:9093", "--group", "etl")
	ok(t, dir, "issue", "connect-admin")
	w := filepath.Join(dir, "kafka-pki/certs/connect-1")
	crt := filepath.Join(w, "tls.crt")
	purpose := realpeer.Run(t, openssl, "x509", "-in", crt, "-noout", "-purpose")
	for _, want := range []string{"SSL server : Yes", "SSL client : Yes"} {
		if !strings.Contains(purpose, want) {
			t.Errorf("openssl x509 -purpose lacks %q:\n%s", want, purpose)
		}
	}
	san := realpeer.Run(t, openssl, "x509", "-in", crt, "-noout", "-ext", "subjectAltName")
	for _, want := range []string{"DNS:connect-1", "DNS:localhost", "IP Address:127.0.0.1"} {
		if !strings.Contains(san, want) {
			t.Errorf("SANs lack %s:\n%s", want, san)
		}
	}
	for _, ks := range []struct{ file, typ string }{{"keystore.jks", "JKS"}, {"keystore.p12", "PKCS12"}} {
		out := realpeer.Run(t, keytool, "-list", "-keystore", filepath.Join(w, ks.file), "-storetype", ks.typ, "-storepass:file", filepath.Join(w, "password"))
		if !strings.Contains(out, "PrivateKeyEntry") {
			t.Errorf("keytool -list %s: no PrivateKeyEntry:\n%s", ks.file, out)
		}
	}
	props := readTrim(t, filepath.Join(w, "connect-distributed.properties"))
	for _, line := range []string{"bootstrap.servers=kafka-1:9093", "group.id=etl", "listeners=https://connect-1:8443", "listeners.https.ssl.client.auth=required"} {
		if !strings.Contains(props, "\n"+line+"\n") {
			t.Errorf("connect-distributed.properties lacks %s", line)
		}
	}

	// An HTTPS server on the worker's PEM files that requires a client
	// certificate of the CA, as the worker's REST listener does.
	srv := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:0", "-naccept", "3", "-www",
		"-cert", crt, "-key", filepath.Join(w, "tls.key"), "-cert_chain", filepath.Join(w, "chain.pem"),
		"-Verify", "2", "-verify_return_error", "-CAfile", filepath.Join(w, "ca.crt"))
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
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
		for sc.Scan() {
		}
	}()
	port := addr[strings.LastIndex(addr, ":")+1:]
	script := filepath.Join(w, "connect-rest-curl.sh")
	rest := func(clientDir string) (string, error) {
		c := exec.Command(sh, script, "/connectors")
		c.Env = append(os.Environ(), "CLIENT_DIR="+clientDir, "CONNECT_URL=https://localhost:"+port,
			"PATH="+filepath.Dir(curl)+":"+os.Getenv("PATH"))
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := rest(filepath.Join(dir, "kafka-pki/certs/connect-admin"))
	if err != nil || !strings.Contains(out, "CN=connect-admin") {
		t.Errorf("connect-rest-curl.sh as connect-admin: %v\n%s\nwant the server's status page naming the client certificate", err, out)
	}
	if out, err := rest(t.TempDir()); err == nil {
		t.Errorf("connect-rest-curl.sh without a client certificate succeeded:\n%s", out)
	}
	// Without CLIENT_DIR the script stops before calling curl.
	c := exec.Command(sh, script)
	c.Env = []string{"PATH=" + os.Getenv("PATH")}
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "CLIENT_DIR") {
		t.Errorf("connect-rest-curl.sh without CLIENT_DIR: %v\n%s", err, out)
	}

	acls := ok(t, dir, "acls", "connect-1")
	for _, want := range []string{"--operation DescribeConfigs --topic connect-configs", "--operation Read --group etl"} {
		if !strings.Contains(acls, want) {
			t.Errorf("acls connect-1 lacks %q:\n%s", want, acls)
		}
	}
	if r := kt(t, dir, "lint", w); r.code != 0 {
		t.Errorf("lint %s: exit %d\n%s%s", w, r.code, r.stdout, r.stderr)
	}
	if out := ok(t, dir, "renew", "connect-1"); !strings.Contains(out, "restart this Connect worker") {
		t.Errorf("renew connect-1 does not say to restart the worker:\n%s", out)
	}
	if props2 := readTrim(t, filepath.Join(w, "connect-distributed.properties")); props2 != props {
		t.Error("renew changed connect-distributed.properties")
	}
}
