package pki

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot reads every regular file under dir, by relative path.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".lock" {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// issuedPKI is a PKI with one valid identity, c1, in its index.
func issuedPKI(t *testing.T, encrypted ...bool) (*PKI, InitOptions) {
	t.Helper()
	o := InitOptions{Dir: filepath.Join(t.TempDir(), "pki"), CN: "Test CA", Subject: SubjectDefaults{Organization: "Acme"}, Key: KeySpec{Type: ECDSA}}
	if len(encrypted) > 0 && encrypted[0] {
		o.Passphrase = []byte("correct horse")
	}
	p, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	cert, err := p.Sign(CertRequest{Name: "c1"}, key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := &Index{}
	idx.Add(NewRecord("c1", RoleClient, cert, false))
	if err := idx.Save(p.Dir); err != nil {
		t.Fatal(err)
	}
	return p, o
}

// Init never replaces or deletes CA material without Force, whatever part
// of a CA is left, and says what is there.
func TestInitRefusesEarlierCA(t *testing.T) {
	for _, tc := range []struct {
		name      string
		encrypted bool
		remove    []string
		change    func(o *InitOptions)
		same      bool
		wantErr   []string
	}{
		{name: "same settings", same: true, wantErr: []string{"already initialised"}},
		{name: "other settings", change: func(o *InitOptions) { o.Key = KeySpec{Type: RSA}; o.LeafDays = 30 },
			wantErr: []string{"the key is ECDSA P-256, not RSA-2048", "the leaf validity is 365 days, not 30 days", "Nothing was changed"}},
		{name: "passphrase where none was", change: func(o *InitOptions) { o.Passphrase = []byte("secret") },
			wantErr: []string{"the CA key is not encrypted and a passphrase was given"}},
		{name: "encrypted, same passphrase", encrypted: true, same: true, wantErr: []string{"already initialised"}},
		{name: "encrypted, other passphrase", encrypted: true, change: func(o *InitOptions) { o.Passphrase = []byte("other horse") },
			wantErr: []string{"does not decrypt with the passphrase given"}},
		{name: "encrypted, no passphrase", encrypted: true, change: func(o *InitOptions) { o.Passphrase = nil },
			wantErr: []string{"encrypted at rest and no passphrase was given"}},
		{name: "key without certificate", remove: []string{CACertFile},
			wantErr: []string{"holds a CA key (ca/ca.key) but no CA certificate (ca/ca.crt)", "Restore ca/ca.crt", "cp "}},
		{name: "certificate without key", remove: []string{CAKeyFile},
			wantErr: []string{"holds a CA certificate (ca/ca.crt, CN=Test CA,O=Acme) but not its key (ca/ca.key)", "Restore ca/ca.key"}},
		{name: "trust file and index only", remove: []string{CACertFile, CAKeyFile},
			wantErr: []string{"holds no CA", "ca.crt, index.json", "Restore ca/ca.crt and ca/ca.key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, o := issuedPKI(t, tc.encrypted)
			for _, f := range tc.remove {
				if err := os.Remove(filepath.Join(p.Dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, p.Dir)
			if tc.change != nil {
				tc.change(&o)
			}
			_, err := Init(o)
			var e *ExistingCAError
			if !errors.As(err, &e) {
				t.Fatalf("Init: %v, want an *ExistingCAError", err)
			}
			if !tc.same && (!errors.Is(err, ErrCAExists) || e.Orphans() != "its 1 identity") {
				t.Errorf("refusal: Is(ErrCAExists) %v, Orphans() %q; want true, \"its 1 identity\"", errors.Is(err, ErrCAExists), e.Orphans())
			}
			if e.Same() != tc.same {
				t.Errorf("Same() = %v, want %v (differences %q)", e.Same(), tc.same, e.Differences)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			after := snapshot(t, p.Dir)
			if len(after) != len(before) {
				t.Errorf("files changed: %d before, %d after", len(before), len(after))
			}
			for f, b := range before {
				if !bytes.Equal(after[f], b) {
					t.Errorf("%s changed", f)
				}
			}
		})
	}
}

// Open does not send a directory whose CA key is there to a plain init.
func TestOpenIncompleteCA(t *testing.T) {
	p, _ := issuedPKI(t)
	os.Remove(filepath.Join(p.Dir, CACertFile))
	_, err := Open(p.Dir, nil)
	if !errors.Is(err, ErrIncompleteCA) || errors.Is(err, ErrNoCA) {
		t.Fatalf("Open: %v, want ErrIncompleteCA and not ErrNoCA", err)
	}
	if strings.Contains(err.Error(), "run `kafkatls init") || !strings.Contains(err.Error(), "never created over the key") {
		t.Errorf("Open's error leads to init: %v", err)
	}
	// The offered copy is the right certificate: the CA opens and signs.
	if !strings.Contains(err.Error(), "cp "+filepath.Join(p.Dir, TrustFile)) {
		t.Fatalf("no restore hint: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(p.Dir, TrustFile))
	os.WriteFile(filepath.Join(p.Dir, CACertFile), b, 0o644)
	q, err := Open(p.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Signer(); err != nil {
		t.Fatalf("restored CA does not sign: %v", err)
	}
	// A missing key is named as such.
	os.Remove(filepath.Join(p.Dir, CAKeyFile))
	q, _ = Open(p.Dir, nil)
	if _, err := q.Signer(); err == nil || !errors.Is(err, ErrMissingCAKey) || !strings.Contains(err.Error(), "restore it from a backup") {
		t.Errorf("Signer without key: %v", err)
	}
}

// Force moves every file of the old CA into ca/replaced-<time>/, laid out
// as the directory was, key 0600 in 0700 directories, and names the
// identities it orphans.
func TestInitForceKeepsOldCA(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove []string
		moved  []string
	}{
		{name: "complete CA", moved: []string{CAKeyFile, CACertFile, TrustFile, indexFile, settingsFile}},
		{name: "key without certificate", remove: []string{CACertFile}, moved: []string{CAKeyFile, TrustFile, indexFile, settingsFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, o := issuedPKI(t)
			for _, f := range tc.remove {
				os.Remove(filepath.Join(p.Dir, f))
			}
			before := snapshot(t, p.Dir)
			o.Force = true
			np, err := Init(o)
			if err != nil {
				t.Fatal(err)
			}
			r := np.Replaced
			if r == nil || !strings.HasPrefix(filepath.Base(r.Dir), "replaced-") || filepath.Dir(r.Dir) != filepath.Join(p.Dir, CADir) {
				t.Fatalf("Replaced = %+v", r)
			}
			if strings.Join(r.Files, ",") != strings.Join(tc.moved, ",") {
				t.Errorf("moved %v, want %v", r.Files, tc.moved)
			}
			if strings.Join(r.Orphaned, ",") != "c1" {
				t.Errorf("orphaned %v, want [c1]", r.Orphaned)
			}
			for _, f := range tc.moved {
				b, err := os.ReadFile(filepath.Join(r.Dir, f))
				if err != nil || !bytes.Equal(b, before[f]) {
					t.Errorf("%s not kept aside intact: %v", f, err)
				}
			}
			for path, want := range map[string]os.FileMode{r.Dir: 0o700, filepath.Join(r.Dir, CADir): 0o700, filepath.Join(r.Dir, CAKeyFile): 0o600} {
				if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
					t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
				}
			}
			if idx, _ := LoadIndex(p.Dir); len(idx.Records) != 0 {
				t.Errorf("the new CA's index holds the old CA's records: %+v", idx.Records)
			}
			if q, err := Open(p.Dir, nil); err != nil || !q.CA.Equal(np.CA) {
				t.Errorf("new CA not in place: %v", err)
			}
		})
	}
}

// Two forced inits in the same second keep both old CAs.
func TestInitForceTwiceInASecond(t *testing.T) {
	p, o := issuedPKI(t)
	o.Force = true
	a, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Replaced.Dir == b.Replaced.Dir {
		t.Fatalf("both moved to %s", a.Replaced.Dir)
	}
	keys, _ := filepath.Glob(filepath.Join(p.Dir, CADir, "replaced-*", CAKeyFile))
	if len(keys) != 2 {
		t.Errorf("kept keys %v, want 2", keys)
	}
}
