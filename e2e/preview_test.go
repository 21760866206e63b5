package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestBundleDryRunPreviewIsWhatItWrites: `bundle --dry-run --json` names
// exactly the files the same bundle then writes (the flag form saves its
// spec too), and the text dry run prints each identity's files.
func TestBundleDryRunPreviewIsWhatItWrites(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	args := []string{"bundle", "--dir", pkiDir, "--brokers", "kafka-1,kafka-2", "--controllers", "c1", "--clients", "app", "--key-type", "ecdsa", "--formats", "p12,pem", "--export", "k8s"}
	var out struct {
		Plan struct {
			Preview struct {
				Identities []struct {
					Dir   string   `json:"dir"`
					Files []string `json:"files"`
				} `json:"identities"`
				Files    []string `json:"files"`
				SpecFile string   `json:"specFile"`
			} `json:"preview"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(ok(t, dir, append(args, "--dry-run", "--json")...)), &out); err != nil {
		t.Fatal(err)
	}
	pv := out.Plan.Preview
	want := append(slices.Clone(pv.Files), pv.SpecFile)
	for _, e := range pv.Identities {
		for _, f := range e.Files {
			want = append(want, e.Dir+"/"+f)
		}
	}
	slices.Sort(want)
	if len(pv.Identities) != 4 || pv.SpecFile != "kafkatls.yaml" {
		t.Fatalf("preview %+v", pv)
	}
	text := ok(t, dir, append(args, "--dry-run")...)
	for _, e := range pv.Identities {
		if !strings.Contains(text, e.Dir+"/") || !strings.Contains(text, strings.Join(e.Files, " ")) {
			t.Errorf("the text dry run lacks %s's files:\n%s", e.Dir, text)
		}
	}
	if _, err := os.Stat(pkiDir); !os.IsNotExist(err) {
		t.Fatalf("the dry run created %s", pkiDir)
	}

	ok(t, dir, args...)
	var got []string
	filepath.WalkDir(pkiDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() && d.Name() != ".lock" {
			rel, _ := filepath.Rel(pkiDir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the bundle wrote:\n %v\nits dry run promised:\n %v", got, want)
	}
}
