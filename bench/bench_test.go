package bench

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
)

// Benchmarks write under b.TempDir(), i.e. $TMPDIR: run them once on a
// disk and once with TMPDIR=/dev/shm to separate fsync from CPU work.
// Whole-bundle benchmarks flush the page cache (sync, untimed) before each
// timed bundle, as bench/compare.sh does before each CLI run: back to back,
// a bundle would also wait for the previous one's write-back, which no user
// running one bundle sees.

var (
	rsa2048 = pki.KeySpec{Type: pki.RSA, Size: 2048}
	p256    = pki.KeySpec{Type: pki.ECDSA, Size: 256}
	// allKeys is every key kafkatls generates.
	allKeys = []pki.KeySpec{rsa2048, {Type: pki.RSA, Size: 3072}, {Type: pki.RSA, Size: 4096}, p256, {Type: pki.ECDSA, Size: 384}}
	// bundleKeys are the two key types the comparison with the classic flow uses.
	bundleKeys = []pki.KeySpec{rsa2048, p256}
)

func keyName(ks pki.KeySpec) string {
	if ks.Type == pki.ECDSA {
		return fmt.Sprintf("ECDSA-P%d", ks.Size)
	}
	return fmt.Sprintf("RSA-%d", ks.Size)
}

// classicSpec is the set the classic openssl + keytool flow builds
// (bench/classic.sh): a CA, two brokers, ZooKeeper and one client, every
// store format.
func classicSpec(ks pki.KeySpec) *bundle.Spec {
	return &bundle.Spec{
		CA:         bundle.CASpec{CN: "Bench CA", Org: "Acme", KeyType: string(ks.Type), KeySize: ks.Size},
		Brokers:    []bundle.Node{{Name: "kafka-1"}, {Name: "kafka-2"}},
		ZooKeepers: []bundle.Node{{Name: "zookeeper"}},
		Clients:    []bundle.Client{{Name: "client1"}},
		Defaults:   bundle.Defaults{KeyType: string(ks.Type), KeySize: ks.Size, Formats: []string{"jks", "p12", "pem"}},
	}
}

// manyClientsSpec is a KRaft cluster with one broker and n clients.
func manyClientsSpec(ks pki.KeySpec, n int) *bundle.Spec {
	s := &bundle.Spec{
		CA:       bundle.CASpec{CN: "Bench CA", Org: "Acme", KeyType: string(ks.Type), KeySize: ks.Size},
		Brokers:  []bundle.Node{{Name: "kafka-1"}},
		Defaults: bundle.Defaults{KeyType: string(ks.Type), KeySize: ks.Size, Formats: []string{"jks", "p12", "pem"}},
	}
	for i := range n {
		s.Clients = append(s.Clients, bundle.Client{Name: fmt.Sprintf("client-%03d", i+1)})
	}
	return s
}

func identities(s *bundle.Spec) int {
	return len(s.Brokers) + len(s.Controllers) + len(s.ZooKeepers) + len(s.Clients)
}

// runDir returns a fresh directory for iteration i under base.
// quiesce writes back everything dirty, with b's timer stopped (callers
// that time by hand call it outside their timings).
func quiesce(b *testing.B) {
	b.StopTimer()
	syscall.Sync()
	b.StartTimer()
}

func runDir(base string, i int) string { return filepath.Join(base, fmt.Sprintf("run-%d", i)) }

func runBundle(b *testing.B, spec *bundle.Spec, o bundle.Options) {
	b.Helper()
	res, err := bundle.Run(context.Background(), spec, o)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Entities) != identities(spec) {
		b.Fatalf("issued %d identities, want %d", len(res.Entities), identities(spec))
	}
}

// --- key generation -------------------------------------------------------

