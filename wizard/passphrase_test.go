package wizard

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/pki"
)

// TestWizardConfirmsNewCAPassphrase: a new CA passphrase is typed twice; a
// confirmation that differs is refused on the CA step with a clear
// message, and the CA is encrypted under the passphrase typed twice (it
// used to be asked once: one typo and nobody knew the key's passphrase).
func TestWizardConfirmsNewCAPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, NoColor: true})
	d.toCA()
	d.enters(4)
	d.waitText("Locality")
	d.enters(3)
	d.waitText("CA key passphrase")
	d.typ("correct horse")
	d.enter()
	s := d.waitText("Confirm the CA key passphrase")
	if strings.Contains(s.screen, "correct horse") {
		t.Fatalf("the passphrase is echoed:\n%s", s.screen)
	}
	d.typ("correct hosre")
	d.enter()
	d.waitText("the two passphrases differ")
	d.stays(stepCA, 0)
	d.backspace(len("correct hosre"))
	d.typ("correct horse")
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
	s = d.waitStep(stepSummary, 0)
	if !strings.Contains(s.page, "key encrypted with the passphrase") {
		t.Errorf("summary does not say the key is encrypted:\n%s", s.page)
	}
	d.enter()
	d.waitUntil("the done screen", 30*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil {
		t.Fatal(out.Err)
	}
	p, err := pki.Open(dir, func() ([]byte, error) { return []byte("correct horse"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Signer(); err != nil {
		t.Errorf("the CA key does not decrypt with the passphrase typed twice: %v", err)
	}
}

// An empty passphrase (no encryption) asks no confirmation.
func TestWizardNoConfirmationWithoutPassphrase(t *testing.T) {
	d := start(t, Options{Dir: filepath.Join(t.TempDir(), "pki"), NoColor: true})
	d.toCA()
	d.enters(7)
	d.waitText("CA key passphrase")
	d.enter()
	if s := d.waitStep(stepMode, 0); strings.Contains(s.screen, "Confirm") {
		t.Errorf("confirmation asked for no passphrase:\n%s", s.screen)
	}
}
