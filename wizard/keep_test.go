package wizard

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/kafkaacl"
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
