package pki

import (
	"crypto/x509"
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
)

// Roles lists every role in display order.
var Roles = []Role{RoleClient, RoleBroker, RoleController, RoleZooKeeper}

// ParseRole parses a role name, case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", invalid(FieldRole, s, "role %q: must be one of client, broker, controller, zookeeper", s)
}

// IsServer reports whether the role accepts TLS connections. Servers also
// dial their peers (inter-broker, controller quorum, ZooKeeper quorum), so
// their certificates carry both serverAuth and clientAuth.
func (r Role) IsServer() bool { return r != RoleClient }

// ExtKeyUsage returns the role's extended key usages. Brokers without
// clientAuth fail inter-broker authentication; clients get clientAuth only
// so a stolen client key cannot impersonate a broker.
func (r Role) ExtKeyUsage() []x509.ExtKeyUsage {
	if r.IsServer() {
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
}

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
