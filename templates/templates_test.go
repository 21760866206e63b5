package templates_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var allFormats = []string{"jks", "p12", "pem"}

// filesIn returns the paths kafkatls's entity package uses, under dir.
func filesIn(dir string) templates.Files {
	at := func(name string) string { return dir + "/" + name }
	return templates.Files{
		KeystoreJKS: at("keystore.jks"), TruststoreJKS: at("truststore.jks"),
		KeystoreP12: at("keystore.p12"), TruststoreP12: at("truststore.p12"),
		KeyPEM: at("tls.key"), CertPEM: at("tls.crt"), ChainPEM: at("chain.pem"), CAPEM: at("ca.crt"),
		KeystorePEM: at("keystore.pem"), PasswordFile: at("password"),
	}
}

const (
	brokerPrincipal     = "User:CN=kafka-1,OU=Kafka"
	controllerPrincipal = "User:CN=controller-1,OU=Kafka"
	goldenPassword      = "Kp9#secret!pw"
)

var serverSuperUsers = []string{brokerPrincipal, "User:CN=kafka-2,OU=Kafka", controllerPrincipal}

type renderCase struct {
	dir string // testdata/<role>/<variant>
	d   templates.Data
}

// goldenCases covers every role, both modes and each client format mix.
func goldenCases() []renderCase {
	client := func(formats ...string) templates.Data {
		return templates.Data{
			Name: "orders-app", Role: "client", Files: filesIn("/home/alice/kafka-pki/certs/orders-app"),
			Password: goldenPassword, Formats: formats, Principal: "User:CN=orders-app,OU=Clients,O=Example",
			Bootstrap: "kafka-1:9093,kafka-2:9093",
		}
	}
	pemEncrypted := client("pem")
	pemEncrypted.KeyPEMEncrypted = true
	noBootstrap := client("p12", "pem")
	noBootstrap.Bootstrap = ""
	noBootstrap.Principal = ""
	return []renderCase{
		{"broker/kraft", templates.Data{
			Name: "kafka-1", Role: "broker", Files: filesIn("/etc/kafka/secrets/kafka-1"),
			Password: goldenPassword, Formats: allFormats, Principal: brokerPrincipal,
			SuperUsers: serverSuperUsers, Hosts: []string{"kafka-1", "kafka-1.example.com"}, Mode: "kraft",
		}},
		{"broker/zookeeper", templates.Data{
			Name: "kafka-2", Role: "broker", Files: filesIn("/etc/kafka/secrets/kafka-2"),
			Password: goldenPassword, StoreType: "JKS", Formats: []string{"jks", "p12"},
			Principal: "User:CN=kafka-2,OU=Kafka", SuperUsers: serverSuperUsers[:2], Hosts: []string{"kafka-2"},
			ListenerPort: 9095, Mode: "zookeeper", ZooKeeperConnect: "zookeeper:2182/kafka",
		}},
		{"controller/kraft", templates.Data{
			Name: "controller-1", Role: "controller", Files: filesIn("/etc/kafka/secrets/controller-1"),
			Password: goldenPassword, Formats: []string{"p12", "pem"}, Principal: controllerPrincipal,
			SuperUsers: serverSuperUsers, Hosts: []string{"controller-1"}, Mode: "kraft",
		}},
		{"client/all-formats", client(allFormats...)},
		{"client/pem-only", client("pem")},
		{"client/p12-only", client("p12")},
		{"client/jks-only", client("jks")},
		{"client/pem-encrypted-key", pemEncrypted},
		{"client/no-bootstrap", noBootstrap},
		{"zookeeper/p12", templates.Data{
			Name: "zookeeper", Role: "zookeeper", Files: filesIn("/conf/secrets/zookeeper"),
			Password: goldenPassword, Formats: []string{"p12"}, Principal: "User:CN=zookeeper,OU=Kafka",
			Hosts: []string{"zookeeper"},
		}},
		{"zookeeper/pem-only", templates.Data{
			Name: "zookeeper", Role: "zookeeper", Files: filesIn("/conf/secrets/zookeeper"),
			Password: goldenPassword, Formats: []string{"pem"}, Hosts: []string{"zookeeper"},
		}},
		// A TLS server outside Kafka (`kafkatls issue idp --role server
		// --dns idp.example.com`): a note, no Kafka config.
		{"server/all-formats", templates.Data{
			Name: "idp", Role: "server", Files: filesIn("/etc/keycloak/tls/idp"),
			Password: goldenPassword, Formats: allFormats, Principal: "User:CN=idp,O=Example",
			Hosts: []string{"idp.example.com"},
		}},
		{"server/pem-only", templates.Data{
			Name: "idp", Role: "server", Files: filesIn("/etc/keycloak/tls/idp"),
			Password: goldenPassword, Formats: []string{"pem"}, Principal: "User:CN=idp,O=Example",
			Hosts: []string{"idp.example.com"},
		}},
		// A Connect worker (`kafkatls issue connect-1 --role connect`, or a
		// bundle's connect: entry with its own group and topics).
		{"connect/all-formats", templates.Data{
			Name: "connect-1", Role: "connect", Files: filesIn("/etc/kafka-connect/secrets/connect-1"),
			Password: goldenPassword, Formats: allFormats, Principal: "User:CN=connect-1,OU=Connect",
			Hosts: []string{"connect-1", "localhost"}, Bootstrap: "kafka-1:9093,kafka-2:9093",
			Connect: templates.Connect{Group: "connect-cluster", ConfigTopic: "connect-configs", OffsetTopic: "connect-offsets", StatusTopic: "connect-status"},
		}},
		// PEM for the Kafka clients, JKS for the REST listener (Jetty reads
		// no PEM); no bootstrap given; a port and names of its own.
		{"connect/pem-jks", templates.Data{
			Name: "etl", Role: "connect", Files: filesIn("/opt/connect/etl"), StoreType: "PEM",
			Password: goldenPassword, Formats: []string{"pem", "jks"}, Principal: "User:CN=etl",
			Hosts: []string{"etl.example.com"}, ListenerPort: 9443,
			Connect: templates.Connect{Group: "etl", ConfigTopic: "etl-configs", OffsetTopic: "etl-offsets", StatusTopic: "etl-status"},
		}},
		// MirrorMaker 2's identity for cluster A (`kafkatls issue mm2
		// --role mirrormaker --cluster-alias A --cluster-bootstrap ...` in PKI A),
		// and one for cluster "us-east" with PEM stores and no bootstrap.
		{"mirrormaker/all-formats", templates.Data{
			Name: "mm2", Role: "mirrormaker", Files: filesIn("/etc/mm2/secrets/a"),
			Password: goldenPassword, Formats: allFormats, Principal: "User:CN=mm2,O=Example",
			Bootstrap: "kafka-a1:9093,kafka-a2:9093", ClusterAlias: "A",
		}},
		{"mirrormaker/pem-no-bootstrap", templates.Data{
			Name: "mm2", Role: "mirrormaker", Files: filesIn("/etc/mm2/secrets/us-east"),
			Password: goldenPassword, Formats: []string{"pem"}, Principal: "User:CN=mm2,O=East",
			ClusterAlias: "us-east",
		}},
		// What `kafkatls issue kafka-1 --role broker --advertise
		// broker1.example.com:9095` writes (e2e TestIssueAdvertiseGolden
		// checks the binary writes exactly these files).
		{"broker/advertise", templates.Data{
			Name: "kafka-1", Role: "broker", Files: filesIn("/etc/kafka/secrets/kafka-1"),
			Password: goldenPassword, Formats: allFormats, Principal: brokerPrincipal,
			SuperUsers: []string{brokerPrincipal}, Hosts: []string{"broker1.example.com"}, ListenerPort: 9095, Mode: "kraft",
		}},
	}
}

