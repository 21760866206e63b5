package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// RoleInfo is the part of a PKI role (GET /v1/MOUNT/roles/ROLE) that
// decides whether the certificates suit Kafka. Field names are the role's.
type RoleInfo struct {
	KeyType             string   `json:"key_type"`
	ServerFlag          bool     `json:"server_flag"`
	ClientFlag          bool     `json:"client_flag"`
	CodeSigningFlag     bool     `json:"code_signing_flag"`
	EmailProtectionFlag bool     `json:"email_protection_flag"`
	ExtKeyUsage         []string `json:"ext_key_usage"`
	KeyUsage            []string `json:"key_usage"`
	UseCSRSANs          bool     `json:"use_csr_sans"`
	UseCSRCommonName    bool     `json:"use_csr_common_name"`
	AllowAnyName        bool     `json:"allow_any_name"`
	AllowedDomains      []string `json:"allowed_domains"`
	AllowSubdomains     bool     `json:"allow_subdomains"`
	AllowBareDomains    bool     `json:"allow_bare_domains"`
	AllowGlobDomains    bool     `json:"allow_glob_domains"`
	AllowLocalhost      bool     `json:"allow_localhost"`
	AllowIPSANs         bool     `json:"allow_ip_sans"`
	AllowedURISANs      []string `json:"allowed_uri_sans"`
	EnforceHostnames    bool     `json:"enforce_hostnames"`
	CNValidations       []string `json:"cn_validations"`
	OU                  []string `json:"ou"`
	Organization        []string `json:"organization"`
	Country             []string `json:"country"`
	Locality            []string `json:"locality"`
	Province            []string `json:"province"`
	StreetAddress       []string `json:"street_address"`
	PostalCode          []string `json:"postal_code"`
	TTLSeconds          int64    `json:"ttl"`
	MaxTTLSeconds       int64    `json:"max_ttl"`
	NotAfter            string   `json:"not_after"`
	NoStore             bool     `json:"no_store"`
}

// MaxTTL is the role's max_ttl; 0 means the mount's max_lease_ttl applies.
func (r *RoleInfo) MaxTTL() time.Duration { return time.Duration(r.MaxTTLSeconds) * time.Second }

// rolePath is the role's API path, as a policy names it.
func (c *Client) rolePath() string { return c.cfg.Mount + "/roles/" + c.cfg.Role }

// ReadRole reads the role. It needs "read" on MOUNT/roles/ROLE, which the
// policy in docs/engines.md grants so that refusals can name the setting.
func (c *Client) ReadRole(ctx context.Context) (*RoleInfo, error) {
	path := c.rolePath()
	var s *vaultapi.Secret
	err := c.retry(ctx, func() (err error) {
		s, err = c.api.Logical().ReadWithContext(ctx, path)
		return err
	})
	if err != nil {
		return nil, classify("read role", path, "read", err)
	}
	if s == nil || s.Data == nil {
		return nil, &EngineError{Op: "read role", Path: path, Status: 404, Messages: []string{"no such role on mount " + c.cfg.Mount}}
	}
	b, err := json.Marshal(s.Data)
	if err != nil {
		return nil, fmt.Errorf("read role %s: %w", path, err)
	}
	var r RoleInfo
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &EngineError{Op: "read role", Path: path, Status: 200, Messages: []string{"unexpected role fields: " + err.Error()}}
	}
	return &r, nil
}
