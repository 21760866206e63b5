package sasl_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

func TestParseAuth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want sasl.Auth
		ok   bool
	}{
		{"", sasl.MTLS, true},
		{"mtls", sasl.MTLS, true},
		{"SCRAM-SHA-512", sasl.ScramSHA512, true},
		{"scram-sha-256", sasl.ScramSHA256, true},
		{" OAuthBearer ", sasl.OAuthBearer, true},
		{"plain", "", false},
		{"gssapi", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := sasl.ParseAuth(tc.in)
			var ue *sasl.UnknownAuthError
			if tc.ok != (err == nil) || got != tc.want || (!tc.ok && !errors.As(err, &ue)) {
				t.Fatalf("ParseAuth(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseMechanisms(t *testing.T) {
	got, err := sasl.ParseMechanisms([]string{"scram-sha-512,oauthbearer", "SCRAM-SHA-512", ""})
	if err != nil || len(got) != 2 || got[0] != sasl.ScramSHA512 || got[1] != sasl.OAuthBearer {
		t.Fatalf("ParseMechanisms = %v, %v", got, err)
	}
	if m := sasl.Mechanisms(got); strings.Join(m, ",") != "SCRAM-SHA-512,OAUTHBEARER" {
		t.Errorf("Mechanisms = %v", m)
	}
	var ns *sasl.NotSASLError
	if _, err := sasl.ParseMechanisms([]string{"mtls"}); !errors.As(err, &ns) {
		t.Errorf("mtls as a SASL mechanism: %v, want a NotSASLError", err)
	}
	if _, err := sasl.ParseMechanisms([]string{"plain"}); err == nil {
		t.Error("plain accepted")
	}
}

func TestPrincipal(t *testing.T) {
	cert := "User:CN=app,OU=Apps"
	for a, want := range map[sasl.Auth]string{sasl.MTLS: cert, "": cert, sasl.ScramSHA512: "User:app", sasl.OAuthBearer: "User:app"} {
		if got := sasl.Principal(a, "app", cert); got != want {
			t.Errorf("Principal(%q) = %q, want %q", a, got, want)
		}
	}
}

// unquoteJAAS reads a quoted JAAS option value the way java.io.StreamTokenizer
// (Kafka's JaasConfig, quoteChar '"') does for the characters JAASQuote
// writes: a backslash takes the next character literally (\\ and \").
func unquoteJAAS(t *testing.T, s string) (string, string) {
	t.Helper()
	if !strings.HasPrefix(s, `"`) {
		t.Fatalf("%q does not start with a quote", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	t.Fatalf("%q: unterminated", s)
	return "", ""
}

// The password survives JAAS quoting and then .properties escaping: what
// java.util.Properties loads and JaasConfig unquotes is the password.
func TestScramJAASEscaping(t *testing.T) {
	for _, pw := range []string{
		`plain-password`,
		`with"quote`,
		`back\slash`,
		`trailing\`,
		`a=b=c`,
		`"\"\\=;required`,
		`#!:= spaces inside`,
		`ünïcödé`,
	} {
		t.Run(pw, func(t *testing.T) {
			jaas, err := sasl.ScramJAAS("app", pw)
			if err != nil {
				t.Fatal(err)
			}
			line := "sasl.jaas.config=" + templates.PropertiesValue(jaas) + "\n"
			loaded := templates.ParseProperties([]byte(line))["sasl.jaas.config"]
			if loaded != jaas {
				t.Fatalf("properties round trip: %q, want %q", loaded, jaas)
			}
			_, rest, ok := strings.Cut(loaded, " password=")
			if !ok {
				t.Fatalf("no password option in %q", loaded)
			}
			got, tail := unquoteJAAS(t, rest)
			if got != pw || tail != ";" {
				t.Errorf("JAAS password %q (then %q), want %q", got, tail, pw)
			}
		})
	}
	var je *sasl.JAASError
	if _, err := sasl.ScramJAAS("app", "line\nbreak"); !errors.As(err, &je) || je.Option != "password" {
		t.Errorf("a newline in the password: %v, want a JAASError on password", err)
	}
}

func TestValidateScramPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"Abcdefgh2345": true, "p@ss-w0rd.x": true, "short": false, "with space1": false,
		"comma,inside": false, "brack[et]s1": false, "equal=sign1": false, `quote"d123`: false, `back\slash1`: false,
	} {
		if err := sasl.ValidateScramPassword(pw); (err == nil) != ok {
			t.Errorf("ValidateScramPassword(%q) = %v, want ok %v", pw, err, ok)
		}
	}
}

func TestFileURL(t *testing.T) {
	for _, tc := range []struct {
		path, want string
	}{
		{"/etc/kafka/oauth/jwks.json", "file:/etc/kafka/oauth/jwks.json"},
		{"/tmp/a_b-c.d/~x+y", "file:/tmp/a_b-c.d/~x+y"},
		{"relative/jwks.json", ""},
		{"/with space/jwks.json", ""},
		{"/per%cent", ""},
		{"/q?uery", ""},
	} {
		got, err := sasl.FileURL(tc.path)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("FileURL(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	// Kafka compares the allow-list entries with the configured URL as
	// strings: exactly the URL, once.
	if got := sasl.AllowListOption("file:/b", "file:/a", "file:/b"); got != "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file:/a,file:/b" {
		t.Errorf("AllowListOption = %q", got)
	}
}

// readJWKS is what a broker does with the JWKS file: a key set by kid.
func readJWKS(t *testing.T, iss *sasl.Issuer) *jose.JSONWebKeySet {
	t.Helper()
	b, err := os.ReadFile(iss.JWKSPath())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return &set
}

// A minted token verifies against the JWKS file (by its kid) with a second
// implementation, carries the claims Kafka's validator requires, and the
// files have the modes secrets need.
func TestMintVerifiesAgainstJWKS(t *testing.T) {
	for _, alg := range []string{sasl.ES256, sasl.RS256} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			iss, err := sasl.InitIssuer(dir, sasl.IssuerOptions{Algorithm: alg, Issuer: "https://kafkatls.test", Audience: "kafka-test"})
			if err != nil {
				t.Fatal(err)
			}
			for name, mode := range map[string]os.FileMode{sasl.SigningKeyFile: 0o600, sasl.JWKSFile: 0o644, sasl.IssuerFile: 0o644} {
				fi, err := os.Stat(filepath.Join(dir, sasl.OAuthDir, name))
				if err != nil || fi.Mode().Perm() != mode {
					t.Errorf("%s: %v, mode %v, want %v", name, err, fi.Mode().Perm(), mode)
				}
			}
			now := time.Now().Truncate(time.Second)
			tok, err := iss.Mint("orders-app", sasl.TokenOptions{TTL: 2 * time.Hour, Scope: []string{"kafka.read", "kafka.write"}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(tok.JWT, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if h := parsed.Headers[0]; h.KeyID != iss.Settings.KeyID || h.Algorithm != alg {
				t.Errorf("header kid %q alg %q, want %q %q", h.KeyID, h.Algorithm, iss.Settings.KeyID, alg)
			}
			keys := readJWKS(t, iss).Key(parsed.Headers[0].KeyID)
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys for kid %q", len(keys), parsed.Headers[0].KeyID)
			}
			switch keys[0].Key.(type) {
			case *ecdsa.PublicKey, *rsa.PublicKey:
			default:
				t.Fatalf("JWKS key is %T, want a public key only", keys[0].Key)
			}
			var std jwt.Claims
			var extra struct {
				Scope string `json:"scope"`
			}
			if err := parsed.Claims(keys[0].Key, &std, &extra); err != nil {
				t.Fatalf("signature does not verify against the JWKS: %v", err)
			}
			if err := std.ValidateWithLeeway(jwt.Expected{Issuer: "https://kafkatls.test", AnyAudience: jwt.Audience{"kafka-test"},
				Subject: "orders-app", Time: now.Add(time.Minute)}, 0); err != nil {
				t.Errorf("claims: %v", err)
			}
			if std.IssuedAt.Time() != now || std.Expiry.Time() != now.Add(2*time.Hour) || extra.Scope != "kafka.read kafka.write" {
				t.Errorf("iat %v exp %v scope %q", std.IssuedAt.Time(), std.Expiry.Time(), extra.Scope)
			}
			if err := std.ValidateWithLeeway(jwt.Expected{Time: now.Add(3 * time.Hour)}, 0); !errors.Is(err, jwt.ErrExpired) {
				t.Errorf("3 h later: %v, want expired", err)
			}
			// Reopened from disk, the issuer signs with the same key.
			again, err := sasl.OpenIssuer(dir)
			if err != nil {
				t.Fatal(err)
			}
			tok2, err := again.Mint("x", sasl.TokenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p2, _ := jwt.ParseSigned(tok2.JWT, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err := p2.Claims(keys[0].Key, &std); err != nil {
				t.Errorf("a reopened issuer signs with another key: %v", err)
			}
		})
	}
}

// init refuses to replace a key; --force rotates it and keeps the previous
// public key in the JWKS, so tokens it signed still verify until they
// expire; a second rotation drops the oldest.
func TestIssuerRotation(t *testing.T) {
	dir := t.TempDir()
	first, err := sasl.InitIssuer(dir, sasl.IssuerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sasl.InitIssuer(dir, sasl.IssuerOptions{}); !errors.Is(err, sasl.ErrIssuerExists) {
		t.Fatalf("second init: %v, want ErrIssuerExists", err)
	}
	old, _ := first.Mint("app", sasl.TokenOptions{})
	second, err := sasl.InitIssuer(dir, sasl.IssuerOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if second.Settings.KeyID == first.Settings.KeyID {
		t.Fatal("rotation kept the kid")
	}
	set := readJWKS(t, second)
	if len(set.Keys) != 2 || len(set.Key(first.Settings.KeyID)) != 1 || len(set.Key(second.Settings.KeyID)) != 1 {
		t.Fatalf("JWKS after rotation: %d keys", len(set.Keys))
	}
	p, _ := jwt.ParseSigned(old.JWT, []jose.SignatureAlgorithm{jose.ES256})
	var c jwt.Claims
	if err := p.Claims(set.Key(first.Settings.KeyID)[0].Key, &c); err != nil {
		t.Errorf("a token of the previous key no longer verifies: %v", err)
	}
	third, err := sasl.InitIssuer(dir, sasl.IssuerOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	set = readJWKS(t, third)
	if len(set.Keys) != 2 || len(set.Key(first.Settings.KeyID)) != 0 {
		t.Errorf("second rotation: %d keys, the first key still there: %v", len(set.Keys), len(set.Key(first.Settings.KeyID)) != 0)
	}
}

func TestIssuerAndTokenErrors(t *testing.T) {
	dir := t.TempDir()
	var ie *sasl.IssuerError
	for _, o := range []sasl.IssuerOptions{{Algorithm: "HS256"}, {Audience: "a,b"}, {Issuer: " x"}} {
		if _, err := sasl.InitIssuer(dir, o); !errors.As(err, &ie) {
			t.Errorf("InitIssuer(%+v): %v, want an IssuerError", o, err)
		}
	}
	if _, err := sasl.OpenIssuer(dir); !errors.Is(err, sasl.ErrNoIssuer) {
		t.Errorf("OpenIssuer on an empty dir: %v", err)
	}
	iss, err := sasl.InitIssuer(dir, sasl.IssuerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var te *sasl.TokenError
	for _, tc := range []struct {
		sub string
		o   sasl.TokenOptions
	}{
		{"", sasl.TokenOptions{}},
		{"app", sasl.TokenOptions{TTL: -time.Second}},
		{"app", sasl.TokenOptions{TTL: sasl.MaxTokenTTL + time.Second}},
		{"app", sasl.TokenOptions{Scope: []string{"two words"}}},
	} {
		if _, err := iss.Mint(tc.sub, tc.o); !errors.As(err, &te) {
			t.Errorf("Mint(%q, %+v): %v, want a TokenError", tc.sub, tc.o, err)
		}
	}
}

// scram.sh runs: alter passes the password in a 0600 file, never as an
// argument, and removes it; format passes one --add-scram per user. The
// tools are stand-ins that record what they got.
func TestScramScriptRuns(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "alice-password")
	if err := os.WriteFile(pwFile, []byte("Secr3tPassw0rd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := sasl.ScramScript([]sasl.ScramUser{{Name: "alice", Auth: sasl.ScramSHA512, PasswordFile: pwFile}},
		sasl.ScramScriptOptions{Bootstrap: "kafka-1:9093", CommandConfig: "/pki/certs/kafka-1/client.properties"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(script), "Secr3tPassw0rd") {
		t.Fatal("the script embeds the password")
	}
	path := filepath.Join(dir, "scram.sh")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	// The stand-in prints its arguments and, for --add-config-file, the
	// file's mode and content.
	tool := filepath.Join(dir, "tool")
	if err := os.WriteFile(tool, []byte(`#!/bin/sh
for a in "$@"; do printf 'arg:%s\n' "$a"; done
prev=
for a in "$@"; do
  if [ "$prev" = --add-config-file ]; then printf 'mode:%s\n' "$(stat -c %a "$a")"; printf 'file:%s\n' "$(cat "$a")"; echo "$a" >`+dir+`/tmpname; fi
  prev=$a
done
`), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command("sh", append([]string{path}, args...)...)
		cmd.Env = append(os.Environ(), "KAFKA_CONFIGS="+tool, "KAFKA_STORAGE="+tool)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("scram.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	alter := run("alter")
	for _, want := range []string{"arg:--entity-name\narg:alice", "arg:--bootstrap-server\narg:kafka-1:9093", "mode:600",
		"file:SCRAM-SHA-512=iterations=8192,password=Secr3tPassw0rd"} {
		if !strings.Contains(alter, want) {
			t.Errorf("alter: no %q in\n%s", want, alter)
		}
	}
	if strings.Contains(alter, "arg:SCRAM") || strings.Contains(alter, "arg:Secr3t") {
		t.Errorf("alter passed the credential as an argument:\n%s", alter)
	}
	if tmp, _ := os.ReadFile(filepath.Join(dir, "tmpname")); len(tmp) == 0 {
		t.Error("the stand-in saw no --add-config-file")
	} else if _, err := os.Stat(strings.TrimSpace(string(tmp))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the credential file %s was left behind", tmp)
	}
	format := run("format", "-t", "ID", "-c", "server.properties")
	if !strings.Contains(format, "arg:format\narg:-t\narg:ID\narg:-c\narg:server.properties\narg:--add-scram\narg:SCRAM-SHA-512=[name=alice,iterations=8192,password=Secr3tPassw0rd]") {
		t.Errorf("format:\n%s", format)
	}
	// A password file someone edited into what Kafka cannot parse: refused.
	if err := os.WriteFile(pwFile, []byte("has,comma\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", path, "alter")
	cmd.Env = append(os.Environ(), "KAFKA_CONFIGS="+tool)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "cannot carry") {
		t.Errorf("a password with a comma: %v\n%s", err, out)
	}
}

// The same passwords, checked by the JDK: java.util.Properties loads the
// line kafkatls writes and java.io.StreamTokenizer, set up as Kafka's
// JaasConfig sets it up, reads back the exact user name and password.
func TestScramJAASWithJava(t *testing.T) {
	classes := realpeer.JavaClasses(t)
	for i, pw := range []string{`plain-password`, `with"quote`, `back\slash`, `trailing\`, `a=b=c`, `"\"\\=;required`, `#!:= spaces`, `ünïcödé €`, `/* not a comment */`, `// nor this`} {
		t.Run(pw, func(t *testing.T) {
			jaas, err := sasl.ScramJAAS("app-user", pw)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), fmt.Sprintf("client%d.properties", i))
			if err := os.WriteFile(file, []byte("sasl.jaas.config="+templates.PropertiesValue(jaas)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out := realpeer.Run(t, "java", "-cp", classes, "JaasOptions", file, "sasl.jaas.config")
			got := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				k, v, _ := strings.Cut(line, "\t")
				b, err := hex.DecodeString(v)
				if err != nil {
					t.Fatalf("java printed %q", line)
				}
				got[k] = string(b)
			}
			want := map[string]string{"module": sasl.ScramLoginModule, "flag": "required", "username": "app-user", "password": pw}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Java read %q, want %q", got, want)
			}
		})
	}
}
