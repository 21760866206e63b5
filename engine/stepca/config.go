// Package stepca signs kafkatls certificates with a smallstep step-ca, so
// a team's step-ca issues the certificates while kafkatls keeps doing the
// Kafka part: keys, stores, principals, configs. It has the shape of
// engine/vault (Request, Issued, Sign, SignCSR, Revoke, CRL, typed errors)
// so the CLI plugs either in the same way.
//
// Private keys never leave the host: the package sends step-ca a CSR with
// a one-time token (a JWT signed by a JWK provisioner's key) to POST
// /1.0/sign. Every certificate step-ca returns is checked against what was
// asked (extended key usages, SANs, the subject as Java prints it,
// validity); when the provisioner changed something, the error names the
// ca.json setting to change instead of handing Kafka a certificate that
// fails later in a handshake or under an ACL.
//
// JOSE (the encrypted provisioner key, the token) is done with
// github.com/go-jose/go-jose/v4, the library go.step.sm/crypto/jose wraps;
// see docs/engines.md for why not smallstep's own packages.
package stepca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv, as the step CLI names them
// (STEP_CA_URL, STEP_ROOT, STEP_PROVISIONER) plus the password file.
const (
	EnvCAURL        = "STEP_CA_URL"
	EnvRoot         = "STEP_ROOT"
	EnvProvisioner  = "STEP_PROVISIONER"
	EnvPasswordFile = "STEP_PROVISIONER_PASSWORD_FILE"
)

// Defaults for Config fields left empty.
const (
	DefaultProvisioner = "kafka"
	DefaultTimeout     = 30 * time.Second
	DefaultMaxRetries  = 2
	DefaultMinRetry    = 500 * time.Millisecond
	DefaultMaxRetry    = 4 * time.Second
	// TokenLifetime is how long a one-time token is valid: step-ca keeps
	// its id (jti) until then to refuse a replay, and a short life bounds
	// what a leaked token can do.
	TokenLifetime = 5 * time.Minute
)

// MaxPasswordFileSize bounds what ReadPasswordFile reads.
const MaxPasswordFileSize = 4096

// Config says which step-ca and which provisioner sign, and with what
// password. The password is never stored in the PKI directory: it comes
// from a password file each run.
type Config struct {
	URL         string // step-ca URL, e.g. https://ca.example.com:9000 (no path)
	Root        string // PEM file of step-ca's root certificate: trusts its HTTPS and ends every chain
	Provisioner string // JWK provisioner name ("name" in ca.json); empty: DefaultProvisioner
	// Password decrypts the provisioner's key (its "encryptedKey", fetched
	// from /1.0/provisioners). Use ReadPasswordFile to fill it.
	Password []byte
	// KeyFile, when set, is a file holding the provisioner's private JWK,
	// plain or encrypted with Password (what `step crypto jwk create`
	// writes), used instead of fetching encryptedKey.
	KeyFile string

	Timeout                    time.Duration // per request, retries included; 0: DefaultTimeout
	MaxRetries                 int           // retries on 5xx and connection errors; 0: DefaultMaxRetries, <0: none
	MinRetryWait, MaxRetryWait time.Duration // backoff bounds; 0: DefaultMinRetry, DefaultMaxRetry
}

// String shows the configuration with the password redacted, so a Config
// printed by mistake (%v, %+v, a log line) does not leak it.
func (c Config) String() string {
	pw := "none"
	if len(c.Password) > 0 {
		pw = "redacted"
	}
	return fmt.Sprintf("stepca.Config{URL: %q, Root: %q, Provisioner: %q, Password: %s, KeyFile: %q, Timeout: %s, MaxRetries: %d}",
		c.URL, c.Root, c.Provisioner, pw, c.KeyFile, c.Timeout, c.MaxRetries)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// ConfigFromEnv returns a Config with URL, Root and Provisioner from
// STEP_CA_URL, STEP_ROOT and STEP_PROVISIONER, and the password read from
// the file STEP_PROVISIONER_PASSWORD_FILE names (when set). Flags override
// fields afterwards.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{URL: getenv(EnvCAURL), Root: getenv(EnvRoot), Provisioner: getenv(EnvProvisioner)}
	if cfg.Provisioner == "" {
		cfg.Provisioner = DefaultProvisioner
	}
	if f := getenv(EnvPasswordFile); f != "" {
		pw, err := ReadPasswordFile(f)
		if err != nil {
			return cfg, err
		}
		cfg.Password = pw
	}
	return cfg, nil
}

