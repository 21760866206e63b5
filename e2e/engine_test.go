package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// ktEnv runs kafkatls with extra environment variables (VAULT_*), the way
// a CI runner holding only the engine's token does.
func ktEnv(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "KAFKATLS_DIR=", "KAFKATLS_CA_PASSPHRASE=", "VAULT_TOKEN=", "VAULT_ADDR="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, isExit := err.(*exec.ExitError); isExit {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func okEnv(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	r := ktEnv(t, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("kafkatls %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestEngineVault drives every command against a real OpenBao: init
// --engine vault --setup, issue, the stores with keytool and openssl,
// verify (the test broker handshakes with engine-signed stores), bundle,
// renew, revoke with the engine's CRL, list, and the refusals that write
// nothing.
func TestEngineVault(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	env := []string{"VAULT_TOKEN=" + bao.Token}
	out := okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", bao.Addr, "--vault-mount", "pki", "--vault-role", "kafka",
		"--setup", "--cn", "Acme Kafka Root", "--ou", "kafka", "--org", "Acme", "--key-type", "ecdsa")
	if !strings.Contains(out, "signs with engine vault pki/roles/kafka at "+bao.Addr) {
		t.Errorf("init output:\n%s", out)
	}
	settings := readTrim(t, filepath.Join(pkiDir, "kafkatls.json"))
	if !strings.Contains(settings, `"type": "vault"`) || strings.Contains(settings, bao.Token) {
		t.Errorf("kafkatls.json names no engine, or holds the token:\n%s", settings)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "ca", "ca.key")); err == nil {
		t.Error("an engine-signed directory holds a CA key")
	}
	// The trust anchor is the engine's root.
	chain := bao.Bao(t, "read", "-field=certificate", "pki/cert/ca")
	if got := readTrim(t, filepath.Join(pkiDir, "ca.crt")); got != strings.TrimSpace(chain) {
		t.Errorf("DIR/ca.crt is not the engine's root:\n%s\nengine:\n%s", got, chain)
	}

	// Later runs need only the token in the environment.
	okEnv(t, dir, env, "issue", "kafka-1", "--role", "broker", "--dns", "kafka-1.example.com")
	okEnv(t, dir, env, "issue", "client1")
	for _, n := range []string{"kafka-1", "client1"} {
		c := filepath.Join(pkiDir, "certs", n)
		pw := readTrim(t, filepath.Join(c, "password"))
		for _, ks := range []string{"keystore.jks", "keystore.p12", "truststore.jks"} {
			if out := realpeer.Run(t, "keytool", "-list", "-keystore", filepath.Join(c, ks), "-storepass", pw); !strings.Contains(out, "Entry") {
				t.Errorf("keytool -list %s/%s:\n%s", n, ks, out)
			}
		}
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), filepath.Join(c, "tls.crt")); err != nil {
			t.Errorf("openssl verify %s: %v\n%s", n, err, out)
		}
		issuer := realpeer.Run(t, "openssl", "x509", "-in", filepath.Join(c, "tls.crt"), "-noout", "-issuer")
		if !strings.Contains(issuer, "Acme Kafka Root") {
			t.Errorf("%s issuer: %s", n, issuer)
		}
		// The engine stored it under the serial the index records.
		serial := strings.ToLower(serialOf(t, filepath.Join(c, "tls.crt")))
		if !strings.Contains(readTrim(t, filepath.Join(pkiDir, "index.json")), `"serial": "`+serial+`"`) {
			t.Errorf("index lacks %s serial %s", n, serial)
		}
	}
	// A host that keeps its key: its CSR is signed as is.
	realpeer.Run(t, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", filepath.Join(dir, "app.key"), "-out", filepath.Join(dir, "app.csr"), "-subj", "/O=Acme/OU=kafka/CN=app",
		"-addext", "subjectAltName=DNS:app.internal")
	okEnv(t, dir, env, "sign", "app.csr", "--out", "app-chain.pem")
	if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), "-purpose", "sslclient", filepath.Join(pkiDir, "certs/app/tls.crt")); err != nil {
		t.Errorf("openssl verify of the signed CSR: %v\n%s", err, out)
	}
	if r := ktEnv(t, dir, env, "renew", "app"); r.code != 1 || !strings.Contains(r.stderr, "CSR") {
		t.Errorf("renew of a CSR-signed certificate with an engine: exit %d %q", r.code, r.stderr)
	}

	// The test broker handshakes with every engine-signed identity.
	if out := okEnv(t, dir, env, "verify"); !strings.Contains(out, "client1") {
		t.Errorf("verify:\n%s", out)
	}

	// renew signs a new CSR from the same key.
	key := readTrim(t, filepath.Join(pkiDir, "certs/client1/tls.key"))
	oldSerial := serialOf(t, filepath.Join(pkiDir, "certs/client1/tls.crt"))
	okEnv(t, dir, env, "renew", "client1")
	if readTrim(t, filepath.Join(pkiDir, "certs/client1/tls.key")) != key {
		t.Error("renew changed the key")
	}
	newSerial := serialOf(t, filepath.Join(pkiDir, "certs/client1/tls.crt"))
	if newSerial == oldSerial {
		t.Error("renew kept the serial")
	}

	// revoke: at the engine, and crl.pem is the engine's CRL.
	okEnv(t, dir, env, "revoke", "client1", "--serial", newSerial)
	engineCRL := bao.Bao(t, "read", "-field=certificate", "pki/cert/crl")
	crlText := realpeer.Run(t, "openssl", "crl", "-noout", "-text", "-in", filepath.Join(pkiDir, "crl.pem"))
	if !strings.Contains(crlText, "Serial Number: "+newSerial) {
		t.Errorf("DIR/crl.pem lacks %s:\n%s", newSerial, crlText)
	}
	if got := readTrim(t, filepath.Join(pkiDir, "crl.pem")); got != strings.TrimSpace(engineCRL) {
		t.Errorf("DIR/crl.pem is not the engine's CRL")
	}

	// list works from the index, offline.
	list := ktEnv(t, dir, nil, "list", "--all")
	if list.code != 0 || !regexp.MustCompile(`client1\s+client\s+\S+\s+\S+\s+revoked`).MatchString(list.stdout) || !strings.Contains(list.stdout, "kafka-1") {
		t.Errorf("list: exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}

	// bundle with 3 clients, signed by the engine.
	okEnv(t, dir, env, "bundle", "--brokers", "kafka-1", "--clients", "app1,app2,app3")
	for _, n := range []string{"app1", "app2", "app3"} {
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), filepath.Join(pkiDir, "certs", n, "tls.crt")); err != nil {
			t.Errorf("openssl verify bundle %s: %v\n%s", n, err, out)
		}
	}
	var idx struct {
		Records []struct{ Name, Status, Serial, EngineKey string }
	}
	if err := json.Unmarshal([]byte(readTrim(t, filepath.Join(pkiDir, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	for _, r := range idx.Records {
		if r.Status == "pending" || r.Serial == "" {
			t.Errorf("index record left unsettled: %+v", r)
		}
	}

	// Refusals write nothing.
	before := readTrim(t, filepath.Join(pkiDir, "index.json"))
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"wrong token", []string{"VAULT_TOKEN=not-a-token"}, "permission denied on pki/sign/kafka"},
		{"no token", nil, "VAULT_TOKEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ktEnv(t, dir, tc.env, "issue", "client9")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(pkiDir, "certs", "client9")); err == nil {
				t.Error("an identity was written")
			}
			if got := readTrim(t, filepath.Join(pkiDir, "index.json")); got != before {
				t.Errorf("the index changed:\n%s", got)
			}
		})
	}
	t.Run("init checks the role", func(t *testing.T) {
		// (the role is still the one --setup wrote)
		other := t.TempDir()
		r := ktEnv(t, other, env, "init", "--engine", "vault", "--vault-addr", bao.Addr, "--ou", "ops", "--org", "Acme", "--key-type", "ecdsa")
		if r.code != 1 || !strings.Contains(r.stderr, `set ou="ops"`) || !strings.Contains(r.stderr, "bao write pki/roles/kafka") {
			t.Errorf("init with a role whose ou differs: exit %d %q", r.code, r.stderr)
		}
		r = ktEnv(t, other, env, "init", "--engine", "vault", "--vault-addr", bao.Addr, "--vault-role", "nosuch")
		if r.code != 1 || !strings.Contains(r.stderr, "bao write pki/roles/nosuch") {
			t.Errorf("init with a missing role: exit %d %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(other, "kafka-pki", "ca")); err == nil {
			t.Error("a refused init wrote a CA")
		}
	})
	t.Run("role key_type rsa, EC key", func(t *testing.T) {
		bao.Bao(t, "write", "pki/roles/kafka", "key_type=rsa")
		r := ktEnv(t, dir, env, "issue", "client9") // the directory makes EC keys (init --key-type ecdsa)
		if r.code != 1 || !strings.Contains(r.stderr, "key_type=any") || !strings.Contains(r.stderr, "pki/roles/kafka") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(pkiDir, "certs", "client9")); err == nil {
			t.Error("an identity was written")
		}
		if got := readTrim(t, filepath.Join(pkiDir, "index.json")); got != before {
			t.Errorf("the index changed:\n%s", got)
		}
	})
}

