package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSpecMerge(t *testing.T) {
	saved := func() *Spec {
		return &Spec{
			Defaults: Defaults{Formats: []string{"pem"}},
			Brokers:  []Node{{Name: "kafka-1", Hosts: []string{"kafka-1.example.com"}}},
			Clients:  []Client{{Name: "app"}},
		}
	}
	for _, tc := range []struct {
		name     string
		add      *Spec
		clients  []string // after the merge
		conflict string   // part of the error; "" means none
	}{
		{"new clients are added", &Spec{Clients: []Client{{Name: "c1"}, {Name: "c2"}}}, []string{"app", "c1", "c2"}, ""},
		{"a name only named again keeps its definition", &Spec{Brokers: []Node{{Name: "kafka-1"}}, Clients: []Client{{Name: "app"}}}, []string{"app"}, ""},
		{"the same setting is no conflict", &Spec{Defaults: Defaults{Formats: []string{"pem"}}, Clients: []Client{{Name: "c1"}}}, []string{"app", "c1"}, ""},
		{"another role", &Spec{Brokers: []Node{{Name: "app"}}}, nil, `broker "app": the saved spec has it as a client`},
		{"another definition", &Spec{Brokers: []Node{{Name: "kafka-1", Hosts: []string{"elsewhere"}}}}, nil, `broker "kafka-1": defined differently`},
		{"another default", &Spec{Defaults: Defaults{Formats: []string{"jks"}}}, nil, "defaults.formats: the saved spec has [pem], this run gives [jks]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := saved()
			got, err := s.Merge(tc.add)
			if tc.conflict != "" {
				if !errors.Is(err, ErrSpecConflict) || !strings.Contains(err.Error(), tc.conflict) {
					t.Fatalf("err = %v, want a conflict naming %q", err, tc.conflict)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got.Clients {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tc.clients) {
				t.Errorf("clients %v, want %v", names, tc.clients)
			}
			if got.Brokers[0].Hosts[0] != "kafka-1.example.com" {
				t.Errorf("broker definition changed: %+v", got.Brokers[0])
			}
			if len(s.Clients) != 1 {
				t.Errorf("Merge changed the saved spec: %+v", s.Clients)
			}
		})
	}
	// A setting the saved spec leaves unset is taken from the run.
	s := &Spec{Clients: []Client{{Name: "app"}}}
	got, err := s.Merge(&Spec{Defaults: Defaults{Days: 90}})
	if err != nil || got.Defaults.Days != 90 || s.Defaults.Days != 0 {
		t.Fatalf("unset default: %v, merged days %d, saved days %d", err, got.Defaults.Days, s.Defaults.Days)
	}
}

// A flag-form run saves the merged spec with the saved file's relative
// paths as they were (resolved against DIR only in the spec it applies).
func TestSpecToApplyKeepsRelativePaths(t *testing.T) {
	dir := t.TempDir()
	saved := "clients:\n  - name: app\n    password:\n      file: pw/app.txt\n"
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	apply, save, err := Options{SaveSpec: SpecMerge}.specToApply(dir, &Spec{Clients: []Client{{Name: "c1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := save.Clients[0].Password.File; got != "pw/app.txt" {
		t.Errorf("saved spec: password file %q, want it relative as written", got)
	}
	if got := apply.Clients[0].Password.File; got != filepath.Join(dir, "pw/app.txt") {
		t.Errorf("applied spec: password file %q, want it resolved against DIR", got)
	}
	if len(save.Clients) != 2 || len(apply.Clients) != 2 {
		t.Errorf("merged clients: saved %d, applied %d, want 2", len(save.Clients), len(apply.Clients))
	}
}
