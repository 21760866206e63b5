package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBroker runs `kafkatls broker` in the background and returns a
// function that reads its log so far.
func startBroker(t *testing.T, dir string, args ...string) (port int, logs func() string) {
	t.Helper()
	port = freePort(t)
	_, logs = startBrokerOn(t, dir, fmt.Sprintf("127.0.0.1:%d", port), args...)
	return port, logs
}

// startBrokerOn runs `kafkatls broker --listen listen ARGS` in the
// background and returns its "listening on" line and a function that reads
// its log (stdout and stderr) so far.
func startBrokerOn(t *testing.T, dir, listen string, args ...string) (started string, logs func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"broker", "--listen", listen}, args...)...)
	cmd.Dir = dir
	out, _ := cmd.StdoutPipe()
	errOut, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var buf strings.Builder
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(io.MultiReader(errOut))
		for sc.Scan() {
			mu.Lock()
			buf.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				started = sc.Text()
				close(ready)
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			buf.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); cmd.Wait() })
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("test broker did not start:\n%s", buf.String())
	}
	return started, func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
}

func kcat(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestKcatAgainstTestBroker: librdkafka with kafkatls's kcat.conf (PEM,
// hostname verification on) lists metadata, produces and consumes through
// `kafkatls broker`; a client without a certificate is refused and the
// broker log says why.
func TestKcatAgainstTestBroker(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1")
	port, logs := startBroker(t, dir, "kafka-1", "--topic", "orders")
	conf := filepath.Join(dir, "kafka-pki/certs/client1/kcat.conf")
	bootstrap := fmt.Sprintf("localhost:%d", port)

	out, err := kcat(t, "", "-F", conf, "-X", "ssl.endpoint.identification.algorithm=https", "-b", bootstrap, "-L", "-m", "10")
	if err != nil || !strings.Contains(out, `topic "orders"`) {
		t.Fatalf("kcat -L: %v\n%s\nbroker log:\n%s", err, out, logs())
	}
	if out, err := kcat(t, "hello-from-kcat\n", "-F", conf, "-b", bootstrap, "-P", "-t", "orders", "-m", "10"); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	out, err = kcat(t, "", "-F", conf, "-b", bootstrap, "-C", "-t", "orders", "-o", "beginning", "-e", "-m", "10")
	if err != nil || !strings.Contains(out, "hello-from-kcat") {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	if !strings.Contains(logs(), "principal=User:CN=client1,O=Acme,C=GB") {
		t.Errorf("broker log lacks the client principal:\n%s", logs())
	}
	// No client certificate: refused, and the broker log says so.
	ca := filepath.Join(dir, "kafka-pki/ca.crt")
	if out, err := kcat(t, "", "-X", "security.protocol=ssl", "-X", "ssl.ca.location="+ca, "-b", bootstrap, "-L", "-m", "5"); err == nil {
		t.Fatalf("kcat without a certificate got metadata:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs(), "REFUSE") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs(), "no client certificate") {
		t.Errorf("broker log does not say why the cert-less client was refused:\n%s", logs())
	}
}

// TestVerifyCommand: the bundle verifies; --json is machine-readable; the
// remote form passes against the test broker and diagnoses a wrong name.
func TestVerifyCommand(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1,client2")
	out := ok(t, dir, "verify")
	if !strings.Contains(out, "checks passed") {
		t.Fatalf("verify output:\n%s", out)
	}
	out = ok(t, dir, "verify", "--json")
	if !strings.Contains(out, `"passed": true`) {
		t.Fatalf("verify --json:\n%s", out)
	}
	port, _ := startBroker(t, dir, "kafka-1")
	out = ok(t, dir, "verify", "--bootstrap", fmt.Sprintf("localhost:%d", port), "--client", "client1")
	if !strings.Contains(out, "can talk to this broker") {
		t.Fatalf("remote verify:\n%s", out)
	}
	r := kt(t, dir, "verify", "--bootstrap", fmt.Sprintf("127.0.0.1:%d", port), "--server-name", "kafka.example.com", "--client", "client1")
	if r.code != 1 || !strings.Contains(r.stdout, "--dns kafka.example.com") {
		t.Fatalf("remote verify with a wrong name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestJavaClientAgainstTestBroker: a JSSE client with the client's JKS and
// PKCS12 stores completes mutual TLS (hostname verification on) with
// `kafkatls broker` and gets a Kafka ApiVersions answer; the broker logs
// the principal.
func TestJavaClientAgainstTestBroker(t *testing.T) {
	classes := realpeer.JavaClasses(t)
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1")
	port, logs := startBroker(t, dir, "kafka-1")
	cd := filepath.Join(dir, "kafka-pki/certs/client1")
	for _, tc := range []struct{ ext, typ string }{{"jks", "JKS"}, {"p12", "PKCS12"}} {
		out, err := exec.Command("java", "-cp", classes, "KafkaTLSClient", "--port", fmt.Sprint(port), "--host", "kafka-1",
			"--keystore", filepath.Join(cd, "keystore."+tc.ext), "--truststore", filepath.Join(cd, "truststore."+tc.ext),
			"--type", tc.typ, "--password", readTrim(t, filepath.Join(cd, "password"))).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "OK TLSv1.") {
			t.Errorf("%s: %v\n%s\nbroker log:\n%s", tc.typ, err, out, logs())
		}
	}
	if got := strings.Count(logs(), "principal=User:CN=client1,O=Acme,C=GB"); got < 2 {
		t.Errorf("broker logged the Java client's principal %d times, want 2:\n%s", got, logs())
	}
}

// TestBrokerACLsFromSpec: `kafkatls broker --acls` enforces the spec's
// grants by certificate principal; a real librdkafka client without Read
// on a topic gets a topic authorization failure.
func TestBrokerACLsFromSpec(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := t.TempDir()
	spec := `ca: {keyType: ecdsa}
brokers: [{name: kafka-1}]
clients:
  - name: reader
    grants: [{topic: orders, group: g1, consumer: true}, {topic: orders, producer: true}]
  - name: outsider
`
	os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644)
	ok(t, dir, "bundle", "-f", "kafkatls.yaml")
	port, logs := startBroker(t, dir, "kafka-1", "--acls", "--spec", "kafkatls.yaml", "--topic", "orders")
	bootstrap := fmt.Sprintf("localhost:%d", port)
	conf := func(n string) string { return filepath.Join(dir, "kafka-pki/certs", n, "kcat.conf") }

	if out, err := kcat(t, "granted\n", "-F", conf("reader"), "-b", bootstrap, "-P", "-t", "orders"); err != nil {
		t.Fatalf("reader produce: %v\n%s\n%s", err, out, logs())
	}
	if out, err := kcat(t, "", "-F", conf("reader"), "-b", bootstrap, "-C", "-t", "orders", "-o", "beginning", "-e"); err != nil || !strings.Contains(out, "granted") {
		t.Fatalf("reader consume: %v\n%s\n%s", err, out, logs())
	}
	out, err := kcat(t, "", "-F", conf("outsider"), "-b", bootstrap, "-C", "-t", "orders", "-o", "beginning", "-e")
	if err == nil || !strings.Contains(strings.ToLower(out), "authorization failed") {
		t.Fatalf("outsider consume: err=%v\n%s", err, out)
	}
}

// TestKcatProducesToNewTopic: like a default Kafka broker, `kafkatls
// broker` creates a topic on first produce, so kcat with the client's
// generated kcat.conf produces to and consumes from a topic nobody created.
func TestKcatProducesToNewTopic(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1")
	port, logs := startBroker(t, dir, "kafka-1")
	if !strings.Contains(logs(), "created on first use") {
		t.Errorf("startup line does not say topics are auto-created:\n%s", logs())
	}
	conf := filepath.Join(dir, "kafka-pki/certs/client1/kcat.conf")
	bootstrap := fmt.Sprintf("localhost:%d", port)

	if out, err := kcat(t, "order-1\n", "-F", conf, "-b", bootstrap, "-P", "-t", "orders"); err != nil {
		t.Fatalf("kcat -P -t orders: %v\n%s\nbroker log:\n%s", err, out, logs())
	}
	out, err := kcat(t, "", "-F", conf, "-b", bootstrap, "-C", "-t", "orders", "-e")
	if err != nil || !strings.Contains(out, "order-1") {
		t.Fatalf("kcat -C -t orders -e: %v\n%s\nbroker log:\n%s", err, out, logs())
	}
	out, err = kcat(t, "", "-F", conf, "-b", bootstrap, "-L", "-t", "orders")
	if err != nil || !strings.Contains(out, `topic "orders" with 1 partitions`) {
		t.Fatalf("kcat -L -t orders: want one partition (num.partitions=1): %v\n%s", err, out)
	}
}

// TestBrokerNoAutoCreateTopics: with --no-auto-create-topics a produce to
// a missing topic fails and creates nothing; the --topic topics still work.
func TestBrokerNoAutoCreateTopics(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1")
	port, logs := startBroker(t, dir, "kafka-1", "--no-auto-create-topics", "--topic", "seeded")
	if !strings.Contains(logs(), "no other topic is created") {
		t.Errorf("startup line does not say auto-creation is off:\n%s", logs())
	}
	conf := filepath.Join(dir, "kafka-pki/certs/client1/kcat.conf")
	bootstrap := fmt.Sprintf("localhost:%d", port)

	out, err := kcat(t, "lost\n", "-F", conf, "-b", bootstrap, "-X", "message.timeout.ms=3000", "-P", "-t", "orders")
	// librdkafka keeps the message queued while the topic is unknown, then
	// times it out.
	if err == nil || !strings.Contains(out, "Delivery failed") {
		t.Fatalf("kcat -P to a missing topic: err=%v, want a delivery failure\n%s", err, out)
	}
	out, err = kcat(t, "", "-F", conf, "-b", bootstrap, "-L")
	if err != nil || strings.Contains(out, `topic "orders"`) || !strings.Contains(out, `topic "seeded"`) {
		t.Fatalf("kcat -L after the refused produce: %v\n%s", err, out)
	}
	if out, err := kcat(t, "kept\n", "-F", conf, "-b", bootstrap, "-P", "-t", "seeded"); err != nil {
		t.Fatalf("kcat -P -t seeded: %v\n%s", err, out)
	}
}

// TestBrokerACLsAutoCreateNeedsCreate: with --acls, a producer grant (Write,
// Describe, Create, as kafka-acls --producer) lets kcat create its topic on
// first produce; a client with only a consumer grant on it (no Create) gets
// an authorization failure and the topic is not created.
func TestBrokerACLsAutoCreateNeedsCreate(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := t.TempDir()
	spec := `ca: {keyType: ecdsa}
brokers: [{name: kafka-1}]
clients:
  - name: writer
    grants: [{topic: "new.", prefixed: true, producer: true}]
  - name: reader
    grants: [{topic: "new.", prefixed: true, group: g1, consumer: true}]
`
	os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644)
	ok(t, dir, "bundle", "-f", "kafkatls.yaml")
	port, logs := startBroker(t, dir, "kafka-1", "--acls", "--spec", "kafkatls.yaml")
	bootstrap := fmt.Sprintf("localhost:%d", port)
	conf := func(n string) string { return filepath.Join(dir, "kafka-pki/certs", n, "kcat.conf") }

	out, err := kcat(t, "nope\n", "-F", conf("reader"), "-b", bootstrap, "-X", "message.timeout.ms=5000", "-P", "-t", "new.by-reader")
	if err == nil || !strings.Contains(strings.ToLower(out), "authorization failed") {
		t.Fatalf("reader (no Create) produce to a new topic: err=%v, want an authorization failure\n%s\n%s", err, out, logs())
	}
	if out, err := kcat(t, "made\n", "-F", conf("writer"), "-b", bootstrap, "-P", "-t", "new.orders"); err != nil {
		t.Fatalf("writer (Create by prefix) produce to a new topic: %v\n%s\n%s", err, out, logs())
	}
	out, err = kcat(t, "", "-F", conf("reader"), "-b", bootstrap, "-L")
	if err != nil || !strings.Contains(out, `topic "new.orders"`) || strings.Contains(out, "new.by-reader") {
		t.Fatalf("reader's topic list: %v\n%s", err, out)
	}
}

// nonLoopbackIPv4 returns an IPv4 address of this machine other than
// loopback, or nil.
func nonLoopbackIPv4(t *testing.T) net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP
		}
	}
	return nil
}

