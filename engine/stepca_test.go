package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/pki"
)

// TestStepNothingIssued: which step-ca errors release the reservation
// (step-ca certainly signed nothing) and which keep it (it may have).
func TestStepNothingIssued(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"wrong password: nothing sent", &stepca.PasswordError{Provisioner: "kafka"}, true},
		{"token refused", &stepca.PermissionError{Op: "sign", Status: 401}, true},
		{"refusal by the provisioner", &stepca.MismatchError{Field: "validity", Got: "too long"}, true},
		{"a difference in a signed certificate", &stepca.MismatchError{Field: "subject", Want: "CN=a,O=b", Got: "CN=a"}, false},
		{"HTTP 400", &stepca.EngineError{Op: "sign", Status: 400}, true},
		{"HTTP 500 after retries", &stepca.EngineError{Op: "sign", Status: 500}, false},
		{"connection refused", &stepca.EngineError{Op: "sign", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, true},
		{"connection reset after sending", &stepca.EngineError{Op: "sign", Err: &net.OpError{Op: "read", Err: errors.New("reset")}}, false},
		{"timeout", fmt.Errorf("sign: %w", context.DeadlineExceeded), false},
		{"bad request before sending", errors.New("validity 0 days: must be at least 1"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stepNothingIssued(tc.err); got != tc.want {
				t.Errorf("stepNothingIssued(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestStepCAConfig: the settings win over STEP_*; the password comes from
// the file a flag or STEP_PROVISIONER_PASSWORD_FILE names; the directory's
// trust anchor stands in for a root file that is gone.
func TestStepCAConfig(t *testing.T) {
	dir := t.TempDir()
	pw, trust := filepath.Join(dir, "pw"), filepath.Join(dir, "ca.crt")
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{pw, 0o600}, {trust, 0o644}} {
		if err := os.WriteFile(f.path, []byte("secret\n"), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{stepca.EnvCAURL: "https://env:9000", stepca.EnvProvisioner: "env-prov", stepca.EnvPasswordFile: pw}
	getenv := func(k string) string { return env[k] }
	s := pki.EngineSettings{Type: TypeStepCA, Address: "https://ca:9000", Provisioner: "kafka", Root: filepath.Join(dir, "gone.crt")}
	cfg, err := StepCAConfig(s, Credentials{Getenv: getenv, TrustFile: trust})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != s.Address || cfg.Provisioner != "kafka" || cfg.Root != trust || string(cfg.Password) != "secret" {
		t.Errorf("config %v (password %q)", cfg, cfg.Password)
	}
	cfg, err = StepCAConfig(pki.EngineSettings{Type: TypeStepCA}, Credentials{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "https://env:9000" || cfg.Provisioner != "env-prov" {
		t.Errorf("from the environment: %v", cfg)
	}
	if _, err := StepCAConfig(s, Credentials{Getenv: getenv, PasswordFile: filepath.Join(dir, "nosuch")}); err == nil {
		t.Error("a missing password file named by the flag was not an error")
	}
}
