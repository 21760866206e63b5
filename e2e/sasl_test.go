package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The SASL commands through the binary: what they write, that no secret
// reaches stdout or stderr unless asked, and their usage errors (exit 2).
func TestSASLCommands(t *testing.T) {
	dir := newPKI(t)
	pki := filepath.Join(dir, "kafka-pki")
	// OAUTHBEARER before the issuer exists: a usage error naming the fix.
	if r := kt(t, dir, "issue", "bob", "--auth", "oauthbearer"); r.code != 2 || !strings.Contains(r.stderr, "kafkatls oauth init") {
		t.Errorf("oauthbearer without an issuer: exit %d\n%s", r.code, r.stderr)
	}
	out := ok(t, dir, "oauth", "init", "--json")
	var iss struct{ Kid, Alg, Issuer, Audience, JWKS string }
	if err := json.Unmarshal([]byte(out), &iss); err != nil || iss.Alg != "ES256" || iss.Kid == "" || iss.Audience != "kafka" {
		t.Fatalf("oauth init --json: %v %+v\n%s", err, iss, out)
	}
	if r := kt(t, dir, "oauth", "init"); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("a second oauth init: exit %d\n%s", r.code, r.stderr)
	}

	pwFile := filepath.Join(dir, "alice.pw")
	if err := os.WriteFile(pwFile, []byte("Alice-Passw0rd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := []struct{ args []string }{
		{[]string{"issue", "kafka-1", "--role", "broker", "--sasl", "scram-sha-512,oauthbearer"}},
		{[]string{"issue", "alice", "--auth", "scram-sha-512", "--scram-password-file", pwFile}},
		{[]string{"issue", "bob", "--auth", "oauthbearer", "--json"}},
		{[]string{"token", "bob", "--ttl", "2h", "--scope", "kafka.read"}},
	}
	var printed strings.Builder
	for _, r := range runs {
		res := kt(t, dir, r.args...)
		if res.code != 0 {
			t.Fatalf("kafkatls %s: exit %d\n%s%s", strings.Join(r.args, " "), res.code, res.stdout, res.stderr)
		}
		printed.WriteString(res.stdout + res.stderr)
	}
	token := readTrim(t, filepath.Join(pki, "certs/bob/token.jwt"))
	for what, secret := range map[string]string{
		"the SCRAM password": "Alice-Passw0rd",
		"the token":          token,
		"the signing key":    readTrim(t, filepath.Join(pki, "oauth/signing.key")),
	} {
		if strings.Contains(printed.String(), secret) {
			t.Errorf("%s was printed", what)
		}
	}
	if got := readTrim(t, filepath.Join(pki, "certs/alice/principal.txt")); got != "User:alice" {
		t.Errorf("alice principal.txt %q", got)
	}
	if got := readTrim(t, filepath.Join(pki, "certs/alice/scram-password")); got != "Alice-Passw0rd" {
		t.Errorf("alice scram-password %q", got)
	}
	for _, f := range []string{"certs/alice/scram-password", "certs/bob/token.jwt", "oauth/signing.key"} {
		if st, err := os.Stat(filepath.Join(pki, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	// kafkatls acls names a SASL client by its SASL principal.
	if out := ok(t, dir, "acls", "alice", "--producer", "--topic", "orders"); !strings.Contains(out, "--allow-principal User:alice ") {
		t.Errorf("acls alice:\n%s", out)
	}
	// A renewal keeps the SASL principal: in principal.txt and in the index.
	ok(t, dir, "renew", "alice")
	if got := readTrim(t, filepath.Join(pki, "certs/alice/principal.txt")); got != "User:alice" {
		t.Errorf("alice principal.txt after renew %q", got)
	}
	var idx struct {
		Records []struct{ Name, Status, Principal, Auth string }
	}
	if err := json.Unmarshal([]byte(readTrim(t, filepath.Join(pki, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	current := 0
	for _, r := range idx.Records {
		if r.Name == "alice" && r.Status == "valid" {
			current++
			if r.Principal != "User:alice" || r.Auth != "scram-sha-512" {
				t.Errorf("alice's record after renew: principal %q auth %q", r.Principal, r.Auth)
			}
		}
	}
	if current != 1 {
		t.Errorf("%d valid records for alice", current)
	}
	// --print is the one way to see the token.
	if out := ok(t, dir, "token", "bob", "--print"); strings.Count(strings.TrimSpace(out), ".") != 2 || strings.TrimSpace(out) != readTrim(t, filepath.Join(pki, "certs/bob/token.jwt")) {
		t.Errorf("token --print: %q", out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown auth", []string{"issue", "x1", "--auth", "kerberos"}, "--auth"},
		{"auth on a broker", []string{"issue", "x2", "--role", "broker", "--auth", "scram-sha-512"}, "--auth"},
		{"sasl on a client", []string{"issue", "x3", "--sasl", "scram-sha-512"}, "--sasl"},
		{"sasl mtls", []string{"issue", "x4", "--role", "broker", "--sasl", "mtls"}, "--sasl"},
		{"bad scram password", []string{"issue", "x5", "--auth", "scram-sha-512", "--scram-password-file", writeFile(t, dir, "bad.pw", "has,comma")}, "--scram-password-file"},
		{"token for a SCRAM client", []string{"token", "alice"}, "oauthbearer"},
		{"token for nobody", []string{"token", "nobody"}, "issue it first"},
		{"token ttl too long", []string{"token", "bob", "--ttl", "2400h"}, "lifetime"},
		{"bad issued-at", []string{"token", "bob", "--issued-at", "yesterday"}, "--issued-at"},
		{"bad alg", []string{"oauth", "init", "--force", "--alg", "HS256"}, "--alg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := kt(t, dir, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
	for _, n := range []string{"x1", "x2", "x3", "x4", "x5"} {
		if _, err := os.Stat(filepath.Join(pki, "certs", n)); err == nil {
			t.Errorf("a refused issue left certs/%s", n)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
