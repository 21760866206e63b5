package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

// ecSpec is a small fast cluster: ECDSA keys keep the tests quick.
func ecSpec() *Spec {
	return &Spec{
		CA:         CASpec{CN: "Test CA", Org: "Acme", KeyType: "ecdsa"},
		Brokers:    []Node{{Name: "kafka-1", Hosts: []string{"kafka-1.example.com"}}, {Name: "kafka-2"}},
		ZooKeepers: []Node{{Name: "zookeeper"}},
		Clients:    []Client{{Name: "client1"}, {Name: "app", Subject: "CN=app,OU=ServiceUsers,O=Acme"}},
		Defaults:   Defaults{Formats: []string{"jks", "p12", "pem"}},
	}
}

func run(t *testing.T, dir string, s *Spec, mod func(*Options)) *Result {
	t.Helper()
	o := Options{Dir: dir}
	if mod != nil {
		mod(&o)
	}
	res, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// hashTree maps every file under dir (but the lock) to its SHA-256.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.IsDir() || d.Name() == ".lock" {
			return nil
		}
		b, _ := os.ReadFile(p)
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	return out
}

func TestBundleIdempotentAndIncremental(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s := ecSpec()
	res := run(t, dir, s, nil)
	if !res.Plan.CreateCA || len(res.Entities) != 5 {
		t.Fatalf("first run: createCA=%v issued=%d", res.Plan.CreateCA, len(res.Entities))
	}
	for _, f := range []string{"ca.crt", TruststoreJKS, TruststoreP12, TruststorePassword, SuperUsersFile, SummaryFile, "certs/kafka-1/keystore.jks", "certs/zookeeper/zoo.cfg", "certs/client1/kcat.conf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	su, _ := os.ReadFile(filepath.Join(dir, SuperUsersFile))
	if !strings.Contains(string(su), "super.users=User:CN=kafka-1,O=Acme;User:CN=kafka-2,O=Acme") {
		t.Errorf("super users file:\n%s", su)
	}
	before := hashTree(t, dir)

	// Same spec again: nothing changes, byte for byte.
	res = run(t, dir, ecSpec(), nil)
	if res.Plan.Changes() || len(res.Entities) != 0 || len(res.Outputs) != 0 {
		t.Fatalf("second run changed things: %+v outputs=%v", res.Plan.Steps, res.Outputs)
	}
	if after := hashTree(t, dir); !sameTree(before, after) {
		t.Fatalf("re-run changed files: %v", diffTree(before, after))
	}

	// Add a client: only it is issued; other identities' files stay.
	s = ecSpec()
	s.Clients = append(s.Clients, Client{Name: "client2"})
	res = run(t, dir, s, nil)
	if len(res.Entities) != 1 || res.Entities[0].Name != "client2" {
		t.Fatalf("addition issued %v", res.Entities)
	}
	after := hashTree(t, dir)
	for f, h := range before {
		if strings.HasPrefix(f, "certs/") && after[f] != h {
			t.Errorf("adding a client changed %s", f)
		}
	}

	// Add a SAN to a broker: it is renewed, with the reason.
	s.Brokers[1].Hosts = []string{"lb.example.com"}
	plan := run(t, dir, s, func(o *Options) { o.DryRun = true }).Plan
	var step Step
	for _, st := range plan.Steps {
		if st.Name == "kafka-2" {
			step = st
		}
	}
	if step.Action != ActionRenew || !strings.Contains(step.Reason, "+DNS:lb.example.com") {
		t.Fatalf("kafka-2 step = %+v", step)
	}

	// A new broker changes the other brokers' super.users and every bootstrap list:
	// configs refreshed, certificates kept; ZooKeeper's configs do not mention brokers.
	s = ecSpec()
	s.Clients = append(s.Clients, Client{Name: "client2"})
	s.Brokers = append(s.Brokers, Node{Name: "kafka-3"})
	res = run(t, dir, s, nil)
	actions := map[string]Action{}
	for _, st := range res.Plan.Steps {
		actions[st.Name] = st.Action
	}
	if actions["kafka-3"] != ActionCreate || actions["kafka-1"] != ActionConfig || actions["client1"] != ActionConfig || actions["zookeeper"] != ActionKeep {
		t.Fatalf("actions %v", actions)
	}
	sp, _ := os.ReadFile(filepath.Join(dir, "certs/kafka-1/server.properties"))
	if !strings.Contains(string(sp), "User:CN=kafka-3,O=Acme") {
		t.Error("kafka-1 server.properties lacks the new broker in super.users")
	}
	if after2 := hashTree(t, dir); after2["certs/kafka-1/keystore.jks"] != before["certs/kafka-1/keystore.jks"] {
		t.Error("config refresh rewrote the keystore")
	}
}

func TestBundlePrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	run(t, dir, ecSpec(), nil)
	s := ecSpec()
	s.Clients = s.Clients[:1] // drop "app"
	res := run(t, dir, s, nil)
	if res.Plan.Count(ActionOrphan) != 1 {
		t.Fatalf("want 1 orphan, plan %+v", res.Plan.Steps)
	}
	if _, err := os.Stat(identity.Dir(dir, "app")); err != nil {
		t.Fatal("orphan deleted without --prune")
	}
	res = run(t, dir, s, func(o *Options) { o.Prune = true })
	if res.Plan.Count(ActionPrune) != 1 {
		t.Fatalf("want 1 prune, plan %+v", res.Plan.Steps)
	}
	if _, err := os.Stat(identity.Dir(dir, "app")); !os.IsNotExist(err) {
		t.Fatal("--prune kept the orphan")
	}
	idx, _ := pki.LoadIndex(dir)
	if _, ok := idx.Current("app"); ok {
		t.Fatal("pruned identity still current in the index")
	}
	if res := run(t, dir, s, nil); res.Plan.Changes() {
		t.Fatalf("after prune, plan not empty: %+v", res.Plan.Steps)
	}
}

func TestBundleDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	res := run(t, dir, ecSpec(), func(o *Options) { o.DryRun = true })
	if !res.Plan.CreateCA || res.Plan.Count(ActionCreate) != 5 {
		t.Fatalf("plan %+v", res.Plan)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("dry run created the directory")
	}
}

func TestBadSpecs(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"duplicate", "brokers: [{name: kafka-1}]\nclients: [{name: KAFKA-1}]", `client "KAFKA-1": duplicate name (already a broker)`},
		{"bad host", "brokers: [{name: kafka-1, hosts: [\"kafka 1\"]}]", `broker "kafka-1": invalid DNS name "kafka 1"`},
		{"bad ip", "brokers: [{name: kafka-1, ips: [10.0.0.256]}]", `invalid IP address "10.0.0.256"`},
		{"both modes", "brokers: [{name: b}]\ncontrollers: [{name: c}]\nzookeepers: [{name: z}]", "not both"},
		{"kraft with zk", "mode: kraft\nzookeepers: [{name: z}]", "mode kraft with zookeepers"},
		{"unknown mode", "mode: raft\nbrokers: [{name: b}]", `mode "raft"`},
		{"beyond CA", "ca: {days: 100}\ndefaults: {days: 365}\nclients: [{name: c}]", "would outlive the CA"},
		{"unknown key", "brokers: [{name: b, host: [x]}]", "field host not found"},
		{"bad format", "defaults: {formats: [der]}\nclients: [{name: c}]", `format "der"`},
		{"bad grant", "clients: [{name: c, grants: [{topic: t, consumer: true}]}]", "needs a consumer group"},
		{"bad name", "clients: [{name: \"a/b\"}]", `character '/'`},
		{"bad subject", "clients: [{name: c, subject: \"XX=1\"}]", `client "c": subject`},
		{"empty", "mode: kraft", "lists no brokers"},
		{"rsa 1024", "ca: {keyType: rsa, keySize: 1024}\nclients: [{name: c}]", "under 2048"},
		{"window", "defaults: {renewBefore: soon}\nclients: [{name: c}]", "renewBefore"},
		{"bad advertise", "brokers: [{name: b, advertise: \"b:70000\"}]", `broker "b": advertise: advertised address "b:70000"`},
		{"advertise port", "brokers: [{name: b, port: 9093, advertise: \"b.example.com:9095\"}]", "port 9093 and advertise port 9095 differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			s, err := ParseSpec([]byte(tt.yaml))
			if err == nil {
				_, err = Run(context.Background(), s, Options{Dir: dir})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant containing %q", err, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatal("a bad spec wrote to disk")
			}
		})
	}
}

func TestConcurrentRunsShareOneCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	run(t, dir, &Spec{CA: CASpec{KeyType: "ecdsa"}, Clients: []Client{{Name: "seed"}}}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each run lists all clients: whichever runs first issues them,
			// the others must find them complete and keep them.
			s := &Spec{Clients: []Client{{Name: "seed"}}}
			for j := range 6 {
				s.Clients = append(s.Clients, Client{Name: "c" + string(rune('a'+j))})
			}
			_, err := Run(context.Background(), s, Options{Dir: dir})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := pki.LoadIndex(dir)
	serials := map[string]bool{}
	valid := 0
	for _, r := range idx.Records {
		if serials[r.Serial] {
			t.Fatalf("serial %s reused", r.Serial)
		}
		serials[r.Serial] = true
		if r.Status == pki.StatusValid {
			valid++
		}
	}
	if valid != 7 || len(idx.Records) != 7 {
		t.Fatalf("index has %d records (%d valid), want 7: concurrent runs re-issued", len(idx.Records), valid)
	}
}

func TestK8sExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	run(t, dir, ecSpec(), func(o *Options) { o.Export = []string{"k8s"} })
	b, err := os.ReadFile(filepath.Join(dir, K8sDir, "kafka-1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var secret struct {
		Kind     string
		Type     string
		Metadata struct{ Name string }
		Data     map[string]string
	}
	if err := yaml.Unmarshal(b, &secret); err != nil {
		t.Fatal(err)
	}
	if secret.Kind != "Secret" || secret.Type != "kubernetes.io/tls" || secret.Metadata.Name != "kafka-1-tls" {
		t.Fatalf("secret header %+v", secret)
	}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt", "keystore.jks", "truststore.jks", "keystore.p12", "truststore.p12"} {
		raw, err := base64.StdEncoding.DecodeString(secret.Data[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		file, _ := os.ReadFile(filepath.Join(dir, "certs/kafka-1", k))
		if string(raw) != string(file) {
			t.Errorf("%s: decoded secret differs from the file", k)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, K8sDir, "kafka-1.yaml")); st.Mode().Perm() != 0o600 {
		t.Errorf("secret manifest mode %v, want 0600", st.Mode().Perm())
	}
}

func TestSpecRoundTrip(t *testing.T) {
	b, err := os.ReadFile("../testdata/kafkatls.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("example spec invalid: %v", err)
	}
	again, err := ParseSpec(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Entities()) != len(s.Entities()) {
		t.Fatal("marshal lost entities")
	}
}

func sameTree(a, b map[string]string) bool { return len(diffTree(a, b)) == 0 }

func diffTree(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "+"+k)
		}
	}
	return d
}

