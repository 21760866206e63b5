package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
)

// bundleArgs is a flag-form bundle of brokers brokers and clients clients.
func bundleArgs(brokers, clients int) []string {
	var b, c []string
	for i := range brokers {
		b = append(b, fmt.Sprintf("b%d", i+1))
	}
	for i := range clients {
		c = append(c, fmt.Sprintf("c%02d", i+1))
	}
	return []string{"bundle", "--brokers", strings.Join(b, ","), "--clients", strings.Join(c, ","), "--key-type", "ecdsa"}
}

// TestEngineBundleSignsConcurrently: a bundle through a real OpenBao has
// eight signing requests in flight at once (the default pool), never one
// at a time and never more. A proxy in front of OpenBao counts them and
// holds each until eight are in flight, so nothing is timed.
func TestEngineBundleSignsConcurrently(t *testing.T) {
	bao := realpeer.StartOpenBaoDev(t)
	proxy := realpeer.StartEngineProxy(t, bao.Addr, 8)
	dir := t.TempDir()
	env := []string{"VAULT_TOKEN=" + bao.Token}
	okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", proxy.Addr, "--setup", "--key-type", "ecdsa")
	okEnv(t, dir, env, bundleArgs(2, 18)...)
	if got := proxy.MaxInflight(); got != 8 {
		t.Errorf("%d signing requests in flight at most, want 8", got)
	}
	pkiDir := filepath.Join(dir, "kafka-pki")
	checkFaultInvariants(t, pkiDir, true)
	checkEngineRecords(t, pkiDir, bao, 20)
}

// checkEngineRecords checks the index of a finished bundle of n
// identities: one valid record per identity, no serial recorded twice,
// and every serial the index names issued by the engine (bao list
// pki/certs).
func checkEngineRecords(t *testing.T, pkiDir string, bao *realpeer.OpenBaoDev, n int) {
	t.Helper()
	atEngine := engineSerials(t, bao)
	seen, valid := map[string]bool{}, map[string]int{}
	for _, r := range loadIndex(t, pkiDir).Records {
		if r.Serial != "" {
			if seen[r.Serial] {
				t.Errorf("serial %s recorded twice", r.Serial)
			}
			seen[r.Serial] = true
			if !atEngine[strings.TrimLeft(r.Serial, "0")] {
				t.Errorf("%s: serial %s (%s) is not at the engine", r.Name, r.Serial, r.Status)
			}
		}
		if r.Status == pki.StatusValid {
			valid[r.Name]++
		}
	}
	if len(valid) != n {
		t.Errorf("%d identities with a valid record, want %d", len(valid), n)
	}
	for name, k := range valid {
		if k != 1 {
			t.Errorf("%s: %d valid records", name, k)
		}
	}
}

