package wizard

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/verify"
)

// realVerify runs the verify package on the written bundle.
func realVerify(ctx context.Context, dir string) ([]string, bool, error) {
	rep, err := verify.Bundle(ctx, verify.Options{Dir: dir})
	if err != nil {
		return nil, false, err
	}
	lines := []string{fmt.Sprintf("%d checks run", len(rep.Checks))}
	for _, c := range rep.Checks {
		if !c.OK {
			lines = append(lines, fmt.Sprintf("FAIL %s via %s: %s", c.Identity, c.Server, c.Diagnosis))
		}
	}
	return lines, rep.Passed, nil
}

// summaryFiles reads the file lists of a summary page: each group of
// identities with their files, and the bundle files; as paths relative to
// the PKI directory.
func summaryFiles(t *testing.T, page string) []string {
	t.Helper()
	section := func(heading string) []string {
		i := strings.Index(page, heading)
		if i < 0 {
			t.Fatalf("summary has no %q section:\n%s", heading, page)
		}
		body := page[i:]
		body = body[strings.Index(body, "\n")+1:]
		body, _, _ = strings.Cut(body, "\n\n")
		return strings.Split(body, "\n")
	}
	var out []string
	for _, l := range section("Files in each identity directory") {
		names, files, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("summary: odd identity files line %q", l)
		}
		for _, n := range strings.Split(names, ", ") {
			for _, f := range strings.Fields(files) {
				out = append(out, filepath.Join(pki.CertsDir, n, f))
			}
		}
	}
	for _, l := range section("Bundle files in ") {
		out = append(out, strings.Fields(l)...)
	}
	slices.Sort(out)
	return out
}

