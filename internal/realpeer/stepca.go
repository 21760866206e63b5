package realpeer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StepCAVersion is the step-ca release .ci/run builds into the cache.
const StepCAVersion = "v0.30.2"

// StepCABinary finds the real step-ca server: on PATH, else where .ci/run
// builds it (go install into ~/.cache/kafkatls-engines/step-ca/VERSION/).
func StepCABinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("real peer step-ca: skipped under -short (unit tests only)")
	}
	if p, err := exec.LookPath("step-ca"); err == nil {
		return p
	}
	var dirs []string
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, cache)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "kafkatls-engines", "step-ca", StepCAVersion, "step-ca")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "real peer step-ca not found on PATH nor in ~/.cache/kafkatls-engines/step-ca/" + StepCAVersion +
		" (run .ci/run, or: CGO_ENABLED=0 GOBIN=~/.cache/kafkatls-engines/step-ca/" + StepCAVersion +
		" go install github.com/smallstep/certificates/cmd/step-ca@" + StepCAVersion + ")"
	if InCI() {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
	return ""
}

// StepCAConfig is what a test puts into ca.json besides the CA material.
type StepCAConfig struct {
	// Provisioners are authority.provisioners entries (JSON objects).
	Provisioners []json.RawMessage
	// Policy is authority.policy, or nil for none.
	Policy json.RawMessage
	// Claims is authority.claims, or nil for step-ca's defaults.
	Claims json.RawMessage
	// NoCRL leaves "crl" out of ca.json: step-ca serves no CRL.
	NoCRL bool
}

// StepCA is a real step-ca on a free loopback port, with a root and an
// intermediate made for the run, a badger database and the CRL enabled.
type StepCA struct {
	URL          string // https://127.0.0.1:PORT
	RootFile     string // PEM file of the root (what --ca-root names)
	Root         *x509.Certificate
	Intermediate *x509.Certificate
	Dir          string
	LogFile      string
}

// StartStepCA writes ca.json and starts step-ca; it stops when the test
// ends.
func StartStepCA(t testing.TB, cfg StepCAConfig) *StepCA {
	t.Helper()
	bin := StepCABinary(t)
	dir := t.TempDir()
	s := &StepCA{Dir: dir}
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafkatls test step-ca root", Organization: []string{"kafkatls tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	s.Root, _ = x509.ParseCertificate(rootDER)
	interTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kafkatls test step-ca intermediate", Organization: []string{"kafkatls tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, s.Root, interKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	s.Intermediate, _ = x509.ParseCertificate(interDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(interKey)
	if err != nil {
		t.Fatal(err)
	}
	s.RootFile = filepath.Join(dir, "root_ca.crt")
	interFile, keyFile := filepath.Join(dir, "intermediate_ca.crt"), filepath.Join(dir, "intermediate_ca_key")
	writeFile := func(path string, typ string, der []byte, mode os.FileMode) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(s.RootFile, "CERTIFICATE", rootDER, 0o644)
	writeFile(interFile, "CERTIFICATE", interDER, 0o644)
	writeFile(keyFile, "PRIVATE KEY", keyDER, 0o600)

	port := freePort(t)
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", port)
	authority := map[string]any{"provisioners": cfg.Provisioners}
	if cfg.Policy != nil {
		authority["policy"] = cfg.Policy
	}
	if cfg.Claims != nil {
		authority["claims"] = cfg.Claims
	}
	caJSON := map[string]any{
		"root": s.RootFile, "crt": interFile, "key": keyFile,
		"address":   fmt.Sprintf("127.0.0.1:%d", port),
		"dnsNames":  []string{"127.0.0.1", "localhost"},
		"logger":    map[string]any{"format": "text"},
		"db":        map[string]any{"type": "badgerv2", "dataSource": filepath.Join(dir, "db")},
		"crl":       map[string]any{"enabled": true, "generateOnRevoke": true, "cacheDuration": "24h"},
		"authority": authority,
		"tls": map[string]any{"minVersion": 1.2, "maxVersion": 1.3, "renegotiation": false,
			"cipherSuites": []string{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}},
	}
	if cfg.NoCRL {
		delete(caJSON, "crl")
	}
	b, err := json.MarshalIndent(caJSON, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "ca.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s.LogFile = filepath.Join(dir, "step-ca.log")
	logf, err := os.Create(s.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "STEPPATH="+filepath.Join(dir, "steppath"))
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s %s: %v", bin, cfgFile, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		logf.Close()
	})
	pool := x509.NewCertPool()
	pool.AddCert(s.Root)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(s.LogFile)
			t.Fatalf("step-ca exited before answering; ca.json:\n%s\nlog:\n%s", b, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.LogFile)
			t.Fatalf("step-ca on %s not healthy after 60 s (last error %v); log:\n%s", s.URL, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Log returns what step-ca wrote so far, for failure messages.
func (s *StepCA) Log() string {
	b, _ := os.ReadFile(s.LogFile)
	return string(b)
}
