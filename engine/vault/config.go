// Package vault signs kafkatls certificates with a HashiCorp Vault or
// OpenBao PKI secrets engine (both speak the same HTTP API), so a team's
// shared CA issues the certificates while kafkatls keeps doing the Kafka
// part: keys, stores, principals, configs.
//
// Private keys never leave the host: the package only ever calls
// /v1/MOUNT/sign/ROLE with a CSR, never /issue (which makes the key on the
// server). Every certificate the engine returns is checked against what was
// asked (extended key usages, SANs, the subject as Java prints it,
// validity); when the engine's role changed something, the error names the
// role setting to change instead of handing Kafka a certificate that fails
// later in a handshake or under an ACL.
package vault

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Environment variables read by ConfigFromEnv, as the vault CLI reads them.
const (
	EnvAddr      = "VAULT_ADDR"
	EnvToken     = "VAULT_TOKEN"
	EnvCACert    = "VAULT_CACERT"
	EnvNamespace = "VAULT_NAMESPACE"
)

// Defaults for Config fields left empty.
const (
	DefaultMount   = "pki"
	DefaultRole    = "kafka"
	DefaultTimeout = 30 * time.Second
)

// MaxTokenFileSize bounds what ReadTokenFile reads: Vault tokens are under
// 200 bytes (service tokens with a namespace prefix included).
const MaxTokenFileSize = 4096

// Config says which engine, mount and role sign, and with which token. The
// token is never stored in the PKI directory: it comes from VAULT_TOKEN or
// a token file each run.
type Config struct {
	Address   string // engine URL, e.g. https://vault.example.com:8200
	Mount     string // PKI secrets engine mount path, e.g. "pki"
	Role      string // PKI role, e.g. "kafka"
	Namespace string // Vault Enterprise / OpenBao namespace; empty for none
	CACert    string // PEM file of the CA that signed the engine's HTTPS certificate; empty: system roots
	Token     string // the token itself; use TokenFromEnv or ReadTokenFile to fill it

	Timeout                    time.Duration // per attempt; 0: DefaultTimeout
	MaxRetries                 int           // retries on 5xx and connection errors, each from Address (see retry); 0: DefaultMaxRetries, <0: none
	MinRetryWait, MaxRetryWait time.Duration // exponential backoff bounds; 0: DefaultMinRetryWait, DefaultMaxRetryWait
}

// ConfigFromEnv returns a Config with Address, CACert, Namespace and Token
// taken from VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE and VAULT_TOKEN,
// and the default mount and role. Flags override fields afterwards.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Address:   getenv(EnvAddr),
		CACert:    getenv(EnvCACert),
		Namespace: getenv(EnvNamespace),
		Token:     strings.TrimSpace(getenv(EnvToken)),
		Mount:     DefaultMount,
		Role:      DefaultRole,
	}
}

// ErrTokenFileMode is wrapped when a token file can be read by other users.
var ErrTokenFileMode = errors.New("token file is readable by group or others")

// ReadTokenFile reads a token from a file such as ~/.vault-token: at most
// MaxTokenFileSize bytes, surrounding whitespace trimmed. A file any other
// user can read is refused (the token is a credential, like a key file).
func ReadTokenFile(path string) (string, error) {
	// Stat first: opening a FIFO would block.
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("token file %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%w: %s has mode %04o; chmod 600 %s", ErrTokenFileMode, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxTokenFileSize+1))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	if len(b) > MaxTokenFileSize {
		return "", fmt.Errorf("token file %s: larger than %d bytes, not a token", path, MaxTokenFileSize)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s: empty", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s: holds more than one line or word, not a token", path)
	}
	return tok, nil
}

// Client talks to one mount and role of one engine.
type Client struct {
	cfg  Config
	api  *vaultapi.Client
	host string // Address's host:port, to tell it from a redirect target
}

// ErrConfig is wrapped by New for an unusable Config.
var ErrConfig = errors.New("engine configuration")

// New checks cfg and returns a Client. It does not contact the engine. Only
// the fields of cfg are used: unlike vaultapi.DefaultConfig alone, no other
// VAULT_* variable (VAULT_SKIP_VERIFY in particular) changes what is
// trusted.
func New(cfg Config) (*Client, error) {
	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	if cfg.Role == "" {
		cfg.Role = DefaultRole
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.Address == "" {
		return nil, fmt.Errorf("%w: no engine address (set VAULT_ADDR)", ErrConfig)
	}
	if !strings.HasPrefix(cfg.Address, "https://") && !strings.HasPrefix(cfg.Address, "http://") {
		return nil, fmt.Errorf("%w: engine address %q: must start with https:// or http://", ErrConfig, cfg.Address)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("%w: no token (set VAULT_TOKEN or give a token file)", ErrConfig)
	}
	if strings.ContainsAny(cfg.Role, "/ ") || cfg.Mount == "" {
		return nil, fmt.Errorf("%w: mount %q, role %q: the role is one path segment", ErrConfig, cfg.Mount, cfg.Role)
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
		cfg.MinRetryWait = DefaultMinRetryWait
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	cfg.MaxRetryWait = max(cfg.MaxRetryWait, cfg.MinRetryWait)
	ac := vaultapi.DefaultConfig()
	if ac.Error != nil {
		// DefaultConfig reads the environment; an unparsable VAULT_* variable
		// we do not use is no reason to fail, the fields below are set anyway.
		ac.Error = nil
	}
	ac.Address = cfg.Address
	ac.Timeout = cfg.Timeout
	// Client.retry retries, each time from Address: the api client's own
	// retries would go on at the node a standby redirected to.
	ac.MaxRetries = 0
	ac.DisableRedirects = false // follow a standby's redirect to the active node
	// OpenBao standbys (and Vault performance standbys) answer reads from
	// their own, eventually consistent, copy: send back the storage index
	// of our last write so a read (revoke after sign) waits for it.
	ac.ReadYourWrites = true
	ac.AgentAddress = "" // VAULT_AGENT_ADDR would replace Address
	ac.SRVLookup = false
	// DefaultConfig already applied VAULT_SKIP_VERIFY, VAULT_CACERT, ... to
	// the transport, and ConfigureTLS never turns verification back on:
	// start from a clean TLS configuration.
	tr, ok := ac.HttpClient.Transport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("%w: unexpected HTTP transport %T", ErrConfig, ac.HttpClient.Transport)
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if err := ac.ConfigureTLS(&vaultapi.TLSConfig{CACert: cfg.CACert}); err != nil {
		return nil, fmt.Errorf("%w: engine CA certificate %s: %v", ErrConfig, cfg.CACert, err)
	}
	c, err := vaultapi.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	c.SetToken(cfg.Token)
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	} else {
		c.ClearNamespace()
	}
	u, err := url.Parse(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: engine address %q: %v", ErrConfig, cfg.Address, err)
	}
	return &Client{cfg: cfg, api: c, host: u.Host}, nil
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config { return c.cfg }
