package templates_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/templates"
)

// mirrorMakerData is what `kafkatls mirrormaker config --source
// pki-a/certs/mm2 --target pki-b/certs/mm2 --topics orders,payments.*`
// hands the template: each cluster's settings as its mirrormaker identity
// wrote them (PKCS12 stores of PKI A, PEM stores of PKI B).
func mirrorMakerData() templates.MirrorMakerData {
	return templates.MirrorMakerData{
		Source: templates.MirrorMakerCluster{Alias: "A", Identity: "/srv/pki-a/certs/mm2", CA: "CN=Cluster A CA", Principal: "User:CN=mm2,O=A",
			Settings: []templates.Setting{
				{"bootstrap.servers", "kafka-a1:9093"}, {"security.protocol", "SSL"},
				{"ssl.keystore.type", "PKCS12"}, {"ssl.keystore.location", "/srv/pki-a/certs/mm2/keystore.p12"},
				{"ssl.keystore.password", goldenPassword}, {"ssl.key.password", goldenPassword},
				{"ssl.truststore.type", "PKCS12"}, {"ssl.truststore.location", "/srv/pki-a/certs/mm2/truststore.p12"},
				{"ssl.truststore.password", goldenPassword}, {"ssl.endpoint.identification.algorithm", "https"},
			}},
		Target: templates.MirrorMakerCluster{Alias: "B", Identity: "/srv/pki-b/certs/mm2", CA: "CN=Cluster B CA", Principal: "User:CN=mm2,O=B",
			Settings: []templates.Setting{
				{"bootstrap.servers", "kafka-b1:9093,kafka-b2:9093"}, {"security.protocol", "SSL"},
				{"ssl.keystore.type", "PEM"}, {"ssl.keystore.location", `C:\pki-b\certs\mm2\keystore.pem`},
				{"ssl.truststore.type", "PEM"}, {"ssl.truststore.location", `C:\pki-b\certs\mm2\ca.crt`},
				{"ssl.endpoint.identification.algorithm", "https"},
			}},
		Topics: []string{"orders", "payments.*"},
	}
}

// TestMirrorMakerGolden: connect-mirror-maker.properties as written, and
// as MirrorMaker's java.util.Properties reads it back.
func TestMirrorMakerGolden(t *testing.T) {
	d := mirrorMakerData()
	out, err := templates.RenderMirrorMaker(d)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "mirrormaker", "combined", templates.MirrorMakerFile+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update)", err)
	}
	if string(out) != string(want) {
		t.Errorf("%s differs from %s (go test ./templates -update, then review the diff)", templates.MirrorMakerFile, golden)
	}
	p := mustProps(t, templates.MirrorMakerFile, out)
	for key, want := range map[string]string{
		"clusters":                                "A, B",
		"A->B.enabled":                            "true",
		"A->B.topics":                             "orders, payments.*",
		"B->A.enabled":                            "false",
		"sync.topic.acls.enabled":                 "false",
		"A.bootstrap.servers":                     "kafka-a1:9093",
		"A.ssl.keystore.password":                 goldenPassword,
		"A.ssl.truststore.location":               "/srv/pki-a/certs/mm2/truststore.p12",
		"B.bootstrap.servers":                     "kafka-b1:9093,kafka-b2:9093",
		"B.ssl.keystore.location":                 `C:\pki-b\certs\mm2\keystore.pem`,
		"B.ssl.endpoint.identification.algorithm": "https",
	} {
		if got, ok := p[key]; !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", key, got, ok, want)
		}
	}
	for _, absent := range []string{"A->B.groups", "replication.factor", "B.ssl.keystore.password"} {
		if v, ok := p[absent]; ok {
			t.Errorf("%s = %q must not be set", absent, v)
		}
	}
}

func TestMirrorMakerRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*templates.MirrorMakerData)
		field string
	}{
		{"same alias", func(d *templates.MirrorMakerData) { d.Target.Alias = "a" }, "Target.Alias"},
		{"no topics", func(d *templates.MirrorMakerData) { d.Topics = nil }, "Topics"},
		{"alias with a dot", func(d *templates.MirrorMakerData) { d.Source.Alias = "A.1" }, "Source.Alias"},
		{"alias with an arrow", func(d *templates.MirrorMakerData) { d.Target.Alias = "B->C" }, "Target.Alias"},
		{"comma in a topic", func(d *templates.MirrorMakerData) { d.Topics = []string{"a,b"} }, "Topics[0]"},
		{"newline in a value", func(d *templates.MirrorMakerData) { d.Source.Settings[0].Value = "x\ny=z" }, "Source.Settings[0].Value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mirrorMakerData()
			c.edit(&d)
			_, err := templates.RenderMirrorMaker(d)
			var fe *templates.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("err = %v, want a FieldError for %s", err, c.field)
			}
		})
	}
}

func TestCheckClusterAlias(t *testing.T) {
	for _, c := range []struct {
		alias string
		ok    bool
	}{{"A", true}, {"us-east_1", true}, {"", false}, {"a.b", false}, {"a b", false}, {"a>b", false}, {strings.Repeat("x", 65), false}} {
		t.Run(c.alias, func(t *testing.T) {
			if err := templates.CheckClusterAlias(c.alias); (err == nil) != c.ok {
				t.Errorf("CheckClusterAlias(%q) = %v, want ok %v", c.alias, err, c.ok)
			}
		})
	}
}