// When the batch that makes a run's files durable fails part-way (here
// SUMMARY.md cannot be replaced), the CA (renamed first) and the
// identities already in place are recorded from their reserved serials,
// nothing is left pending, and the next run finishes the bundle without
// issuing them again. (Before serials were reserved, the placed
// identities were CA-signed certificates the index did not know.)
func TestBundleFailedCommitRecordsWhatIsPlaced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	blocker := filepath.Join(dir, SummaryFile, "x") // a non-empty directory
	if err := os.MkdirAll(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), ecSpec(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "not all committed") {
		t.Fatalf("Run with SUMMARY.md blocked: err = %v, want a failed commit", err)
	}
	if res == nil || len(res.Entities) != 0 {
		t.Fatalf("failed commit reported issued identities: %+v", res)
	}
	idx, lerr := pki.LoadIndex(dir)
	if lerr != nil {
		t.Fatal(lerr)
	}
	for _, r := range idx.Records {
		b, err := os.ReadFile(filepath.Join(identity.Dir(dir, r.Name), "tls.crt"))
		if err != nil {
			t.Fatalf("%s recorded (%s) but not in place: %v", r.Name, r.Status, err)
		}
		certs, _ := pem.DecodeCerts(b)
		if r.Status != pki.StatusValid || len(certs) == 0 || pki.SerialHex(certs[0]) != r.Serial {
			t.Errorf("%s: record %s %s, want valid with the placed serial", r.Name, r.Status, r.Serial)
		}
	}
	if len(idx.Records) != 5 {
		t.Fatalf("index after a failed commit: %d records, want the 5 placed identities", len(idx.Records))
	}
	p, err := pki.Open(dir, nil)
	if err != nil {
		t.Fatalf("the CA created by the failed run is not in place: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, SummaryFile)); err != nil {
		t.Fatal(err)
	}
	res = run(t, dir, ecSpec(), nil)
	if res.Plan.CreateCA || len(res.Entities) != 0 || !slices.Contains(res.Outputs, SummaryFile) {
		t.Fatalf("re-run: createCA=%v issued=%d outputs=%v, want the kept CA and identities, and SUMMARY.md", res.Plan.CreateCA, len(res.Entities), res.Outputs)
	}
	b, err := os.ReadFile(filepath.Join(identity.Dir(dir, "kafka-1"), "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil || len(certs) == 0 {
		t.Fatalf("kafka-1/tls.crt: %v", err)
	}
	if err := certs[0].CheckSignatureFrom(p.CA); err != nil {
		t.Fatalf("re-run did not sign with the CA of the failed run: %v", err)
	}
}

// A bundle file that cannot even be staged (here k8s/ is a regular file)
// empties the run's batch, the new CA's files with it: nothing is recorded
// and no CA is left in place, so a run with the obstacle gone starts over.
func TestBundleFailedStagingLeavesNoCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, K8sDir), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), ecSpec(), Options{Dir: dir, Export: []string{"k8s"}})
	if err == nil || !strings.Contains(err.Error(), "nothing recorded") {
		t.Fatalf("Run with k8s/ blocked: err = %v, want nothing recorded", err)
	}
	if _, err := pki.Open(dir, nil); !errors.Is(err, pki.ErrNoCA) {
		t.Fatalf("after the failed run, Open = %v, want ErrNoCA", err)
	}
	if idx, err := pki.LoadIndex(dir); err != nil || len(idx.Records) != 0 {
		t.Fatalf("index after the failed run: %v records (err %v)", len(idx.Records), err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "ca")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && e.Name() != ".lock" {
				t.Errorf("temporary left behind: %s", filepath.Join(d, e.Name()))
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, K8sDir)); err != nil {
		t.Fatal(err)
	}
	res := run(t, dir, ecSpec(), func(o *Options) { o.Export = []string{"k8s"} })
	if !res.Plan.CreateCA || len(res.Entities) != 5 {
		t.Fatalf("re-run: createCA=%v issued=%d, want a new CA and 5 identities", res.Plan.CreateCA, len(res.Entities))
	}
}

// A run killed before its commit leaves a new CA's staged files (the key
// among them); the next run removes them before it starts.
func TestBundleRemovesAKilledRunsTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	left := []string{filepath.Join(dir, "ca", ".ca.key.tmp-0123456789ab"), filepath.Join(dir, ".ca.crt.tmp-ba9876543210")}
	for _, f := range left {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("staged"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, ecSpec(), nil)
	for _, f := range left {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived the next run (%v)", f, err)
		}
	}
}
