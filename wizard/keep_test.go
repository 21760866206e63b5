package wizard

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/verify"
)

// TestWizardKeepsUnaskedSpec: re-running the wizard on a directory whose
// kafkatls.yaml holds settings the wizard does not ask (the SASL listener,
// a broker's advertised address, a client's grants, validity days, a
// MirrorMaker identity) keeps them in the spec it saves.
func TestWizardKeepsUnaskedSpec(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	rich := &bundle.Spec{
		Defaults:     bundle.Defaults{Days: 400},
		SASL:         bundle.SASLSpec{Mechanisms: []string{"scram-sha-512"}, Port: 9195},
		Brokers:      []bundle.Node{{Name: "kafka-1", Advertise: "kafka-1.example.com:9193"}},
		Clients:      []bundle.Client{{Name: "client1", Grants: []kafkaacl.Grant{{Topic: "orders", Producer: true}}}},
		MirrorMakers: []bundle.MirrorMaker{{Name: "mm", ClusterAlias: "east"}},
	}
	if _, err := bundle.Run(context.Background(), rich, bundle.Options{Dir: dir, SaveSpec: bundle.SpecReplace}); err != nil {
		t.Fatal(err)
	}
	d := start(t, Options{Dir: dir})
	d.enter()
	d.waitStep(stepExistingCA, 0)
	d.enter() // reuse
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters)
	d.waitStep(stepServices, 0)
	d.enters(2)
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	d.waitStep(stepSummary, 0)
	d.enter()
	d.waitUntil("the done screen", 60*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil {
		t.Fatalf("outcome %+v", out)
	}
	got, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Defaults.Days != 400 {
		t.Errorf("defaults.days %d, want 400", got.Defaults.Days)
	}
	if !reflect.DeepEqual(got.SASL, rich.SASL) {
		t.Errorf("sasl %+v, want %+v", got.SASL, rich.SASL)
	}
	if len(got.Brokers) != 1 || got.Brokers[0].Advertise != "kafka-1.example.com:9193" {
		t.Errorf("brokers %+v: advertise lost", got.Brokers)
	}
	if len(got.Clients) != 1 || !reflect.DeepEqual(got.Clients[0].Grants, rich.Clients[0].Grants) {
		t.Errorf("clients %+v: grants lost", got.Clients)
	}
	if !reflect.DeepEqual(got.MirrorMakers, rich.MirrorMakers) {
		t.Errorf("mirrormakers %+v", got.MirrorMakers)
	}
	if _, err := os.Stat(filepath.Join(dir, "acls.sh")); err != nil {
		t.Error(err)
	}
}