func BenchmarkGenerateKey(b *testing.B) {
	for _, ks := range allKeys {
		b.Run(keyName(ks), func(b *testing.B) {
			for b.Loop() {
				if _, err := pki.GenerateKey(ks); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerateKeyAllCores is key generation on every core at once:
// ns/op is the wall time per key, the floor a bundle can reach.
func BenchmarkGenerateKeyAllCores(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run(keyName(ks), func(b *testing.B) {
			b.SetParallelism(1) // GOMAXPROCS goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := pki.GenerateKey(ks); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// --- signing and encoding -------------------------------------------------

type fixture struct {
	p     *pki.PKI
	key   crypto.Signer
	chain []*x509.Certificate
	trust []stores.TrustEntry
	req   pki.CertRequest
}

// newFixture makes a CA of type ks in a temporary directory and one signed
// broker certificate with a key of the same type.
func newFixture(b *testing.B, ks pki.KeySpec) *fixture {
	b.Helper()
	p, err := pki.Init(pki.InitOptions{Dir: b.TempDir(), CN: "Bench CA", Key: ks, Subject: pki.SubjectDefaults{Organization: "Acme"}})
	if err != nil {
		b.Fatal(err)
	}
	key, err := pki.GenerateKey(ks)
	if err != nil {
		b.Fatal(err)
	}
	req := pki.CertRequest{Name: "kafka-1", Role: pki.RoleBroker, SANs: pki.DefaultServerSANs("kafka-1")}
	cert, err := p.Sign(req, key.Public(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{
		p: p, key: key, req: req,
		chain: append([]*x509.Certificate{cert}, p.Chain()...),
		trust: []stores.TrustEntry{{Alias: identity.TrustAlias, Cert: p.TrustAnchor()}},
	}
}

const benchPassword = "bench-password-0123456789abcdef"

func BenchmarkSign(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run(keyName(ks), func(b *testing.B) {
			f := newFixture(b, ks)
			for b.Loop() {
				if _, err := f.p.Sign(f.req, f.key.Public(), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode times every store an identity gets, in memory.
func BenchmarkEncode(b *testing.B) {
	for _, ks := range bundleKeys {
		f := newFixture(b, ks)
		now := time.Now()
		cases := []struct {
			name string
			fn   func() ([]byte, error)
		}{
			{"JKSKeystore", func() ([]byte, error) { return stores.JKSKeystore("kafka-1", f.key, f.chain, benchPassword, now) }},
			{"JKSTruststore", func() ([]byte, error) { return stores.JKSTruststore(f.trust, benchPassword, now) }},
			{"PKCS12Keystore-modern", func() ([]byte, error) { return stores.PKCS12Keystore(f.key, f.chain, benchPassword, stores.Modern) }},
			{"PKCS12Keystore-legacy", func() ([]byte, error) { return stores.PKCS12Keystore(f.key, f.chain, benchPassword, stores.Legacy) }},
			{"PKCS12Truststore-modern", func() ([]byte, error) { return stores.PKCS12Truststore(f.trust, benchPassword, stores.Modern) }},
			{"PEMKey", func() ([]byte, error) { return pem.EncodeKey(f.key) }},
		}
		for _, c := range cases {
			b.Run(keyName(ks)+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := c.fn(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEntityWrite is one identity's directory from a signed
// certificate: every store, PEM file and config, written and fsynced.
func BenchmarkEntityWrite(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run(keyName(ks), func(b *testing.B) {
			f := newFixture(b, ks)
			m := identity.Material{Name: "kafka-1", Role: pki.RoleBroker, Key: f.key, Cert: f.chain[0], CAChain: f.chain[1:], Trust: []*x509.Certificate{f.p.TrustAnchor()}}
			base := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				if _, err := identity.Write(runDir(base, i), m, identity.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// --- whole bundles --------------------------------------------------------

// BenchmarkBundle is `kafkatls bundle` in process on a fresh directory:
// the classic set for both key types, and 100 ECDSA clients. issue-ms is
// the time until every identity is written, commit-ms the rest (fsync of
// the identities, the index, truststores and other bundle files).
func BenchmarkBundle(b *testing.B) {
	type bc struct {
		name string
		spec *bundle.Spec
	}
	cases := []bc{
		{"classic-" + keyName(rsa2048), classicSpec(rsa2048)},
		{"classic-" + keyName(p256), classicSpec(p256)},
		{"100clients-" + keyName(p256), manyClientsSpec(p256, 100)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			base := b.TempDir()
			var issue, commit time.Duration
			i := 0
			for b.Loop() {
				i++
				// The last Progress call marks every identity written (not
				// yet fsynced): before it, keys, signing, encoding and file
				// creation; after it, fsync, the index and bundle outputs.
				var last time.Time
				o := bundle.Options{Dir: runDir(base, i), Progress: func(bundle.Progress) { last = time.Now() }}
				quiesce(b)
				t := time.Now()
				runBundle(b, c.spec, o)
				end := time.Now()
				issue += last.Sub(t)
				commit += end.Sub(last)
			}
			b.ReportMetric(float64(identities(c.spec)), "identities")
			b.ReportMetric(float64(issue.Microseconds())/1e3/float64(i), "issue-ms")
			b.ReportMetric(float64(commit.Microseconds())/1e3/float64(i), "commit-ms")
		})
	}
}

// BenchmarkBundleKeygenOnly generates the keys of the classic set the way
// a bundle does (the CA's on one goroutine while the identities' are
// generated on every core) and nothing else: the floor
// BenchmarkBundle/classic-* is measured against.
func BenchmarkBundleKeygenOnly(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run("classic-"+keyName(ks), func(b *testing.B) {
			n := identities(classicSpec(ks))
			for b.Loop() {
				if err := generateLikeBundle(ks, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// generateLikeBundle generates the CA's key on this goroutine while n
// identity keys are generated on every core, as bundle.Run does.
func generateLikeBundle(ks pki.KeySpec, n int) error {
	var (
		wg  sync.WaitGroup
		err error
	)
	wg.Go(func() { _, err = generateKeys(ks, n) })
	_, caErr := pki.GenerateKey(ks)
	wg.Wait()
	if caErr != nil {
		return caErr
	}
	return err
}

// generateKeys generates n keys on every core.
func generateKeys(ks pki.KeySpec, n int) ([]crypto.Signer, error) {
	keys := make([]crypto.Signer, n)
	errs := make([]error, n)
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for i := range jobs {
				keys[i], errs[i] = pki.GenerateKey(ks)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// BenchmarkBundleShare measures, in turn in each iteration:
//   - full: the classic bundle;
//   - keygen: its keys alone, generated as the bundle does (the floor);
//   - nonkeygen: the same bundle with every key made beforehand (the CA
//     imported, identity keys handed in through bundle.Options.GenerateKey),
//     i.e. everything a bundle does beyond key generation: planning,
//     signing, encoding, PBKDF2, writing and fsync.
//
// Reported per bundle: full-ms, keygen-ms, nonkeygen-ms; nonkeygen-% is
// nonkeygen/full (the work beyond key generation as a share of a bundle),
// beyond-floor-% is (full-keygen)/full (what is waited for beyond the key
// generation floor, the rest overlapping it). ns/op is the full bundle.
func BenchmarkBundleShare(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run("classic-"+keyName(ks), func(b *testing.B) {
			caCert, caKey := caFiles(b, ks)
			base := b.TempDir()
			pre := classicSpec(ks)
			pre.CA.ImportCert, pre.CA.ImportKey = caCert, caKey
			n := identities(pre)
			var full, keygen, nonKeygen time.Duration
			// At least 30 rounds: RSA key generation times vary widely (one
			// RSA round takes about 0.7 s). The timer runs throughout (b.Loop
			// would calibrate on a stopped timer); ns/op is overridden below.
			rounds := max(b.N, 30)
			i := 0
			for ; i < rounds; i++ {
				keys, err := generateKeys(ks, n)
				if err != nil {
					b.Fatal(err)
				}
				pool := make(chan crypto.Signer, n)
				for _, k := range keys {
					pool <- k
				}
				gen := func(pki.KeySpec) (crypto.Signer, error) { return <-pool, nil }
				quiesce(b)
				t := time.Now()
				runBundle(b, pre, bundle.Options{Dir: runDir(base, 2*i), GenerateKey: gen})
				nonKeygen += time.Since(t)
				quiesce(b)
				t = time.Now()
				runBundle(b, classicSpec(ks), bundle.Options{Dir: runDir(base, 2*i+1)})
				full += time.Since(t)
				t = time.Now()
				if err := generateLikeBundle(ks, n); err != nil {
					b.Fatal(err)
				}
				keygen += time.Since(t)
			}
			if i == 0 {
				return
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 / float64(i) }
			b.ReportMetric(float64(full.Nanoseconds())/float64(i), "ns/op")
			b.ReportMetric(ms(full), "full-ms")
			b.ReportMetric(ms(keygen), "keygen-ms")
			b.ReportMetric(ms(nonKeygen), "nonkeygen-ms")
			b.ReportMetric(100*float64(nonKeygen)/float64(full), "nonkeygen-%")
			b.ReportMetric(100*float64(full-keygen)/float64(full), "beyond-floor-%")
		})
	}
}

// caFiles creates a CA of type ks once and returns the paths of its
// certificate and key, for bundles that import it.
func caFiles(b *testing.B, ks pki.KeySpec) (cert, key string) {
	b.Helper()
	dir := b.TempDir()
	if _, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Bench CA", Key: ks, Subject: pki.SubjectDefaults{Organization: "Acme"}}); err != nil {
		b.Fatal(err)
	}
	cert, key = filepath.Join(dir, pki.CACertFile), filepath.Join(dir, pki.CAKeyFile)
	for _, p := range []string{cert, key} {
		if _, err := os.Stat(p); err != nil {
			b.Fatal(err)
		}
	}
	return cert, key
}
