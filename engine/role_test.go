package engine

import (
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/pki"
)

func TestRoleProblems(t *testing.T) {
	good := vault.RoleInfo{KeyType: "any", ServerFlag: true, ClientFlag: true, UseCSRCommonName: true, OU: []string{"kafka"}, Organization: []string{"Acme"}}
	subject := pki.SubjectDefaults{OrganizationalUnit: "kafka", Organization: "Acme"}
	ec := pki.KeySpec{Type: pki.ECDSA, Size: 256}
	for _, tc := range []struct {
		name string
		edit func(*vault.RoleInfo)
		key  pki.KeySpec
		want string // "" = no problem
	}{
		{"suits", func(*vault.RoleInfo) {}, ec, ""},
		{"ec role, ec keys", func(r *vault.RoleInfo) { r.KeyType = "ec" }, ec, ""},
		{"rsa role, ec keys", func(r *vault.RoleInfo) { r.KeyType = "rsa" }, ec, "set key_type=any (or ec)"},
		{"no serverAuth", func(r *vault.RoleInfo) { r.ServerFlag = false }, ec, "set server_flag=true"},
		{"no clientAuth", func(r *vault.RoleInfo) { r.ClientFlag = false }, ec, "set client_flag=true"},
		{"CN not from the CSR", func(r *vault.RoleInfo) { r.UseCSRCommonName = false }, ec, "use_csr_common_name=true"},
		{"not stored", func(r *vault.RoleInfo) { r.NoStore = true }, ec, "no_store=false"},
		{"other OU", func(r *vault.RoleInfo) { r.OU = []string{"ops"} }, ec, `set ou="kafka"`},
		{"extra country", func(r *vault.RoleInfo) { r.Country = []string{"GB"} }, ec, `set country=""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			got := strings.Join(RoleProblems(&r, tc.key, subject), "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}
