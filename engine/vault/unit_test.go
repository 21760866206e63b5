package vault

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/kafkatls/kafkatls/pki"
)

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content string
		mode          os.FileMode
		want, errHas  string
		errIs         error
	}{
		{name: "ok with newline", content: "s.abc123\n", mode: 0o600, want: "s.abc123"},
		{name: "readable by group", content: "s.abc", mode: 0o640, errIs: ErrTokenFileMode, errHas: "chmod 600"},
		{name: "readable by others", content: "s.abc", mode: 0o604, errIs: ErrTokenFileMode},
		{name: "empty", content: " \n", mode: 0o600, errHas: "empty"},
		{name: "too large", content: strings.Repeat("a", MaxTokenFileSize+1), mode: 0o600, errHas: "larger than 4096"},
		{name: "two lines", content: "a\nb\n", mode: 0o600, errHas: "more than one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTokenFile(write(strings.ReplaceAll(tt.name, " ", "_"), tt.content, tt.mode))
			if tt.errHas == "" && tt.errIs == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, got %q", got)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("error %v is not %v", err, tt.errIs)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q lacks %q", err, tt.errHas)
			}
		})
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTokenFile(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := ReadTokenFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestConfigFromEnvAndNew(t *testing.T) {
	env := map[string]string{EnvAddr: "https://vault.example:8200", EnvToken: " s.tok\n", EnvNamespace: "team", EnvCACert: ""}
	cfg := ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.Address != "https://vault.example:8200" || cfg.Token != "s.tok" || cfg.Namespace != "team" || cfg.Mount != "pki" || cfg.Role != "kafka" {
		t.Fatalf("ConfigFromEnv: %+v", cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.api.Namespace() != "team" || c.api.Token() != "s.tok" {
		t.Errorf("client namespace %q token %q", c.api.Namespace(), c.api.Token())
	}
	for name, bad := range map[string]Config{
		"no address": {Token: "x"},
		"no token":   {Address: "http://127.0.0.1:1"},
		"bad scheme": {Address: "vault:8200", Token: "x"},
		"role path":  {Address: "http://127.0.0.1:1", Token: "x", Role: "a/b"},
		"no CA cert": {Address: "https://127.0.0.1:1", Token: "x", CACert: filepath.Join(t.TempDir(), "none.pem")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(bad); !errors.Is(err, ErrConfig) {
				t.Fatalf("New(%+v) = %v, want ErrConfig", bad, err)
			}
		})
	}
	// VAULT_SKIP_VERIFY must not turn off certificate checks behind our back.
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	c, err = New(Config{Address: "https://127.0.0.1:1", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.api.CloneConfig().HttpClient.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil {
		t.Fatalf("transport %T", c.api.CloneConfig().HttpClient.Transport)
	}
	if tr.TLSClientConfig.InsecureSkipVerify {
		t.Error("VAULT_SKIP_VERIFY=true turned off certificate verification")
	}
}

func TestSetupCommandsAndPolicy(t *testing.T) {
	cmds := SetupCommands(Config{Mount: "pki-kafka", Role: "brokers"}, SetupOptions{
		RootCN: "Acme Kafka Root", Subject: pki.SubjectDefaults{OrganizationalUnit: "kafka", Organization: "Acme Corp"},
	}, "bao")
	want := []string{
		"bao secrets enable -path=pki-kafka -max-lease-ttl=87600h pki",
		"bao write pki-kafka/root/generate/internal common_name='Acme Kafka Root' key_type=ec key_bits=256 ttl=87600h",
	}
	if len(cmds) != 3 || cmds[0] != want[0] || cmds[1] != want[1] {
		t.Fatalf("commands:\n%s", strings.Join(cmds, "\n"))
	}
	for _, s := range []string{"bao write pki-kafka/roles/brokers ", " key_type=any ", " server_flag=true ", " client_flag=true ", " use_csr_sans=true ",
		" use_csr_common_name=true ", " cn_validations=disabled ", " ou=kafka ", " organization='Acme Corp' ", " locality='' ", " ttl=8760h ", " max_ttl=19800h "} {
		if !strings.Contains(cmds[2], s) {
			t.Errorf("role command lacks %q:\n%s", s, cmds[2])
		}
	}
	p := Policy("pki-kafka/", "brokers")
	for _, s := range []string{`path "pki-kafka/sign/brokers"`, `path "pki-kafka/roles/brokers"`, `path "pki-kafka/revoke"`, `path "pki-kafka/crl/pem"`} {
		if !strings.Contains(p, s) {
			t.Errorf("policy lacks %s:\n%s", s, p)
		}
	}
	if strings.Contains(p, "issue") && strings.Contains(p, "/issue/") {
		t.Errorf("policy grants /issue:\n%s", p)
	}
}

// TestDocsMatchCode keeps docs/engines.md's policy and commands the ones
// the code writes.
func TestDocsMatchCode(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "engines.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := regexp.MustCompile(` \\\n\s+`).ReplaceAllString(string(b), " ")
	if !strings.Contains(doc, Policy("pki", "kafka")) {
		t.Errorf("docs/engines.md lacks the policy Policy(\"pki\", \"kafka\") writes:\n%s", Policy("pki", "kafka"))
	}
	for _, cmd := range SetupCommands(Config{}, SetupOptions{RootCN: "Acme Kafka Root", Subject: pki.SubjectDefaults{OrganizationalUnit: "kafka", Organization: "Acme"}}, "bao") {
		if !strings.Contains(doc, cmd) {
			t.Errorf("docs/engines.md lacks the command:\n%s", cmd)
		}
	}
}