// TestBundleSurvivesLeaderLoss: a bundle of 40 identities signs through
// a real three-node OpenBao Raft cluster, and the active node is stopped
// (SIGTERM) or killed (SIGKILL) after the tenth certificate; a proxy in
// front of the node the client is pointed at holds later requests until
// it is gone, so the loss always falls mid-run. Pointed at a standby, the
// run completes against the new active node (engine/vault retries from
// the standby until it names the new one). Pointed at the lost leader itself, the run
// fails cleanly, again while the node is down, and completes once it is
// back (as a standby). Either way no identity is half-written, no
// certificate is recorded twice, every serial in the index is at the
// engine (bao list pki/certs), every certificate the engine issued in the
// case is in the index (reconciliation), and kafkatls verify passes.
func TestBundleSurvivesLeaderLoss(t *testing.T) {
	realpeer.Need(t, "keytool")
	cl := realpeer.StartOpenBaoCluster(t, 3)
	env := []string{"VAULT_TOKEN=" + cl.Nodes[0].Token}
	okEnv(t, t.TempDir(), env, "init", "--engine", "vault", "--vault-addr", cl.Nodes[0].Addr, "--setup", "--key-type", "ecdsa")
	for _, tc := range []struct {
		name      string
		viaLeader bool // the client is pointed at the leader, not a standby
		kill      bool // SIGKILL rather than SIGTERM
	}{
		{"through a standby, leader stopped", false, false},
		{"through a standby, leader killed", false, true},
		{"through the leader, leader stopped", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One cluster for all: each case loses the active node of the
			// moment, and brings it back (a standby) at its end.
			lead := cl.Active(t)
			viaIdx := lead
			if !tc.viaLeader {
				viaIdx = (lead + 1) % len(cl.Nodes)
			}
			via := cl.Nodes[viaIdx]
			// A standby serves reads from its own copy: wait for the role.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				if _, err := via.BaoErr(via.Token, "read", "pki/roles/kafka"); err == nil {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("role not visible on %s after 30 s: %v", via.Addr, err)
				}
			}
			proxy := realpeer.StartEngineProxy(t, via.Addr, 0)
			dir := t.TempDir()
			okEnv(t, dir, env, "init", "--engine", "vault", "--vault-addr", proxy.Addr, "--key-type", "ecdsa")

			const total, stopAfter = 40, 10
			stoppedAt := -1
			proxy.After(stopAfter, func() {
				if tc.kill {
					cl.Kill(lead)
				} else {
					cl.Stop(lead)
				}
				if tc.viaLeader {
					proxy.Down() // the client's node is gone: its address refuses
				}
				stoppedAt = proxy.Answered()
			})
			defer cl.Restart(t, lead)
			args := bundleArgs(3, total-3)
			pkiDir := filepath.Join(dir, "kafka-pki")
			before := engineSerials(t, cl.Nodes[lead])
			start := time.Now()
			r := ktEnv(t, dir, env, args...)
			t.Logf("first run: exit %d after %v; leader n%d lost after %d certificates\n%s", r.code, time.Since(start).Round(time.Millisecond), lead, stoppedAt, r.stderr)
			if stoppedAt < 0 || stoppedAt >= total {
				t.Fatalf("the leader was not lost mid-run (after %d of %d certificates)", stoppedAt, total)
			}
			checkFaultInvariants(t, pkiDir, true)
			if tc.viaLeader {
				if r.code != 1 {
					t.Fatalf("run through the lost leader: exit %d, want 1", r.code)
				}
				idxBefore := readTrim(t, filepath.Join(pkiDir, "index.json"))
				again := ktEnv(t, dir, env, args...)
				if again.code != 1 || !strings.Contains(again.stderr, "connection refused") {
					t.Errorf("re-run while the node is down: exit %d\n%s", again.code, again.stderr)
				}
				if got := readTrim(t, filepath.Join(pkiDir, "index.json")); got != idxBefore {
					t.Errorf("a run that reached no engine changed the index")
				}
				cl.Restart(t, lead)
				proxy.Up()
			}
			if r.code != 0 {
				if !tc.viaLeader {
					// The client retries from the standby, which names the
					// new active node (or forwards to it) once elected.
					t.Errorf("the run through a standby did not follow the new leader: exit %d", r.code)
				}
				if r.code != 1 {
					t.Errorf("failed run: exit %d, want 1", r.code)
				}
				okEnv(t, dir, env, args...)
				checkFaultInvariants(t, pkiDir, true)
			}
			checkEngineRecords(t, pkiDir, cl.Nodes[cl.Active(t)], total)
			// A sign whose answer was lost with the leader and was sent
			// again left the engine a certificate the run never saw:
			// reconciliation (at the end of the run that resent it, or at
			// the start of the re-run) records it. A request whose answer
			// never came is known by its key only if the engine holds no
			// certificate for it, which reconciliation checked.
			indexed, byKey, reconciled := map[string]bool{}, 0, 0
			for _, r := range loadIndex(t, pkiDir).Records {
				indexed[strings.TrimLeft(r.Serial, "0")] = true
				if r.Serial != "" && r.Status == pki.StatusUnplaced && !r.EngineChecked.IsZero() {
					reconciled++ // found at the engine by reconciliation
				}
				if r.Serial == "" {
					byKey++
					if r.EngineChecked.IsZero() {
						t.Errorf("%s: request known by its key only, never looked for at the engine", r.Name)
					}
				}
			}
			unknown := 0
			for s := range engineSerials(t, cl.Nodes[cl.Active(t)]) {
				if !before[s] && !indexed[s] {
					unknown++
				}
			}
			t.Logf("certificates recorded by reconciliation: %d; requests known by key only (the engine holds nothing for them): %d", reconciled, byKey)
			if unknown > 0 {
				t.Errorf("the engine issued %d certificates in this case whose serial the index does not name", unknown)
			}
			if out := okEnv(t, dir, env, "verify"); !strings.Contains(out, "c37") {
				t.Errorf("verify:\n%s", out)
			}
		})
	}
}
