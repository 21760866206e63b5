package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

const stepPassword = "kafkatls e2e provisioner password"

// stepDefaultTemplate is step-ca's default leaf template: the subject and
// SANs from the token (the CN only; the CN as a DNS SAN when the token has
// no SANs). Given as a templateFile, which step-ca does not publish, it
// passes init's check and is caught on the certificate itself.
const stepDefaultTemplate = `{
	"subject": {{ toJson .Subject }},
	"sans": {{ toJson .SANs }},
	"keyUsage": ["digitalSignature"],
	"extKeyUsage": ["serverAuth", "clientAuth"]
}`

// stepProvisioner is a JWK provisioner for ca.json (the Kafka template,
// up to 90 days), edited by edit.
func stepProvisioner(t *testing.T, name string, edit func(map[string]any)) json.RawMessage {
	t.Helper()
	b, err := stepca.GenerateProvisioner(name, []byte(stepPassword), stepca.ProvisionerOptions{PBES2Count: 10000,
		Claims: stepca.Claims{MinTLSCertDuration: "5m", MaxTLSCertDuration: "2160h", DefaultTLSCertDuration: "720h"}})
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	return b
}

// startStepCA runs a real step-ca with provisioners "kafka" (the Kafka
// template), "plain" (step-ca's default template) and "hidden" (the default
// template as an unpublished templateFile), and returns it with a password
// file (mode 0600).
func startStepCA(t *testing.T, noCRL bool) (*realpeer.StepCA, string) {
	t.Helper()
	tmp := t.TempDir()
	tpl := filepath.Join(tmp, "default.tpl")
	if err := os.WriteFile(tpl, []byte(stepDefaultTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	s := realpeer.StartStepCA(t, realpeer.StepCAConfig{NoCRL: noCRL, Provisioners: []json.RawMessage{
		stepProvisioner(t, "kafka", nil),
		stepProvisioner(t, "plain", func(m map[string]any) { delete(m, "options") }),
		stepProvisioner(t, "hidden", func(m map[string]any) {
			m["options"] = map[string]any{"x509": map[string]any{"templateFile": tpl}}
		}),
	}})
	pw := filepath.Join(tmp, "password")
	if err := os.WriteFile(pw, []byte(stepPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, pw
}

// TestEngineStepCA drives the commands against a real step-ca: init
// --engine step-ca, issue a broker and a client (keytool, openssl verify
// against step-ca's root, the Java mTLS program), verify, a bundle, revoke
// at step-ca (its CRL copied to DIR/crl.pem), list offline, and the
// refusals that write nothing.
func TestEngineStepCA(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl", "java")
	s, pwFile := startStepCA(t, false)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	out := okEnv(t, dir, nil, "init", "--engine", "step-ca", "--ca-url", s.URL, "--ca-root", s.RootFile, "--provisioner", "kafka",
		"--provisioner-password-file", pwFile, "--ou", "kafka", "--org", "Acme", "--key-type", "ecdsa", "--leaf-days", "30")
	if !strings.Contains(out, "signs with engine step-ca provisioner kafka at "+s.URL) {
		t.Errorf("init output:\n%s", out)
	}
	settings := readTrim(t, filepath.Join(pkiDir, "kafkatls.json"))
	if !strings.Contains(settings, `"type": "step-ca"`) || !strings.Contains(settings, `"provisioner": "kafka"`) || strings.Contains(settings, stepPassword) {
		t.Errorf("kafkatls.json names no step-ca, or holds the password:\n%s", settings)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "ca", "ca.key")); err == nil {
		t.Error("an engine-signed directory holds a CA key")
	}
	if got, want := readTrim(t, filepath.Join(pkiDir, "ca.crt")), readTrim(t, s.RootFile); got != want {
		t.Errorf("DIR/ca.crt is not step-ca's root:\n%s\nwant\n%s", got, want)
	}

	// Later runs need only the password file: by flag, or by environment.
	env := []string{stepca.EnvPasswordFile + "=" + pwFile}
	okEnv(t, dir, nil, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com", "--dns", "localhost", "--provisioner-password-file", pwFile)
	okEnv(t, dir, env, "issue", "client1")
	for _, n := range []string{"kafka-1", "client1"} {
		c := filepath.Join(pkiDir, "certs", n)
		pw := readTrim(t, filepath.Join(c, "password"))
		for _, ks := range []string{"keystore.jks", "keystore.p12", "truststore.jks"} {
			if out := realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(c, ks), "-storepass", pw); !strings.Contains(out, "Entry") {
				t.Errorf("keytool -list %s/%s:\n%s", n, ks, out)
			}
		}
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", s.RootFile, "-untrusted", filepath.Join(c, "chain.pem"), filepath.Join(c, "tls.crt")); err != nil {
			t.Errorf("openssl verify %s against step-ca's root: %v\n%s", n, err, out)
		}
		if out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", filepath.Join(c, "keystore.p12"), "-storepass", pw); !strings.Contains(out, "kafkatls test step-ca intermediate") {
			t.Errorf("keystore of %s lacks step-ca's intermediate:\n%s", n, out)
		}
		serial := strings.ToLower(serialOf(t, filepath.Join(c, "tls.crt")))
		if !strings.Contains(readTrim(t, filepath.Join(pkiDir, "index.json")), `"serial": "`+serial+`"`) {
			t.Errorf("index lacks %s serial %s", n, serial)
		}
	}
	// The subject step-ca signed is the one kafkatls computed: the principal.
	if got := readTrim(t, filepath.Join(pkiDir, "certs/client1/principal.txt")); !strings.Contains(got, "User:CN=client1,OU=kafka,O=Acme") {
		t.Errorf("principal.txt: %s", got)
	}
	b, c := filepath.Join(pkiDir, "certs/kafka-1"), filepath.Join(pkiDir, "certs/client1")
	principal, err := realpeer.JavaHandshake(t, realpeer.HandshakeStores{
		ServerKeystore: filepath.Join(b, "keystore.p12"), ServerTruststore: filepath.Join(b, "truststore.p12"),
		ClientKeystore: filepath.Join(c, "keystore.p12"), ClientTruststore: filepath.Join(c, "truststore.p12"),
		Type: "PKCS12", Password: readTrim(t, filepath.Join(b, "password")), ClientPassword: readTrim(t, filepath.Join(c, "password")),
	})
	if err != nil || principal != "CN=client1,OU=kafka,O=Acme" {
		t.Errorf("Java mutual TLS with step-ca-signed stores: principal %q, %v", principal, err)
	}

	// The test broker handshakes with every step-ca-signed identity.
	if out := okEnv(t, dir, env, "verify"); !strings.Contains(out, "client1") {
		t.Errorf("verify:\n%s", out)
	}

	// A bundle signs through step-ca too, and its configs verify.
	okEnv(t, dir, env, "bundle", "--brokers", "kafka-1", "--clients", "app1,app2")
	for _, n := range []string{"app1", "app2"} {
		cd := filepath.Join(pkiDir, "certs", n)
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", s.RootFile, "-untrusted", filepath.Join(cd, "chain.pem"), "-purpose", "sslclient", filepath.Join(cd, "tls.crt")); err != nil {
			t.Errorf("openssl verify bundle %s: %v\n%s", n, err, out)
		}
	}
	if out := okEnv(t, dir, env, "verify"); !strings.Contains(out, "app2") {
		t.Errorf("verify after the bundle:\n%s", out)
	}

	// revoke reaches step-ca: the serial is in step-ca's CRL, copied to DIR/crl.pem.
	serial := serialOf(t, filepath.Join(c, "tls.crt"))
	okEnv(t, dir, env, "revoke", "client1")
	crlText := realpeer.Run(t, "openssl", "crl", "-noout", "-text", "-in", filepath.Join(pkiDir, "crl.pem"))
	if !strings.Contains(crlText, "Serial Number: "+serial) || !strings.Contains(crlText, "kafkatls test step-ca intermediate") {
		t.Errorf("DIR/crl.pem (step-ca's CRL) lacks %s:\n%s", serial, crlText)
	}

	// list and expiring work from the index, offline (no password, no step-ca).
	list := ktEnv(t, dir, nil, "list", "--all")
	if list.code != 0 || !regexp.MustCompile(`client1\s+client\s+\S+\s+\S+\s+revoked`).MatchString(list.stdout) || !strings.Contains(list.stdout, "kafka-1") {
		t.Errorf("list: exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}
	if r := ktEnv(t, dir, nil, "expiring", "--within", "60d"); r.code != 3 || !strings.Contains(r.stdout, "kafka-1") {
		t.Errorf("expiring --within 60d (30-day certificates): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// ca rotate: done at the engine.
	if r := ktEnv(t, dir, env, "ca", "rotate", "start"); r.code != 1 || !strings.Contains(r.stderr, "rotated at the engine") || !strings.Contains(r.stderr, "kafkatls issue NAME --force") {
		t.Errorf("ca rotate start: exit %d %q", r.code, r.stderr)
	}

	// Refusals write nothing.
	before := readTrim(t, filepath.Join(pkiDir, "index.json"))
	defer func() {
		// What the refusal says to do after a rotation at the engine
		// works: take the new CA's chain, issue again.
		s2, pw2 := startStepCA(t, false)
		r := ktEnv(t, dir, nil, "init", "--engine", "step-ca", "--force", "--ca-url", s2.URL, "--ca-root", s2.RootFile, "--provisioner", "kafka",
			"--provisioner-password-file", pw2, "--ou", "kafka", "--org", "Acme", "--key-type", "ecdsa", "--leaf-days", "30")
		if r.code != 0 || !strings.Contains(r.stderr, "orphaned") {
			t.Fatalf("init --force with the rotated engine: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// ca rotate is refused here: the warning must not suggest it.
		if !strings.Contains(r.stderr, "an engine's CA is rotated at the engine") || strings.Contains(r.stderr, "keeps them working") {
			t.Errorf("init --force over a step-ca directory suggests what does not work there:\n%s", r.stderr)
		}
		okEnv(t, dir, nil, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com", "--force", "--provisioner-password-file", pw2)
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", s2.RootFile, "-untrusted", filepath.Join(b, "chain.pem"), filepath.Join(b, "tls.crt")); err != nil {
			t.Errorf("after the rotation, kafka-1 does not verify against the new root: %v\n%s", err, out)
		}
	}()
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not the password"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.WriteFile(loose, []byte(stepPassword), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong password", []string{stepca.EnvPasswordFile + "=" + wrong}, "the password does not decrypt its key"},
		{"no password", nil, "--provisioner-password-file"},
		{"password file readable by others", []string{stepca.EnvPasswordFile + "=" + loose}, "chmod 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ktEnv(t, dir, tc.env, "issue", "client9")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, stepPassword) {
				t.Error("the password is in the error")
			}
			if _, err := os.Stat(filepath.Join(pkiDir, "certs", "client9")); err == nil {
				t.Error("an identity was written")
			}
			if got := readTrim(t, filepath.Join(pkiDir, "index.json")); got != before {
				t.Errorf("the index changed:\n%s", got)
			}
		})
	}
}

// TestEngineStepCARefusals: step-ca's default template, caught at init
// when the provisioner publishes it, and on the certificate when it does
// not (a templateFile): the refusal names the template setting, nothing is
// placed, and the certificate step-ca signed is in the index with its
// serial, listed as unplaced and revoked at step-ca by `revoke`. A step-ca
// without a CRL: revoke is recorded, and the warning names the setting.
func TestEngineStepCARefusals(t *testing.T) {
	realpeer.Need(t, "openssl")
	s, pwFile := startStepCA(t, true)
	pw := "--provisioner-password-file=" + pwFile
	init := func(dir, prov string) result {
		return ktEnv(t, dir, nil, "init", "--engine", "step-ca", "--ca-url", s.URL, "--ca-root", s.RootFile, "--provisioner", prov, pw,
			"--ou", "kafka", "--org", "Acme", "--key-type", "ecdsa", "--leaf-days", "30")
	}

	t.Run("init with the default template", func(t *testing.T) {
		dir := t.TempDir()
		r := init(dir, "plain")
		if r.code != 1 || !strings.Contains(r.stderr, `"rawSubject": {{ toJson .Insecure.CR.RawSubject }}`) || !strings.Contains(r.stderr, `provisioner "plain"`) {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "kafka-pki", "kafkatls.json")); err == nil {
			t.Error("a refused init wrote the directory's settings")
		}
	})
	t.Run("init with more days than the provisioner allows", func(t *testing.T) {
		r := ktEnv(t, t.TempDir(), nil, "init", "--engine", "step-ca", "--ca-url", s.URL, "--ca-root", s.RootFile, "--provisioner", "kafka", pw, "--leaf-days", "365")
		if r.code != 1 || !strings.Contains(r.stderr, `claims.maxTLSCertDuration to at least "8760h"`) {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})

	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	if r := init(dir, "hidden"); r.code != 0 {
		t.Fatalf("init with an unpublished template: exit %d %s", r.code, r.stderr)
	}
	r := ktEnv(t, dir, nil, "issue", "alice", pw)
	if r.code != 1 || !strings.Contains(r.stderr, "subject (the Kafka principal): asked CN=alice,OU=kafka,O=Acme, got CN=alice") ||
		!strings.Contains(r.stderr, ".Insecure.CR.RawSubject") || !strings.Contains(r.stderr, "DNS SANs: asked [], got [alice]") {
		t.Fatalf("issue through the default template: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "certs", "alice")); err == nil {
		t.Error("a refused certificate was placed")
	}
	// step-ca signed it: the index holds its serial.
	var rec *pki.Record
	for _, x := range loadIndex(t, pkiDir).Records {
		if x.Name == "alice" {
			rec = &x
		}
	}
	if rec == nil || rec.Status != pki.StatusUnplaced || rec.Serial == "" {
		t.Fatalf("the refused certificate's record: %+v; want unplaced with step-ca's serial", rec)
	}
	if list := okEnv(t, dir, nil, "list", "--all"); !regexp.MustCompile(`alice\s+client\s+` + rec.Serial + `.*unplaced`).MatchString(list) {
		t.Errorf("list does not show the refused certificate as unplaced with serial %s:\n%s", rec.Serial, list)
	}
	// revoke reaches step-ca (revoking again there is refused: it was revoked).
	out := okEnv(t, dir, nil, "revoke", "alice", pw)
	if !strings.Contains(out, "step-ca has no CRL configured") || !strings.Contains(out, `"crl": {"enabled": true`) {
		t.Errorf("revoke against a step-ca without a CRL:\n%s", out)
	}
	for _, x := range loadIndex(t, pkiDir).Records {
		if x.Name == "alice" && x.Status != pki.StatusRevoked {
			t.Errorf("after revoke: %+v", x)
		}
	}
	cl, err := stepca.New(stepca.Config{URL: s.URL, Root: s.RootFile, Provisioner: "hidden", Password: []byte(stepPassword)})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := new(big.Int).SetString(rec.Serial, 16)
	if !ok {
		t.Fatalf("serial %q", rec.Serial)
	}
	if err := cl.Revoke(t.Context(), n, 0, "again"); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("revoking %s again at step-ca: %v; want already revoked (kafkatls revoked it)", rec.Serial, err)
	}
}

// TestEngineStepCAFlags: the init flags' usage errors (exit 2) and a
// password that never reaches argv-only places: the bundle spec's ca
// section on a fresh runner holding only the password file.
func TestEngineStepCAFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no --ca-url", []string{"init", "--engine", "step-ca", "--ca-root", "root.crt"}, "--ca-url"},
		{"no --ca-root", []string{"init", "--engine", "step-ca", "--ca-url", "https://ca.example.com:9000"}, "--ca-root"},
		{"--ca-url without --engine", []string{"init", "--ca-url", "https://ca.example.com:9000"}, "--ca-url needs --engine step-ca"},
		{"--provisioner with vault", []string{"init", "--engine", "vault", "--provisioner", "kafka"}, "--provisioner needs --engine step-ca"},
		{"--vault-mount with step-ca", []string{"init", "--engine", "step-ca", "--vault-mount", "pki"}, "--vault-mount needs --engine vault"},
		{"unknown engine", []string{"init", "--engine", "acme"}, "vault, step-ca"},
		{"http URL", []string{"init", "--engine", "step-ca", "--ca-url", "http://ca.example.com", "--ca-root", "root.crt"}, "--ca-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "root.crt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := ktEnv(t, dir, []string{"STEP_CA_URL=", "STEP_ROOT=", stepca.EnvPasswordFile + "=" + filepath.Join(dir, "pw")}, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "kafka-pki", "kafkatls.json")); err == nil {
				t.Error("a usage error wrote the directory")
			}
		})
	}

	t.Run("durations in authority.claims only: a warning, not a refusal", func(t *testing.T) {
		// step-ca does not publish authority.claims: init cannot know the
		// maximum, so it warns, and the certificate is checked instead.
		s := realpeer.StartStepCA(t, realpeer.StepCAConfig{
			Claims:       json.RawMessage(`{"minTLSCertDuration": "5m", "maxTLSCertDuration": "2160h", "defaultTLSCertDuration": "720h"}`),
			Provisioners: []json.RawMessage{stepProvisioner(t, "kafka", func(m map[string]any) { delete(m, "claims") })},
		})
		dir := t.TempDir()
		pw := filepath.Join(dir, "pw")
		if err := os.WriteFile(pw, []byte(stepPassword), 0o600); err != nil {
			t.Fatal(err)
		}
		r := ktEnv(t, dir, nil, "init", "--engine", "step-ca", "--ca-url", s.URL, "--ca-root", s.RootFile, "--provisioner-password-file", pw, "--leaf-days", "30")
		if r.code != 0 || !strings.Contains(r.stderr, "probably set claims.maxTLSCertDuration") {
			t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		okEnv(t, dir, nil, "issue", "client1", "--provisioner-password-file", pw)
	})

	t.Run("bundle -f with ca.engine step-ca on a fresh runner", func(t *testing.T) {
		realpeer.Need(t, "openssl")
		s, pwFile := startStepCA(t, false)
		dir := t.TempDir()
		root := filepath.Join(dir, "step-root.crt")
		if err := os.WriteFile(root, []byte(readTrim(t, s.RootFile)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		spec := fmt.Sprintf(`ca:
  engine: step-ca
  url: %s
  root: step-root.crt
  provisioner: kafka
  org: Acme
  ou: kafka
  keyType: ecdsa
defaults:
  days: 30
brokers:
  - name: kafka-1
    hosts: [kafka-1.example.com]
clients:
  - name: app1
`, s.URL)
		if err := os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		okEnv(t, dir, []string{stepca.EnvPasswordFile + "=" + pwFile}, "bundle", "-f", "kafkatls.yaml")
		pkiDir := filepath.Join(dir, "kafka-pki")
		for _, n := range []string{"kafka-1", "app1"} {
			c := filepath.Join(pkiDir, "certs", n)
			if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), "-untrusted", filepath.Join(c, "chain.pem"), filepath.Join(c, "tls.crt")); err != nil {
				t.Errorf("openssl verify %s: %v\n%s", n, err, out)
			}
		}
		// The directory keeps working when the root file is gone: DIR/ca.crt is step-ca's root.
		if err := os.Remove(root); err != nil {
			t.Fatal(err)
		}
		okEnv(t, dir, []string{stepca.EnvPasswordFile + "=" + pwFile}, "issue", "app2")
		if list := okEnv(t, dir, nil, "list"); !regexp.MustCompile(`app2\s+client\s+[0-9a-f]+\s+\S+\s+valid`).MatchString(list) {
			t.Errorf("list after issuing without the root file:\n%s", list)
		}
	})
}

