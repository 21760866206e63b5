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

	"github.com/kafkatls/kafkatls/internal/realpeer"
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

// TestBundleDryRunEngineIntermediate: `bundle --dry-run` for a new
// directory whose engine (a real OpenBao mount) signs with an
// intermediate reads the engine's chain, so its preview lists
// ca/chain.pem and is exactly what the run then writes; without the
// engine's token the dry run still plans and warns that the preview may
// omit ca/chain.pem.
func TestBundleDryRunEngineIntermediate(t *testing.T) {
	realpeer.Need(t, "openssl")
	bao := realpeer.StartOpenBaoDev(t)
	baoIntermediateMount(t, bao)
	bao.Bao(t, append([]string{"write", "pki-int/roles/kafka"}, strings.Fields("key_type=any key_bits=0 server_flag=true client_flag=true "+
		"use_csr_common_name=true use_csr_sans=true enforce_hostnames=false cn_validations=disabled allow_ip_sans=true "+
		"allow_any_name=true organization=Acme ttl=8760h max_ttl=19800h no_store=false")...)...)
	dir := t.TempDir()
	spec := "ca:\n  engine: vault\n  address: " + bao.Addr + "\n  mount: pki-int\n  role: kafka\n  org: Acme\n  keyType: ecdsa\n" +
		"brokers:\n  - name: kafka-1\nclients:\n  - name: app\n"
	if err := os.WriteFile(filepath.Join(dir, "kafkatls.yaml"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	pkiDir := filepath.Join(dir, "pki")
	args := []string{"bundle", "-f", "kafkatls.yaml", "--dir", pkiDir}
	token := []string{"VAULT_TOKEN=" + bao.Token}

	r := ktEnv(t, dir, nil, append(args, "--dry-run", "--json")...)
	if r.code != 0 || !strings.Contains(r.stderr, "the preview may omit ca/chain.pem") {
		t.Errorf("dry run without the token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	var out struct {
		Plan struct {
			Preview struct {
				Identities []struct {
					Dir   string   `json:"dir"`
					Files []string `json:"files"`
				} `json:"identities"`
				Files []string `json:"files"`
			} `json:"preview"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(okEnv(t, dir, token, append(args, "--dry-run", "--json")...)), &out); err != nil {
		t.Fatal(err)
	}
	pv := out.Plan.Preview
	if !slices.Contains(pv.Files, "ca/chain.pem") {
		t.Errorf("the dry run's preview lacks ca/chain.pem: %v", pv.Files)
	}
	want := slices.Clone(pv.Files)
	for _, e := range pv.Identities {
		for _, f := range e.Files {
			want = append(want, e.Dir+"/"+f)
		}
	}
	slices.Sort(want)
	if _, err := os.Stat(pkiDir); !os.IsNotExist(err) {
		t.Fatalf("the dry run created %s", pkiDir)
	}

	okEnv(t, dir, token, args...)
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
