package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// TestLintDirGate: `kafkatls lint DIR` as a CI gate fails (exit 1, the file
// named) on what breaks Kafka: a truncated keystore.p12 or tls.key, and a
// client.properties whose keystore password keytool refuses. Before, each
// passed with exit 0.
func TestLintDirGate(t *testing.T) {
	keytool := realpeer.Need(t, "keytool")[0]
	for _, tc := range []struct {
		name    string
		breakIt func(t *testing.T, id string)
		file    string
		check   string
	}{
		{"truncated keystore.p12", func(t *testing.T, id string) { truncate(t, filepath.Join(id, "keystore.p12")) }, "keystore.p12", "unreadable"},
		{"truncated tls.key", func(t *testing.T, id string) { truncate(t, filepath.Join(id, "tls.key")) }, "tls.key", "unreadable"},
		{"client.properties password", func(t *testing.T, id string) {
			p := filepath.Join(id, "client.properties")
			// The real peer: keytool opens the keystore with the configured
			// password, and refuses it once the config changed.
			keytoolOpens := func() bool {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				pw := ""
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "ssl.keystore.password="); ok {
						pw = v // generated passwords are letters and digits: nothing escaped
					}
				}
				pwFile := filepath.Join(t.TempDir(), "pw")
				if err := os.WriteFile(pwFile, []byte(pw), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err = realpeer.RunErr(keytool, "-list", "-keystore", filepath.Join(id, "keystore.p12"), "-storepass:file", pwFile)
				return err == nil
			}
			if !keytoolOpens() {
				t.Fatal("keytool refuses the keystore with the password client.properties gives")
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), "ssl.keystore.password=", "ssl.keystore.password=changed", 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if keytoolOpens() {
				t.Fatal("keytool opens the keystore with the changed password")
			}
		}, "client.properties", "config-password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newPKI(t)
			ok(t, dir, "issue", "client1")
			id := filepath.Join(dir, "kafka-pki", "certs", "client1")
			if r := kt(t, dir, "lint", "kafka-pki"); r.code != 0 {
				t.Fatalf("lint of a fresh PKI: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			tc.breakIt(t, id)
			lr := lintJSON(t, dir, "kafka-pki")
			if lr.code != 1 {
				t.Errorf("lint exit %d, want 1", lr.code)
			}
			found := false
			for _, f := range lr.Findings {
				found = found || (filepath.Base(f.File) == tc.file && f.Severity == "error" && f.Check == tc.check)
			}
			if !found {
				t.Errorf("no %s error on %s: %+v", tc.check, tc.file, lr.Findings)
			}
		})
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}