func render(t *testing.T, d templates.Data) map[string][]byte {
	t.Helper()
	out, err := templates.Render(d)
	if err != nil {
		t.Fatalf("Render(%s %s): %v", d.Role, d.Name, err)
	}
	return out
}

func sortedNames(m map[string][]byte) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.dir, func(t *testing.T) {
			out := render(t, c.d)
			dir := filepath.Join("testdata", filepath.FromSlash(c.dir))
			if *update {
				os.RemoveAll(dir)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, data := range out {
					if err := os.WriteFile(filepath.Join(dir, name+".golden"), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update)", err)
			}
			var golden []string
			for _, e := range entries {
				golden = append(golden, strings.TrimSuffix(e.Name(), ".golden"))
			}
			sort.Strings(golden)
			if got := sortedNames(out); !slices.Equal(got, golden) {
				t.Fatalf("rendered files %v, golden files %v", got, golden)
			}
			for name, data := range out {
				want, err := os.ReadFile(filepath.Join(dir, name+".golden"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, want) {
					t.Errorf("%s differs from %s/%s.golden (run go test ./templates -update and review the diff):\n%s", name, dir, name, data)
				}
			}
		})
	}
}

// wantFiles lists the files Render must return per case.
func TestFileSets(t *testing.T) {
	want := map[string][]string{
		"broker/kraft":             {"client.properties", "server.properties"},
		"broker/zookeeper":         {"client.properties", "server.properties", "zookeeper-client.properties"},
		"broker/advertise":         {"client.properties", "server.properties"},
		"controller/kraft":         {"server.properties"},
		"client/all-formats":       {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"client/pem-only":          {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"client/p12-only":          {"client.properties", "kcat.conf", "spring-boot.properties"},
		"client/jks-only":          {"client.properties", "spring-boot.properties"},
		"client/pem-encrypted-key": {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"client/no-bootstrap":      {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"zookeeper/p12":            {"zoo.cfg", "zookeeper-client.properties"},
		"zookeeper/pem-only":       {"zoo.cfg", "zookeeper-client.properties"},
		"server/all-formats":       {"server-tls.txt"},
		"server/pem-only":          {"server-tls.txt"},
		"connect/all-formats":      {"connect-distributed.properties", "connect-rest-curl.sh", "connect-standalone.properties"},
		"connect/pem-jks":          {"connect-distributed.properties", "connect-rest-curl.sh", "connect-standalone.properties"},
		// MirrorMaker 2: one cluster's alias-prefixed settings.
		"mirrormaker/all-formats":      {"mirrormaker-cluster.properties"},
		"mirrormaker/pem-no-bootstrap": {"mirrormaker-cluster.properties"},
	}
	for _, c := range goldenCases() {
		got := sortedNames(render(t, c.d))
		if !slices.Equal(got, want[c.dir]) {
			t.Errorf("%s: files %v, want %v", c.dir, got, want[c.dir])
		}
	}
}

// isProperties tells which rendered files java.util.Properties (or Spring's
// compatible loader) reads.
func isProperties(name string) bool {
	return strings.HasSuffix(name, ".properties") || name == "zoo.cfg"
}

func mustProps(t *testing.T, where string, data []byte) map[string]string {
	t.Helper()
	ps, err := loadProperties(data)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	m, err := propMap(ps)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return m
}

// TestRequiredKeys checks the settings each config must carry, as parsed
// back, for every golden case.
func TestRequiredKeys(t *testing.T) {
	for _, c := range goldenCases() {
		d := c.d
		out := render(t, d)
		stores := expectedStores(d)
		for name, data := range out {
			where := c.dir + "/" + name
			if !isProperties(name) {
				continue
			}
			p := mustProps(t, where, data)
			expect := func(key, want string) {
				t.Helper()
				got, ok := p[key]
				if !ok {
					t.Errorf("%s: %s missing", where, key)
				} else if got != want {
					t.Errorf("%s: %s=%q, want %q", where, key, got, want)
				}
			}
			absent := func(key string) {
				t.Helper()
				if v, ok := p[key]; ok {
					t.Errorf("%s: %s=%q must not be set", where, key, v)
				}
			}
			javaStores := func(prefix string) {
				t.Helper()
				expect(prefix+"ssl.keystore.type", stores.typ)
				expect(prefix+"ssl.keystore.location", stores.keystore)
				expect(prefix+"ssl.truststore.type", stores.typ)
				expect(prefix+"ssl.truststore.location", stores.truststore)
				if stores.typ == "PEM" {
					absent(prefix + "ssl.keystore.password")
					absent(prefix + "ssl.truststore.password")
					if d.KeyPEMEncrypted {
						expect(prefix+"ssl.key.password", d.Password)
					} else {
						absent(prefix + "ssl.key.password")
					}
				} else {
					expect(prefix+"ssl.keystore.password", d.Password)
					expect(prefix+"ssl.key.password", d.Password)
					expect(prefix+"ssl.truststore.password", d.Password)
				}
			}
			zkClient := func() {
				t.Helper()
				expect("zookeeper.ssl.client.enable", "true")
				expect("zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty")
				expect("zookeeper.ssl.keystore.location", stores.keystore)
				expect("zookeeper.ssl.keystore.type", stores.typ)
				expect("zookeeper.ssl.truststore.location", stores.truststore)
				expect("zookeeper.ssl.truststore.type", stores.typ)
				if stores.typ == "PEM" {
					absent("zookeeper.ssl.truststore.password")
					if d.KeyPEMEncrypted {
						expect("zookeeper.ssl.keystore.password", d.Password)
					} else {
						absent("zookeeper.ssl.keystore.password")
					}
				} else {
					expect("zookeeper.ssl.keystore.password", d.Password)
					expect("zookeeper.ssl.truststore.password", d.Password)
				}
				expect("zookeeper.ssl.endpoint.identification.algorithm", "HTTPS")
			}
			port := d.ListenerPort
			switch {
			case name == "client.properties":
				expect("security.protocol", "SSL")
				javaStores("")
				expect("ssl.endpoint.identification.algorithm", "https")
				if d.Role == "broker" {
					expect("bootstrap.servers", d.Hosts[0]+":"+itoa(orDefault(port, 9093)))
				} else if d.Bootstrap != "" {
					expect("bootstrap.servers", d.Bootstrap)
				} else {
					absent("bootstrap.servers")
				}
			case name == "spring-boot.properties":
				expect("spring.kafka.security.protocol", "SSL")
				expect("spring.kafka.ssl.key-store-type", stores.typ)
				expect("spring.kafka.ssl.key-store-location", "file:"+stores.keystore)
				expect("spring.kafka.ssl.trust-store-type", stores.typ)
				expect("spring.kafka.ssl.trust-store-location", "file:"+stores.truststore)
				if stores.typ != "PEM" {
					expect("spring.kafka.ssl.key-store-password", d.Password)
					expect("spring.kafka.ssl.key-password", d.Password)
					expect("spring.kafka.ssl.trust-store-password", d.Password)
				} else {
					absent("spring.kafka.ssl.key-store-password")
					absent("spring.kafka.ssl.trust-store-password")
				}
				expect("spring.kafka.properties.ssl.endpoint.identification.algorithm", "https")
			case name == "server.properties" && d.Role == "broker":
				port = orDefault(port, 9093)
				expect("listeners", "SSL://0.0.0.0:"+itoa(port))
				expect("advertised.listeners", "SSL://"+d.Hosts[0]+":"+itoa(port))
				expect("inter.broker.listener.name", "SSL")
				absent("security.inter.broker.protocol")
				javaStores("")
				expect("ssl.client.auth", "required")
				expect("ssl.endpoint.identification.algorithm", "https")
				expect("ssl.enabled.protocols", "TLSv1.3,TLSv1.2")
				absent("authorizer.class.name")
				absent("ssl.principal.mapping.rules")
				if d.Mode == "zookeeper" {
					expect("listener.security.protocol.map", "SSL:SSL")
					absent("controller.listener.names")
					expect("zookeeper.connect", d.ZooKeeperConnect)
					zkClient()
					mustContainLine(t, where, data, "#authorizer.class.name=kafka.security.authorizer.AclAuthorizer")
					mustNotContain(t, where, data, "StandardAuthorizer")
				} else {
					expect("listener.security.protocol.map", "SSL:SSL,CONTROLLER:SSL")
					expect("controller.listener.names", "CONTROLLER")
					absent("zookeeper.connect")
					mustContainLine(t, where, data, "#authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer")
					mustNotContain(t, where, data, "AclAuthorizer")
				}
				mustContainLine(t, where, data, "#ssl.principal.mapping.rules=DEFAULT")
				expect("super.users", strings.Join(d.SuperUsers, ";"))
			case name == "server.properties" && d.Role == "controller":
				port = orDefault(port, 9094)
				expect("controller.listener.names", "CONTROLLER")
				expect("listeners", "CONTROLLER://0.0.0.0:"+itoa(port))
				expect("listener.security.protocol.map", "CONTROLLER:SSL")
				absent("advertised.listeners")
				absent("inter.broker.listener.name")
				absent("security.inter.broker.protocol")
				javaStores("listener.name.controller.")
				expect("listener.name.controller.ssl.client.auth", "required")
				expect("listener.name.controller.ssl.endpoint.identification.algorithm", "https")
				expect("ssl.client.auth", "required")
				expect("ssl.endpoint.identification.algorithm", "https")
				absent("authorizer.class.name")
				mustContainLine(t, where, data, "#authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer")
				mustContainLine(t, where, data, "#ssl.principal.mapping.rules=DEFAULT")
				expect("super.users", strings.Join(d.SuperUsers, ";"))
			case name == "zoo.cfg":
				expect("secureClientPort", itoa(orDefault(port, 2182)))
				expect("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
				expect("authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider")
				expect("ssl.clientAuth", "need")
				expect("sslQuorum", "true")
				for _, prefix := range []string{"ssl.", "ssl.quorum."} {
					expect(prefix+"keyStore.location", stores.keystore)
					expect(prefix+"keyStore.type", stores.typ)
					expect(prefix+"trustStore.location", stores.truststore)
					expect(prefix+"trustStore.type", stores.typ)
					if stores.typ == "PEM" {
						absent(prefix + "keyStore.password")
						absent(prefix + "trustStore.password")
					} else {
						expect(prefix+"keyStore.password", d.Password)
						expect(prefix+"trustStore.password", d.Password)
					}
				}
				absent("clientPort")
				absent("portUnification")
			case name == "mirrormaker-cluster.properties":
				// Every key carries the alias: MirrorMaker gives A.* to its
				// clients of cluster A (MirrorMakerConfig.clusterProps).
				a := d.ClusterAlias + "."
				for k := range p {
					if !strings.HasPrefix(k, a) {
						t.Errorf("%s: key %s lacks the cluster prefix %s", where, k, a)
					}
				}
				expect(a+"security.protocol", "SSL")
				javaStores(a)
				expect(a+"ssl.endpoint.identification.algorithm", "https")
				if d.Bootstrap != "" {
					expect(a+"bootstrap.servers", d.Bootstrap)
				} else {
					absent(a + "bootstrap.servers")
				}
			case name == "zookeeper-client.properties":
				zkClient()
				// Kafka's --zk-tls-config-file takes only these keys.
				allowed := []string{"zookeeper.ssl.client.enable", "zookeeper.clientCnxnSocket",
					"zookeeper.ssl.keystore.location", "zookeeper.ssl.keystore.password", "zookeeper.ssl.keystore.type",
					"zookeeper.ssl.truststore.location", "zookeeper.ssl.truststore.password", "zookeeper.ssl.truststore.type",
					"zookeeper.ssl.endpoint.identification.algorithm"}
				for k := range p {
					if !slices.Contains(allowed, k) {
						t.Errorf("%s: unexpected key %s", where, k)
					}
				}
			case strings.HasPrefix(name, "connect-") && d.Role == "connect":
				// The worker and each prefix of its connectors' clients:
				// TLS with hostname verification, the identity's stores.
				for _, prefix := range []string{"", "producer.", "consumer.", "admin."} {
					expect(prefix+"security.protocol", "SSL")
					javaStores(prefix)
					expect(prefix+"ssl.endpoint.identification.algorithm", "https")
				}
				if d.Bootstrap != "" {
					expect("bootstrap.servers", d.Bootstrap)
				} else {
					expect("bootstrap.servers", "BROKER_HOST:9093")
				}
				// The REST listener: HTTPS only, client certificates
				// required, a store Jetty reads (never PEM).
				rest := restStores(d)
				expect("listeners", "https://"+d.Hosts[0]+":"+itoa(orDefault(port, 8443)))
				expect("rest.advertised.listener", "https")
				expect("listeners.https.ssl.keystore.type", rest.typ)
				expect("listeners.https.ssl.keystore.location", rest.keystore)
				expect("listeners.https.ssl.keystore.password", d.Password)
				expect("listeners.https.ssl.key.password", d.Password)
				expect("listeners.https.ssl.truststore.type", rest.typ)
				expect("listeners.https.ssl.truststore.location", rest.truststore)
				expect("listeners.https.ssl.truststore.password", d.Password)
				expect("listeners.https.ssl.client.auth", "required")
				expect("listeners.https.ssl.endpoint.identification.algorithm", "https")
				expect("key.converter", "org.apache.kafka.connect.json.JsonConverter")
				expect("value.converter", "org.apache.kafka.connect.json.JsonConverter")
				absent("connector.client.config.override.policy")
				if name == "connect-distributed.properties" {
					expect("group.id", d.Connect.Group)
					expect("config.storage.topic", d.Connect.ConfigTopic)
					expect("offset.storage.topic", d.Connect.OffsetTopic)
					expect("status.storage.topic", d.Connect.StatusTopic)
					absent("offset.storage.file.filename")
				} else {
					expect("offset.storage.file.filename", "/tmp/connect.offsets")
					absent("group.id")
					absent("config.storage.topic")
				}
			default:
				t.Errorf("%s: no expectations for this file", where)
			}
		}
	}
}

type storeExpect struct{ typ, keystore, truststore string }

func expectedStores(d templates.Data) storeExpect {
	has := func(f string) bool { return slices.Contains(d.Formats, f) }
	typ := d.StoreType
	if typ == "" {
		switch {
		case has("p12"):
			typ = "PKCS12"
		case has("jks"):
			typ = "JKS"
		default:
			typ = "PEM"
		}
	}
	switch typ {
	case "PKCS12":
		return storeExpect{typ, d.Files.KeystoreP12, d.Files.TruststoreP12}
	case "JKS":
		return storeExpect{typ, d.Files.KeystoreJKS, d.Files.TruststoreJKS}
	}
	return storeExpect{typ, d.Files.KeystorePEM, d.Files.CAPEM}
}

// restStores are the stores a Connect worker's REST listener points at:
// Jetty reads no PEM, so a worker whose Kafka clients use PEM serves its
// PKCS12 (else JKS) store.
func restStores(d templates.Data) storeExpect {
	if st := expectedStores(d); st.typ != "PEM" {
		return st
	}
	if slices.Contains(d.Formats, "p12") {
		return storeExpect{"PKCS12", d.Files.KeystoreP12, d.Files.TruststoreP12}
	}
	return storeExpect{"JKS", d.Files.KeystoreJKS, d.Files.TruststoreJKS}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustContainLine(t *testing.T, where string, data []byte, line string) {
	t.Helper()
	if !slices.Contains(strings.Split(string(data), "\n"), line) {
		t.Errorf("%s: no line %q", where, line)
	}
}

func mustNotContain(t *testing.T, where string, data []byte, s string) {
	t.Helper()
	if bytes.Contains(data, []byte(s)) {
		t.Errorf("%s: must not mention %q", where, s)
	}
}

// TestKcatConf checks kcat.conf as kcat reads it: PEM material if written,
// else the PKCS#12 keystore, the CA as PEM, hostname verification, and never
// a JKS or truststore reference.
func TestKcatConf(t *testing.T) {
	for _, c := range goldenCases() {
		d := c.d
		data, ok := render(t, d)["kcat.conf"]
		if !ok {
			continue
		}
		where := c.dir + "/kcat.conf"
		lower := strings.ToLower(string(data))
		for _, bad := range []string{"jks", "truststore", "trust-store", "trust_store"} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s mentions %q:\n%s", where, bad, data)
			}
		}
		p, err := loadKcat(data)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		want := kcatWant(d)
		for k, v := range want {
			if p[k] != v {
				t.Errorf("%s: %s=%q, want %q", where, k, p[k], v)
			}
		}
		for k := range p {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected key %s=%q", where, k, p[k])
			}
		}
	}
}

// TestFormatsRespected checks that no config references a file of a format
// that was not written.
func TestFormatsRespected(t *testing.T) {
	for _, c := range goldenCases() {
		d := c.d
		var forbidden []string
		if !slices.Contains(d.Formats, "jks") {
			forbidden = append(forbidden, d.Files.KeystoreJKS, d.Files.TruststoreJKS)
		}
		if !slices.Contains(d.Formats, "p12") {
			forbidden = append(forbidden, d.Files.KeystoreP12, d.Files.TruststoreP12)
		}
		if !slices.Contains(d.Formats, "pem") {
			forbidden = append(forbidden, d.Files.KeyPEM, d.Files.KeystorePEM)
		}
		forbidden = append(forbidden, d.Files.PasswordFile)
		for name, data := range render(t, d) {
			for _, f := range forbidden {
				if bytes.Contains(data, []byte(f)) {
					t.Errorf("%s/%s references %s, whose format was not written (formats %v)", c.dir, name, f, d.Formats)
				}
			}
		}
	}
}

// TestHeaderAndShape checks every file's comment header (entity, tool,
// password or not) and its line shape.
func TestHeaderAndShape(t *testing.T) {
	for _, c := range goldenCases() {
		d := c.d
		for name, data := range render(t, d) {
			where := c.dir + "/" + name
			text := string(data)
			comment := "#"
			if strings.HasSuffix(name, ".js") {
				comment = "//"
			}
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if strings.HasPrefix(lines[0], "#!/") { // a script: the header follows its interpreter line
				lines = lines[1:]
			}
			if !strings.HasSuffix(text, "\n") {
				t.Errorf("%s: no final newline", where)
			}
			if len(lines) < 3 {
				t.Fatalf("%s: too short", where)
			}
			header := strings.Join(lines[:3], "\n")
			for _, l := range lines[:3] {
				if !strings.HasPrefix(l, comment+" ") {
					t.Errorf("%s: header line %q is not a %s comment", where, l, comment)
				}
			}
			if !strings.Contains(lines[0], d.Name) || !strings.Contains(header, "kafkatls") {
				t.Errorf("%s: header does not name the entity %q and kafkatls:\n%s", where, d.Name, header)
			}
			holds := strings.Contains(text, d.Password) || strings.Contains(text, templates.PropertiesValue(d.Password))
			says := strings.Contains(header, "holds a password")
			saysNot := strings.Contains(header, "holds no password")
			if holds != says || says == saysNot {
				t.Errorf("%s: holds password %v, but the header says:\n%s", where, holds, header)
			}
			for i, l := range lines {
				if strings.ContainsAny(l, "\r\t") || strings.HasSuffix(l, " ") {
					t.Errorf("%s:%d: stray white space in %q", where, i+1, l)
				}
				for _, r := range l {
					if r > 0x7e {
						t.Errorf("%s:%d: non-ASCII %q", where, i+1, r)
					}
				}
				if isProperties(name) || name == "kcat.conf" {
					if l != "" && !strings.HasPrefix(l, "#") && !strings.Contains(l, "=") {
						t.Errorf("%s:%d: not key=value: %q", where, i+1, l)
					}
				}
			}
		}
	}
}

// TestEndpointIdentificationNeverEmpty checks every *endpoint.identification.algorithm
// value in every file, and that each Java/librdkafka config sets one.
func TestEndpointIdentificationNeverEmpty(t *testing.T) {
	for _, c := range goldenCases() {
		for name, data := range render(t, c.d) {
			where := c.dir + "/" + name
			var p map[string]string
			switch {
			case isProperties(name):
				p = mustProps(t, where, data)
			case name == "kcat.conf":
				var err error
				if p, err = loadKcat(data); err != nil {
					t.Fatal(err)
				}
			default:
				continue
			}
			found := 0
			for k, v := range p {
				if strings.HasSuffix(k, "endpoint.identification.algorithm") {
					found++
					if !strings.EqualFold(v, "https") {
						t.Errorf("%s: %s=%q, want https", where, k, v)
					}
				}
			}
			if found == 0 && name != "zoo.cfg" {
				t.Errorf("%s: sets no endpoint.identification.algorithm", where)
			}
		}
	}
}

// Tricky values: each must load back as exactly itself.
var trickyPasswords = []string{
	`a\b#c!d=e:f g`,
	`#start`,
	`!start`,
	`=start:`,
	`:colon`,
	`end\`,
	`\\double`,
	`\u0041 not unicode`,
	`\n not newline`,
	`tab\t and \f`,
	`inner  spaces`,
	`"quoted" 'single'`,
	`${spring.placeholder}`,
	`a;b,c`,
	"~`@$%^&*()-_+[]{}|<>?/.",
}

const trickyPrincipal = `User:CN=Tkac\, Adam,OU=ITZ`

func TestTrickyValuesRoundTrip(t *testing.T) {
	base := goldenCases()
	for _, pw := range trickyPasswords {
		for _, c := range base {
			d := c.d
			d.Password = pw
			d.Files = filesIn(`C:\Kafka Secrets\#1 !dir=x:y\` + d.Name)
			if d.Role == "broker" || d.Role == "controller" {
				d.Principal = trickyPrincipal
				d.SuperUsers = []string{trickyPrincipal, `User:CN=Müller\+Co\=X,O=ACME\, Inc.`, "User:CN=kafka-2"}
			}
			out, err := templates.Render(d)
			if err != nil {
				t.Fatalf("%s with password %q: %v", c.dir, pw, err)
			}
			stores := expectedStores(d)
			for name, data := range out {
				where := c.dir + "/" + name + " (password " + pw + ")"
				var p map[string]string
				switch {
				case isProperties(name):
					p = mustProps(t, where, data)
				case name == "kcat.conf":
					if p, err = loadKcat(data); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
				default:
					continue
				}
				n := 0
				for k, v := range p {
					lk := strings.ToLower(k)
					stores := stores
					if strings.HasPrefix(lk, "listeners.https.") {
						stores = restStores(d)
					}
					switch {
					case strings.Contains(lk, "password"):
						n++
						if v != pw {
							t.Errorf("%s: %s=%q, want %q", where, k, v, pw)
						}
					case strings.HasSuffix(lk, "keystore.location") || strings.HasSuffix(lk, "key-store-location"):
						if strings.TrimPrefix(v, "file:") != stores.keystore && v != d.Files.KeystoreP12 {
							t.Errorf("%s: %s=%q, want %q", where, k, v, stores.keystore)
						}
					case strings.HasSuffix(lk, "truststore.location") || strings.HasSuffix(lk, "trust-store-location"):
						if strings.TrimPrefix(v, "file:") != stores.truststore {
							t.Errorf("%s: %s=%q, want %q", where, k, v, stores.truststore)
						}
					case k == "super.users":
						if got := strings.Split(v, ";"); !slices.Equal(got, d.SuperUsers) {
							t.Errorf("%s: super.users splits into %q, want %q", where, got, d.SuperUsers)
						}
					}
				}
				if n == 0 && isProperties(name) && stores.typ != "PEM" {
					t.Errorf("%s: no password key found", where)
				}
			}
		}
	}
}

func TestSuperUsers(t *testing.T) {
	// The entity's own principal is added when missing, duplicates dropped.
	d := goldenCases()[0].d
	d.Principal = trickyPrincipal
	d.SuperUsers = []string{"User:CN=kafka-2", "User:CN=kafka-2", "User:CN=controller-1"}
	before := slices.Clone(d.SuperUsers)
	p := mustProps(t, "server.properties", render(t, d)["server.properties"])
	want := trickyPrincipal + ";User:CN=kafka-2;User:CN=controller-1"
	if p["super.users"] != want {
		t.Errorf("super.users=%q, want %q", p["super.users"], want)
	}
	if !slices.Equal(d.SuperUsers, before) {
		t.Errorf("Render modified Data.SuperUsers: %v", d.SuperUsers)
	}
	// No SuperUsers: just the entity.
	d.SuperUsers = nil
	p = mustProps(t, "server.properties", render(t, d)["server.properties"])
	if p["super.users"] != trickyPrincipal {
		t.Errorf("super.users=%q, want %q", p["super.users"], trickyPrincipal)
	}

	line := templates.SuperUsersLine([]string{trickyPrincipal, "User:CN=b"})
	if line != `super.users=User:CN=Tkac\\, Adam,OU=ITZ;User:CN=b` {
		t.Errorf("SuperUsersLine = %q", line)
	}
	m := mustProps(t, "line", []byte(line+"\n"))
	if got := strings.Split(m["super.users"], ";"); !slices.Equal(got, []string{trickyPrincipal, "User:CN=b"}) {
		t.Errorf("SuperUsersLine loads back as %q", got)
	}
}

func TestOnlyFirstHostUsed(t *testing.T) {
	// Further hosts (the certificate's other SANs, wildcards included) are
	// not written and not validated.
	d := goldenCases()[0].d
	d.Hosts = []string{"kafka-1", "*.kafka.svc.cluster.local", "10.0.0.1"}
	p := mustProps(t, "server.properties", render(t, d)["server.properties"])
	if got := p["advertised.listeners"]; got != "SSL://kafka-1:9093" {
		t.Errorf("advertised.listeners=%q", got)
	}
}

func TestAdvertisedIPv6(t *testing.T) {
	d := goldenCases()[0].d
	d.Hosts = []string{"fd00::1", "kafka-1"}
	p := mustProps(t, "server.properties", render(t, d)["server.properties"])
	if got := p["advertised.listeners"]; got != "SSL://[fd00::1]:9093" {
		t.Errorf("advertised.listeners=%q", got)
	}
}

// connectCase is the golden Connect worker with every format.
func connectCase() templates.Data {
	for _, c := range goldenCases() {
		if c.dir == "connect/all-formats" {
			return c.d
		}
	}
	panic("no connect/all-formats golden case")
}

func TestRenderErrors(t *testing.T) {
	ok := goldenCases()[0].d // broker, kraft, all formats
	client := goldenCases()[3].d
	type mod func(d *templates.Data)
	cases := []struct {
		name  string
		base  templates.Data
		mod   mod
		field string
	}{
		{"no role", ok, func(d *templates.Data) { d.Role = "" }, "Role"},
		{"connect with pem only", connectCase(), func(d *templates.Data) { d.Formats = []string{"pem"} }, "Formats"},
		{"connect without host", connectCase(), func(d *templates.Data) { d.Hosts = nil }, "Hosts"},
		{"connect without group", connectCase(), func(d *templates.Data) { d.Connect.Group = "" }, "Connect.Group"},
		{"connect topic with space", connectCase(), func(d *templates.Data) { d.Connect.StatusTopic = "a b" }, "Connect.StatusTopic"},
		{"unknown role", ok, func(d *templates.Data) { d.Role = "proxy" }, "Role"},
		{"no name", ok, func(d *templates.Data) { d.Name = "" }, "Name"},
		{"name with newline", ok, func(d *templates.Data) { d.Name = "a\nb" }, "Name"},
		{"no formats", ok, func(d *templates.Data) { d.Formats = nil }, "Formats"},
		{"unknown format", ok, func(d *templates.Data) { d.Formats = []string{"p12", "der"} }, "Formats[1]"},
		{"unknown mode", ok, func(d *templates.Data) { d.Mode = "zk" }, "Mode"},
		{"controller in zookeeper mode", goldenCases()[2].d, func(d *templates.Data) { d.Mode = "zookeeper" }, "Mode"},
		{"unknown store type", ok, func(d *templates.Data) { d.StoreType = "BCFKS" }, "StoreType"},
		{"store type not written", ok, func(d *templates.Data) { d.Formats = []string{"p12"}; d.StoreType = "JKS" }, "StoreType"},
		{"JKS store with pem only", ok, func(d *templates.Data) { d.Formats = []string{"pem"}; d.StoreType = "JKS" }, "StoreType"},
		{"p12 path missing", ok, func(d *templates.Data) { d.Files.KeystoreP12 = "" }, "Files.KeystoreP12"},
		{"jks path missing", ok, func(d *templates.Data) { d.Files.TruststoreJKS = "" }, "Files.TruststoreJKS"},
		{"pem key missing", ok, func(d *templates.Data) { d.Files.KeyPEM = "" }, "Files.KeyPEM"},
		{"ca missing with pem", ok, func(d *templates.Data) { d.Files.CAPEM = "" }, "Files.CAPEM"},
		{"pem keystore missing", ok, func(d *templates.Data) { d.Formats = []string{"pem"}; d.Files.KeystorePEM = "" }, "Files.KeystorePEM"},
		{"path with newline", ok, func(d *templates.Data) { d.Files.KeystoreP12 = "/a\n/b" }, "Files.KeystoreP12"},
		{"path with trailing space", ok, func(d *templates.Data) { d.Files.TruststoreP12 = "/a/b " }, "Files.TruststoreP12"},
		{"no password", ok, func(d *templates.Data) { d.Password = "" }, "Password"},
		{"no password for encrypted pem", ok, func(d *templates.Data) {
			d.Formats = []string{"pem"}
			d.KeyPEMEncrypted = true
			d.Password = ""
		}, "Password"},
		{"password leading space", ok, func(d *templates.Data) { d.Password = " secret" }, "Password"},
		{"password trailing space", ok, func(d *templates.Data) { d.Password = "secret " }, "Password"},
		{"password newline", ok, func(d *templates.Data) { d.Password = "sec\nret" }, "Password"},
		{"password kcat rewrites", client, func(d *templates.Data) {
			d.Formats = []string{"p12"}
			d.Password = `a\=b`
		}, "Password"},
		{"no principal for broker", ok, func(d *templates.Data) { d.Principal = "" }, "Principal"},
		{"principal without type", ok, func(d *templates.Data) { d.Principal = "CN=kafka-1" }, "Principal"},
		{"principal with semicolon", ok, func(d *templates.Data) { d.Principal = `User:CN=a\;b` }, "Principal"},
		{"super user with semicolon", ok, func(d *templates.Data) { d.SuperUsers = []string{"User:CN=a;User:CN=b"} }, "SuperUsers[0]"},
		{"super user trailing space", ok, func(d *templates.Data) { d.SuperUsers = []string{"User:CN=a", "User:CN=b "} }, "SuperUsers[1]"},
		{"broker without hosts", ok, func(d *templates.Data) { d.Hosts = nil }, "Hosts"},
		{"bad host", ok, func(d *templates.Data) { d.Hosts = []string{"a b", "kafka-1"} }, "Hosts[0]"},
		{"wildcard advertised host", ok, func(d *templates.Data) { d.Hosts = []string{"*.kafka.svc", "kafka-1"} }, "Hosts[0]"},
		{"bad port", ok, func(d *templates.Data) { d.ListenerPort = 70000 }, "ListenerPort"},
		{"negative port", ok, func(d *templates.Data) { d.ListenerPort = -1 }, "ListenerPort"},
		{"zookeeper mode without connect", ok, func(d *templates.Data) { d.Mode = "zookeeper" }, "ZooKeeperConnect"},
		{"bad bootstrap", client, func(d *templates.Data) { d.Bootstrap = "kafka-1:9093, kafka-2:9093" }, "Bootstrap"},
		{"bad connect", ok, func(d *templates.Data) {
			d.Mode = "zookeeper"
			d.ZooKeeperConnect = "zk:2182#x"
		}, "ZooKeeperConnect"},
		{"kcat path kcat rewrites", client, func(d *templates.Data) { d.Files.KeyPEM = `/a\=b/tls.key` }, "Files.KeyPEM"},
		{"kcat line too long", client, func(d *templates.Data) { d.Files.CAPEM = "/" + strings.Repeat("x", 520) }, "Files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.base
			d.Formats = slices.Clone(d.Formats)
			d.SuperUsers = slices.Clone(d.SuperUsers)
			c.mod(&d)
			out, err := templates.Render(d)
			if err == nil {
				t.Fatalf("no error; rendered %v", sortedNames(out))
			}
			var fe *templates.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FieldError", err, err)
			}
			if fe.Field != c.field {
				t.Errorf("error names field %q, want %q: %v", fe.Field, c.field, err)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("message %q does not name %s", err, c.field)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	// Role and store type are case-insensitive, "pkcs12" means p12, an
	// empty mode is kraft.
	d := goldenCases()[0].d
	d.Role = "Broker"
	d.Mode = ""
	d.StoreType = "pkcs12"
	d.Formats = []string{"PKCS12"}
	p := mustProps(t, "server.properties", render(t, d)["server.properties"])
	if p["ssl.keystore.type"] != "PKCS12" || p["controller.listener.names"] != "CONTROLLER" {
		t.Errorf("defaults not applied: %v", p)
	}
	// A password that no config needs may be empty (unencrypted PEM only).
	c := goldenCases()[4].d // client pem-only
	c.Password = ""
	out := render(t, c)
	for name, data := range out {
		if !strings.Contains(string(data), "holds no password") {
			t.Errorf("%s: claims to hold a password:\n%s", name, data)
		}
	}
}

func TestPropertiesValue(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{`a\b#c!d=e:f g`, `a\\b\#c\!d=e:f g`},
		{" lead", `\ lead`},
		{"trail ", `trail\ `},
		{" ", `\ `},
		{"#start", `\#start`},
		{"!start", `\!start`},
		{"x\ty\nz\rw\fv", `x\ty\nz\rw\fv`},
		{"é€😀", `\u00E9\u20AC\uD83D\uDE00`},
		{"\x00\x7f", `\u0000\u007F`},
		{"", ""},
	} {
		if got := templates.PropertiesValue(c.in); got != c.want {
			t.Errorf("PropertiesValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := templates.PropertiesKey("a b=c:d#e!f\\"); got != `a\ b\=c\:d\#e\!f\\` {
		t.Errorf("PropertiesKey = %q", got)
	}
}

// roundTrip writes key=value with the escapers and loads it back.
func roundTrip(t testing.TB, key, value string) {
	t.Helper()
	// Each layout is {before key, between key and value, after value};
	// joining the parts (rather than substituting placeholders) keeps a
	// key or value that itself contains a placeholder intact.
	for _, layout := range [][3]string{{"", "=", "\n"}, {"", "=", ""}, {"# c\n", "=", "\r\nnext=1\n"}, {"", " = ", "\n"}} {
		text := layout[0] + templates.PropertiesKey(key) + layout[1] + templates.PropertiesValue(value) + layout[2]
		ps, err := loadProperties([]byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if len(ps) == 0 || ps[0].Key != key || ps[0].Value != value {
			t.Fatalf("%q loads as %+v, want key %q value %q", text, ps, key, value)
		}
	}
}

func TestPropertiesRoundTrip(t *testing.T) {
	for _, v := range append(slices.Clone(trickyPasswords),
		" leading space", "trailing space ", "  ", "\ttab", "\\", "\\\\\\", "line\ncontinued\\\n", "a\\\nb",
		"é€😀", "\x00", trickyPrincipal, `C:\Program Files\Kafka\keystore.p12`) {
		roundTrip(t, "k", v)
		roundTrip(t, v, "v")
	}
}

func FuzzPropertiesRoundTrip(f *testing.F) {
	for _, v := range trickyPasswords {
		f.Add("key", v)
	}
	f.Add(" k:=#!", " v \\")
	f.Add("%s", "0") // once broke the harness's placeholder substitution
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "" || !utf8Valid(key) || !utf8Valid(value) {
			t.Skip()
		}
		roundTrip(t, key, value)
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// loaderFixture exercises the java.util.Properties syntax: the javadoc's
// examples, continuations, comments, escapes, CRLF and a dangling final
// backslash.
const loaderFixture = "# comment \\\nnot=continued\n" +
	"! bang comment\n" +
	"  Truth = Beauty\n" +
	"Truth2:Beauty\n" +
	"Truth3                    :Beauty\n" +
	"fruits                           apple, banana, pear, \\\n" +
	"                                  cantaloupe, watermelon, \\\n" +
	"                                  kiwi, mango\n" +
	"cheeses\n" +
	"key\\ with\\ spaces = value\\\n" +
	"# not a comment, a continuation\n" +
	"\\#hash=1\n" +
	"uni=\\u0041\\u00e9\n" +
	"esc=\\q\\=\\:\n" +
	"crlf=a\\\r\n   b\r\n" +
	"empty=\n" +
	"trailing=x  \n" +
	"backslashes=\\\\\\\\\n" +
	"eof=z\\"

// TestLoaderSemantics pins the test parser to java.util.Properties on the
// spec's own examples (the real-peer test checks it against java too).
func TestLoaderSemantics(t *testing.T) {
	ps, err := loadProperties([]byte(loaderFixture))
	if err != nil {
		t.Fatal(err)
	}
	got, err := propMap(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"not":             "continued",
		"Truth":           "Beauty",
		"Truth2":          "Beauty",
		"Truth3":          "Beauty",
		"fruits":          "apple, banana, pear, cantaloupe, watermelon, kiwi, mango",
		"cheeses":         "",
		"key with spaces": "value# not a comment, a continuation",
		"#hash":           "1",
		"uni":             "Aé",
		"esc":             "q=:",
		"crlf":            "ab",
		"empty":           "",
		"trailing":        "x  ",
		"backslashes":     `\\`,
		"eof":             "z",
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%q = %q (present %v), want %q", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %q", len(got), len(want), got)
	}
	if _, err := loadProperties([]byte("bad=\\u12")); err == nil {
		t.Error("malformed \\u escape accepted")
	}
}

// kcatWant is what kcat.conf must set for d, as librdkafka properties.
func kcatWant(d templates.Data) map[string]string {
	want := map[string]string{
		"security.protocol":                     "ssl",
		"ssl.ca.location":                       d.Files.CAPEM,
		"ssl.endpoint.identification.algorithm": "https",
	}
	if d.Bootstrap != "" {
		want["bootstrap.servers"] = d.Bootstrap
	}
	if slices.Contains(d.Formats, "pem") {
		want["ssl.certificate.location"] = d.Files.ChainPEM
		want["ssl.key.location"] = d.Files.KeyPEM
		if d.KeyPEMEncrypted {
			want["ssl.key.password"] = d.Password
		}
	} else {
		want["ssl.keystore.location"] = d.Files.KeystoreP12
		want["ssl.keystore.password"] = d.Password
	}
	return want
}

// TestCombinedNodeComment checks that the KRaft broker's comment lists every
// node-specific line interop/run.sh appends to run a single combined
// (broker+controller) node on real Kafka 4.3.1, and that the file with those
// lines appended is a combined node's config: CONTROLLER in listeners and in
// the protocol map, controller.listener.names, log.dirs.
func TestCombinedNodeComment(t *testing.T) {
	out := string(render(t, goldenCases()[0].d)["server.properties"])
	_, block, ok := strings.Cut(out, "# A single combined node")
	if !ok {
		t.Fatalf("no combined-node comment:\n%s", out)
	}
	block, _, _ = strings.Cut(block, "\n\n")
	var added strings.Builder
	for _, l := range strings.Split(block, "\n") {
		if v, ok := strings.CutPrefix(l, "#   "); ok {
			v, _, _ = strings.Cut(v, "  (") // the version notes
			added.WriteString(v + "\n")
		}
	}
	// The quorum: bootstrap servers (3.9+) or voters, not both.
	merged := mustProps(t, "server.properties", []byte(out))
	for k, v := range mustProps(t, "comment", []byte(strings.Replace(added.String(), "controller.quorum.voters=", "#", 1))) {
		merged[k] = v // appended: later lines win
	}

	script, err := os.ReadFile("../interop/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(script), `echo "# ---- interop/run.sh: node-specific settings"`)
	if !ok {
		t.Fatal("interop/run.sh: no node-specific settings block")
	}
	section, _, _ = strings.Cut(section, `} >"$KR_PROPS"`)
	optional := map[string]string{
		"authorizer.class.name":            "commented in the Authorization section: enforcing ACLs is a choice",
		"group.initial.rebalance.delay.ms": "a test-speed setting",
	}
	var keys []string
	for _, l := range strings.Split(section, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, `echo "`); ok {
			if k, _, ok := strings.Cut(v, "="); ok {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) < 5 {
		t.Fatalf("interop/run.sh: found only %v in the node-specific block", keys)
	}
	for _, k := range keys {
		if _, ok := merged[k]; !ok && optional[k] == "" {
			t.Errorf("interop/run.sh sets %s for a combined node; the comment does not list it", k)
		}
	}
	for k, want := range map[string]string{
		"process.roles":                       "broker,controller",
		"listeners":                           "SSL://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094",
		"advertised.listeners":                "SSL://kafka-1:9093,CONTROLLER://kafka-1:9094",
		"controller.listener.names":           "CONTROLLER",
		"listener.security.protocol.map":      "SSL:SSL,CONTROLLER:SSL",
		"controller.quorum.bootstrap.servers": "kafka-1:9094",
		"log.dirs":                            "<data directory>",
	} {
		if merged[k] != want {
			t.Errorf("combined node: %s=%q, want %q", k, merged[k], want)
		}
	}
}
