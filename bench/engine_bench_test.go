package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/engine"
	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/pki"
)

// BenchmarkBundleEngine is a 100-client bundle (plus one broker, ECDSA
// P-256, every store format) signed by a real OpenBao dev server on
// loopback, beside the same bundle on the local CA: what a shared engine
// costs, and what the bundle's signing pool (bundle.Options.EngineWorkers)
// buys over one request at a time. Each timed run starts from a PKI
// directory already initialised against the engine, as a CI runner's
// would be. Skipped where bao is not installed (realpeer.OpenBaoBinary).
func BenchmarkBundleEngine(b *testing.B) {
	spec := manyClientsSpec(p256, 100)
	b.Run("100clients-"+keyName(p256)+"/local-CA", func(b *testing.B) {
		base := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			quiesce(b)
			runBundle(b, spec, bundle.Options{Dir: runDir(base, i)})
		}
		b.ReportMetric(float64(identities(spec)), "identities")
	})
	// One dev server for the engine cases (started after the local case,
	// which runs whether or not bao is installed).
	bao := realpeer.StartOpenBaoDev(b)
	c, err := vault.New(vault.Config{Address: bao.Addr, Token: bao.Token})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Setup(context.Background(), vault.SetupOptions{RootCN: "Bench Engine Root", Subject: pki.SubjectDefaults{Organization: "Acme"}}); err != nil {
		b.Fatal(err)
	}
	// The engine on loopback, and behind 20 ms more per request (a
	// remote engine: another zone, a VPN), where the pool pays.
	slow := realpeer.StartEngineProxy(b, bao.Addr, 0)
	slow.SetDelay(20 * time.Millisecond)
	for _, tc := range []struct {
		name    string
		addr    string
		workers int
	}{
		{"loopback/1-in-flight", bao.Addr, 1},
		{fmt.Sprintf("loopback/%d-in-flight", bundle.DefaultEngineWorkers), bao.Addr, bundle.DefaultEngineWorkers},
		{"loopback+20ms/1-in-flight", slow.Addr, 1},
		{fmt.Sprintf("loopback+20ms/%d-in-flight", bundle.DefaultEngineWorkers), slow.Addr, bundle.DefaultEngineWorkers},
	} {
		b.Run(fmt.Sprintf("100clients-%s/openbao-%s", keyName(p256), tc.name), func(b *testing.B) {
			es := pki.EngineSettings{Type: "vault", Address: tc.addr, Mount: "pki", Role: "kafka"}
			opener := engine.Opener(engine.Credentials{Getenv: func(k string) string {
				if k == vault.EnvToken {
					return bao.Token
				}
				return ""
			}})
			e, err := opener(context.Background(), es)
			if err != nil {
				b.Fatal(err)
			}
			engineChain, err := e.Chain(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			base := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				b.StopTimer()
				dir := runDir(base, i)
				if _, err := pki.Init(pki.InitOptions{Dir: dir, Key: p256, Engine: &es, EngineChain: engineChain, Subject: pki.SubjectDefaults{Organization: "Acme"}}); err != nil {
					b.Fatal(err)
				}
				quiesce(b) // restarts the timer
				runBundle(b, spec, bundle.Options{Dir: dir, Engines: opener, EngineWorkers: tc.workers})
			}
			b.ReportMetric(float64(identities(spec)), "identities")
		})
	}
}
