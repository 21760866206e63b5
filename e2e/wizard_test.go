package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// tmuxSession runs the real binary in a detached 80x24 tmux session on its
// own server, whose socket lives in the test's temporary directory, so tests
// never touch a user's tmux.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startTmux runs `kafkatls args...` in dir. When it exits the pane prints
// EXIT=<code> and stays open so the final screen can be read.
func startTmux(t *testing.T, dir string, args ...string) *tmuxSession {
	t.Helper()
	realpeer.Need(t, "tmux")
	s := &tmuxSession{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	quoted := []string{shellQuote(bin)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	script := fmt.Sprintf("cd %s && env NO_COLOR=1 KAFKATLS_DIR= KAFKATLS_CA_PASSPHRASE= %s; echo EXIT=$?; sleep 300",
		shellQuote(dir), strings.Join(quoted, " "))
	s.run("new-session", "-d", "-s", "w", "-x", "80", "-y", "24", "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Down, Escape, C-c) one at a time.
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.run("send-keys", "-t", "w", k)
		time.Sleep(150 * time.Millisecond)
	}
}

// text types literal text.
func (s *tmuxSession) text(txt string) {
	s.t.Helper()
	s.run("send-keys", "-t", "w", "-l", txt)
	time.Sleep(150 * time.Millisecond)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "w") }

// wait polls the screen until it shows want (bounded).
func (s *tmuxSession) wait(want string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %q; screen:\n%s", timeout, want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// escapeTo presses Escape until the screen shows want. A lone ESC byte is
// ambiguous on a terminal (it also starts escape sequences), so the app
// waits briefly for more bytes; on a loaded machine the first press was
// seen to be lost (several runs while 7 builds ran in parallel). One more
// press after 5 s on a screen that did not move means the same; a wizard
// that never goes back still fails here.
func (s *tmuxSession) escapeTo(want string, timeout time.Duration) string {
	s.t.Helper()
	s.keys("Escape")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if scr := s.screen(); strings.Contains(scr, want) {
			return scr
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.keys("Escape")
	return s.wait(want, timeout)
}

// focus waits until the form field titled title has the focus (huh marks
// it with a thick left border), so typed text lands in it.
func (s *tmuxSession) focus(title string) {
	s.t.Helper()
	s.wait("┃ "+title, 10*time.Second)
}

// TestWizardInTmux drives `kafkatls wizard` on a real 80x24 terminal
// through a two-broker, one-client, one-Connect-worker bundle and checks the final screen,
// the files, the verify run and that `bundle -f` reproduces it.
func TestWizardInTmux(t *testing.T) {
	work := t.TempDir()
	s := startTmux(t, work, "wizard", "--dir", "pki")
	const step = 10 * time.Second

	s.wait("PKI directory", step)
	s.keys("Enter")
	s.wait("Who signs the certificates?", step)
	s.keys("Enter") // a local CA
	s.wait("CA common name", step)
	s.keys("Enter") // CN
	s.focus("Organization (O)")
	s.text("Acme")
	s.keys("Enter", "Enter") // O, OU
	s.focus("Country")
	s.text("GB")
	s.keys("Enter")
	s.wait("Locality", step)
	s.keys("Enter", "Enter", "Down", "Enter") // L, ST, ECDSA
	s.wait("CA key passphrase", step)
	s.keys("Enter")

	s.wait("How is the cluster coordinated?", step)
	s.keys("Enter")
	s.wait("Dedicated KRaft controller", step)
	s.keys("Enter")

	s.wait("Broker 1", step)
	s.keys("Enter")
	s.focus("Hostnames")
	s.text("kafka-1.example.com,bad_host!")
	s.wait(`character '!' is not allowed`, step) // validated as typed
	s.keys("Enter")
	scr := s.wait("* invalid DNS name", step) // and it cannot proceed
	if !strings.Contains(scr, "Broker 1") {
		t.Fatalf("moved on with a bad hostname:\n%s", scr)
	}
	for range len(",bad_host!") {
		s.run("send-keys", "-t", "w", "BSpace")
	}
	s.wait("DNS:kafka-1.example.com", step)
	s.keys("Enter", "Enter", "Down", "Enter") // hosts, IPs, add another

	s.wait("Broker 2", step)
	s.keys("Enter", "Enter", "Enter", "Enter")

	s.wait("Client 1", step)
	s.escapeTo("Broker 2", step) // back to broker 2, then forward again
	s.keys("Enter", "Enter", "Enter", "Enter")
	s.wait("Client 1", step)
	s.keys("Enter")
	s.focus("Topic it uses")
	s.text("orders")
	s.keys("Enter")
	s.wait("Access to topic orders", step)
	s.keys("Enter")
	s.focus("Consumer group")
	s.text("orders-app")
	s.keys("Enter")
	s.wait("Add another client?", step)
	s.keys("Enter", "Enter") // mutual TLS, no more clients

	s.wait("Kafka Connect workers?", step)
	s.keys("Down", "Enter", "Enter") // a Connect worker, no TLS servers
	s.wait("Connect group (group.id)", step)
	s.keys("Enter", "Enter", "Enter", "Enter") // Connect's sample group and topics
	s.wait("Connect worker 1", step)
	s.keys("Enter")
	s.focus("Hostnames")
	s.text("connect-1.example.com")
	s.wait("DNS:connect-1.example.com", step)
	s.keys("Enter", "Enter", "Enter") // hosts, IPs, no more workers
	s.wait("Which runtimes", step)
	s.keys("Down", "Down", "x", "Enter") // + librdkafka/kcat
	s.wait("Oldest Java", step)
	s.keys("Enter")
	s.wait("Store and key passwords", step)
	s.keys("Enter")
	s.wait("Container mount path", step)
	s.keys("Enter")

	scr = s.wait("Summary", step)
	for _, want := range []string{"+ kafka-1", "+ kafka-2", "+ client1", "User:CN=client1,O=Acme,C=GB", "+ connect-1", "enter: generate"} {
		if !strings.Contains(scr, want) {
			t.Errorf("summary screen lacks %q:\n%s", want, scr)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "pki")); !os.IsNotExist(err) {
		t.Fatalf("something was written before confirming (stat: %v)", err)
	}
	s.keys("Enter")

	scr = s.wait("Done", 3*time.Minute)
	for _, want := range []string{"Bundle written to pki", "Verify: PASSED", "Next steps"} {
		if !strings.Contains(scr, want) {
			t.Errorf("final screen lacks %q:\n%s", want, scr)
		}
	}
	for i, l := range strings.Split(strings.TrimRight(scr, "\n"), "\n") {
		if i >= 24 || len([]rune(l)) > 80 {
			t.Errorf("final screen does not fit 80x24 (line %d: %q)", i+1, l)
		}
	}
	s.keys("Enter")
	s.wait("EXIT=0", step)
	recap := s.run("capture-pane", "-p", "-t", "w", "-S", "-200", "-J")
	for _, want := range []string{"kcat -F pki/certs/client1/kcat.conf -L", "kafkatls bundle -f pki/kafkatls.yaml --dir pki", "pki/acls.sh",
		"--allow-principal 'User:CN=client1,O=Acme,C=GB' --producer --topic orders"} {
		if !strings.Contains(strings.Join(strings.Fields(recap), " "), want) {
			t.Errorf("printed recap lacks %q:\n%s", want, recap)
		}
	}

	spec, err := bundle.LoadSpec(filepath.Join(work, "pki", bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Brokers) != 2 || len(spec.Clients) != 1 || spec.Brokers[0].Hosts[0] != "kafka-1.example.com" ||
		len(spec.Connect) != 1 || spec.Connect[0].Name != "connect-1" || spec.Connect[0].Hosts[0] != "connect-1.example.com" ||
		len(spec.Clients[0].Grants) != 1 || spec.Clients[0].Grants[0].Group != "orders-app" {
		t.Errorf("kafkatls.yaml:\n%s", spec.Marshal())
	}
	for _, f := range []string{"certs/kafka-1/server.properties", "certs/kafka-2/keystore.p12", "certs/client1/kcat.conf", "certs/client1/tls.key",
		"certs/connect-1/connect-distributed.properties", "certs/connect-1/keystore.p12",
		"acls.sh", "truststore.jks", "SUMMARY.md"} {
		if _, err := os.Stat(filepath.Join(work, "pki", f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if got := readTrim(t, filepath.Join(work, "pki/certs/client1/principal.txt")); got != "User:CN=client1,O=Acme,C=GB" {
		t.Errorf("principal %q", got)
	}
	// CI reproduces it with the printed command: nothing to change.
	if r := kt(t, work, "bundle", "-f", "pki/kafkatls.yaml", "--dir", "pki", "--check"); r.code != 0 {
		t.Errorf("bundle --check of the wizard's spec: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestWizardCtrlCInTmux: Ctrl-C before generation exits 130 and writes
// nothing.
func TestWizardCtrlCInTmux(t *testing.T) {
	work := t.TempDir()
	s := startTmux(t, work, "--dir", "pki") // bare kafkatls on a terminal starts the wizard
	s.wait("PKI directory", 10*time.Second)
	s.keys("Enter")
	s.wait("Who signs the certificates?", 10*time.Second)
	s.keys("Enter")
	s.wait("CA common name", 10*time.Second)
	s.keys("C-c")
	scr := s.wait("EXIT=130", 10*time.Second)
	if !strings.Contains(scr, "wizard canceled: nothing was written") {
		t.Errorf("screen after Ctrl-C:\n%s", scr)
	}
	if _, err := os.Stat(filepath.Join(work, "pki")); !os.IsNotExist(err) {
		t.Errorf("Ctrl-C left pki behind (stat: %v)", err)
	}
}

// TestWizardNeedsTerminal: without a terminal `wizard` refuses (exit 2,
// pointing to `kafkatls bundle`) and a bare `kafkatls` prints help.
func TestWizardNeedsTerminal(t *testing.T) {
	dir := t.TempDir()
	r := kt(t, dir, "wizard")
	if r.code != 2 || !strings.Contains(r.stderr, "kafkatls bundle") {
		t.Errorf("wizard without a terminal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = kt(t, dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "wizard") {
		t.Errorf("bare kafkatls without a terminal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}

// TestWizardEngineInTmux: on a real terminal, the signing step's
// Vault/OpenBao choice (token from --vault-token-file) has a real OpenBao
// sign the bundle; the spec names the engine and not the token, and
// `bundle -f --check` on it finds nothing to do.
func TestWizardEngineInTmux(t *testing.T) {
	realpeer.Need(t, "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	bao.Bao(t, "secrets", "enable", "-path=pki", "-max-lease-ttl=87600h", "pki")
	bao.Bao(t, "write", "pki/root/generate/internal", "common_name=Tmux Bao Root", "key_type=ec", "ttl=87600h")
	bao.Bao(t, append([]string{"write", "pki/roles/kafka"}, strings.Fields("key_type=any key_bits=0 server_flag=true client_flag=true "+
		"use_csr_common_name=true use_csr_sans=true enforce_hostnames=false cn_validations=disabled allow_ip_sans=true "+
		"allow_any_name=true ou=kafka organization=Acme ttl=8760h max_ttl=19800h no_store=false")...)...)
	work := t.TempDir()
	tokf := filepath.Join(work, "token")
	if err := os.WriteFile(tokf, []byte(bao.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, work, "wizard", "--dir", "pki", "--vault-token-file", tokf)
	const step = 10 * time.Second

	s.wait("PKI directory", step)
	s.keys("Enter")
	s.wait("Who signs the certificates?", step)
	s.keys("Down", "Enter")
	s.focus("Engine address")
	if scr := s.screen(); !strings.Contains(scr, "--vault-token-file") {
		t.Errorf("the signing step does not say where the token comes from:\n%s", scr)
	}
	s.text(bao.Addr)
	s.keys("Enter", "Enter", "Enter") // address, mount pki, role kafka
	s.wait("Subject of every certificate", step)
	s.focus("Organization (O)")
	s.text("Acme")
	s.keys("Enter")
	s.focus("Organizational unit")
	s.text("kafka")
	s.keys("Enter", "Enter") // OU, C
	s.wait("Locality", step)
	s.keys("Enter", "Enter", "Down", "Enter") // L, ST, ECDSA
	s.wait("How is the cluster coordinated?", step)
	s.keys("Enter")
	s.wait("Dedicated KRaft controller", step)
	s.keys("Enter")
	s.wait("Broker 1", step)
	s.keys("Enter", "Enter", "Enter", "Enter")
	s.wait("Client 1", step)
	s.keys("Enter", "Enter", "Enter", "Enter") // client1, no topic, mutual TLS, no more
	s.wait("Kafka Connect workers?", step)
	s.keys("Enter", "Enter") // no Connect workers, no TLS servers
	s.wait("Which runtimes", step)
	s.keys("Enter")
	s.wait("Oldest Java", step)
	s.keys("Enter")
	s.wait("Store and key passwords", step)
	s.keys("Enter")
	s.wait("Container mount path", step)
	s.keys("Enter")

	scr := s.wait("Summary", step)
	for _, want := range []string{"the engine's: vault pki/roles/kafka", "User:CN=kafka-1,OU=kafka,O=Acme", "enter: generate"} {
		if !strings.Contains(scr, want) {
			t.Errorf("summary screen lacks %q:\n%s", want, scr)
		}
	}
	s.keys("Enter")
	scr = s.wait("Done", 3*time.Minute)
	if !strings.Contains(scr, "Verify: PASSED") {
		t.Errorf("final screen:\n%s", scr)
	}
	s.keys("Enter")
	s.wait("EXIT=0", step)

	pkiDir := filepath.Join(work, "pki")
	spec := readTrim(t, filepath.Join(pkiDir, bundle.SpecFile))
	if !strings.Contains(spec, "engine: vault") || !strings.Contains(spec, "address: "+bao.Addr) || strings.Contains(spec, bao.Token) {
		t.Errorf("kafkatls.yaml:\n%s", spec)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "ca", "ca.key")); !os.IsNotExist(err) {
		t.Errorf("an engine-signed bundle has a CA key (stat: %v)", err)
	}
	for _, n := range []string{"kafka-1", "client1"} {
		out := realpeer.Run(t, "openssl", "verify", "-CAfile", filepath.Join(pkiDir, "ca.crt"), filepath.Join(pkiDir, "certs", n, "tls.crt"))
		if !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify %s against OpenBao's root: %s", n, out)
		}
	}
	if issuer := realpeer.Run(t, "openssl", "x509", "-noout", "-issuer", "-in", filepath.Join(pkiDir, "certs/kafka-1/tls.crt")); !strings.Contains(issuer, "Tmux Bao Root") {
		t.Errorf("kafka-1 issuer: %s", issuer)
	}
	if r := kt(t, work, "bundle", "-f", "pki/kafkatls.yaml", "--dir", "pki", "--check"); r.code != 0 {
		t.Errorf("bundle --check of the wizard's spec: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
