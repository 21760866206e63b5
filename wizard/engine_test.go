package wizard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
)

// openBaoForWizard starts a real OpenBao with mount pki and role kafka set
// up for subjects O=Acme,OU=kafka (docs/engines.md), and returns it with a
// 0600 file holding its token.
func openBaoForWizard(t *testing.T) (*realpeer.OpenBaoDev, string) {
	t.Helper()
	bao := realpeer.StartOpenBaoDev(t)
	bao.Bao(t, "secrets", "enable", "-path=pki", "-max-lease-ttl=87600h", "pki")
	bao.Bao(t, "write", "pki/root/generate/internal", "common_name=Wizard Bao Root", "key_type=ec", "ttl=87600h")
	bao.Bao(t, append([]string{"write", "pki/roles/kafka"}, strings.Fields("key_type=any key_bits=0 server_flag=true client_flag=true "+
		"use_csr_common_name=true use_csr_sans=true enforce_hostnames=false cn_validations=disabled allow_ip_sans=true "+
		"allow_any_name=true ou=kafka organization=Acme ttl=8760h max_ttl=19800h no_store=false")...)...)
	tokf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokf, []byte(bao.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return bao, tokf
}

// toEngineCA leaves the directory step, chooses Vault/OpenBao on the
// signing step with address addr (mount and role kept: pki, kafka), and
// waits for the subject step.
func (d *driver) toEngineCA(addr string) {
	d.t.Helper()
	d.enter()
	d.waitStep(stepSigner, 0)
	d.down() // Vault or OpenBao
	d.enter()
	d.waitText("Engine address")
	d.typ(addr)
	d.enters(3) // address, mount, role
	d.waitStep(stepCA, 0)
}

// walkEngineRest answers the engine's subject step (O=Acme, OU=kafka,
// ECDSA) and takes the defaults to the summary.
func (d *driver) walkEngineRest() snapshot {
	d.t.Helper()
	s := d.waitText("Subject of every certificate")
	if strings.Contains(s.screen, "CA common name") || strings.Contains(s.screen, "passphrase") {
		d.t.Fatalf("an engine's subject step asks for a CA name or passphrase:\n%s", s.screen)
	}
	d.typ("Acme")
	d.enter()
	d.typ("kafka")
	d.enters(2) // OU, C
	d.waitText("Locality")
	d.enters(2) // L, ST
	d.down()    // ECDSA
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters)
	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	return d.waitStep(stepSummary, 0)
}

