package vault

import (
	"context"
	"fmt"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/kafkatls/kafkatls/pki"
)

// SetupOptions describe a mount and role that issue what Kafka needs.
type SetupOptions struct {
	// RootCN, when set, generates a root CA in the mount if it has none
	// (its key stays in the engine). Empty: the mount must already have a CA.
	RootCN   string
	RootDays int // root validity; 0: 3650
	LeafDays int // the role's ttl, and the default validity; 0: 365
	MaxDays  int // the role's max_ttl; 0: 825
	// Subject fills the role's ou/organization/locality/province/country so
	// the engine writes the same subject as the local PKI's defaults.
	Subject pki.SubjectDefaults
	// AllowedDomains, when set, limits names to these domains and their
	// subdomains (plus localhost); empty allows any name.
	AllowedDomains []string
}

func (o SetupOptions) withDefaults() SetupOptions {
	if o.RootDays == 0 {
		o.RootDays = 3650
	}
	if o.LeafDays == 0 {
		o.LeafDays = 365
	}
	if o.MaxDays == 0 {
		o.MaxDays = 825
	}
	return o
}

// kv is one ordered role setting.
type kv struct{ k, v string }

// RoleSettings returns the role fields Kafka needs, in order, as
// "key=value" strings (the form `bao write MOUNT/roles/ROLE` takes):
// any key type (EC CSRs), both EKUs, SANs and CN from the CSR, CNs that are
// not host names, and the subject fields of the local defaults.
func RoleSettings(o SetupOptions) []string {
	var out []string
	for _, p := range roleKV(o.withDefaults()) {
		out = append(out, p.k+"="+p.v)
	}
	return out
}

func roleKV(o SetupOptions) []kv {
	s := []kv{
		{"key_type", "any"}, {"key_bits", "0"},
		{"server_flag", "true"}, {"client_flag", "true"},
		{"code_signing_flag", "false"}, {"email_protection_flag", "false"},
		{"key_usage", "DigitalSignature,KeyEncipherment"},
		{"use_csr_common_name", "true"}, {"use_csr_sans", "true"},
		{"enforce_hostnames", "false"}, {"cn_validations", "disabled"},
		{"allow_ip_sans", "true"},
	}
	if len(o.AllowedDomains) > 0 {
		s = append(s, kv{"allow_any_name", "false"}, kv{"allowed_domains", strings.Join(o.AllowedDomains, ",")},
			kv{"allow_subdomains", "true"}, kv{"allow_bare_domains", "true"}, kv{"allow_localhost", "true"})
	} else {
		s = append(s, kv{"allow_any_name", "true"})
	}
	// Empty values clear the field: the subject must match exactly.
	s = append(s, []kv{
		{"ou", o.Subject.OrganizationalUnit}, {"organization", o.Subject.Organization},
		{"locality", o.Subject.Locality}, {"province", o.Subject.State}, {"country", o.Subject.Country},
	}...)
	s = append(s, kv{"ttl", fmt.Sprintf("%dh", o.LeafDays*24)}, kv{"max_ttl", fmt.Sprintf("%dh", o.MaxDays*24)},
		kv{"no_store", "false"}) // stored certificates can be revoked by serial
	return s
}

