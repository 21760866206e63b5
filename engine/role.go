package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/pki"
)

// RoleProblems lists why a Vault/OpenBao role cannot issue what kafkatls
// asks for, each naming the role setting to change: the key type of the
// directory's keys, both extended key usages (brokers dial each other),
// the CN and SANs taken from the CSR, and subject fields equal to the
// directory's subject defaults (else the Kafka principal differs). Empty
// means the role suits; init checks it before the first certificate.
func RoleProblems(r *vault.RoleInfo, key pki.KeySpec, subject pki.SubjectDefaults) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	kt := map[pki.KeyType]string{pki.RSA: "rsa", pki.ECDSA: "ec"}[key.Type]
	if r.KeyType != "any" && r.KeyType != kt {
		bad("key_type=%s refuses the %s keys kafkatls makes: set key_type=any (or %s)", r.KeyType, key, kt)
	}
	if !r.ServerFlag {
		bad("server_flag=false: brokers need serverAuth: set server_flag=true")
	}
	if !r.ClientFlag {
		bad("client_flag=false: clients and brokers need clientAuth: set client_flag=true")
	}
	if !r.UseCSRCommonName {
		bad("use_csr_common_name=false: set use_csr_common_name=true")
	}
	if r.NoStore {
		bad("no_store=true: certificates cannot be revoked by serial: set no_store=false")
	}
	for _, f := range []struct{ setting, want string }{
		{"ou", subject.OrganizationalUnit}, {"organization", subject.Organization}, {"locality", subject.Locality},
		{"province", subject.State}, {"country", subject.Country},
	} {
		var has []string
		switch f.setting {
		case "ou":
			has = r.OU
		case "organization":
			has = r.Organization
		case "locality":
			has = r.Locality
		case "province":
			has = r.Province
		case "country":
			has = r.Country
		}
		has = slices.DeleteFunc(slices.Clone(has), func(s string) bool { return s == "" })
		if got := strings.Join(has, ","); got != f.want {
			bad("%s=%q differs from the subject default %q: the engine writes the role's, so the Kafka principal would differ: set %s=%q", f.setting, got, f.want, f.setting, f.want)
		}
	}
	return out
}
