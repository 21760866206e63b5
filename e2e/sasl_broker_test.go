package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// TestSASLTestBrokerAndVerify: `kafkatls verify` logs the bundle's SCRAM
// and OAUTHBEARER identities in on the test broker's SASL_SSL listener and
// sees the bad credentials refused; `kafkatls broker --sasl` serves that
// listener with ACLs by SASL principal, and `verify --bootstrap` diagnoses
// SASL identities against it.
func TestSASLTestBrokerAndVerify(t *testing.T) {
	dir := newPKI(t)
	ok(t, dir, "oauth", "init")
	spec := `ca: {keyType: ecdsa}
sasl: {mechanisms: [scram-sha-512, oauthbearer]}
brokers: [{name: kafka-1}]
clients:
  - name: alice
    auth: scram-sha-512
    grants: [{topic: orders, producer: true}]
  - name: bob
    auth: oauthbearer
  - name: carol
`
	if err := os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, dir, "bundle", "-f", "kafkatls.yaml")

	out := ok(t, dir, "verify")
	for _, want := range []string{"SASL SCRAM-SHA-512", "SASL OAUTHBEARER", "User:alice", "User:bob",
		`wrong password for user "alice"`, "the token expired at", "which is not in the JWKS", "does not include the \"kafka\"", "checks passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}

	if r := kt(t, dir, "broker", "kafka-1", "--sasl-listen", "127.0.0.1:0"); r.code != 2 || !strings.Contains(r.stderr, "--sasl-listen goes with --sasl") {
		t.Errorf("--sasl-listen without --sasl: exit %d\n%s", r.code, r.stderr)
	}
	if r := kt(t, dir, "broker", "kafka-1", "--sasl", "gssapi"); r.code != 2 || !strings.Contains(r.stderr, "--sasl") {
		t.Errorf("--sasl gssapi: exit %d\n%s", r.code, r.stderr)
	}

	saslPort := freePort(t)
	started, logs := startBrokerOn(t, dir, fmt.Sprintf("127.0.0.1:%d", freePort(t)), "kafka-1", "--sasl", "scram-sha-512,oauthbearer",
		"--sasl-listen", fmt.Sprintf("127.0.0.1:%d", saslPort), "--acls", "--spec", "kafkatls.yaml", "--topic", "orders")
	if !strings.Contains(started, fmt.Sprintf("SASL_SSL (SCRAM-SHA-512, OAUTHBEARER, 1 SCRAM users) on 127.0.0.1:%d", saslPort)) {
		t.Fatalf("startup line: %s", started)
	}
	bootstrap := fmt.Sprintf("localhost:%d", saslPort)
	out = ok(t, dir, "verify", "--bootstrap", bootstrap, "--client", "alice", "--topic", "orders")
	if !strings.Contains(out, "over SASL_SSL with SCRAM-SHA-512") || !strings.Contains(out, "authenticated as User:alice") {
		t.Errorf("verify --bootstrap alice:\n%s", out)
	}
	// bob authenticates with his token but has no grant on orders.
	r := kt(t, dir, "verify", "--bootstrap", bootstrap, "--client", "bob", "--topic", "orders")
	if r.code != 1 || !strings.Contains(r.stdout, "authenticated as User:bob") || !strings.Contains(r.stdout, `User:bob is authenticated but not authorized to describe topic "orders"`) {
		t.Errorf("verify --bootstrap bob: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"SASL_SSL/SCRAM-SHA-512", "principal=User:alice", "SASL_SSL/OAUTHBEARER", "principal=User:bob"} {
		if !strings.Contains(logs(), want) {
			t.Errorf("broker log lacks %q:\n%s", want, logs())
		}
	}

	t.Run("kcat over SCRAM fails as against Kafka 4", func(t *testing.T) {
		// Debian 12's kcat (librdkafka 2.0.2) repeats the client nonce in its
		// SCRAM client-final message; Kafka 4.x refuses it (librdkafka PR
		// 4895), and so does the test broker, saying why.
		realpeer.Need(t, "kcat")
		conf := filepath.Join(dir, "kafka-pki/certs/alice/kcat.conf")
		kout, err := kcat(t, "", "-F", conf, "-b", bootstrap, "-L", "-m", "5")
		if err == nil {
			t.Skipf("this kcat's SCRAM works (a librdkafka of 2.6.1 or later?):\n%s", kout)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs(), "librdkafka before 2.6.1") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(logs(), "REFUSE") || !strings.Contains(logs(), "librdkafka before 2.6.1") {
			t.Fatalf("kcat: %v\n%s\nbroker log:\n%s", err, kout, logs())
		}
	})
}