// TestBrokerListenAllInterfaces: `broker --listen 0.0.0.0:0` prints the
// address it bound (0.0.0.0 and the real port; it used to print [::1]:P),
// warns that other machines can reach it, and
// clients connect both through the advertised loopback address and through
// another interface. --json carries the same addresses.
func TestBrokerListenAllInterfaces(t *testing.T) {
	realpeer.Need(t, "kcat")
	dir := newPKI(t)
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", "client1")
	line, logs := startBrokerOn(t, dir, "0.0.0.0:0", "kafka-1", "--json")
	m := regexp.MustCompile(`listening on 0\.0\.0\.0:(\d+), advertised as 127\.0\.0\.1:(\d+) \(`).FindStringSubmatch(line)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Fatalf("startup line does not name the bound 0.0.0.0:PORT and the advertised address:\n%s", line)
	}
	port := m[1]
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs(), `"event":"listening"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`(?m)^warning: 0\.0\.0\.0:` + port + ` is reachable from other machines`).MatchString(logs()) {
		t.Errorf("no warning that the broker is reachable from other machines:\n%s", logs())
	}
	var started struct {
		Listen     []string `json:"listen"`
		Advertised string   `json:"advertised"`
	}
	for _, l := range strings.Split(logs(), "\n") {
		if strings.HasPrefix(l, `{"event":"listening"`) {
			if err := json.Unmarshal([]byte(l), &started); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(started.Listen) != 1 || started.Listen[0] != "0.0.0.0:"+port || started.Advertised != "127.0.0.1:"+port {
		t.Fatalf("--json listening line %+v, want listen [0.0.0.0:%s] advertised 127.0.0.1:%s\n%s", started, port, port, logs())
	}

	conf := filepath.Join(dir, "kafka-pki/certs/client1/kcat.conf")
	if out, err := kcat(t, "", "-F", conf, "-b", "127.0.0.1:"+port, "-L"); err != nil || !strings.Contains(out, "kafkatls-probe") {
		t.Fatalf("kcat -L through the advertised address: %v\n%s\n%s", err, out, logs())
	}
	ip := nonLoopbackIPv4(t)
	if ip == nil {
		t.Log("no non-loopback IPv4 address on this machine: only the loopback connection was tested")
		return
	}
	cd := filepath.Join(dir, "kafka-pki/certs/client1")
	cert, err := tls.LoadX509KeyPair(filepath.Join(cd, "chain.pem"), filepath.Join(cd, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if pemBytes, err := os.ReadFile(filepath.Join(cd, "ca.crt")); err != nil || !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("ca.crt: %v", err)
	}
	addr := net.JoinHostPort(ip.String(), port)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("mutual TLS through %s (another interface): %v\n%s", addr, err, logs())
	}
	conn.Close()
	want := `"event":"accept","time":`
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(logs(), `"remote":"`+ip.String()+`:`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(want + `[^\n]*"remote":"` + regexp.QuoteMeta(ip.String()) + `:`).MatchString(logs()) {
		t.Errorf("the broker did not log the connection from %s as accepted:\n%s", ip, logs())
	}
}

// TestBrokerListenLoopbackNoWarning: the default-style loopback listener
// prints its real port for port 0 and no warning.
func TestBrokerListenLoopbackNoWarning(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "issue", "kafka-1", "--role", "broker")
	line, logs := startBrokerOn(t, dir, "127.0.0.1:0", "kafka-1")
	m := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+) \(`).FindStringSubmatch(line)
	if m == nil || m[1] == "0" {
		t.Fatalf("startup line does not name the real port:\n%s", line)
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+m[1], 5*time.Second)
	if err != nil {
		t.Fatalf("dial the printed address: %v", err)
	}
	c.Close()
	if strings.Contains(logs(), "warning") {
		t.Errorf("loopback listener warned:\n%s", logs())
	}
}