// SetupCommands returns the CLI commands (cli is "bao" or "vault") that do
// what Setup does, for an operator who runs them with their own token.
func SetupCommands(cfg Config, o SetupOptions, cli string) []string {
	o = o.withDefaults()
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = DefaultMount
	}
	role := cfg.Role
	if role == "" {
		role = DefaultRole
	}
	maxLease := fmt.Sprintf("%dh", o.RootDays*24)
	cmds := []string{
		fmt.Sprintf("%s secrets enable -path=%s -max-lease-ttl=%s pki", cli, mount, maxLease),
	}
	if o.RootCN != "" {
		cmds = append(cmds, fmt.Sprintf("%s write %s/root/generate/internal common_name=%s key_type=ec key_bits=256 ttl=%s",
			cli, mount, shellQuote(o.RootCN), maxLease))
	}
	var args []string
	for _, p := range roleKV(o) {
		args = append(args, p.k+"="+shellQuote(p.v))
	}
	cmds = append(cmds, fmt.Sprintf("%s write %s/roles/%s %s", cli, mount, role, strings.Join(args, " ")))
	return cmds
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/@=+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Setup makes the mount and role ready, with a token allowed to (mount
// management needs more than the signing policy): enables the PKI engine
// at the mount if absent (max_lease_ttl = the root's validity), generates a
// root when the mount has no CA and RootCN is set, writes the role. It
// returns one line per thing done or found.
func (c *Client) Setup(ctx context.Context, o SetupOptions) ([]string, error) {
	o = o.withDefaults()
	var did []string
	mount := c.cfg.Mount
	var mounts map[string]*vaultapi.MountOutput
	err := c.retry(ctx, func() (err error) {
		mounts, err = c.api.Sys().ListMountsWithContext(ctx)
		return err
	})
	if err != nil {
		return did, classify("list mounts", "sys/mounts", "read", err)
	}
	maxLease := fmt.Sprintf("%dh", o.RootDays*24)
	if m, ok := mounts[mount+"/"]; ok {
		if m.Type != "pki" {
			return did, fmt.Errorf("mount %s is a %q secrets engine, not pki", mount, m.Type)
		}
		did = append(did, fmt.Sprintf("mount %s/: pki secrets engine already enabled", mount))
	} else {
		err := c.api.Sys().MountWithContext(ctx, mount, &vaultapi.MountInput{Type: "pki", Config: vaultapi.MountConfigInput{MaxLeaseTTL: maxLease}})
		if err != nil {
			return did, classify("enable pki engine", "sys/mounts/"+mount, "create, update, sudo", err)
		}
		did = append(did, fmt.Sprintf("mount %s/: enabled the pki secrets engine (max_lease_ttl=%s)", mount, maxLease))
	}
	if chain, err := c.CAChain(ctx); err == nil && len(chain) > 0 {
		did = append(did, fmt.Sprintf("mount %s/: has CA %q (until %s)", mount, chain[0].Subject.String(), chain[0].NotAfter.UTC().Format(time.DateOnly)))
	} else if o.RootCN == "" {
		return did, fmt.Errorf("mount %s has no CA: give a root CN to generate one, or import one (bao write %s/config/ca pem_bundle=@ca.pem)", mount, mount)
	} else {
		path := mount + "/root/generate/internal"
		s, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{
			"common_name": o.RootCN, "key_type": "ec", "key_bits": 256, "ttl": maxLease,
		})
		if err != nil {
			return did, classify("generate root", path, "update", err)
		}
		root, err := certField(s.Data, "certificate")
		if err != nil {
			return did, &EngineError{Op: "generate root", Path: path, Status: 200, Messages: []string{err.Error()}}
		}
		did = append(did, fmt.Sprintf("mount %s/: generated root CA %q (EC P-256, until %s; its key stays in the engine)", mount, o.RootCN, root.NotAfter.UTC().Format(time.DateOnly)))
	}
	data := map[string]any{}
	var args []string
	for _, p := range roleKV(o) {
		data[p.k] = p.v
		args = append(args, p.k+"="+p.v)
	}
	path := c.rolePath()
	if err := c.retry(ctx, func() error { _, err := c.api.Logical().WriteWithContext(ctx, path, data); return err }); err != nil {
		return did, classify("write role", path, "update", err)
	}
	did = append(did, "role "+path+": "+strings.Join(args, " "))
	return did, nil
}

// Policy returns the minimal policy (HCL) for the token kafkatls signs
// with: sign with the role, read the role (so refusals name the setting),
// revoke, list and read the mount's certificates (reconciliation), and
// read the CA chain and CRL.
func Policy(mount, role string) string {
	mount = strings.Trim(mount, "/")
	return fmt.Sprintf(`# kafkatls: sign CSRs with role %[2]s (never /issue: keys stay on the hosts)
path "%[1]s/sign/%[2]s" {
  capabilities = ["update"]
}
# read the role, so a refusal names the role setting to change
path "%[1]s/roles/%[2]s" {
  capabilities = ["read"]
}
# kafkatls revoke
path "%[1]s/revoke" {
  capabilities = ["update"]
}
# reconciliation: find the certificates of requests whose answer was lost (kafkatls reconcile)
path "%[1]s/certs" {
  capabilities = ["list"]
}
path "%[1]s/certs/detailed" {
  capabilities = ["list"]
}
path "%[1]s/cert/*" {
  capabilities = ["read"]
}
# the CA chain and the CRL (unauthenticated on most servers; listed for those that are not)
path "%[1]s/ca_chain" {
  capabilities = ["read"]
}
path "%[1]s/crl/pem" {
  capabilities = ["read"]
}
`, mount, role)
}