// TestWizardEngineOpenBao: choosing Vault/OpenBao on the signing step
// writes a spec whose ca section names the engine (never the token), the
// summary names exactly the files the run writes (no CA key), a real
// OpenBao signs every identity, and verify passes on its stores.
func TestWizardEngineOpenBao(t *testing.T) {
	bao, tokf := openBaoForWizard(t)
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: realVerify, VaultTokenFile: tokf, NoColor: true})
	d.enter()
	d.waitStep(stepSigner, 0)
	d.down()
	d.enter()
	s := d.waitText("Engine address")
	if !strings.Contains(s.screen, "From "+tokf+" (--vault-token-file)") {
		t.Errorf("the signing step does not say where the token comes from:\n%s", s.screen)
	}
	d.enter() // an empty address, with VAULT_ADDR unset
	if os.Getenv("VAULT_ADDR") == "" {
		d.waitText("VAULT_ADDR is not set either")
		d.stays(stepSigner, 0)
	}
	d.typ("ftp://x")
	d.enter()
	d.waitText("give an http(s) URL")
	d.backspace(len("ftp://x"))
	d.typ(bao.Addr)
	d.enters(3)
	d.waitStep(stepCA, 0)
	s = d.walkEngineRest()

	for _, want := range []string{dir + " (new PKI)", "the engine's: vault pki/roles/kafka at " + bao.Addr,
		"subjects CN=NAME,OU=kafka,O=Acme, ECDSA P-256 keys", "never saved", "User:CN=kafka-1,OU=kafka,O=Acme",
		"(with the engine token in VAULT_TOKEN or --vault-token-file)"} {
		if !strings.Contains(strings.Join(strings.Fields(s.page), " "), want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	if strings.Contains(s.page, pki.CAKeyFile) {
		t.Errorf("the summary promises %s for an engine:\n%s", pki.CAKeyFile, s.page)
	}
	summaryPage := s.page
	d.enter() // generate
	s = d.waitUntil("the done screen", 90*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	if !strings.Contains(s.page, "Verify: PASSED") {
		t.Errorf("done screen:\n%s", s.page)
	}
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Err != nil || !out.VerifyOK {
		t.Fatalf("outcome %+v", out)
	}
	checkDirMatchesSummary(t, dir, summaryPage)

	spec := readTrim(t, filepath.Join(dir, bundle.SpecFile))
	for _, want := range []string{"engine: vault", "address: " + bao.Addr, "mount: pki", "role: kafka", "org: Acme", "ou: kafka"} {
		if !strings.Contains(spec, want) {
			t.Errorf("%s lacks %q:\n%s", bundle.SpecFile, want, spec)
		}
	}
	if strings.Contains(spec, bao.Token) || strings.Contains(spec, "cn:") {
		t.Errorf("%s holds the token or a CA name:\n%s", bundle.SpecFile, spec)
	}
	// OpenBao's root is the trust anchor, and it signed the broker.
	root := readCert(t, filepath.Join(dir, pki.TrustFile))
	if root.Subject.CommonName != "Wizard Bao Root" {
		t.Errorf("%s is %s, not OpenBao's root", pki.TrustFile, root.Subject)
	}
	broker := readCert(t, filepath.Join(dir, pki.CertsDir, "kafka-1", "tls.crt"))
	if err := broker.CheckSignatureFrom(root); err != nil {
		t.Errorf("kafka-1's certificate is not signed by OpenBao's root: %v", err)
	}
	if serials := bao.Bao(t, "list", "-format=json", "pki/certs"); !strings.Contains(serials, serialColons(broker.SerialNumber.Text(16))) {
		t.Errorf("OpenBao does not list kafka-1's serial %x: %s", broker.SerialNumber, serials)
	}

	// Again on the same directory: the existing step says the engine
	// signs, and a second client is signed by it through the directory's
	// settings (the token again from the file).
	d = start(t, Options{Dir: dir, VaultTokenFile: tokf, NoColor: true})
	d.enter()
	s = d.waitStep(stepExistingCA, 0)
	if !strings.Contains(s.screen, "signed by engine vault pki/roles/kafka") || strings.Contains(s.screen, "passphrase") {
		t.Fatalf("the existing engine-signed directory is not described as such:\n%s", s.screen)
	}
	d.enter() // reuse
	s = d.addClient2OnReuse()
	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{dir + " (existing PKI reused)", "the engine's: vault pki/roles/kafka at " + bao.Addr,
		"= kafka-1", "+ client2 client User:CN=client2,OU=kafka,O=Acme"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	summaryPage = s.page
	d.enter()
	d.waitUntil("the done screen", 90*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil {
		t.Fatalf("second run: %v", out.Err)
	}
	checkDirMatchesSummary(t, dir, summaryPage)
	c2 := readCert(t, filepath.Join(dir, pki.CertsDir, "client2", "tls.crt"))
	if err := c2.CheckSignatureFrom(root); err != nil {
		t.Errorf("client2 is not signed by OpenBao's root: %v", err)
	}
}

// serialColons writes a hex serial as OpenBao lists it: 2-digit groups
// joined by colons.
func serialColons(hex string) string {
	if len(hex)%2 == 1 {
		hex = "0" + hex
	}
	var parts []string
	for i := 0; i < len(hex); i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	return strings.Join(parts, ":")
}

// TestWizardEngineNoToken: without a usable token the summary says the
// bundle cannot be generated, Enter does nothing and nothing is written.
func TestWizardEngineNoToken(t *testing.T) {
	bao, _ := openBaoForWizard(t)
	dir := filepath.Join(t.TempDir(), "pki")
	missing := filepath.Join(t.TempDir(), "no-such-token")
	d := start(t, Options{Dir: dir, VaultTokenFile: missing, NoColor: true})
	d.toEngineCA(bao.Addr)
	s := d.walkEngineRest()
	if !strings.Contains(s.page, "This bundle cannot be generated") || !strings.Contains(s.page, "no-such-token") {
		t.Fatalf("summary without a token:\n%s", s.page)
	}
	d.send(keyPress("enter"))
	d.stays(stepSummary, 0)
	d.ctrlC()
	if out := d.finish(); !out.Canceled {
		t.Errorf("outcome %+v", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was written (stat: %v)", dir, err)
	}
}
