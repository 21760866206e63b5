package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A CA whose creation was killed between its renames is completed by the
// next transaction's recovery from the intent; a stale intent (the key is
// another CA's, or never arrived) is dropped and changes nothing.
func TestRecoverCreation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noKey    bool // an engine's CA: no key on this host
		lose     []string
		otherKey bool // the key in place is not the intent's
		complete bool // recovery places the lost files
	}{
		{name: "killed after the key", lose: []string{CACertFile, settingsFile, TrustFile}, complete: true},
		{name: "killed before the certificate", lose: []string{CACertFile}, complete: true},
		{name: "engine CA killed before the certificate", noKey: true, lose: []string{CACertFile, settingsFile}, complete: true},
		{name: "killed before the key", lose: []string{CAKeyFile, CACertFile, settingsFile, TrustFile}},
		{name: "the key is another CA's", lose: []string{CACertFile}, otherKey: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			_, err := Init(InitOptions{Dir: dir, Key: KeySpec{Type: ECDSA}})
			if err != nil {
				t.Fatal(err)
			}
			var keyPEM []byte
			if !tc.noKey {
				if keyPEM, err = os.ReadFile(filepath.Join(dir, CAKeyFile)); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string][]byte{}
			var public []creationFile
			for _, f := range []string{TrustFile, settingsFile, CACertFile} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				want[f] = b
				public = append(public, creationFile{Path: f, Data: b})
			}
			intentKey := keyPEM
			if tc.otherKey {
				intentKey = []byte("another key")
			}
			intent, err := newCreation(intentKey, public)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, creatingFile), intent, 0o644)
			for _, f := range tc.lose {
				os.Remove(filepath.Join(dir, f))
			}
			if err := recoverFiles(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, creatingFile)); !os.IsNotExist(err) {
				t.Errorf("the intent is still there (%v)", err)
			}
			for _, f := range tc.lose {
				b, err := os.ReadFile(filepath.Join(dir, f))
				switch {
				case tc.complete && f != CAKeyFile && !bytes.Equal(b, want[f]):
					t.Errorf("%s not restored (%v)", f, err)
				case !tc.complete && err == nil:
					t.Errorf("%s placed from a stale intent", f)
				}
			}
			if tc.complete && !tc.noKey {
				if _, err := Open(dir, nil); err != nil {
					t.Errorf("the completed CA does not open: %v", err)
				}
			}
		})
	}
}