// checkDirMatchesSummary asserts that dir holds exactly the files the
// summary page promised (and the directory lock).
func checkDirMatchesSummary(t *testing.T, dir, page string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".lock" {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		got = append(got, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := summaryFiles(t, page); !reflect.DeepEqual(got, want) {
		t.Errorf("%s holds:\n %v\nthe summary promised:\n %v", dir, got, want)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}

// TestWizardFullFlow walks every step with real keys: a new CA, two
// brokers (one mistyped hostname that is refused), back-navigation to
// change the first broker, a client with a grant, PEM runtimes and a mount
// path; then generates, verifies for real and checks every file.
func TestWizardFullFlow(t *testing.T) {
	begin := time.Now()
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: realVerify})

	d.toCA()  // directory
	d.enter() // CN
	d.typ("Acme")
	d.enter()
	d.enter() // OU
	d.typ("G")
	d.enter()
	d.waitText("two letters") // a one-letter country is refused
	d.stays(stepCA, 0)
	d.typ("B")
	d.enter()
	d.waitText("Locality")
	d.enters(2)
	d.down() // ECDSA
	d.enter()
	d.waitText("CA key passphrase")
	d.enter()

	d.waitStep(stepMode, 0)
	d.enter()
	d.waitText("Dedicated KRaft controller")
	d.enter()

	d.waitStep(stepBroker, 0)
	d.enter()
	d.typ("kafka-1.example.com")
	d.enter()
	d.typ("10.0.0.5")
	d.waitText("IP:10.0.0.5") // the SAN preview follows the typing
	d.enter()
	d.down() // add another broker
	d.enter()

	d.waitStep(stepBroker, 1)
	d.enter()
	d.typ("-kafka-2.example.com")
	d.waitText("label \"-kafka-2\" starts or ends") // shown while typing
	d.enter()
	d.enter()
	s := d.stays(stepBroker, 1) // a bad hostname cannot proceed
	if !strings.Contains(s.screen, `* invalid DNS name "-kafka-2.example.com"`) {
		t.Fatalf("no validation error on screen:\n%s", s.screen)
	}
	d.backspace(len("-kafka-2.example.com"))
	d.typ("kafka-2.example.com")
	d.waitText("DNS:kafka-2.example.com")
	d.enters(3) // hosts, IPs, no more brokers

	d.waitStep(stepClient, 0)
	// Back two steps, to broker 1: its answers are still there.
	d.esc()
	d.waitStep(stepBroker, 1)
	d.esc()
	s = d.waitStep(stepBroker, 0)
	if !strings.Contains(s.screen, "kafka-1.example.com") || !strings.Contains(s.screen, "10.0.0.5") {
		t.Fatalf("broker 1 lost its answers:\n%s", s.screen)
	}
	d.enters(2) // name, hosts
	d.typ(",10.0.0.6")
	d.waitText("IP:10.0.0.6")
	d.enters(2) // IPs, "yes, add another" kept
	d.waitStep(stepBroker, 1)
	d.enters(4)

	d.waitStep(stepClient, 0)
	d.enter() // client1
	d.typ("orders")
	d.enter()
	d.waitText("Access to topic orders")
	d.enter() // produce and consume
	d.enter() // no group yet
	d.waitText("give its consumer group")
	d.stays(stepClient, 0)
	d.typ("orders-app")
	d.enter()
	d.waitText("ACLs: produce+consume topic orders, group orders-app")
	d.enters(2) // mutual TLS, no more

	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.down()
	d.down()
	d.toggle() // + librdkafka
	d.enter()
	d.waitText("Stores written: jks, p12, pem")
	d.enter()
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.typ("etc/kafka")
	d.enter()
	d.waitText("must be an absolute path")
	d.stays(stepMount, 0)
	d.backspace(len("etc/kafka"))
	d.typ("/etc/kafka/secrets")
	d.enter()

	s = d.waitStep(stepSummary, 0)
	summaryPage := s.page
	for _, want := range []string{
		dir + " (new PKI)", "create CN=kafkatls CA,O=Acme,C=GB (ECDSA P-256)",
		"+ kafka-1      broker     User:CN=kafka-1,O=Acme,C=GB",
		"SANs DNS:kafka-1, DNS:localhost, DNS:kafka-1.example.com, IP:127.0.0.1, IP:10.0.0.5, IP:10.0.0.6",
		"+ client1      client     User:CN=client1,O=Acme,C=GB", "ACLs produce+consume topic orders, group orders-app",
		"bootstrap kafka-1.example.com:9093,kafka-2.example.com:9093", "jks, p12, pem · PKCS12 modern",
		"paths under /etc/kafka/secrets", "acls.sh", EquivalentCommand(dir),
	} {
		if !strings.Contains(s.page, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the summary wrote to %s (stat: %v)", dir, err)
	}
	if strings.Contains(s.screen, "Equivalent command") {
		t.Fatal("the summary is expected to need scrolling at 80x24")
	}
	d.send(keyPress("end"))
	d.waitText("Equivalent command")

	t.Logf("reached the summary after %s", time.Since(begin))
	d.enter() // generate
	s = d.waitUntil("the done screen", 90*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	for _, want := range []string{"Bundle written to " + dir, "Verify: PASSED", "kcat -F " + filepath.Join(dir, "certs/client1/kcat.conf") + " -L",
		filepath.Join(dir, "acls.sh"), "--allow-principal 'User:CN=client1,O=Acme,C=GB' --consumer --topic orders --group orders-app"} {
		if !strings.Contains(strings.Join(strings.Fields(s.page), " "), want) {
			t.Errorf("done screen lacks %q:\n%s", want, s.page)
		}
	}
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Canceled || out.Interrupted || out.Err != nil || !out.VerifyRan || !out.VerifyOK || out.VerifyErr != nil {
		t.Fatalf("outcome %+v", out)
	}
	t.Logf("done after %s", time.Since(begin))
	if !strings.Contains(out.Recap, "Next steps") || strings.Contains(out.Recap, "\x1b[") {
		t.Errorf("recap is not the plain final screen:\n%q", out.Recap)
	}

	want := bundle.Spec{
		CA: bundle.CASpec{CN: "kafkatls CA", Org: "Acme", Country: "GB", KeyType: "ecdsa"}, Mode: bundle.ModeKRaft,
		Defaults: bundle.Defaults{Formats: []string{"jks", "p12", "pem"}, P12Compat: "modern", MountPath: "/etc/kafka/secrets"},
		Brokers: []bundle.Node{
			{Name: "kafka-1", Hosts: []string{"kafka-1.example.com"}, IPs: []string{"10.0.0.5", "10.0.0.6"}},
			{Name: "kafka-2", Hosts: []string{"kafka-2.example.com"}},
		},
		Clients: []bundle.Client{{Name: "client1", Grants: []kafkaacl.Grant{{Topic: "orders", Group: "orders-app", Producer: true, Consumer: true}}}},
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*spec, want) {
		t.Fatalf("kafkatls.yaml:\n%s\nwant:\n%s", spec.Marshal(), want.Marshal())
	}
	checkDirMatchesSummary(t, dir, summaryPage)
	cert := readCert(t, filepath.Join(dir, "certs/kafka-1/tls.crt"))
	if got := fmt.Sprint(cert.DNSNames, cert.IPAddresses); got != "[kafka-1 localhost kafka-1.example.com] [127.0.0.1 10.0.0.5 10.0.0.6]" {
		t.Errorf("kafka-1 SANs %s", got)
	}
	if got := readTrim(t, filepath.Join(dir, "certs/client1/principal.txt")); got != "User:CN=client1,O=Acme,C=GB" {
		t.Errorf("client1 principal %q", got)
	}
	if props := readTrim(t, filepath.Join(dir, "certs/kafka-1/server.properties")); !strings.Contains(props, "/etc/kafka/secrets/keystore.p12") {
		t.Errorf("server.properties does not use the mount path:\n%s", props)
	}
	// The wizard ran bundle's code path: `kafkatls bundle -f` on the spec
	// it wrote finds nothing to do.
	res, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Changes() {
		t.Errorf("bundle -f of the written spec would change things: %+v", res.Plan)
	}
	d.p.mu.Lock()
	colored := d.p.colored
	d.p.mu.Unlock()
	if !colored {
		t.Error("no colour in the default theme: the NO_COLOR check below would prove nothing")
	}
}

// TestWizardCancelBeforeGeneration: Ctrl-C on any step before generation,
// including the summary, quits and writes nothing.
func TestWizardCancelBeforeGeneration(t *testing.T) {
	for _, at := range []string{"ca", "summary"} {
		t.Run(at, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			d := start(t, Options{Dir: dir})
			if at == "ca" {
				d.toCA()
			} else {
				d.walkDefaults()
			}
			d.ctrlC()
			out := d.finish()
			if !out.Canceled || out.Result != nil {
				t.Fatalf("outcome %+v", out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("canceling left %s behind (stat: %v)", dir, err)
			}
		})
	}
}

// TestWizardCancelDuringGeneration holds bundle.Run after its first
// identity, presses Ctrl-C and checks that only whole identities remain,
// that the spec was written, and that `bundle -f` finishes the job.
func TestWizardCancelDuringGeneration(t *testing.T) {
	orig := runBundle
	t.Cleanup(func() { runBundle = orig })
	runBundle = func(ctx context.Context, spec *bundle.Spec, o bundle.Options) (*bundle.Result, error) {
		o.Workers = 1
		report := o.Progress
		o.Progress = func(p bundle.Progress) {
			report(p)
			if p.Done == 1 {
				<-ctx.Done() // hold the only worker until the user cancels
			}
		}
		return orig(ctx, spec, o)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: func(context.Context, string) ([]string, bool, error) {
		t.Error("verify ran after an interrupted generation")
		return nil, false, nil
	}})
	summary := d.walkDefaults()
	d.enter()
	d.waitText("1/2")
	d.ctrlC()
	out := d.finish()
	if !out.Interrupted || out.Canceled {
		t.Fatalf("outcome %+v", out)
	}
	if !strings.Contains(out.Recap, "1 identities were written whole") || !strings.Contains(out.Recap, EquivalentCommand(dir)) {
		t.Errorf("recap %q", out.Recap)
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatalf("the spec was not written: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, pki.CertsDir))
	if len(entries) != 1 || entries[0].Name() != "kafka-1" {
		t.Fatalf("certs/ holds %v, want just the whole kafka-1", entries)
	}
	files, _ := os.ReadDir(identity.Dir(dir, "kafka-1"))
	promised := 0
	for _, f := range summaryFiles(t, summary.page) {
		if strings.HasPrefix(f, filepath.Join(pki.CertsDir, "kafka-1")+"/") {
			promised++
		}
	}
	if len(files) != promised {
		t.Errorf("kafka-1 is not whole: %d files", len(files))
	}
	idx, err := pki.LoadIndex(dir)
	if err != nil || len(idx.Records) != 1 {
		t.Fatalf("index after the interruption: %v, %v", idx, err)
	}
	// `kafkatls bundle -f DIR/kafkatls.yaml` completes the bundle.
	res, err := orig(context.Background(), spec, bundle.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Count(bundle.ActionCreate) != 1 || res.Plan.Count(bundle.ActionKeep) != 1 {
		t.Errorf("re-run plan: %+v", res.Plan.Steps)
	}
	checkDirMatchesSummary(t, dir, summary.page)
}

// TestWizardExistingEncryptedCA: the wizard detects a CA, can go back to
// choose another directory, refuses a wrong passphrase, and issues from
// the CA with its own subject; without verify it says so.
func TestWizardExistingEncryptedCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Existing CA", Subject: pki.SubjectDefaults{Organization: "Existing"},
		Key: pki.KeySpec{Type: pki.ECDSA}, Passphrase: []byte("correct horse")}); err != nil {
		t.Fatal(err)
	}
	caBefore := readTrim(t, filepath.Join(dir, pki.CACertFile))
	d := start(t, Options{Dir: dir})
	d.enter()
	s := d.waitStep(stepExistingCA, 0)
	if !strings.Contains(s.screen, "CN=Existing CA,O=Existing") || !strings.Contains(s.screen, "key encrypted") {
		t.Fatalf("existing CA not described:\n%s", s.screen)
	}
	d.down() // "No: choose another directory"
	d.enter()
	d.waitStep(stepDir, 0)
	d.enter()
	d.waitStep(stepExistingCA, 0)
	d.enter() // reuse
	d.waitText("CA key passphrase")
	d.typ("wrong passphrase")
	d.enter()
	d.waitText("wrong passphrase: the CA key did not decrypt")
	d.stays(stepExistingCA, 0)
	d.backspace(len("wrong passphrase"))
	d.typ("correct horse")
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(2)
	d.waitText("Principal User:CN=client1,O=Existing") // the preview uses the CA's subject defaults
	d.enters(2)                                        // mutual TLS, no more
	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	s = d.waitStep(stepSummary, 0)
	summaryPage := s.page
	if !strings.Contains(s.page, "(existing CA reused)") || !strings.Contains(s.page, "User:CN=kafka-1,O=Existing") {
		t.Fatalf("summary:\n%s", s.page)
	}
	d.enter()
	s = d.waitUntil("the done screen", 30*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	if !strings.Contains(s.page, "verify not available") {
		t.Errorf("done screen:\n%s", s.page)
	}
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Err != nil || out.VerifyRan {
		t.Fatalf("outcome %+v", out)
	}
	if readTrim(t, filepath.Join(dir, pki.CACertFile)) != caBefore {
		t.Error("the existing CA was replaced")
	}
	if got := readTrim(t, filepath.Join(dir, "certs/kafka-1/principal.txt")); got != "User:CN=kafka-1,O=Existing" {
		t.Errorf("principal %q", got)
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if spec.CA != (bundle.CASpec{}) {
		t.Errorf("a reused CA needs no ca section: %+v", spec.CA)
	}
	checkDirMatchesSummary(t, dir, summaryPage)
}

// TestWizardZooKeeperEnvPasswordsNoColor: ZooKeeper mode, passwords from
// environment variables (an unset one blocks the step), plain styles.
func TestWizardZooKeeperEnvPasswordsNoColor(t *testing.T) {
	t.Setenv("KAFKATLS_PASSWORD_KAFKA_1", "broker-secret")
	t.Setenv("KAFKATLS_PASSWORD_ZOOKEEPER_1", "zk-secret")
	os.Unsetenv("KAFKATLS_PASSWORD_CLIENT1")
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, NoColor: true})
	d.toCA()
	d.enters(4)
	d.waitText("Locality")
	d.enters(3)
	d.waitText("CA key passphrase")
	d.enter()
	d.waitStep(stepMode, 0)
	d.down() // ZooKeeper; the controller question is skipped
	d.enter()
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepZooKeeper, 0)
	d.enter()
	d.typ("zk.internal")
	d.waitText("DNS:zk.internal")
	d.enters(3)
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters)
	d.waitStep(stepServices, 0)
	d.enters(2) // no Connect workers, no TLS servers
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.down()
	d.enter()
	d.waitText("KAFKATLS_PASSWORD_CLIENT1  ✗ not set")
	d.enter()
	d.waitText("* KAFKATLS_PASSWORD_CLIENT1 is not set")
	d.stays(stepPasswords, 0)
	t.Setenv("KAFKATLS_PASSWORD_CLIENT1", "client-secret")
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	s := d.waitStep(stepSummary, 0)
	if !strings.Contains(s.page, "ZooKeeper, bootstrap kafka-1:9093") || !strings.Contains(s.page, "from $KAFKATLS_PASSWORD_<NAME>") {
		t.Errorf("summary:\n%s", s.page)
	}
	d.enter()
	d.waitUntil("the done screen", 30*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil {
		t.Fatal(out.Err)
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Mode != bundle.ModeZooKeeper || len(spec.ZooKeepers) != 1 || spec.ZooKeepers[0].Password.Env != "KAFKATLS_PASSWORD_ZOOKEEPER_1" ||
		spec.ZooKeepers[0].Hosts[0] != "zk.internal" || spec.Clients[0].Password.Env != "KAFKATLS_PASSWORD_CLIENT1" {
		t.Errorf("spec:\n%s", spec.Marshal())
	}
	checkDirMatchesSummary(t, dir, s.page)
	for name, pw := range map[string]string{"kafka-1": "broker-secret", "zookeeper-1": "zk-secret", "client1": "client-secret"} {
		if got := readTrim(t, filepath.Join(identity.Dir(dir, name), identity.PasswordFile)); got != pw {
			t.Errorf("%s password %q, want the environment's %q", name, got, pw)
		}
	}
	if cfg := readTrim(t, filepath.Join(dir, "certs/kafka-1/server.properties")); !strings.Contains(cfg, "zk.internal:2182") {
		t.Errorf("broker zookeeper.connect does not use the ZooKeeper's host:\n%s", cfg)
	}
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	if d.p.colored {
		t.Error("NoColor views contain colour escape sequences")
	}
}

// TestWizardConnectWorkerAndServer: the other-services step adds a Kafka
// Connect worker (Connect's sample group and topics) and a TLS server
// (refused without a name or address to put in its certificate); the
// bundle generated is verified for real and holds exactly the files the
// summary listed, and the spec is what bundle -f would be given.
func TestWizardConnectWorkerAndServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: realVerify})
	d.toCA()
	d.enters(4) // CN, O, OU, C
	d.waitText("Locality")
	d.enters(3) // L, ST, key type
	d.waitText("CA key passphrase")
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters)

	d.waitStep(stepServices, 0)
	d.down() // Connect workers: yes
	d.enter()
	d.down() // TLS servers: yes
	d.enter()
	d.waitText("Connect group (group.id)")
	d.enters(4) // connect-cluster, connect-configs, connect-offsets, connect-status

	d.waitStep(stepConnect, 0)
	d.enter() // connect-1
	d.typ("connect-1.example.com")
	d.waitText("DNS:connect-1.example.com")
	d.enters(3) // hosts, IPs, no more workers

	d.waitStep(stepServer, 0)
	d.enter() // server-1
	d.enter() // no DNS name
	d.enter() // no IP either: refused
	d.waitText("give at least one DNS name or IP address")
	d.stays(stepServer, 0)
	d.typ("10.0.0.9")
	d.waitText("IP:10.0.0.9")
	d.enters(2) // IPs, no more servers

	d.waitStep(stepRuntimes, 0)
	d.down()
	d.down()
	d.toggle() // + librdkafka (PEM); p12 stays for Connect's REST listener
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()

	s := d.waitStep(stepSummary, 0)
	summaryPage := s.page
	for _, want := range []string{
		"+ connect-1    connect    User:CN=connect-1",
		"SANs DNS:connect-1, DNS:localhost, DNS:connect-1.example.com, IP:127.0.0.1",
		"ACLs Connect group connect-cluster, topics connect-configs, connect-offsets, connect-status",
		"+ server-1     server     User:CN=server-1", "SANs IP:10.0.0.9",
		"jks, p12, pem",
	} {
		if !strings.Contains(s.page, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	d.enter() // generate
	s = d.waitUntil("the done screen", 90*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Err != nil || !out.VerifyRan || !out.VerifyOK || out.VerifyErr != nil {
		t.Fatalf("outcome %+v\n%s", out, s.page)
	}

	want := bundle.Spec{
		CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
		Defaults: bundle.Defaults{Formats: []string{"jks", "p12", "pem"}, P12Compat: "modern"},
		Brokers:  []bundle.Node{{Name: "kafka-1"}},
		Clients:  []bundle.Client{{Name: "client1"}},
		Servers:  []bundle.Server{{Name: "server-1", IPs: []string{"10.0.0.9"}}},
		Connect:  []bundle.Connect{{Name: "connect-1", Hosts: []string{"connect-1.example.com"}}},
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*spec, want) {
		t.Fatalf("kafkatls.yaml:\n%s\nwant:\n%s", spec.Marshal(), want.Marshal())
	}
	checkDirMatchesSummary(t, dir, summaryPage)
	for _, f := range []string{"certs/connect-1/connect-distributed.properties", "certs/connect-1/keystore.p12", "certs/server-1/tls.crt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if c := readCert(t, filepath.Join(dir, "certs/server-1/tls.crt")); fmt.Sprint(c.DNSNames, c.IPAddresses) != "[] [10.0.0.9]" {
		t.Errorf("server-1 SANs %v %v", c.DNSNames, c.IPAddresses)
	}
	res, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Changes() {
		t.Errorf("bundle -f of the written spec would change things: %+v", res.Plan)
	}
}
