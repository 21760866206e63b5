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
