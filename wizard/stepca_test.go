package wizard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
)

const wizardStepPassword = "kafkatls wizard provisioner password"

// stepCAForWizard starts a real step-ca with a JWK provisioner "kafka"
// whose template keeps the CSR's subject and SANs (docs/engines.md), and
// returns it with a 0600 file holding the provisioner password.
func stepCAForWizard(t *testing.T) (*realpeer.StepCA, string) {
	t.Helper()
	prov, err := stepca.GenerateProvisioner("kafka", []byte(wizardStepPassword), stepca.ProvisionerOptions{PBES2Count: 10000,
		Claims: stepca.Claims{MinTLSCertDuration: "5m", MaxTLSCertDuration: "9000h", DefaultTLSCertDuration: "720h"}})
	if err != nil {
		t.Fatal(err)
	}
	s := realpeer.StartStepCA(t, realpeer.StepCAConfig{Provisioners: []json.RawMessage{prov}})
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(wizardStepPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, pw
}

// envOnly is a LookupEnv that sees only vars: the test's environment
// (STEP_*, VAULT_*) cannot change what the wizard finds.
func envOnly(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// squeeze drops all white space: a screen wraps long paths anywhere.
func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

// TestWizardEngineStepCA: choosing step-ca on the signing step writes a
// spec whose ca section names step-ca's URL, root file and provisioner
// (never the password), the summary says where the password comes from,
// a real step-ca signs every identity, and verify passes on its stores.
// A second run on the directory reads the password file that
// STEP_PROVISIONER_PASSWORD_FILE names and has step-ca sign a new client.
func TestWizardEngineStepCA(t *testing.T) {
	sca, pwFile := stepCAForWizard(t)
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: realVerify, ProvisionerPasswordFile: pwFile, NoColor: true, LookupEnv: envOnly(nil)})
	d.enter()
	d.waitStep(stepSigner, 0)
	d.down()
	d.down()
	d.enter()
	s := d.waitText("step-ca URL")
	if !strings.Contains(squeeze(s.screen), squeeze("From "+pwFile+" (--provisioner-password-file)")) {
		t.Errorf("the signing step does not say where the password comes from:\n%s", s.screen)
	}
	d.enter() // an empty URL, with STEP_CA_URL unset
	d.waitText("STEP_CA_URL is not set either")
	d.stays(stepSigner, 0)
	d.typ("http://x")
	d.enter()
	d.waitText("step-ca serves only HTTPS")
	d.backspace(len("http://x"))
	d.typ(sca.URL)
	d.enter()

	// The root file must exist and hold a CA certificate.
	missing := filepath.Join(t.TempDir(), "no-root.crt")
	d.typ(missing)
	d.enter()
	d.waitText("no such file")
	d.stays(stepSigner, 0)
	d.backspace(len(missing))
	notCert := filepath.Join(t.TempDir(), "x.crt")
	if err := os.WriteFile(notCert, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.typ(notCert)
	d.enter()
	d.waitText("not a PEM certificate")
	d.stays(stepSigner, 0)
	d.backspace(len(notCert))
	d.typ(sca.RootFile)
	d.waitText("CN=kafkatls test step-ca root")
	d.enters(2) // root, provisioner (kafka)
	d.waitStep(stepCA, 0)
	s = d.walkEngineRest()

	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{dir + " (new PKI)", "the engine's: step-ca provisioner kafka at " + sca.URL,
		"subjects CN=NAME,OU=kafka,O=Acme, ECDSA P-256 keys", "Password From " + pwFile + " (--provisioner-password-file) at each run; never saved.",
		"User:CN=kafka-1,OU=kafka,O=Acme", "(with the provisioner password file in --provisioner-password-file or STEP_PROVISIONER_PASSWORD_FILE)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	if strings.Contains(s.page, pki.CAKeyFile) || strings.Contains(s.page, "VAULT_TOKEN") {
		t.Errorf("the summary promises %s or asks for a Vault token for step-ca:\n%s", pki.CAKeyFile, s.page)
	}
	summaryPage := s.page
	d.enter() // generate
	s = d.waitUntil("the done screen", 120*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	if !strings.Contains(s.page, "Verify: PASSED") {
		t.Errorf("done screen:\n%s", s.page)
	}
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Err != nil || !out.VerifyOK {
		t.Fatalf("outcome %+v\nstep-ca log:\n%s", out, sca.Log())
	}
	checkDirMatchesSummary(t, dir, summaryPage)

	// The spec as bundle -f reads it: step-ca's keys, the root's absolute
	// path, no password.
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if c := spec.CA; c.Engine != "step-ca" || c.URL != sca.URL || c.Root != sca.RootFile || c.Provisioner != "kafka" || c.Org != "Acme" || c.OU != "kafka" || c.CN != "" || c.Address != "" {
		t.Errorf("spec ca section %+v", c)
	}
	if raw := readTrim(t, filepath.Join(dir, bundle.SpecFile)); strings.Contains(raw, wizardStepPassword) || strings.Contains(raw, pwFile) {
		t.Errorf("%s holds the password or its file:\n%s", bundle.SpecFile, raw)
	}
	root := readCert(t, filepath.Join(dir, pki.TrustFile))
	if !root.Equal(sca.Root) {
		t.Errorf("%s is %s, not step-ca's root", pki.TrustFile, root.Subject)
	}
	broker := readCert(t, filepath.Join(dir, pki.CertsDir, "kafka-1", "tls.crt"))
	if err := broker.CheckSignatureFrom(sca.Intermediate); err != nil {
		t.Errorf("kafka-1's certificate is not signed by step-ca's intermediate: %v", err)
	}

	// Again on the same directory, the password file named by
	// STEP_PROVISIONER_PASSWORD_FILE: a second client, signed by step-ca.
	d = start(t, Options{Dir: dir, NoColor: true, LookupEnv: envOnly(map[string]string{stepca.EnvPasswordFile: pwFile})})
	d.enter()
	s = d.waitStep(stepExistingCA, 0)
	if !strings.Contains(s.screen, "signed by engine step-ca provisioner kafka") {
		t.Fatalf("the existing step-ca directory is not described as such:\n%s", s.screen)
	}
	d.enter() // reuse
	s = d.addClient2OnReuse()
	flat = strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{dir + " (existing PKI reused)", "the engine's: step-ca provisioner kafka at " + sca.URL,
		"Password From " + pwFile + " (STEP_PROVISIONER_PASSWORD_FILE)", "+ client2 client User:CN=client2,OU=kafka,O=Acme"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	d.enter()
	d.waitUntil("the done screen", 90*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil {
		t.Fatalf("second run: %v", out.Err)
	}
	c2 := readCert(t, filepath.Join(dir, pki.CertsDir, "client2", "tls.crt"))
	if err := c2.CheckSignatureFrom(sca.Intermediate); err != nil {
		t.Errorf("client2 is not signed by step-ca: %v", err)
	}
}

// TestWizardStepCANoPassword: without a provisioner password the signing
// step says so, the summary says the bundle cannot be generated and how
// to give the password, Enter does nothing and nothing is written.
func TestWizardStepCANoPassword(t *testing.T) {
	sca, _ := stepCAForWizard(t)
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, NoColor: true, LookupEnv: envOnly(nil)})
	d.enter()
	d.waitStep(stepSigner, 0)
	d.down()
	d.down()
	d.enter()
	s := d.waitText("step-ca URL")
	if !strings.Contains(squeeze(s.screen), "STEP_PROVISIONER_PASSWORD_FILEisnotset") {
		t.Errorf("the signing step does not say the password is missing:\n%s", s.screen)
	}
	d.typ(sca.URL)
	d.enter()
	d.typ(sca.RootFile)
	d.enters(2) // root, provisioner
	d.waitStep(stepCA, 0)
	s = d.walkEngineRest()
	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{"This bundle cannot be generated", "no provisioner password",
		"Password: STEP_PROVISIONER_PASSWORD_FILE is not set: export it (the password file's path), or start the wizard with --provisioner-password-file FILE"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary without a password lacks %q:\n%s", want, s.page)
		}
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
