package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/pki"
)

// TestEngineStepCAReconcile: step-ca has no API that lists what it
// signed, so kafkatls reconcile on a step-ca directory says so: nothing
// to reconcile (exit 0) while every request has its serial, and which
// requests it cannot find (exit 1, the index unchanged) once one whose
// answer was lost is known only by its key.
func TestEngineStepCAReconcile(t *testing.T) {
	s, pwFile := startStepCA(t, false)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	env := []string{stepca.EnvPasswordFile + "=" + pwFile}
	okEnv(t, dir, env, "init", "--engine", "step-ca", "--ca-url", s.URL, "--ca-root", s.RootFile, "--provisioner", "kafka", "--key-type", "ecdsa", "--leaf-days", "30")
	okEnv(t, dir, env, "issue", "c1")
	if out := okEnv(t, dir, env, "reconcile"); !strings.Contains(out, "Nothing to reconcile") || !strings.Contains(out, "step-ca has no API that lists") {
		t.Errorf("reconcile with every serial known:\n%s", out)
	}

	// A request whose answer was lost, as a killed run leaves it.
	idx := loadIndex(t, pkiDir)
	lost := pki.Record{Name: "c2", Role: pki.RoleClient, Status: pki.StatusUnplaced, EngineKey: strings.Repeat("ab", 32), IssuedAt: time.Now().UTC().Truncate(time.Second)}
	idx.Add(lost)
	if err := idx.Save(pkiDir); err != nil {
		t.Fatal(err)
	}
	before := readTrim(t, filepath.Join(pkiDir, "index.json"))
	r := ktEnv(t, dir, env, "reconcile")
	if r.code != 1 || !strings.Contains(r.stderr, "no API that lists the certificates it signed") || !strings.Contains(r.stderr, "c2 (key sha256 "+lost.EngineKey) || !strings.Contains(r.stderr, "step ca revoke") {
		t.Errorf("reconcile with a lost answer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := readTrim(t, filepath.Join(pkiDir, "index.json")); got != before {
		t.Errorf("reconcile on step-ca changed the index")
	}
}
