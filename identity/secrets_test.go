package identity

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
)

// issued writes a client identity c1 with password pw and returns its
// directory.
func issued(t *testing.T, pw string) string {
	t.Helper()
	p, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "pki"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	tx := &pki.Tx{Dir: p.Dir, PKI: p, Index: &pki.Index{}}
	res, err := Issue(tx, pki.CertRequest{Name: "c1", Role: pki.RoleClient}, p.Settings.Key, Options{Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return res.Dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ReadPassword is the stores' password, and refuses a password file or a
// config that disagrees with them, or a link in their place.
func TestReadPassword(t *testing.T) {
	const pw = "Original-Pw1"
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, dir string)
		wantErr []string // empty: pw is returned
	}{
		{name: "as issued"},
		{name: "password file edited", change: func(t *testing.T, dir string) { write(t, filepath.Join(dir, PasswordFile), "Edited-Pw22\n") },
			wantErr: []string{"password does not open keystore.jks", "client.properties (ssl.key.password) does", "put that password back in"}},
		{name: "password file removed", change: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, PasswordFile)) },
			wantErr: []string{"password is missing", "client.properties"}},
		{name: "password file a link to the right password", change: func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "pw")
			write(t, other, pw+"\n")
			os.Remove(filepath.Join(dir, PasswordFile))
			if err := os.Symlink(other, filepath.Join(dir, PasswordFile)); err != nil {
				t.Fatal(err)
			}
		}, wantErr: []string{filepath.Join("c1", PasswordFile) + " is a symbolic link"}},
		{name: "config edited", change: func(t *testing.T, dir string) {
			path := filepath.Join(dir, "client.properties")
			b, _ := os.ReadFile(path)
			write(t, path, strings.Replace(string(b), "ssl.truststore.password="+pw, "ssl.truststore.password=Other-Pw333", 1))
		}, wantErr: []string{"client.properties carries a password (ssl.truststore.password) that does not open keystore.jks"}},
		{name: "config refers to a config provider", change: func(t *testing.T, dir string) {
			path := filepath.Join(dir, "client.properties")
			b, _ := os.ReadFile(path)
			write(t, path, strings.ReplaceAll(string(b), "password="+pw, "password=${file:/etc/kafka/secrets.properties:pw}"))
		}},
		{name: "escaped value in a config", change: func(t *testing.T, dir string) {
			path := filepath.Join(dir, "client.properties")
			b, _ := os.ReadFile(path)
			write(t, path, strings.Replace(string(b), "ssl.key.password="+pw, `ssl.key.password=Origin\u0061l-Pw1`, 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := issued(t, pw)
			if tc.change != nil {
				tc.change(t, dir)
			}
			got, err := ReadPassword(dir)
			if len(tc.wantErr) == 0 {
				if err != nil || got != pw {
					t.Fatalf("ReadPassword = %q, %v; want %q", got, err, pw)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadPassword = %q, want an error", got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// No reader of an identity's secrets follows a link, and Reissue refuses
// one rather than dropping it.
func TestSecretsAreNotReadThroughLinks(t *testing.T) {
	dir := issued(t, "Original-Pw1")
	outside := filepath.Join(t.TempDir(), "tls.key")
	b, _ := os.ReadFile(filepath.Join(dir, KeyPEM))
	write(t, outside, string(b))
	os.Remove(filepath.Join(dir, KeyPEM))
	if err := os.Symlink(outside, filepath.Join(dir, KeyPEM)); err != nil {
		t.Fatal(err)
	}
	var link *fsx.SymlinkError
	if _, err := LoadKey(dir); !errors.As(err, &link) || link.Path != filepath.Join(dir, KeyPEM) {
		t.Errorf("LoadKey through a link: %v", err)
	}
	if err := CheckReissue(dir, true); !errors.As(err, &link) {
		t.Errorf("CheckReissue with a link: %v", err)
	}
	if _, err := Load(dir, pki.RoleClient); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Load through a link: %v", err)
	}
}

// Rewriting truststores (ca rotate) refuses a link rather than replacing it.
func TestRewriteTruststoresRefusesLinks(t *testing.T) {
	dir := issued(t, "Original-Pw1")
	ts := filepath.Join(dir, TruststoreJKS)
	outside := filepath.Join(t.TempDir(), "ts.jks")
	b, _ := os.ReadFile(ts)
	write(t, outside, string(b))
	os.Remove(ts)
	if err := os.Symlink(outside, ts); err != nil {
		t.Fatal(err)
	}
	cert, err := LoadCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	caBefore, _ := os.ReadFile(filepath.Join(dir, CAPEM))
	var link *fsx.SymlinkError
	if _, err := RewriteTruststores(dir, []*x509.Certificate{cert}); !errors.As(err, &link) || link.Path != ts {
		t.Errorf("RewriteTruststores over a link: %v", err)
	}
	if st, err := os.Lstat(ts); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced (%v)", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, CAPEM)); string(after) != string(caBefore) {
		t.Error("ca.crt was rewritten before the refusal")
	}
}
