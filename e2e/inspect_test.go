package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// inspectJSON runs kafkatls inspect --json on one file.
type inspected struct {
	File      string
	Error     string
	Format    string
	Integrity string
	LegacyRC2 bool
	Entries   []struct {
		Alias string
		Type  string
		Chain []struct {
			Subject, Issuer, Principal, SHA256 string
			SANs, EKU                          []string
		}
		KeyMatchesCertificate *bool
		Key                   *struct {
			Type string
			Bits int
		}
	}
}

func inspectJSON(t *testing.T, dir string, args ...string) inspected {
	t.Helper()
	out := ok(t, dir, append([]string{"inspect", "--json"}, args...)...)
	var res []inspected
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	return res[0]
}

type lintResult struct {
	code     int
	checks   map[string]string // check → most severe severity
	Errors   int
	Warnings int
	Findings []struct{ File, Severity, Check, Message string }
}

func lintJSON(t *testing.T, dir string, args ...string) lintResult {
	t.Helper()
	r := kt(t, dir, append([]string{"lint", "--json"}, args...)...)
	var lr lintResult
	if err := json.Unmarshal([]byte(r.stdout), &lr); err != nil {
		t.Fatalf("lint --json (exit %d): %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	lr.code = r.code
	lr.checks = map[string]string{}
	for _, f := range lr.Findings {
		if s := lr.checks[f.Check]; s == "" || f.Severity == "error" || (f.Severity == "warning" && s == "info") {
			lr.checks[f.Check] = f.Severity
		}
	}
	return lr
}

// keytoolFingerprints maps alias → SHA-256 fingerprint as keytool lists them.
func keytoolFingerprints(t *testing.T, store, password string) map[string]string {
	t.Helper()
	out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", store, "-storepass", password)
	res := map[string]string{}
	alias := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if a, ok := strings.CutPrefix(line, "Alias name: "); ok {
			alias = a
		}
		if fp, ok := strings.CutPrefix(line, "SHA256: "); ok && alias != "" {
			if _, seen := res[alias]; !seen {
				res[alias] = fp
			}
		}
	}
	return res
}

// TestInspectAndLintKafkatlsStores: kafkatls's own stores inspect and lint
// clean, and what inspect reports matches keytool and OpenSSL.
func TestInspectAndLintKafkatlsStores(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl")
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com")
	ok(t, dir, "issue", "client1")
	edir := filepath.Join(dir, "kafka-pki/certs/kafka-1")
	pw := readTrim(t, filepath.Join(edir, "password"))
	for _, f := range []string{"keystore.jks", "keystore.p12"} {
		r := inspectJSON(t, dir, filepath.Join(edir, f))
		if r.Integrity != "verified" || len(r.Entries) != 1 || r.Entries[0].Type != "PrivateKeyEntry" || len(r.Entries[0].Chain) != 2 {
			t.Fatalf("%s: %+v", f, r)
		}
		kfp := keytoolFingerprints(t, filepath.Join(edir, f), pw)
		leaf := r.Entries[0].Chain[0]
		alias := r.Entries[0].Alias
		if alias == "" {
			alias = "1" // PKCS12 without friendlyName: keytool's generated alias
		}
		if kfp[alias] != leaf.SHA256 {
			t.Errorf("%s: alias %q fingerprint %s, keytool says %v", f, alias, leaf.SHA256, kfp)
		}
		if leaf.Principal != readTrim(t, filepath.Join(edir, "principal.txt")) {
			t.Errorf("%s: principal %q vs principal.txt", f, leaf.Principal)
		}
		if strings.Join(leaf.EKU, ",") != "serverAuth,clientAuth" || !contains(leaf.SANs, "DNS:kafka-1.example.com") {
			t.Errorf("%s: EKU %v SANs %v", f, leaf.EKU, leaf.SANs)
		}
	}
	// The subject as OpenSSL prints it (RFC 2253) equals the Java form here.
	subj := strings.TrimSpace(realpeer.Run(t, "openssl", "x509", "-in", filepath.Join(edir, "tls.crt"), "-noout", "-subject", "-nameopt", "RFC2253"))
	if r := inspectJSON(t, dir, filepath.Join(edir, "tls.crt")); "subject="+r.Entries[0].Chain[0].Subject != subj {
		t.Errorf("subject %q, openssl %q", r.Entries[0].Chain[0].Subject, subj)
	}
	lr := lintJSON(t, dir, "kafka-pki")
	if lr.code != 0 || lr.Errors+lr.Warnings != 0 {
		t.Errorf("lint of a fresh PKI: exit %d %+v", lr.code, lr.Findings)
	}
	// Expiring within the window: warnings only → exit 3; --strict → 1.
	if lr := lintJSON(t, dir, "kafka-pki/certs/client1", "--within", "400d"); lr.code != 3 || lr.checks["expiring"] != "warning" || lr.Errors != 0 {
		t.Errorf("--within 400d: exit %d %v", lr.code, lr.checks)
	}
	if r := kt(t, dir, "lint", "kafka-pki/certs/client1", "--within", "400d", "--strict"); r.code != 1 {
		t.Errorf("--strict with warnings: exit %d", r.code)
	}
	if r := kt(t, dir, "lint", "kafka-pki", "--role", "boss"); r.code != 2 {
		t.Errorf("bad --role: exit %d", r.code)
	}
	if r := kt(t, dir, "lint"); r.code != 2 {
		t.Errorf("lint without arguments: exit %d", r.code)
	}
	// The role comes from the index: a client certificate linted as a broker fails.
	if lr := lintJSON(t, dir, filepath.Join(dir, "kafka-pki/certs/client1/tls.crt"), "--role", "broker"); lr.code != 1 || lr.checks["eku"] != "error" || lr.checks["missing-san"] != "error" {
		t.Errorf("client linted as broker: exit %d %v", lr.code, lr.checks)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestInspectAndLintForeignStores: stores made by keytool and OpenSSL, the
// way the classic guides (and their mistakes) make them.
func TestInspectAndLintForeignStores(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl", "java")
	dir := t.TempDir()
	at := func(f string) string { return filepath.Join(dir, f) }
	os.WriteFile(at("pw"), []byte("changeit\n"), 0o600)
	keytool := func(args ...string) string { return realpeer.Run(t, "keytool", args...) }
	openssl := func(args ...string) string { return realpeer.Run(t, "openssl", args...) }

	// An OpenSSL CA, an intermediate, a broker leaf with serverAuth only.
	os.WriteFile(at("ca.ext"), []byte("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"), 0o600)
	os.WriteFile(at("leaf.ext"), []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:kafka-9.example.com\n"), 0o600)
	openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", at("root.key"), "-out", at("root.pem"), "-days", "3650", "-subj", "/CN=Test Root",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("inter.key"), "-out", at("inter.csr"), "-subj", "/CN=Test Intermediate")
	openssl("x509", "-req", "-in", at("inter.csr"), "-CA", at("root.pem"), "-CAkey", at("root.key"), "-CAcreateserial", "-out", at("inter.pem"), "-days", "1000", "-extfile", at("ca.ext"))
	openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("leaf.key"), "-out", at("leaf.csr"), "-subj", "/CN=kafka-9/OU=Kafka")
	openssl("x509", "-req", "-in", at("leaf.csr"), "-CA", at("inter.pem"), "-CAkey", at("inter.key"), "-CAcreateserial", "-out", at("leaf.pem"), "-days", "300", "-extfile", at("leaf.ext"))

	t.Run("wrong-order chain", func(t *testing.T) {
		cat(t, at("wrong.pem"), at("leaf.key"), at("leaf.pem"), at("root.pem"), at("inter.pem"))
		lr := lintJSON(t, dir, at("wrong.pem"), "--role", "broker")
		if lr.code != 1 || lr.checks["chain-order"] != "error" || lr.checks["eku"] != "error" {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
		cat(t, at("good.pem"), at("leaf.key"), at("leaf.pem"), at("inter.pem"), at("root.pem"))
		if lr := lintJSON(t, dir, at("good.pem")); lr.checks["chain-order"] != "" || lr.checks["chain-incomplete"] != "" {
			t.Errorf("right order flagged: %v", lr.checks)
		}
		// The principal is Java's reversed DN order.
		r := inspectJSON(t, dir, at("good.pem"))
		if p := r.Entries[0].Chain[0].Principal; p != "User:OU=Kafka,CN=kafka-9" {
			t.Errorf("principal %q", p)
		}
	})

	t.Run("RSA-1024 SHA-1 legacy RC2 PKCS12", func(t *testing.T) {
		openssl("req", "-newkey", "rsa:1024", "-nodes", "-keyout", at("weak.key"), "-out", at("weak.csr"), "-subj", "/CN=weak")
		openssl("x509", "-req", "-in", at("weak.csr"), "-CA", at("root.pem"), "-CAkey", at("root.key"), "-CAcreateserial", "-out", at("weak.pem"), "-days", "300", "-sha1")
		openssl("pkcs12", "-export", "-legacy", "-in", at("weak.pem"), "-inkey", at("weak.key"), "-certfile", at("root.pem"), "-name", "Weak", "-out", at("legacy.p12"), "-passout", "pass:changeit")
		// Without a password: a clear error, exit 1.
		if r := kt(t, dir, "inspect", at("legacy.p12")); r.code != 1 || !strings.Contains(r.stderr, "--password-file") {
			t.Errorf("no password: exit %d %q", r.code, r.stderr)
		}
		r := inspectJSON(t, dir, at("legacy.p12"), "--password-file", at("pw"))
		if !r.LegacyRC2 || r.Entries[0].Alias != "Weak" || r.Entries[0].Key.Bits != 1024 {
			t.Errorf("inspect: %+v", r)
		}
		// keytool reads it too and agrees on the fingerprint.
		if fp := keytoolFingerprints(t, at("legacy.p12"), "changeit"); fp["weak"] != r.Entries[0].Chain[0].SHA256 {
			t.Errorf("keytool %v, inspect %s", fp, r.Entries[0].Chain[0].SHA256)
		}
		lr := lintJSON(t, dir, at("legacy.p12"), "--password-file", at("pw"))
		for check, sev := range map[string]string{"legacy-rc2": "warning", "weak-key": "error", "weak-signature": "error"} {
			if lr.checks[check] != sev {
				t.Errorf("%s: %q, want %s (%v)", check, lr.checks[check], sev, lr.checks)
			}
		}
		if lr.code != 1 {
			t.Errorf("exit %d", lr.code)
		}
	})

	t.Run("keytool JKS", func(t *testing.T) {
		ks := at("kafka.keystore.jks")
		keytool("-genkeypair", "-alias", "Kafka-2", "-keyalg", "RSA", "-keysize", "2048", "-validity", "365", "-dname", "CN=kafka-2,OU=Kafka,O=Acme",
			"-ext", "SAN=dns:kafka-2.example.com", "-ext", "EKU=serverAuth,clientAuth", "-storetype", "JKS", "-keystore", ks, "-storepass", "changeit", "-noprompt")
		keytool("-importcert", "-alias", "CARoot", "-file", at("root.pem"), "-keystore", ks, "-storepass", "changeit", "-noprompt")
		// No password: listed like keytool -list without -storepass.
		r := inspectJSON(t, dir, ks)
		if !strings.HasPrefix(r.Integrity, "not verified") || len(r.Entries) != 2 {
			t.Fatalf("unverified: %+v", r)
		}
		r = inspectJSON(t, dir, ks, "--password-file", at("pw"))
		kfp := keytoolFingerprints(t, ks, "changeit")
		for _, e := range r.Entries {
			if kfp[e.Alias] == "" || kfp[e.Alias] != e.Chain[0].SHA256 {
				t.Errorf("alias %q fingerprint %s, keytool %v", e.Alias, e.Chain[0].SHA256, kfp)
			}
		}
		if r := kt(t, dir, "inspect", ks, "--password-env", "NO_SUCH_VAR_KT"); r.code != 1 {
			t.Errorf("unset --password-env: exit %d", r.code)
		}
		os.WriteFile(at("badpw"), []byte("wrongpass\n"), 0o600)
		if r := kt(t, dir, "inspect", ks, "--password-file", at("badpw")); r.code != 1 || !strings.Contains(r.stderr, "wrong store password") {
			t.Errorf("wrong password: exit %d %q", r.code, r.stderr)
		}
		lr := lintJSON(t, dir, ks, "--password-file", at("pw"), "--role", "broker")
		if lr.checks["self-signed"] != "warning" || lr.checks["keystore-trusts"] != "info" || lr.Errors != 0 || lr.code != 3 {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
		// The principal command reads the keystore's key entry.
		out := ok(t, dir, "principal", ks, "--password-file", at("pw"), "--json")
		var p struct{ Principal, ZookeeperIdentity string }
		json.Unmarshal([]byte(out), &p)
		if p.Principal != "User:CN=kafka-2,OU=Kafka,O=Acme" || p.ZookeeperIdentity != "x509:CN=kafka-2,OU=Kafka,O=Acme" {
			t.Errorf("principal %+v", p)
		}
	})

	t.Run("expired", func(t *testing.T) {
		ks := at("expired.jks")
		keytool("-genkeypair", "-alias", "old", "-keyalg", "EC", "-groupname", "secp256r1", "-startdate", "2020/01/01 00:00:00", "-validity", "30",
			"-dname", "CN=old", "-storetype", "JKS", "-keystore", ks, "-storepass", "changeit", "-noprompt")
		lr := lintJSON(t, dir, ks, "--password-file", at("pw"))
		if lr.code != 1 || lr.checks["expired"] != "error" {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
	})

	t.Run("JDK cacerts imported", func(t *testing.T) {
		java, err := exec.LookPath("java")
		if err != nil {
			t.Fatal(err)
		}
		real, err := filepath.EvalSymlinks(java)
		if err != nil {
			t.Fatal(err)
		}
		cacerts := filepath.Join(filepath.Dir(real), "..", "lib", "security", "cacerts")
		if _, err := os.Stat(cacerts); err != nil {
			t.Skipf("no JDK cacerts at %s", cacerts)
		}
		ts := at("kafka.truststore.jks")
		keytool("-importkeystore", "-srckeystore", cacerts, "-srcstorepass", "changeit", "-destkeystore", ts, "-deststoretype", "JKS", "-deststorepass", "changeit", "-noprompt")
		keytool("-importcert", "-alias", "caroot", "-file", at("root.pem"), "-keystore", ts, "-storepass", "changeit", "-noprompt")
		lr := lintJSON(t, dir, ts, "--password-file", at("pw"), "--ca", at("root.pem"))
		if lr.code != 1 || lr.checks["trusts-too-much"] != "error" || lr.checks["ca-not-trusted"] != "" {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
		// The cacerts file itself, read without its password.
		r := inspectJSON(t, dir, cacerts)
		if len(r.Entries) < 10 || r.Entries[0].Type != "trustedCertEntry" {
			t.Errorf("cacerts: %d entries", len(r.Entries))
		}
	})

	t.Run("OpenSSL truststore without the Java attribute", func(t *testing.T) {
		openssl("pkcs12", "-export", "-nokeys", "-in", at("root.pem"), "-out", at("truststore.p12"), "-passout", "pass:changeit")
		lr := lintJSON(t, dir, at("truststore.p12"), "--password-file", at("pw"))
		if lr.code != 1 || lr.checks["p12-not-trusted"] != "error" {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
	})

	t.Run("directory", func(t *testing.T) {
		// A DIR lints every store and certificate in it and skips the rest.
		lr := lintJSON(t, dir, dir, "--password-file", at("pw"))
		if lr.code != 1 || lr.checks["chain-order"] != "error" || lr.checks["unreadable"] != "" {
			t.Errorf("exit %d %v", lr.code, lr.checks)
		}
	})

	t.Run("garbage never crashes", func(t *testing.T) {
		os.WriteFile(at("junk.bin"), []byte{0x30, 0x82, 0xff, 0xff, 0x02}, 0o600)
		os.WriteFile(at("empty"), nil, 0o600)
		for _, f := range []string{"junk.bin", "empty", "leaf.ext"} {
			r := kt(t, dir, "inspect", at(f))
			if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || regexp.MustCompile(`panic|goroutine`).MatchString(r.stderr) {
				t.Errorf("%s: exit %d %q", f, r.code, r.stderr)
			}
		}
	})
}

func cat(t *testing.T, out string, files ...string) {
	t.Helper()
	var b []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPrincipalRules: Kafka's own SslPrincipalMapper test cases through the
// CLI, on DN strings and on certificates.
func TestPrincipalRules(t *testing.T) {
	dir := newPKI(t)
	rules := `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT`
	principal := func(args ...string) string {
		out := ok(t, dir, append([]string{"principal", "--json"}, args...)...)
		var p struct{ Principal string }
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		return p.Principal
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":        "User:duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US": "User:duke@sme",
		"cn=duke,ou=sme,dc=mycp,dc=com":             "User:DUKE@SME",
		"cN=duke,OU=JavaSoft,O=Sun Microsystems":    "User:DUKE",
		"OU=JavaSoft,O=Sun Microsystems,C=US":       "User:OU=JavaSoft,O=Sun Microsystems,C=US",
	} {
		if got := principal("--dn", dn, "--rules", rules); got != want {
			t.Errorf("%s: %s, want %s", dn, got, want)
		}
	}
	if got := principal("--dn", `CN=Tkac\, Adam,OU=ITZ,DC=firm,DC=com`, "--rules", `RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`); got != `User:Tkac\, Adam` {
		t.Errorf("escaped comma: %s", got)
	}
	// Certificates: the rules see the DN as Java prints it (keywords in
	// upper case, S= as ST=), so the lower-case cn= rule cannot match.
	ok(t, dir, "issue", "svc", "--subject", "CN=Duke,OU=ServiceUsers,O=Org,C=US")
	ok(t, dir, "issue", "duke", "--subject", "cn=duke,ou=sme,dc=mycp,dc=com")
	ok(t, dir, "issue", "lyd", "--subject", "CN=client1.kafka.lydtechconsulting.com,OU=TEST,O=LYDTECH,L=London,S=LN,C=UK")
	for name, want := range map[string]string{"svc": "User:duke", "duke": "User:DUKE", "lyd": "User:client1.kafka.lydtechconsulting.com@test"} {
		if got := principal(name, "--rules", rules); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	out := ok(t, dir, "principal", "lyd")
	if !strings.Contains(out, "zookeeper  x509:CN=client1.kafka.lydtechconsulting.com,OU=TEST,O=LYDTECH,L=London,ST=LN,C=UK") {
		t.Errorf("ZooKeeper identity:\n%s", out)
	}
	// No rule matches: Kafka fails authentication; exit 1 with the reason.
	if r := kt(t, dir, "principal", "svc", "--rules", `RULE:^CN=x$/y/`); r.code != 1 || !strings.Contains(r.stderr, "DEFAULT") {
		t.Errorf("no matching rule: exit %d %q", r.code, r.stderr)
	}
	if r := kt(t, dir, "principal", "svc", "--rules", `RULE:^CN=x$/y`); r.code != 2 || !strings.Contains(r.stderr, "Invalid rule") {
		t.Errorf("malformed rule: exit %d %q", r.code, r.stderr)
	}
	if r := kt(t, dir, "principal", "nobody"); r.code != 1 || !strings.Contains(r.stderr, "kafkatls list") {
		t.Errorf("unknown identity: exit %d %q", r.code, r.stderr)
	}
	// With a Java peer: the principal a JSSE server sees, mapped, is what
	// kafkatls principal prints.
	if realpeer.InCI() || hasTool("java") {
		ok(t, dir, "issue", "kafka-1", "--role", "broker")
		b, c := filepath.Join(dir, "kafka-pki/certs/kafka-1"), filepath.Join(dir, "kafka-pki/certs/lyd")
		seen, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
			ServerKeystore: filepath.Join(b, "keystore.p12"), ServerTruststore: filepath.Join(b, "truststore.p12"),
			ClientKeystore: filepath.Join(c, "keystore.p12"), ClientTruststore: filepath.Join(c, "truststore.p12"),
			Type: "PKCS12", Password: readTrim(t, filepath.Join(b, "password")), ClientPassword: readTrim(t, filepath.Join(c, "password")),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := principal("--dn", seen, "--rules", rules); got != principal("lyd", "--rules", rules) {
			t.Errorf("Java saw %q → %s; kafkatls principal lyd → %s", seen, got, principal("lyd", "--rules", rules))
		}
	}
}

// TestACLCommands: acls prints kafka-acls commands for the identity's
// principal, shell-quoted, with mapping rules applied.
func TestACLCommands(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "app", "--subject", `CN=app,OU=Team's Apps,O=Acme`)
	out := ok(t, dir, "acls", "app", "--topic", "orders", "--group", "billing", "--consumer", "--bootstrap", "kafka-1:9093", "--command-config", "admin.properties")
	want := `kafka-acls.sh --bootstrap-server kafka-1:9093 --command-config admin.properties --add --allow-principal 'User:CN=app,OU=Team'\''s Apps,O=Acme' --consumer --topic orders --group billing`
	if !strings.Contains(out, want) {
		t.Errorf("consumer ACL:\n%s\nwant %s", out, want)
	}
	out = ok(t, dir, "acls", "app", "--topic", "events.", "--prefixed", "--operation", "read", "--operation", "Describe", "--rules", `RULE:^CN=([^,]+),.*$/$1/,DEFAULT`, "--remove")
	if !strings.Contains(out, `--remove --force --allow-principal User:app --operation Read --operation Describe --topic events. --resource-pattern-type prefixed`) {
		t.Errorf("prefixed remove with rules:\n%s", out)
	}
	if r := kt(t, dir, "acls", "app", "--topic", "t", "--consumer"); r.code != 2 || !strings.Contains(r.stderr, "group") {
		t.Errorf("consumer without group: exit %d %q", r.code, r.stderr)
	}
	// The printed command runs in a shell and hands Kafka the exact principal.
	if sh, err := exec.LookPath("sh"); err == nil {
		line := strings.Split(strings.TrimSpace(ok(t, dir, "acls", "app", "--topic", "o", "--producer")), "\n")
		bin := t.TempDir()
		os.WriteFile(filepath.Join(bin, "kafka-acls.sh"), []byte("#!/bin/sh\nfor a; do printf '%s\\n' \"$a\"; done\n"), 0o755)
		cmd := exec.Command(sh, "-c", line[len(line)-1])
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		got, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), "\nUser:CN=app,OU=Team's Apps,O=Acme\n") {
			t.Errorf("shell passed:\n%s", got)
		}
	}
}
