package wizard

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	stdpem "encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
)

func nodes(names ...string) []*NodeAnswer {
	var out []*NodeAnswer
	for _, n := range names {
		out = append(out, &NodeAnswer{Name: n})
	}
	return out
}

func TestBuildSpec(t *testing.T) {
	base := func(edit func(a *Answers)) Answers {
		a := DefaultAnswers("pki")
		edit(a)
		return *a
	}
	tests := []struct {
		name    string
		answers Answers
		want    bundle.Spec
	}{
		{
			name: "defaults: one KRaft broker, one client without grants, Java",
			answers: base(func(a *Answers) {
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "SASL clients: sasl.mechanisms are what they use, each once, mutual TLS none",
			answers: base(func(a *Answers) {
				a.Clients = []*ClientAnswer{
					{Name: "alice", Auth: "scram-sha-512"},
					{Name: "bob", Auth: "oauthbearer"},
					{Name: "carol", Auth: "mtls"},
					{Name: "dave", Auth: "SCRAM-SHA-512"}, // the Kafka mechanism name parses too
					{Name: "erin"},                        // empty: mutual TLS
				}
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients: []bundle.Client{{Name: "alice", Auth: "scram-sha-512"}, {Name: "bob", Auth: "oauthbearer"}, {Name: "carol"},
					{Name: "dave", Auth: "scram-sha-512"}, {Name: "erin"}},
				SASL: bundle.SASLSpec{Mechanisms: []string{"scram-sha-512", "oauthbearer"}},
			},
		},
		{
			name: "only mutual TLS clients: no SASL listener",
			answers: base(func(a *Answers) {
				a.Clients = []*ClientAnswer{{Name: "carol", Auth: "mtls"}}
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "carol"}},
			},
		},
		{
			name: "two brokers with hosts and IPs, subject, grants, PEM runtimes, mount path",
			answers: base(func(a *Answers) {
				a.CAOrg, a.CAOU, a.CACountry, a.CALocality, a.CAState, a.KeyType = " Acme ", "Kafka", "gb", "London", "England", "ecdsa"
				a.Brokers = []*NodeAnswer{
					{Name: "kafka-1", Hosts: "kafka-1.example.com, kafka.example.com", IPs: "10.0.0.5 2001:db8::1"},
					{Name: "kafka-2", Hosts: "kafka-2.example.com"},
				}
				a.Clients = []*ClientAnswer{
					{Name: "orders-app", Topic: "orders", Access: AccessBoth, Group: "orders-app"},
					{Name: "audit", Topic: "audit.*", Access: AccessConsume, Group: "audit-*"},
					{Name: "loader", Topic: "ingest", Access: AccessProduce, Group: "ignored"},
				}
				a.Runtimes = []string{RuntimeGo, RuntimeKafkaJS}
				a.MountPath = " /etc/kafka/secrets "
			}),
			want: bundle.Spec{
				CA:       bundle.CASpec{CN: "kafkatls CA", Org: "Acme", OU: "Kafka", Locality: "London", State: "England", Country: "GB", KeyType: "ecdsa"},
				Mode:     bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"p12", "pem"}, P12Compat: "modern", MountPath: "/etc/kafka/secrets"},
				Brokers: []bundle.Node{
					{Name: "kafka-1", Hosts: []string{"kafka-1.example.com", "kafka.example.com"}, IPs: []string{"10.0.0.5", "2001:db8::1"}},
					{Name: "kafka-2", Hosts: []string{"kafka-2.example.com"}},
				},
				Clients: []bundle.Client{
					{Name: "orders-app", Grants: []kafkaacl.Grant{{Topic: "orders", Group: "orders-app", Producer: true, Consumer: true}}},
					{Name: "audit", Grants: []kafkaacl.Grant{{Topic: "audit.", Group: "audit-", Consumer: true, Prefixed: true}}},
					{Name: "loader", Grants: []kafkaacl.Grant{{Topic: "ingest", Producer: true}}},
				},
			},
		},
		{
			name: "ZooKeeper mode with legacy Java, env passwords, reused CA",
			answers: base(func(a *Answers) {
				a.ReuseCA = true
				a.Mode = bundle.ModeZooKeeper
				a.DedicatedControllers = true // ignored outside KRaft
				a.Controllers = nodes("controller-1")
				a.ZooKeepers = []*NodeAnswer{{Name: "zk-1", Hosts: "zk-1.internal"}}
				a.P12Compat = "legacy"
				a.PasswordMode, a.EnvPrefix = PasswordEnv, "PW_"
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				Mode:       bundle.ModeZooKeeper,
				Defaults:   bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "legacy"},
				Brokers:    []bundle.Node{{Name: "kafka-1", Password: bundle.Password{Env: "PW_KAFKA_1"}}},
				ZooKeepers: []bundle.Node{{Name: "zk-1", Hosts: []string{"zk-1.internal"}, Password: bundle.Password{Env: "PW_ZK_1"}}},
				Clients:    []bundle.Client{{Name: "client1", Password: bundle.Password{Env: "PW_CLIENT1"}}},
			},
		},
		{
			name: "KRaft with dedicated controllers",
			answers: base(func(a *Answers) {
				a.DedicatedControllers = true
				a.Controllers = nodes("controller-1", "controller-2")
				a.ZooKeepers = nodes("zk-1") // ignored in KRaft mode
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults:    bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:     []bundle.Node{{Name: "kafka-1"}},
				Controllers: []bundle.Node{{Name: "controller-1"}, {Name: "controller-2"}},
				Clients:     []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "Vault/OpenBao signs: ca names the engine, its subject defaults and key type; no CA name, no token",
			answers: base(func(a *Answers) {
				a.Signer, a.EngineAddress, a.EngineMount, a.EngineRole = SignerVault, " https://bao.example.com:8200 ", "pki-kafka", "brokers"
				a.CAOrg, a.CAOU, a.KeyType = "Acme", "kafka", "ecdsa"
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{Engine: "vault", Address: "https://bao.example.com:8200", Mount: "pki-kafka", Role: "brokers",
					Org: "Acme", OU: "kafka", KeyType: "ecdsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "Vault/OpenBao with an empty address (VAULT_ADDR at each run)",
			answers: base(func(a *Answers) {
				a.Signer = SignerVault
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{Engine: "vault", Mount: "pki", Role: "kafka", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "step-ca signs: ca names its URL (trailing / dropped), root file and provisioner; no CA name, no password",
			answers: base(func(a *Answers) {
				a.Signer, a.StepURL, a.StepRoot, a.StepProvisioner = SignerStep, " https://ca.example.com:9000/ ", "/etc/step/root_ca.crt", " kafka-jwk "
				a.EngineAddress = "https://bao.example.com" // a Vault answer left from going back: not written
				a.CAOrg, a.CAOU, a.KeyType = "Acme", "kafka", "ecdsa"
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{Engine: "step-ca", URL: "https://ca.example.com:9000", Root: "/etc/step/root_ca.crt", Provisioner: "kafka-jwk",
					Org: "Acme", OU: "kafka", KeyType: "ecdsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "step-ca with an empty URL (STEP_CA_URL at each run) and the default provisioner",
			answers: base(func(a *Answers) {
				a.Signer, a.StepRoot = SignerStep, "/etc/step/root_ca.crt"
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{Engine: "step-ca", Root: "/etc/step/root_ca.crt", Provisioner: "kafka", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "Connect workers with Connect's sample names and a TLS server; PEM-only runtimes still get p12 for the REST listener; env passwords",
			answers: base(func(a *Answers) {
				a.Clients[0].Topic = ""
				a.Runtimes = []string{RuntimeLibrdkafka}
				a.PasswordMode, a.EnvPrefix = PasswordEnv, "PW_"
				a.WantConnect = true
				a.Connect = []*NodeAnswer{{Name: "connect-1", Hosts: "connect-1.example.com", IPs: "10.0.1.1"}, {Name: "connect-2"}}
				a.WantServers = true
				a.Servers = []*NodeAnswer{{Name: "keycloak", Hosts: "sso.example.com, sso", IPs: "10.0.2.2"}}
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"p12", "pem"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1", Password: bundle.Password{Env: "PW_KAFKA_1"}}},
				Clients:  []bundle.Client{{Name: "client1", Password: bundle.Password{Env: "PW_CLIENT1"}}},
				Servers: []bundle.Server{{Name: "keycloak", DNS: []string{"sso.example.com", "sso"}, IPs: []string{"10.0.2.2"},
					Password: bundle.Password{Env: "PW_KEYCLOAK"}}},
				Connect: []bundle.Connect{
					{Name: "connect-1", Hosts: []string{"connect-1.example.com"}, IPs: []string{"10.0.1.1"}, Password: bundle.Password{Env: "PW_CONNECT_1"}},
					{Name: "connect-2", Password: bundle.Password{Env: "PW_CONNECT_2"}},
				},
			},
		},
		{
			name: "Connect cluster with its own group and topics",
			answers: base(func(a *Answers) {
				a.Clients[0].Topic = ""
				a.WantConnect = true
				a.Connect = []*NodeAnswer{{Name: "worker-a"}}
				a.ConnectGroup, a.ConnectConfigTopic, a.ConnectOffsetTopic, a.ConnectStatusTopic = " etl ", "etl-configs", "etl-offsets", "connect-status"
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
				Connect: []bundle.Connect{{Name: "worker-a",
					ConnectWorker: kafkaacl.ConnectWorker{Group: "etl", ConfigTopic: "etl-configs", OffsetTopic: "etl-offsets"}}},
			},
		},
		{
			name: "services answered then declined (going back): none written",
			answers: base(func(a *Answers) {
				a.Clients[0].Topic = ""
				a.Connect = []*NodeAnswer{{Name: "connect-1"}}
				a.Servers = []*NodeAnswer{{Name: "keycloak"}} // no SANs: would be refused if wanted
			}),
			want: bundle.Spec{
				CA: bundle.CASpec{CN: "kafkatls CA", KeyType: "rsa"}, Mode: bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
		{
			name: "a reused directory: no ca section whatever the signer answer",
			answers: base(func(a *Answers) {
				a.ReuseCA, a.Signer, a.EngineAddress = true, SignerVault, "https://bao.example.com"
				a.Clients[0].Topic = ""
			}),
			want: bundle.Spec{
				Mode:     bundle.ModeKRaft,
				Defaults: bundle.Defaults{Formats: []string{"jks", "p12"}, P12Compat: "modern"},
				Brokers:  []bundle.Node{{Name: "kafka-1"}},
				Clients:  []bundle.Client{{Name: "client1"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BuildSpec(tc.answers)
			if err != nil {
				t.Fatalf("BuildSpec: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("spec:\n got %s\nwant %s", got.Marshal(), tc.want.Marshal())
			}
			// The spec survives its own YAML round trip (what bundle -f reads).
			back, err := bundle.ParseSpec(got.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, got) {
				t.Errorf("YAML round trip changed the spec:\n%s", got.Marshal())
			}
		})
	}
}

func TestBuildSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *Answers)
		want string
	}{
		{"bad hostname", func(a *Answers) { a.Brokers[0].Hosts = "-kafka.example.com" }, `broker "kafka-1": invalid DNS name "-kafka.example.com"`},
		{"IP given as hostname", func(a *Answers) { a.Brokers[0].Hosts = "10.0.0.1" }, "10.0.0.1 is an IP address"},
		{"bad IP", func(a *Answers) { a.Brokers[0].IPs = "10.0.0.300" }, `invalid IP address "10.0.0.300"`},
		{"duplicate names", func(a *Answers) { a.Clients[0].Name = "KAFKA-1" }, "duplicate name"},
		{"bad entity name", func(a *Answers) { a.Clients[0].Name = "my client" }, `character ' ' not allowed`},
		{"no brokers", func(a *Answers) { a.Brokers = nil }, "at least one broker"},
		{"zookeeper mode without nodes", func(a *Answers) { a.Mode = bundle.ModeZooKeeper }, "at least one ZooKeeper node"},
		{"consume without group", func(a *Answers) { a.Clients[0].Access, a.Clients[0].Group = AccessConsume, "" }, "give its consumer group"},
		{"prefix mismatch", func(a *Answers) {
			a.Clients[0].Topic, a.Clients[0].Group = "orders.*", "app"
		}, "both end in *"},
		{"bad topic", func(a *Answers) { a.Clients[0].Topic = "or ders" }, "not allowed"},
		{"unknown authentication", func(a *Answers) { a.Clients[0].Auth = "kerberos" }, `client "client1": unknown authentication "kerberos"`},
		{"relative mount path", func(a *Answers) { a.MountPath = "etc/kafka" }, "must be an absolute path"},
		{"bad env prefix", func(a *Answers) { a.PasswordMode, a.EnvPrefix = PasswordEnv, "9X" }, "not starting with a digit"},
		{"bad compat", func(a *Answers) { a.P12Compat = "rc2" }, "not offered"},
		{"bad key type", func(a *Answers) { a.KeyType = "ed25519" }, `key type "ed25519"`},
		{"engine address not a URL", func(a *Answers) { a.Signer, a.EngineAddress = SignerVault, "bao.example.com:8200" }, "give an http(s) URL"},
		{"engine address with a user", func(a *Answers) { a.Signer, a.EngineAddress = SignerVault, "https://root:s3cret@bao:8200" }, `"https://root:xxxxx@bao:8200": no user, query or fragment`},
		{"engine without a mount", func(a *Answers) { a.Signer, a.EngineMount = SignerVault, " " }, "give the engine's mount"},
		{"engine role with a space", func(a *Answers) { a.Signer, a.EngineRole = SignerVault, "kafka role" }, `engine role "kafka role"`},
		{"engine mount with a leading slash", func(a *Answers) { a.Signer, a.EngineMount = SignerVault, "/pki" }, `engine mount "/pki"`},
		{"unknown signer", func(a *Answers) { a.Signer = "acme" }, `signer "acme": must be local, vault or step-ca`},
		{"TLS server without SANs", func(a *Answers) { a.WantServers, a.Servers = true, nodes("keycloak") }, `server "keycloak": no dns or ips`},
		{"TLS server with a bad DNS name", func(a *Answers) {
			a.WantServers, a.Servers = true, []*NodeAnswer{{Name: "idp", Hosts: "-sso.example.com"}}
		}, `server "idp": invalid DNS name`},
		{"TLS servers chosen, none listed", func(a *Answers) { a.WantServers = true }, "TLS servers chosen but none listed"},
		{"Connect workers chosen, none listed", func(a *Answers) { a.WantConnect = true }, "no Connect worker listed, though Connect workers were chosen"},
		{"Connect worker named as a broker", func(a *Answers) { a.WantConnect, a.Connect = true, nodes("kafka-1") }, "duplicate name"},
		{"Connect worker with a bad IP", func(a *Answers) {
			a.WantConnect, a.Connect = true, []*NodeAnswer{{Name: "connect-1", IPs: "10.0.0"}}
		}, `connect worker "connect-1": invalid IP address`},
		{"Connect topics not distinct", func(a *Answers) {
			a.WantConnect, a.Connect, a.ConnectStatusTopic = true, nodes("connect-1"), "connect-offsets"
		}, "three different topics"},
		{"step-ca URL over http", func(a *Answers) { a.Signer, a.StepURL, a.StepRoot = SignerStep, "http://ca:9000", "/r.crt" }, `step-ca URL "http://ca:9000": give https://HOST[:PORT]`},
		{"step-ca URL with a path", func(a *Answers) { a.Signer, a.StepURL, a.StepRoot = SignerStep, "https://ca:9000/acme", "/r.crt" }, "give https://HOST[:PORT]"},
		{"step-ca URL with a user", func(a *Answers) { a.Signer, a.StepURL, a.StepRoot = SignerStep, "https://u:pw@ca:9000", "/r.crt" }, `"https://u:xxxxx@ca:9000": no user, query or fragment`},
		{"step-ca without a root", func(a *Answers) { a.Signer, a.StepURL = SignerStep, "https://ca:9000" }, "give the file of step-ca's root certificate"},
		{"step-ca relative root", func(a *Answers) { a.Signer, a.StepURL, a.StepRoot = SignerStep, "https://ca:9000", "root_ca.crt" }, `step-ca root "root_ca.crt": give an absolute path`},
		{"step-ca without a provisioner", func(a *Answers) {
			a.Signer, a.StepURL, a.StepRoot, a.StepProvisioner = SignerStep, "https://ca:9000", "/r.crt", " "
		}, "give the step-ca provisioner's name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := DefaultAnswers("pki")
			a.Clients[0].Topic = "orders"
			a.Clients[0].Group = "app"
			tc.edit(a)
			_, err := BuildSpec(*a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("BuildSpec error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		runtimes []string
		want     []string
	}{
		{nil, []string{"p12"}},
		{[]string{RuntimeJava}, []string{"jks", "p12"}},
		{[]string{RuntimeSpring}, []string{"jks", "p12"}},
		{[]string{RuntimeLibrdkafka}, []string{"p12", "pem"}},
		{[]string{RuntimeKafkaJS, RuntimeGo}, []string{"p12", "pem"}},
		{[]string{RuntimeGo, RuntimeJava, RuntimeLibrdkafka, RuntimeKafkaJS, RuntimeSpring}, []string{"jks", "p12", "pem"}},
	}
	for _, tc := range tests {
		if got := Formats(tc.runtimes); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Formats(%v) = %v, want %v", tc.runtimes, got, tc.want)
		}
		if _, err := identity.ParseFormats(Formats(tc.runtimes)); err != nil {
			t.Errorf("Formats(%v) not accepted by entity: %v", tc.runtimes, err)
		}
	}
}

func TestEnvVar(t *testing.T) {
	for in, want := range map[string]string{"kafka-1": "P_KAFKA_1", "client.app_2": "P_CLIENT_APP_2", "Zk": "P_ZK"} {
		if got := EnvVar("P_", in); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMissingEnv(t *testing.T) {
	a := DefaultAnswers("pki")
	a.PasswordMode = PasswordEnv
	env := map[string]string{"KAFKATLS_PASSWORD_KAFKA_1": "secret-1", "KAFKATLS_PASSWORD_CLIENT1": "abc"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got := a.MissingEnv(lookup)
	if len(got) != 1 || !strings.Contains(got[0], "KAFKATLS_PASSWORD_CLIENT1") || !strings.Contains(got[0], "at least 6") {
		t.Errorf("MissingEnv = %q", got)
	}
	env["KAFKATLS_PASSWORD_CLIENT1"] = "secret-2"
	if got := a.MissingEnv(lookup); len(got) != 0 {
		t.Errorf("MissingEnv = %q, want none", got)
	}
	delete(env, "KAFKATLS_PASSWORD_KAFKA_1")
	if got := a.MissingEnv(lookup); len(got) != 1 || got[0] != "KAFKATLS_PASSWORD_KAFKA_1 is not set" {
		t.Errorf("MissingEnv = %q", got)
	}
	a.PasswordMode = PasswordGenerated
	if got := a.MissingEnv(lookup); got != nil {
		t.Errorf("generated passwords need no variables, got %q", got)
	}
}

func TestNodeSANs(t *testing.T) {
	sans, err := NodeSANs(NodeAnswer{Name: "kafka-1", Hosts: "Kafka-1.Example.com, kafka-1", IPs: "10.0.0.5,127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sans.String(), "DNS:kafka-1, DNS:localhost, DNS:kafka-1.example.com, IP:127.0.0.1, IP:10.0.0.5"; got != want {
		t.Errorf("SANs %q, want %q", got, want)
	}
	// The preview is exactly what bundle puts in the certificate.
	spec := &bundle.Spec{Brokers: []bundle.Node{{Name: "kafka-1", Hosts: SplitList("Kafka-1.Example.com, kafka-1"), IPs: SplitList("10.0.0.5,127.0.0.1")}}}
	if got := spec.Entities()[0].SANs.String(); got != sans.String() {
		t.Errorf("bundle SANs %q, preview %q", got, sans.String())
	}
	for _, bad := range []NodeAnswer{{Name: "k", Hosts: "a..b"}, {Name: "k", IPs: "1.2.3"}, {Name: "k", Hosts: "x!"}} {
		if _, err := NodeSANs(bad); err == nil {
			t.Errorf("NodeSANs(%+v) accepted", bad)
		}
	}
}

func TestDuplicateName(t *testing.T) {
	a := DefaultAnswers("pki")
	a.Brokers = nodes("kafka-1", "kafka-2")
	a.Controllers = nodes("c-1")
	if !a.DuplicateName("Kafka-2", a.Brokers[0]) {
		t.Error("kafka-2 is taken by the second broker")
	}
	if a.DuplicateName("kafka-1", a.Brokers[0]) {
		t.Error("a node does not collide with itself")
	}
	if a.DuplicateName("c-1", a.Clients[0]) {
		t.Error("controllers are not part of a cluster without dedicated controllers")
	}
	a.DedicatedControllers = true
	if !a.DuplicateName("c-1", a.Clients[0]) {
		t.Error("c-1 is a dedicated controller")
	}
}

func TestWrapLines(t *testing.T) {
	in := "short\n    kafka-acls.sh --bootstrap-server kafka-1:9093 --command-config /a/very/long/path/client.properties --add\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	got := wrapLines(in, 30)
	for _, l := range got {
		if len(l) > 30 {
			t.Errorf("line %q is wider than 30", l)
		}
	}
	if got[0] != "short" || got[1] != "    kafka-acls.sh" || !strings.HasPrefix(got[2], "      --bootstrap-server") {
		t.Errorf("wrap:\n%s", strings.Join(got, "\n"))
	}
	if joined := strings.Join(strings.Fields(strings.Join(got, " ")), " "); !strings.Contains(joined, "--command-config") || !strings.Contains(joined, "--add") {
		t.Errorf("wrap lost words:\n%s", strings.Join(got, "\n"))
	}
}

func TestStripColor(t *testing.T) {
	for in, want := range map[string]string{
		"\x1b[37m> \x1b[m":             "> \x1b[m",
		"\x1b[1;38;5;212mtitle\x1b[0m": "\x1b[1mtitle\x1b[0m",
		"\x1b[38;2;1;2;3;7mcursor":     "\x1b[7mcursor",
		"\x1b[4;48:2::1:2:3mx":         "\x1b[4mx",
		"\x1b[92;103mplain":            "plain",
		"no escapes":                   "no escapes",
	} {
		if got := stripColor(in); got != want {
			t.Errorf("stripColor(%q) = %q, want %q", in, got, want)
		}
		if hasColor(stripColor(in)) {
			t.Errorf("stripColor(%q) kept a colour", in)
		}
	}
}

// TestReadStepRoot: the signing step accepts a file holding a CA
// certificate and names what is wrong with anything else.
func TestReadStepRoot(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(cn string, isCA bool) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		return stdpem.EncodeToMemory(&stdpem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	root := write("root_ca.crt", mk("Step Root", true))
	leaf := write("leaf.crt", mk("kafka-1", false))
	garbage := write("garbage.crt", []byte("not a certificate\n"))
	large := write("big.crt", bytes.Repeat([]byte("A"), MaxRootFile+1))
	tests := []struct {
		name, path, want string
	}{
		{"a root", root, ""},
		{"empty", " ", "give the file of step-ca's root certificate"},
		{"missing", filepath.Join(dir, "nope.crt"), "no such file"},
		{"a directory", dir, "is a directory, not a certificate file"},
		{"not PEM", garbage, "not a PEM certificate"},
		{"a leaf", leaf, "CN=kafka-1 is not a CA certificate"},
		{"too large", large, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ReadStepRoot(tc.path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ReadStepRoot: %v", err)
			case tc.want == "" && c.Subject.CommonName != "Step Root":
				t.Errorf("read %s", c.Subject)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
