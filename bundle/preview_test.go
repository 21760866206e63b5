package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/kafkaacl"
)

// previewedFiles is every file a Preview says the directory holds.
func previewedFiles(pv *Preview) []string {
	out := slices.Clone(pv.Files)
	for _, e := range pv.Identities {
		for _, f := range e.Files {
			out = append(out, e.Dir+"/"+f)
		}
	}
	slices.Sort(out)
	return out
}

// summaryFiles reads the file list of SUMMARY.md's Files section.
func summaryFiles(t *testing.T, summary string) []string {
	t.Helper()
	_, section, ok := strings.Cut(summary, "\n## Files\n\n")
	if !ok {
		t.Fatalf("SUMMARY.md has no Files section:\n%s", summary)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(section), "\n") {
		head, list, ok := strings.Cut(strings.TrimPrefix(l, "- "), ": ")
		if !ok {
			t.Fatalf("SUMMARY.md: odd line %q", l)
		}
		dir := strings.Trim(head, "`")
		for _, f := range strings.Fields(list) {
			f = strings.Trim(f, "`")
			if dir != "bundle" {
				f = dir + f
			}
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// TestPreviewIsWhatRunWrites: the dry run's Preview, the real run's and
// SUMMARY.md's Files section all name exactly the files the run writes.
func TestPreviewIsWhatRunWrites(t *testing.T) {
	kraft := &Spec{
		CA:          CASpec{CN: "Test CA", KeyType: "ecdsa"},
		Brokers:     []Node{{Name: "kafka-1", Hosts: []string{"kafka-1.example.com"}, Port: 9095}},
		Controllers: []Node{{Name: "controller-1"}},
		Clients:     []Client{{Name: "app", Grants: []kafkaacl.Grant{{Topic: "orders", Producer: true}}}, {Name: "reader"}},
		Defaults:    Defaults{Formats: []string{"p12", "pem"}},
	}
	clientsOnly := &Spec{CA: CASpec{CN: "Test CA", KeyType: "ecdsa"}, Clients: []Client{{Name: "solo"}}, Defaults: Defaults{Formats: []string{"jks"}}}
	for _, tc := range []struct {
		name   string
		spec   *Spec
		export []string
	}{
		{"zookeeper", ecSpec(), nil},
		{"kraft-grants-k8s", kraft, []string{"k8s"}},
		{"clients-only-jks", clientsOnly, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dry := run(t, dir, tc.spec, func(o *Options) { o.DryRun = true; o.Export = tc.export })
			real := run(t, dir, tc.spec, func(o *Options) { o.Export = tc.export })
			var written []string
			for f := range hashTree(t, dir) {
				written = append(written, f)
			}
			slices.Sort(written)
			if got := previewedFiles(dry.Plan.Preview); !reflect.DeepEqual(got, written) {
				t.Errorf("dry-run preview:\n %v\nthe run wrote:\n %v", got, written)
			}
			if !reflect.DeepEqual(real.Plan.Preview, dry.Plan.Preview) {
				t.Errorf("the run's preview differs from the dry run's:\n%+v\n%+v", real.Plan.Preview, dry.Plan.Preview)
			}
			summary, err := os.ReadFile(filepath.Join(dir, SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := summaryFiles(t, string(summary)); !reflect.DeepEqual(got, written) {
				t.Errorf("SUMMARY.md lists:\n %v\nthe run wrote:\n %v", got, written)
			}
		})
	}
}

// TestAdvertise: a node's advertise decides its advertised address and
// port, the bootstrap list and zookeeper.connect, and joins its SANs;
// changing it renews the certificate (the SANs changed).
func TestAdvertise(t *testing.T) {
	spec := &Spec{
		CA:      CASpec{CN: "Test CA", KeyType: "ecdsa"},
		Brokers: []Node{{Name: "kafka-1", Hosts: []string{"kafka-1.internal"}, Advertise: "broker1.example.com:9095"}, {Name: "kafka-2", Advertise: "10.0.0.2"}, {Name: "kafka-3", Hosts: []string{"kafka-3.internal"}}},
		Clients: []Client{{Name: "app"}},
	}
	dir := t.TempDir()
	res := run(t, dir, spec, nil)
	pv := res.Plan.Preview
	if want := "broker1.example.com:9095,10.0.0.2:9093,kafka-3.internal:9093"; pv.Bootstrap != want {
		t.Errorf("bootstrap %q, want %q", pv.Bootstrap, want)
	}
	for i, want := range []struct{ advertised, sans string }{
		{"broker1.example.com:9095", "DNS:kafka-1, DNS:localhost, DNS:kafka-1.internal, DNS:broker1.example.com, IP:127.0.0.1"},
		{"10.0.0.2:9093", "DNS:kafka-2, DNS:localhost, IP:127.0.0.1, IP:10.0.0.2"},
		{"kafka-3.internal:9093", "DNS:kafka-3, DNS:localhost, DNS:kafka-3.internal, IP:127.0.0.1"},
	} {
		if e := pv.Identities[i]; e.Advertised != want.advertised || e.SANs != want.sans {
			t.Errorf("%s: advertised %q SANs %q, want %q %q", e.Name, e.Advertised, e.SANs, want.advertised, want.sans)
		}
	}
	props, err := os.ReadFile(filepath.Join(dir, "certs/kafka-1/server.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nlisteners=SSL://0.0.0.0:9095\n", "\nadvertised.listeners=SSL://broker1.example.com:9095\n"} {
		if !strings.Contains(string(props), want) {
			t.Errorf("kafka-1 server.properties lacks %q", want)
		}
	}
	client, err := os.ReadFile(filepath.Join(dir, "certs/app/client.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(client), "\nbootstrap.servers=broker1.example.com:9095,10.0.0.2:9093,kafka-3.internal:9093\n") {
		t.Errorf("app client.properties:\n%s", client)
	}
	spec.Brokers[2].Advertise = "kafka-3.example.com"
	res = run(t, dir, spec, func(o *Options) { o.DryRun = true })
	if s := res.Plan.Steps[2]; s.Action != ActionRenew || !strings.Contains(s.Reason, "+DNS:kafka-3.example.com") {
		t.Errorf("new advertise on kafka-3: %s %s", s.Action, s.Reason)
	}
	if s := res.Plan.Steps[3]; s.Action != ActionConfig {
		t.Errorf("app after a bootstrap change: %s %s", s.Action, s.Reason)
	}
}
