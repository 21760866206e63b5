package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
)

// newSerials are the serials OpenBao holds that before did not.
func newSerials(t *testing.T, bao *realpeer.OpenBaoDev, before map[string]bool) []string {
	t.Helper()
	var out []string
	for s := range engineSerials(t, bao) {
		if !before[s] {
			out = append(out, s)
		}
	}
	return out
}

// recordsOf are the index records of name, by serial (leading zeros
// trimmed, as engineSerials spells them); a record known only by its key
// is under "".
func recordsOf(t *testing.T, pkiDir, name string) map[string]pki.Record {
	t.Helper()
	m := map[string]pki.Record{}
	for _, r := range loadIndex(t, pkiDir).Records {
		if r.Name == name {
			m[strings.TrimLeft(r.Serial, "0")] = r
		}
	}
	return m
}

// revokedAtEngine reports whether OpenBao has revoked serial.
func revokedAtEngine(t *testing.T, bao *realpeer.OpenBaoDev, serial string) bool {
	t.Helper()
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	var pairs []string
	for i := 0; i < len(serial); i += 2 {
		pairs = append(pairs, serial[i:i+2])
	}
	out := bao.Bao(t, "read", "-format=json", "pki/cert/"+strings.Join(pairs, ":"))
	var doc struct {
		Data struct {
			RevocationTime int64 `json:"revocation_time"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
		t.Fatalf("bao read pki/cert/%s: %v\n%s", serial, err, out)
	}
	return doc.Data.RevocationTime > 0
}

// TestEngineReconcileLostAnswers: OpenBao signs, and the answer never
// reaches kafkatls (a proxy throws it away). A lost answer the client
// did not resend leaves the request known only by its key: kafkatls
// reconcile, or the next write on its own, finds the certificate at the
// engine and records it; a lost answer the client resent leaves two
// certificates, both recorded by the run. revoke then revokes each at the
// engine.
func TestEngineReconcileLostAnswers(t *testing.T) {
	bao := realpeer.StartOpenBaoDev(t)
	proxy := realpeer.StartEngineProxy(t, bao.Addr, 0)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "kafka-pki")
	env := []string{"VAULT_TOKEN=" + bao.Token}
	okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", proxy.Addr, "--setup", "--key-type", "ecdsa")

	// loseAndFail issues name while the proxy cuts the signing answer
	// and goes down: the run fails, OpenBao holds one new certificate.
	loseAndFail := func(t *testing.T, name string) string {
		t.Helper()
		before := engineSerials(t, bao)
		proxy.DropAnswers(1, 0, proxy.Down)
		r := ktEnv(t, dir, env, "issue", name)
		proxy.Up()
		if r.code != 1 {
			t.Fatalf("issue %s with its answer lost: exit %d\n%s", name, r.code, r.stderr)
		}
		got := newSerials(t, bao, before)
		if len(got) != 1 {
			t.Fatalf("OpenBao signed %d certificates for %s, want 1", len(got), name)
		}
		recs := recordsOf(t, pkiDir, name)
		if r, ok := recs[""]; !ok || len(recs) != 1 || r.EngineKey == "" || r.Status != pki.StatusUnplaced {
			t.Fatalf("before reconciliation %s is recorded %+v, want one unplaced request known by its key", name, recs)
		}
		return got[0]
	}

	t.Run("lost answer, kafkatls reconcile", func(t *testing.T) {
		serial := loseAndFail(t, "c1")
		out := okEnv(t, dir, env, "reconcile", "--json")
		var rep struct {
			Found    []pki.Record `json:"found"`
			Complete bool         `json:"complete"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("reconcile --json: %v\n%s", err, out)
		}
		if len(rep.Found) != 1 || strings.TrimLeft(rep.Found[0].Serial, "0") != serial || !rep.Complete {
			t.Fatalf("reconcile found %+v, want serial %s\n%s", rep.Found, serial, out)
		}
		recs := recordsOf(t, pkiDir, "c1")
		if r, ok := recs[serial]; !ok || len(recs) != 1 || r.Status != pki.StatusUnplaced || r.SHA256 == "" || r.NotAfter.IsZero() {
			t.Fatalf("after reconcile c1 is recorded %+v, want serial %s unplaced with its fingerprint and expiry", recs, serial)
		}
		if out := okEnv(t, dir, env, "list"); !strings.Contains(out, recs[serial].Serial) {
			t.Errorf("list does not show serial %s:\n%s", serial, out)
		}
		if out := okEnv(t, dir, env, "reconcile"); !strings.Contains(out, "Nothing to reconcile") {
			t.Errorf("second reconcile:\n%s", out)
		}
		okEnv(t, dir, env, "revoke", "c1")
		if !revokedAtEngine(t, bao, serial) {
			t.Errorf("serial %s not revoked at OpenBao", serial)
		}
	})

	t.Run("lost answer, kafkatls reconcile prints what it found", func(t *testing.T) {
		serial := loseAndFail(t, "c5")
		out := okEnv(t, dir, env, "reconcile")
		t.Logf("kafkatls reconcile:\n%s", out)
		rec := recordsOf(t, pkiDir, "c5")[serial]
		if !strings.Contains(out, "Recorded 1 certificate") || !strings.Contains(out, "c5") || rec.Serial == "" || !strings.Contains(out, rec.Serial) {
			t.Errorf("reconcile output does not name c5's serial %s:\n%s", serial, out)
		}
	})

	t.Run("lost answer, recorded by the next write", func(t *testing.T) {
		serial := loseAndFail(t, "c2")
		okEnv(t, dir, env, "issue", "c3")
		if r, ok := recordsOf(t, pkiDir, "c2")[serial]; !ok || r.Status != pki.StatusUnplaced {
			t.Fatalf("after the next issue c2 is recorded %+v, want serial %s unplaced", recordsOf(t, pkiDir, "c2"), serial)
		}
	})

	t.Run("answer lost then resent: both certificates recorded and revoked", func(t *testing.T) {
		before := engineSerials(t, bao)
		proxy.DropAnswers(1, http.StatusBadGateway, nil)
		okEnv(t, dir, env, "issue", "c4")
		got := newSerials(t, bao, before)
		if len(got) != 2 || proxy.Dropped() == 0 {
			t.Fatalf("OpenBao signed %d certificates for c4 (%d answers lost), want 2", len(got), proxy.Dropped())
		}
		recs := recordsOf(t, pkiDir, "c4")
		statuses := map[string]int{}
		for _, s := range got {
			r, ok := recs[s]
			if !ok {
				t.Fatalf("serial %s of c4 is not in the index: %+v", s, recs)
			}
			statuses[r.Status]++
		}
		if statuses[pki.StatusValid] != 1 || statuses[pki.StatusUnplaced] != 1 {
			t.Errorf("c4's two certificates are %v, want one valid (placed) and one unplaced", statuses)
		}
		okEnv(t, dir, env, "revoke", "c4")
		for _, s := range got {
			if !revokedAtEngine(t, bao, s) {
				t.Errorf("serial %s of c4 not revoked at OpenBao", s)
			}
		}
	})
	checkFaultInvariants(t, pkiDir, true)
}
