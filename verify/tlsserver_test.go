package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
)

// TestBundleTLSServer: a server identity is checked with a plain TLS
// handshake per store format (its hostname verified, another hostname
// refused), never connected to the test broker as a Kafka client; a
// server whose keystore no longer holds a key for its hostname fails.
func TestBundleTLSServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	spec := &bundle.Spec{
		CA:      bundle.CASpec{KeyType: "ecdsa", Org: "Acme"},
		Brokers: []bundle.Node{{Name: "kafka-1"}},
		Clients: []bundle.Client{{Name: "client1"}},
		Servers: []bundle.Server{{Name: "idp", DNS: []string{"idp.example.com"}}},
	}
	if _, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	rep, err := Bundle(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ identity, store, result string }
	got := map[key]bool{}
	for _, c := range rep.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
		if c.Server == "kafka-1" && c.Identity == "idp" {
			t.Errorf("the server identity was connected to the Kafka test broker: %+v", c)
		}
		if c.Server == "idp" {
			got[key{c.Identity, c.Store, c.Result}] = true
		}
	}
	for _, f := range []string{"JKS", "PKCS12", "PEM"} {
		for _, k := range []key{{"idp", f, "accepted"}, {"probe: another hostname", f, "refused"}} {
			if !got[k] {
				t.Errorf("no check %+v among %v", k, got)
			}
		}
	}
	if !rep.Passed {
		t.Fatal("verify failed")
	}

	// The PEM files replaced by the broker's, whole (key and certificate
	// agree, and serve the broker's own hostname): the stores disagree.
	for _, f := range []string{identity.KeyPEM, identity.CertPEM, identity.ChainPEM, identity.KeystorePEM} {
		b, err := os.ReadFile(filepath.Join(identity.Dir(dir, "kafka-1"), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(identity.Dir(dir, "idp"), f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = Bundle(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	caught := false
	for _, c := range rep.Checks {
		caught = caught || (c.Server == "idp" && c.Store == "PEM" && c.Result == "inconsistent" && !c.OK)
	}
	if rep.Passed || !caught {
		t.Fatalf("verify passed = %v, PEM inconsistency caught = %v, with the broker's PEM files in the server's directory", rep.Passed, caught)
	}
}

// TestRemoteRefusesServerIdentity: verify --client with a server identity
// says it is a server by design, before dialling anything.
func TestRemoteRefusesServerIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	spec := &bundle.Spec{
		CA:      bundle.CASpec{KeyType: "ecdsa", Org: "Acme"},
		Servers: []bundle.Server{{Name: "idp", DNS: []string{"idp.example.com"}}},
	}
	if _, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	rep := remote(t, RemoteOptions{Bootstrap: "127.0.0.1:1", ClientDir: identity.Dir(dir, "idp")})
	f := failing(rep)
	if rep.Passed || f == nil || f.Step != "client certificate" || !strings.Contains(f.Message, "idp is a server identity") || !strings.Contains(f.Fix, "client identity") {
		t.Fatalf("passed=%v failing=%+v", rep.Passed, f)
	}
	for _, x := range rep.Findings {
		if x.Step == "connect" {
			t.Errorf("it dialled the broker: %+v", x)
		}
	}
}

// TestBundleConnectWorker: a Connect worker is a Kafka client of the test
// broker (accepted with every store) and its REST listener is checked as a
// TLS server that requires client certificates: its own certificate is
// accepted (workers forward requests to each other with it), no
// certificate or a foreign CA's is refused, another hostname refused.
func TestBundleConnectWorker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	spec := &bundle.Spec{
		CA:      bundle.CASpec{KeyType: "ecdsa", Org: "Acme"},
		Brokers: []bundle.Node{{Name: "kafka-1"}},
		Connect: []bundle.Connect{{Name: "connect-1"}},
	}
	if _, err := bundle.Run(context.Background(), spec, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	rep, err := Bundle(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ server, identity, store, result string }
	got := map[key]bool{}
	for _, c := range rep.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
		got[key{c.Server, c.Identity, c.Store, c.Result}] = true
	}
	for _, f := range []string{"JKS", "PKCS12", "PEM"} {
		for _, k := range []key{
			{"kafka-1", "connect-1", f, "accepted"},
			{"connect-1", "connect-1", f, "accepted"},
			{"connect-1", "probe: another hostname", f, "refused"},
			{"connect-1", "probe: no client certificate", f, "refused"},
			{"connect-1", "probe: certificate from a foreign CA", f, "refused"},
		} {
			if !got[k] {
				t.Errorf("no check %+v", k)
			}
		}
	}
	// The foreign certificate reached the server, which judged it: not
	// the same refusal as sending none.
	for _, c := range rep.Checks {
		if c.Identity == "probe: certificate from a foreign CA" && !strings.Contains(c.Diagnosis, "unknown authority") {
			t.Errorf("foreign CA probe refused for another reason: %s", c.Diagnosis)
		}
	}
	if !rep.Passed {
		t.Fatal("verify failed")
	}
}