// TestKeepUnasked: what the answers say wins; what they do not ask is
// carried from the saved spec, for the identities they still list.
func TestKeepUnasked(t *testing.T) {
	orders := kafkaacl.Grant{Topic: "orders", Producer: true}
	audit := kafkaacl.Grant{Topic: "audit", Consumer: true, Group: "g"}
	conn := kafkaacl.Connector{Name: "sink"}
	tests := []struct {
		name         string
		built, saved bundle.Spec
		check        func(t *testing.T, s *bundle.Spec)
	}{
		{"connect connectors and grants kept",
			bundle.Spec{Connect: []bundle.Connect{{Name: "connect-1"}}},
			bundle.Spec{Connect: []bundle.Connect{{Name: "connect-1", Port: 8444, Connectors: []kafkaacl.Connector{conn}, Grants: []kafkaacl.Grant{orders}}}},
			func(t *testing.T, s *bundle.Spec) {
				w := s.Connect[0]
				if w.Port != 8444 || len(w.Connectors) != 1 || len(w.Grants) != 1 {
					t.Errorf("worker %+v", w)
				}
			}},
		{"the answered grant first, saved ones after, once",
			bundle.Spec{Clients: []bundle.Client{{Name: "c", Grants: []kafkaacl.Grant{orders}}}},
			bundle.Spec{Clients: []bundle.Client{{Name: "c", Grants: []kafkaacl.Grant{audit, orders}}}},
			func(t *testing.T, s *bundle.Spec) {
				if g := s.Clients[0].Grants; !reflect.DeepEqual(g, []kafkaacl.Grant{orders, audit}) {
					t.Errorf("grants %+v", g)
				}
			}},
		{"scram password kept while the client stays SCRAM",
			bundle.Spec{Clients: []bundle.Client{{Name: "a", Auth: "scram-sha-512"}, {Name: "b"}}},
			bundle.Spec{Clients: []bundle.Client{{Name: "a", Auth: "scram-sha-512", ScramPassword: bundle.Password{File: "/a.pw"}},
				{Name: "b", Auth: "scram-sha-512", ScramPassword: bundle.Password{File: "/b.pw"}}}},
			func(t *testing.T, s *bundle.Spec) {
				if s.Clients[0].ScramPassword.File != "/a.pw" || s.Clients[1].ScramPassword != (bundle.Password{}) {
					t.Errorf("clients %+v", s.Clients)
				}
			}},
		{"env passwords answered win over a saved file",
			bundle.Spec{Brokers: []bundle.Node{{Name: "kafka-1", Password: bundle.Password{Env: "P"}}}},
			bundle.Spec{Brokers: []bundle.Node{{Name: "kafka-1", Password: bundle.Password{File: "/k.pw"}}}},
			func(t *testing.T, s *bundle.Spec) {
				if s.Brokers[0].Password != (bundle.Password{Env: "P"}) {
					t.Errorf("password %+v", s.Brokers[0].Password)
				}
			}},
		{"mechanisms of both, in order",
			bundle.Spec{SASL: bundle.SASLSpec{Mechanisms: []string{"scram-sha-512"}}},
			bundle.Spec{SASL: bundle.SASLSpec{Mechanisms: []string{"OAUTHBEARER"}, Port: 9200}},
			func(t *testing.T, s *bundle.Spec) {
				if !reflect.DeepEqual(s.SASL, bundle.SASLSpec{Mechanisms: []string{"scram-sha-512", "oauthbearer"}, Port: 9200}) {
					t.Errorf("sasl %+v", s.SASL)
				}
			}},
		{"identities no longer listed are dropped",
			bundle.Spec{Clients: []bundle.Client{{Name: "c"}}},
			bundle.Spec{Clients: []bundle.Client{{Name: "c"}, {Name: "gone"}}},
			func(t *testing.T, s *bundle.Spec) {
				if len(s.Clients) != 1 {
					t.Errorf("clients %+v", s.Clients)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := tt.saved
			tt.check(t, KeepUnasked(&tt.built, &saved))
		})
	}
}

// TestWizardScramAndMTLSClients: one client logs in with SCRAM-SHA-512,
// the other with its certificate; the summary says so, the brokers get a
// SASL_SSL listener, and verify (which logs SASL identities in on the test
// broker's SASL_SSL listener) passes with client1's SCRAM login among its
// checks.
func TestWizardScramAndMTLSClients(t *testing.T) {
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
	d.enter() // client1
	d.typ("orders")
	d.enter()
	d.waitText("Access to topic orders")
	d.enter() // produce and consume
	d.typ("orders-app")
	d.enter()
	d.waitText("Principal User:CN=client1")
	d.down() // SCRAM-SHA-512
	d.waitText("Principal User:client1")
	d.enter()
	d.down() // add another
	d.enter()
	d.waitStep(stepClient, 1)
	d.enters(clientDefaultEnters) // client2, mutual TLS
	d.waitStep(stepServices, 0)
	d.enters(2)
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	s := d.waitStep(stepSummary, 0)
	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{"SASL_SSL brokers add a listener on port 9095: SCRAM-SHA-512",
		"+ client1 client User:client1 auth SCRAM-SHA-512", "+ client2 client User:CN=client2 auth mutual TLS", "scram.sh"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	summaryPage := s.page
	d.enter()
	s = d.waitUntil("the done screen", 120*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	out := d.finish()
	if out.Err != nil || !out.VerifyRan || !out.VerifyOK || out.VerifyErr != nil {
		t.Fatalf("outcome %+v\n%s", out, s.page)
	}
	done := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{"SCRAM clients (client1): create their credentials with sh " + filepath.Join(dir, "scram.sh") + " alter",
		"kcat -F " + filepath.Join(dir, "certs/client2/kcat.conf") + " -L"} {
		if !strings.Contains(done, want) {
			t.Errorf("done screen lacks %q:\n%s", want, s.page)
		}
	}
	spec, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec.SASL.Mechanisms, []string{"scram-sha-512"}) || spec.Clients[0].Auth != "scram-sha-512" || spec.Clients[1].Auth != "" {
		t.Errorf("spec sasl %+v, clients %+v", spec.SASL, spec.Clients)
	}
	if got := readTrim(t, filepath.Join(dir, "certs/client1/principal.txt")); got != "User:client1" {
		t.Errorf("client1 principal %q", got)
	}
	rep, err := verify.Bundle(context.Background(), verify.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	scram := false
	for _, c := range rep.Checks {
		if c.Identity == "client1" && c.Store == "SASL SCRAM-SHA-512" && c.OK && c.Principal == "User:client1" {
			scram = true
		}
	}
	if !rep.Passed || !scram {
		t.Errorf("verify passed %v, client1's SCRAM login checked %v: %+v", rep.Passed, scram, rep.Checks)
	}
	checkDirMatchesSummary(t, dir, summaryPage)
}

// TestWizardOAuthBearerCreatesIssuer: an OAUTHBEARER client in a
// directory without a token issuer: the client screen and the summary say
// the run creates one, the run does (oauth/ as the summary listed), the
// client's token verifies, and verify passes.
func TestWizardOAuthBearerCreatesIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	d := start(t, Options{Dir: dir, Verify: realVerify})
	d.toCA()
	d.enters(4)
	d.waitText("Locality")
	d.enters(3)
	d.waitText("CA key passphrase")
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(2) // client1, no topic
	d.down()
	d.down()
	d.down() // OAUTHBEARER
	d.waitText("No token issuer yet: generating makes one")
	d.enters(2) // OAUTHBEARER, no more
	d.waitStep(stepServices, 0)
	d.enters(2)
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	s := d.waitStep(stepSummary, 0)
	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{"a token issuer is created in " + filepath.Join(dir, "oauth"), "auth OAUTHBEARER", "oauth/jwks.json",
		"after kafkatls oauth init --dir " + dir} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the summary wrote the directory")
	}
	summaryPage := s.page
	d.enter()
	s = d.waitUntil("the done screen", 120*time.Second, func(s snapshot) bool { return s.top.kind == stepDone })
	d.send(keyPress("enter"))
	if out := d.finish(); out.Err != nil || !out.VerifyOK {
		t.Fatalf("outcome %+v\n%s", out, s.page)
	}
	if done := strings.Join(strings.Fields(s.page), " "); !strings.Contains(done, "kafkatls token NAME --dir "+dir) {
		t.Errorf("done screen does not say how to mint the next token:\n%s", s.page)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs/client1/token.jwt")); err != nil {
		t.Error(err)
	}
	if got := readTrim(t, filepath.Join(dir, "certs/client1/principal.txt")); got != "User:client1" {
		t.Errorf("client1 principal %q", got)
	}
	checkDirMatchesSummary(t, dir, summaryPage)
}

// TestWizardUnreadableSavedSpec: a saved kafkatls.yaml that does not parse
// stops the summary (the run would replace it, dropping what it holds)
// and is left as it was.
func TestWizardUnreadableSavedSpec(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := bundle.Run(context.Background(), &bundle.Spec{Brokers: []bundle.Node{{Name: "kafka-1"}}}, bundle.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	bad := []byte("brokers:\n  - name: kafka-1\n    portt: 9093\n")
	if err := os.WriteFile(filepath.Join(dir, bundle.SpecFile), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, Options{Dir: dir})
	d.enter()
	d.waitStep(stepExistingCA, 0)
	d.enter()
	d.waitStep(stepMode, 0)
	d.enters(2)
	d.waitStep(stepBroker, 0)
	d.enters(4)
	d.waitStep(stepClient, 0)
	d.enters(clientDefaultEnters)
	d.waitStep(stepServices, 0)
	d.enters(2)
	d.waitStep(stepRuntimes, 0)
	d.enters(2)
	d.waitStep(stepPasswords, 0)
	d.enter()
	d.waitStep(stepMount, 0)
	d.enter()
	s := d.waitStep(stepSummary, 0)
	flat := strings.Join(strings.Fields(s.page), " ")
	for _, want := range []string{"This bundle cannot be generated", "field portt not found", "fix or move it"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.page)
		}
	}
	d.send(keyPress("enter")) // refused: nothing is generated
	d.stays(stepSummary, 0)
	d.ctrlC()
	if out := d.finish(); !out.Canceled {
		t.Errorf("outcome %+v", out)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, bundle.SpecFile)); string(got) != string(bad) {
		t.Errorf("the saved spec changed:\n%s", got)
	}
}