// ErrPasswordFileMode is wrapped when a password file (or a provisioner
// key file) can be read by other users.
var ErrPasswordFileMode = errors.New("secret file is readable by group or others")

// ReadPasswordFile reads a provisioner password from a file: at most
// MaxPasswordFileSize bytes, one trailing newline (and CR) removed, as the
// step CLI's --password-file does. A file any other user can read is
// refused: the password unlocks a key that signs for the whole CA.
func ReadPasswordFile(path string) ([]byte, error) {
	b, err := readSecretFile(path, MaxPasswordFileSize, "password file")
	if err != nil {
		return nil, err
	}
	b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("password file %s: empty", path)
	}
	return b, nil
}

// readSecretFile reads at most limit bytes of a regular file that no
// other user can read (what names it in errors).
func readSecretFile(path string, limit int64, what string) ([]byte, error) {
	// Stat first: opening a FIFO would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: not a regular file", what, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s %s has mode %04o; chmod 600 %s", ErrPasswordFileMode, what, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s: larger than %d bytes", what, path, limit)
	}
	return b, nil
}

// maxCertFile bounds the root certificate file.
const maxCertFile = 1 << 20

// Client talks to one provisioner of one step-ca.
type Client struct {
	cfg   Config
	base  *url.URL
	roots []*x509.Certificate // from cfg.Root
	http  *http.Client
	keyMu chan struct{} // guards key: one decryption at a time
	key   *provKey
}

// ErrConfig is wrapped by New for an unusable Config.
var ErrConfig = errors.New("engine configuration")

// New checks cfg, reads the root certificate and returns a Client. It does
// not contact step-ca, nor decrypt the provisioner key (the first Sign or
// Revoke does, once).
func New(cfg Config) (*Client, error) {
	if cfg.Provisioner == "" {
		cfg.Provisioner = DefaultProvisioner
	}
	if cfg.URL == "" {
		return nil, fmt.Errorf("%w: no step-ca URL (set %s)", ErrConfig, EnvCAURL)
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%w: step-ca URL %q: must be https://HOST[:PORT] (step-ca only serves HTTPS)", ErrConfig, cfg.URL)
	}
	u.Path = ""
	if cfg.Root == "" {
		return nil, fmt.Errorf("%w: no root certificate file (set %s): step-ca's HTTPS certificate is issued by its own CA", ErrConfig, EnvRoot)
	}
	roots, err := readCertFile(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: root certificate %s: %v", ErrConfig, cfg.Root, err)
	}
	if len(cfg.Password) == 0 {
		return nil, fmt.Errorf("%w: no provisioner password (give a password file)", ErrConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MinRetryWait <= 0 {
		cfg.MinRetryWait = DefaultMinRetry
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetry
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	// A transport of our own: no proxy or TLS setting from the environment
	// changes what is trusted; only the given root.
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Client{cfg: cfg, base: u, roots: roots, http: &http.Client{Transport: tr}, keyMu: make(chan struct{}, 1)}, nil
}

// Config returns the client's configuration with defaults applied. Its
// Password is the caller's slice: do not log it.
func (c *Client) Config() Config { return c.cfg }

// Roots returns the root certificates read from Config.Root.
func (c *Client) Roots() []*x509.Certificate { return c.roots }

func readCertFile(path string) ([]*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCertFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCertFile {
		return nil, fmt.Errorf("larger than %d bytes", maxCertFile)
	}
	return parsePEMCerts(b)
}