// TestEngineStepCAFaultKilledAtEveryDurableStep: a bundle that creates a
// step-ca-signed directory, killed at each durable step in turn: every
// request the killed run had recorded (by serial, or by key before step-ca
// answered) is still in the index after the next run, never dropped, and
// re-running the bundle completes it.
func TestEngineStepCAFaultKilledAtEveryDurableStep(t *testing.T) {
	s, pwFile := startStepCA(t, false)
	env := []string{stepca.EnvPasswordFile + "=" + pwFile}
	spec := fmt.Sprintf("ca:\n  engine: step-ca\n  url: %s\n  root: %s\n  provisioner: kafka\n  keyType: ecdsa\ndefaults:\n  days: 30\nbrokers:\n  - name: b1\nclients:\n  - name: a1\n  - name: a2\n", s.URL, s.RootFile)
	for n := 1; ; n++ {
		if n > 100 {
			t.Fatal("more than 100 durable steps")
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		pkiDir := filepath.Join(dir, "kafka-pki")
		r := runEnv(t, dir, append(env, fsx.FaultEnv+"="+strconv.Itoa(n)), "bundle", "-f", "kafkatls.yaml")
		if !r.killed {
			if r.code != 0 {
				t.Fatalf("past the last step: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			checkFaultInvariants(t, pkiDir, true)
			break
		}
		t.Run(fmt.Sprintf("kill %d", n), func(t *testing.T) {
			// What the killed run recorded, before any recovery.
			recorded := map[string]string{} // what -> name
			if idx, err := pki.LoadIndex(pkiDir); err == nil {
				for _, rec := range idx.Records {
					if rec.Serial != "" {
						recorded["serial "+rec.Serial] = rec.Name
					} else if rec.EngineKey != "" {
						recorded["key "+rec.EngineKey] = rec.Name
					}
				}
			}
			if again := ktEnv(t, dir, env, "bundle", "-f", "kafkatls.yaml"); again.code != 0 {
				t.Fatalf("re-run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
			}
			checkFaultInvariants(t, pkiDir, true)
			after := map[string]bool{}
			for _, rec := range loadIndex(t, pkiDir).Records {
				after["serial "+rec.Serial] = true
				if rec.EngineKey != "" {
					after["key "+rec.EngineKey] = true
				}
			}
			for k, name := range recorded {
				// A request known by its key whose certificate was placed
				// is settled under its serial: the placed key is that key.
				if b, err := os.ReadFile(filepath.Join(pkiDir, "certs", name, "tls.crt")); err == nil {
					if c, err := pem.DecodeCerts(b); err == nil && k == "key "+pki.KeyFingerprint(c[0].PublicKey) {
						continue
					}
				}
				if !after[k] {
					t.Errorf("the killed run's record %s is gone from the index after the re-run", k)
				}
			}
		})
	}
}