// TestEngineVaultKilledRun: a run killed after the engine signed (its
// serial recorded as pending, the identity never placed) leaves an
// "unplaced (engine)" record with the serial, which revoke revokes at the
// engine; a run killed before the engine's answer was recorded leaves the
// request known by its key.
func TestEngineVaultKilledRun(t *testing.T) {
	realpeer.Need(t, "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	env := []string{"VAULT_TOKEN=" + bao.Token}
	okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", bao.Addr, "--setup", "--key-type", "ecdsa")

	// Killed when the engine's serial is about to be recorded: the request
	// is pending by key only, and the engine holds its certificate. The
	// next writer resolves the pending record and reconciles it with the
	// engine: the certificate is found by its key and recorded, unplaced.
	r := ktEnv(t, dir, append(env, "KAFKATLS_FAULT_KILL_AT=engine serial"), "issue", "c1")
	if r.code == 0 {
		t.Fatalf("the fault hook did not kill issue:\n%s", r.stderr)
	}
	okEnv(t, dir, env, "issue", "c2")
	out := okEnv(t, dir, env, "list")
	m := regexp.MustCompile(`c1\s+client\s+([0-9a-f]{16,})\s+\S+\s+unplaced \(engine\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("list after a run killed before the engine's serial was recorded (want c1 reconciled, unplaced, with its serial):\n%s", out)
	}
	if revokedAtEngine(t, bao, m[1]) { // fails the test if OpenBao has no such certificate
		t.Errorf("c1's reconciled serial %s is revoked at the engine", m[1])
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "certs", "c1")); err == nil {
		t.Error("the killed run's identity is in place")
	}

	// Killed at the index commit after placing the identity: recovery
	// finds it in place (by its serial) and makes it valid.
	r = ktEnv(t, dir, append(env, "KAFKATLS_FAULT_KILL_AT=commit index"), "issue", "c3")
	if r.code == 0 {
		t.Fatalf("the fault hook did not kill issue:\n%s", r.stderr)
	}
	okEnv(t, dir, env, "revoke", "--crl") // any writer resolves
	out = okEnv(t, dir, env, "list")
	if !regexp.MustCompile(`c3\s+client\s+[0-9a-f]+\s+\S+\s+valid`).MatchString(out) {
		t.Errorf("list after a run killed at its index commit:\n%s", out)
	}
	serial := strings.ToLower(serialOf(t, filepath.Join(pkiDir, "certs/c3/tls.crt")))
	okEnv(t, dir, env, "revoke", "c3")
	crl := realpeer.Run(t, "openssl", "crl", "-noout", "-text", "-in", filepath.Join(pkiDir, "crl.pem"))
	if !strings.Contains(strings.ToLower(crl), "serial number: "+serial) {
		t.Errorf("the engine's CRL lacks c3's serial %s:\n%s", serial, crl)
	}
}

// TestEngineVaultBundleSpec: a spec naming the engine (ca.engine, address,
// mount, role) builds a whole cluster in a fresh directory on a runner
// that holds only the token.
func TestEngineVaultBundleSpec(t *testing.T) {
	realpeer.Need(t, "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	// The mount and role, as an operator sets them up.
	bao.Bao(t, "secrets", "enable", "-path=kafka-pki", "-max-lease-ttl=87600h", "pki")
	bao.Bao(t, "write", "kafka-pki/root/generate/internal", "common_name=Ops Root", "key_type=ec", "ttl=87600h")
	bao.Bao(t, append([]string{"write", "kafka-pki/roles/brokers"}, strings.Fields("key_type=any key_bits=0 server_flag=true client_flag=true use_csr_common_name=true use_csr_sans=true enforce_hostnames=false cn_validations=disabled allow_ip_sans=true allow_any_name=true organization=Acme ttl=720h max_ttl=8760h")...)...)
	dir := t.TempDir()
	spec := "ca:\n  org: Acme\n  keyType: ecdsa\n  engine: vault\n  address: " + bao.Addr + "\n  mount: kafka-pki\n  role: brokers\n" +
		"brokers:\n  - name: kafka-1\n  - name: kafka-2\nclients:\n  - name: app1\n  - name: app2\n  - name: app3\n"
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	okEnv(t, dir, []string{"VAULT_TOKEN=" + bao.Token}, "bundle", "-f", "cluster.yaml", "--days", "30")
	pkiDir := filepath.Join(dir, "kafka-pki")
	if _, err := os.Stat(filepath.Join(pkiDir, "ca", "ca.key")); err == nil {
		t.Error("an engine-signed bundle made a CA key")
	}
	for _, n := range []string{"kafka-1", "kafka-2", "app1", "app2", "app3"} {
		c := filepath.Join(pkiDir, "certs", n, "tls.crt")
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), c); err != nil {
			t.Errorf("openssl verify %s: %v\n%s", n, err, out)
		}
		if issuer := realpeer.Run(t, "openssl", "x509", "-in", c, "-noout", "-issuer"); !strings.Contains(issuer, "Ops Root") {
			t.Errorf("%s issuer: %s", n, issuer)
		}
	}
	// Applied again: nothing to do, and the engine is not even needed.
	if r := ktEnv(t, dir, nil, "bundle", "-f", "cluster.yaml", "--days", "30"); r.code != 0 {
		t.Errorf("idempotent bundle without a token: exit %d\n%s", r.code, r.stderr)
	}
	if out := okEnv(t, dir, []string{"VAULT_TOKEN=" + bao.Token}, "verify"); !strings.Contains(out, "app3") {
		t.Errorf("verify:\n%s", out)
	}
}

// TestEngineVaultIntermediateMount: a mount holding an intermediate signs;
// DIR/ca.crt is the root, the keystores carry the intermediate, and
// openssl and the test broker accept the chain.
func TestEngineVaultIntermediateMount(t *testing.T) {
	realpeer.Need(t, "keytool", "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	rootPEM := baoIntermediateMount(t, bao)

	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	env := []string{"VAULT_TOKEN=" + bao.Token, "VAULT_ADDR=" + bao.Addr} // the address from the environment
	okEnv(t, dir, env, "init", "--engine", "vault", "--vault-mount", "pki-int", "--setup", "--org", "Acme", "--key-type", "ecdsa")
	if got := readTrim(t, filepath.Join(pkiDir, "ca.crt")); !strings.Contains(strings.Join(strings.Fields(rootPEM), ""), strings.Join(strings.Fields(got), "")) { // bao's output may hold warnings too
		t.Errorf("DIR/ca.crt is not the root:\n%s", got)
	}
	okEnv(t, dir, env, "issue", "kafka-1", "--role", "broker")
	okEnv(t, dir, env, "issue", "client1")
	for _, n := range []string{"kafka-1", "client1"} {
		c := filepath.Join(pkiDir, "certs", n)
		if out, err := realpeer.RunErr("openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), "-untrusted", filepath.Join(c, "chain.pem"), filepath.Join(c, "tls.crt")); err != nil {
			t.Errorf("openssl verify %s through chain.pem: %v\n%s", n, err, out)
		}
		pw := readTrim(t, filepath.Join(c, "password"))
		out := realpeer.Run(t, "keytool", "-list", "-v", "-keystore", filepath.Join(c, "keystore.p12"), "-storepass", pw)
		if !strings.Contains(out, "Ops Kafka Issuing CA") {
			t.Errorf("keystore of %s lacks the intermediate:\n%s", n, out)
		}
	}
	if out := okEnv(t, dir, env, "verify"); !strings.Contains(out, "client1") {
		t.Errorf("verify:\n%s", out)
	}
}

// baoIntermediateMount has OpenBao's mount pki-int sign with an
// intermediate CA ("Ops Kafka Issuing CA") issued by mount pki's root
// ("Ops Root"), whose PEM it returns.
func baoIntermediateMount(t *testing.T, bao *realpeer.OpenBaoDev) string {
	t.Helper()
	tmp := t.TempDir()
	bao.Bao(t, "secrets", "enable", "-path=pki", "-max-lease-ttl=87600h", "pki")
	rootPEM := bao.Bao(t, "write", "-field=certificate", "pki/root/generate/internal", "common_name=Ops Root", "key_type=ec", "ttl=87600h")
	bao.Bao(t, "secrets", "enable", "-path=pki-int", "-max-lease-ttl=43800h", "pki")
	csr := bao.Bao(t, "write", "-field=csr", "pki-int/intermediate/generate/internal", "common_name=Ops Kafka Issuing CA", "key_type=ec", "key_bits=256")
	csrFile := filepath.Join(tmp, "int.csr")
	if err := os.WriteFile(csrFile, []byte(csr), 0o600); err != nil {
		t.Fatal(err)
	}
	intPEM := bao.Bao(t, "write", "-field=certificate", "pki/root/sign-intermediate", "csr=@"+csrFile, "format=pem", "ttl=43800h")
	chainFile := filepath.Join(tmp, "chain.pem")
	if err := os.WriteFile(chainFile, []byte(strings.TrimSpace(intPEM)+"\n"+strings.TrimSpace(rootPEM)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bao.Bao(t, "write", "pki-int/intermediate/set-signed", "certificate=@"+chainFile)
	return rootPEM
}

// engineSerials lists the serials of the certificates the engine issued
// (bao list pki/certs), lowercase hex without colons.
func engineSerials(t *testing.T, bao *realpeer.OpenBaoDev) map[string]bool {
	t.Helper()
	out := bao.Bao(t, "list", "-format=json", "pki/certs")
	var list []string
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &list); err != nil {
		t.Fatalf("bao list pki/certs: %v\n%s", err, out)
	}
	m := map[string]bool{}
	for _, s := range list {
		m[strings.TrimLeft(strings.ReplaceAll(s, ":", ""), "0")] = true
	}
	return m
}

// TestEngineVaultFaultKilledAtEveryDurableStep: issue, issue --force,
// bundle, renew and revoke against a real OpenBao, killed at each durable
// step in turn: the directory's invariants hold, every certificate the
// engine issued in the killed run is in the index (by serial, or as a
// request known by its key when the engine's answer was never recorded),
// and re-running the command completes it.
func TestEngineVaultFaultKilledAtEveryDurableStep(t *testing.T) {
	bao := realpeer.StartOpenBaoDev(t)
	env := []string{"VAULT_TOKEN=" + bao.Token, "VAULT_ADDR=" + bao.Addr}
	template := t.TempDir()
	okEnv(t, template, env, "init", "--engine", "vault", "--setup", "--key-type", "ecdsa")
	okEnv(t, template, env, "issue", "c0")
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		{"issue", []string{"issue", "c1"}},
		{"issue --force", []string{"issue", "c0", "--force"}},
		{"bundle", []string{"bundle", "--brokers", "b1", "--clients", "a1,a2"}},
		// More identities than the signing pool's 8: killed with requests
		// in flight whose answers were never recorded.
		{"bundle of 10", []string{"bundle", "--brokers", "b1,b2", "--clients", "a1,a2,a3,a4,a5,a6,a7,a8"}},
		{"renew", []string{"renew", "c0"}},
		{"revoke", []string{"revoke", "c0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for n := 1; ; n++ {
				if n > 100 {
					t.Fatal("more than 100 durable steps")
				}
				dir := filepath.Join(t.TempDir(), "run")
				copyTree(t, template, dir)
				pkiDir := filepath.Join(dir, "kafka-pki")
				before := engineSerials(t, bao)
				r := runEnv(t, dir, append(env, fsx.FaultEnv+"="+strconv.Itoa(n)), tc.cmd...)
				if !r.killed {
					if r.code != 0 {
						t.Fatalf("past the last step: exit %d\n%s%s", r.code, r.stdout, r.stderr)
					}
					checkFaultInvariants(t, pkiDir, true)
					break
				}
				t.Run(fmt.Sprintf("kill %d", n), func(t *testing.T) {
					checkFaultInvariants(t, pkiDir, false)
					idx := loadIndex(t, pkiDir)
					known, byKey := map[string]bool{}, 0
					for _, rec := range idx.Records {
						if rec.Serial == "" {
							byKey++
						}
						known[strings.TrimLeft(rec.Serial, "0")] = true
					}
					missing := 0
					for s := range engineSerials(t, bao) {
						if !before[s] && !known[s] {
							missing++
						}
					}
					if missing > byKey {
						t.Errorf("%d certificates the engine issued are not in the index (%d requests known by key)", missing, byKey)
					}
					// A run killed after its last change is done: issue
					// then refuses to overwrite, revoke has nothing left.
					done := func(stderr string) bool {
						return tc.name == "issue" && strings.Contains(stderr, "already exists") && okList(t, dir, env, `c1\s+client\s+[0-9a-f]+\s+\S+\s+valid`) ||
							tc.name == "revoke" && strings.Contains(stderr, "already revoked")
					}
					if again := ktEnv(t, dir, env, tc.cmd...); again.code != 0 && !done(again.stderr) {
						t.Fatalf("re-run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
					}
					checkFaultInvariants(t, pkiDir, true)
				})
			}
		})
	}
}

// okList reports whether kafkatls list matches pattern.
func okList(t *testing.T, dir string, env []string, pattern string) bool {
	t.Helper()
	return regexp.MustCompile(pattern).MatchString(okEnv(t, dir, env, "list"))
}

// TestEngineVaultUnreachable: an engine nobody answers at is an error that
// writes nothing, at init and at issue.
func TestEngineVaultUnreachable(t *testing.T) {
	bao := realpeer.StartOpenBaoDev(t)
	env := []string{"VAULT_TOKEN=" + bao.Token}
	dir := t.TempDir()
	down := "http://127.0.0.1:1"
	r := ktEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", down)
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("init against an unreachable engine: exit %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki", "ca")); err == nil {
		t.Error("init wrote a CA")
	}
	okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", bao.Addr, "--setup")
	okEnv(t, dir, env, "issue", "c1")
	settings := filepath.Join(dir, "kafka-pki", "kafkatls.json")
	b, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, bytes.ReplaceAll(b, []byte(bao.Addr), []byte(down)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := readTrim(t, filepath.Join(dir, "kafka-pki", "index.json"))
	r = ktEnv(t, dir, env, "issue", "c2")
	if r.code != 1 || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("issue against an unreachable engine: exit %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka-pki", "certs", "c2")); err == nil {
		t.Error("an identity was written")
	}
	if got := readTrim(t, filepath.Join(dir, "kafka-pki", "index.json")); got != before {
		t.Errorf("the index changed:\n%s", got)
	}
}
