package pki

import (
	"crypto/x509"
	"slices"
	"strings"
)

// Role is what an entity does in a Kafka deployment; it decides the
// certificate's key usages and default SANs.
type Role string

// Roles.
const (
	RoleClient     Role = "client"
	RoleBroker     Role = "broker"
	RoleController Role = "controller"
	RoleZooKeeper  Role = "zookeeper"
	// RoleServer is any other TLS server of the platform (an IdP, a REST
	// proxy, a metrics endpoint): serverAuth only, no Kafka configs.
	RoleServer Role = "server"
	// RoleConnect is a Kafka Connect worker: a Kafka client and an HTTPS
	// server (its REST API), serverAuth and clientAuth.
	RoleConnect Role = "connect"
	// RoleMirrorMaker is a MirrorMaker 2 process in dedicated mode: a
	// Kafka client of two clusters, one identity from each cluster's CA.
	RoleMirrorMaker Role = "mirrormaker"
)

// Roles lists every role in display order (the order of roleSpecs).
var Roles = func() []Role {
	out := make([]Role, len(roleSpecs))
	for i, s := range roleSpecs {
		out[i] = s.Role
	}
	return out
}()

// ParseRole parses a role name, case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", invalid(FieldRole, s, "role %q: must be one of %s", s, RoleNames())
}

// RoleNames lists the role names for messages: "client, broker, ...".
func RoleNames() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// IsServer reports whether the role accepts TLS connections (its
// certificate needs a DNS or IP SAN); see RoleSpec.Server.
func (r Role) IsServer() bool { return r.Spec().Server }

// ExtKeyUsage returns the role's extended key usages (RoleSpec.ExtKeyUsage).
func (r Role) ExtKeyUsage() []x509.ExtKeyUsage { return slices.Clone(r.Spec().ExtKeyUsage) }

// KeyUsage returns the key usages for a leaf with the given key type:
// digitalSignature always, plus keyEncipherment for RSA (TLS 1.2 RSA key
// exchange, still offered by old clients).
func KeyUsage(kt KeyType) x509.KeyUsage {
	ku := x509.KeyUsageDigitalSignature
	if kt == RSA {
		ku |= x509.KeyUsageKeyEncipherment
	}
	return ku
}
