package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// configPassword is the keystore password client.properties carries.
func configPassword(t *testing.T, dir string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ssl\.keystore\.password=(.*)$`).FindStringSubmatch(readTrim(t, filepath.Join(dir, "client.properties")))
	if m == nil {
		t.Fatal("client.properties has no ssl.keystore.password")
	}
	return m[1]
}

// keytoolOpens fails the test unless keytool opens both keystores of dir
// with the password client.properties carries.
func keytoolOpens(t *testing.T, dir string) {
	t.Helper()
	pw := configPassword(t, dir)
	for _, ks := range []string{"keystore.p12", "keystore.jks"} {
		if out, err := realpeer.RunErr("keytool", "-list", "-keystore", filepath.Join(dir, ks), "-storepass", pw); err != nil {
			t.Errorf("keytool cannot open %s with the password in client.properties: %v\n%s", ks, err, out)
		}
	}
}

// TestRenewTakesThePasswordTheStoresHave is the reported bug: with the
// password file edited (or a link planted in its place), renew used to
// re-encrypt the stores under the file's password and leave
// client.properties with the old one. Now renew refuses, naming the files,
// and writes nothing; once the file is restored it renews, and keytool
// opens the renewed stores with the password in client.properties.
func TestRenewTakesThePasswordTheStoresHave(t *testing.T) {
	realpeer.Need(t, "keytool")
	dir := newPKI(t)
	ok(t, dir, "issue", "c1")
	c1 := filepath.Join(dir, "kafka-pki/certs/c1")
	pwFile := filepath.Join(c1, "password")
	orig, _ := os.ReadFile(pwFile)
	snapshot := func() map[string][]byte {
		out := map[string][]byte{}
		entries, _ := os.ReadDir(c1)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(c1, e.Name()))
			out[e.Name()] = b
		}
		return out
	}

	for _, tc := range []struct {
		name  string
		plant func()
		want  []string
	}{
		{name: "edited password file", plant: func() { os.WriteFile(pwFile, []byte("SomeOtherPassw0rd\n"), 0o600) },
			want: []string{"kafka-pki/certs/c1/password does not open keystore.jks", "client.properties (ssl.key.password) does", "nothing was written"}},
		{name: "password file replaced by a link", plant: func() {
			target := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(target, []byte("SomeOtherPassw0rd\n"), 0o600)
			os.Remove(pwFile)
			os.Symlink(target, pwFile)
		}, want: []string{"kafka-pki/certs/c1/password is a symbolic link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.plant()
			before := snapshot()
			r := kt(t, dir, "renew", "c1")
			if r.code != 1 {
				t.Errorf("renew: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("renew's error lacks %q:\n%s", w, r.stderr)
				}
			}
			after := snapshot()
			for f, b := range before {
				if !bytes.Equal(after[f], b) {
					t.Errorf("renew changed %s", f)
				}
			}
			keytoolOpens(t, c1)
			// Restore the password file for the next case.
			os.Remove(pwFile)
			os.WriteFile(pwFile, orig, 0o600)
		})
	}
	if out := ok(t, dir, "list"); !regexp.MustCompile(`(?m)^c1 .*valid`).MatchString(out) || strings.Count(out, "c1") != 1 {
		t.Errorf("a refused renew left a record:\n%s", out)
	}

	ok(t, dir, "renew", "c1")
	keytoolOpens(t, c1)
	if got := readTrim(t, pwFile); got != configPassword(t, c1) {
		t.Error("after renew the password file and client.properties disagree")
	}
}
