package identity_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// TestFilesIsWhatIssueWrites: for every role, mode and format mix, Files
// names exactly the files a real issue writes, its configs are among the
// ones the role's declaration lists, and Load tells the role from them.
func TestFilesIsWhatIssueWrites(t *testing.T) {
	dir := t.TempDir()
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Subject: pki.SubjectDefaults{Organization: "Acme"}, Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	idx := &pki.Index{}
	for _, role := range pki.Roles {
		for _, mode := range []string{"kraft", "zookeeper"} {
			if role == pki.RoleController && mode == "zookeeper" {
				continue // no such thing
			}
			for _, formats := range [][]string{nil, {"pem"}, {"p12"}, {"jks"}, {"jks", "pem"}} {
				name := string(role) + "-" + mode + "-" + fmtName(formats)
				if identity.CheckFormats(role, formats) != nil {
					continue // refused before signing: TestCheckFormats
				}
				t.Run(name, func(t *testing.T) {
					o := identity.Options{Formats: formats, Config: identity.Config{Mode: mode, Bootstrap: "kafka-1:9093", ZooKeeperConnect: "zk:2182", ClusterAlias: "A"}}
					want, err := identity.Files(name, role, "User:CN="+name, o)
					if err != nil {
						t.Fatal(err)
					}
					res, err := identity.Issue(&pki.Tx{Dir: p.Dir, PKI: p, Index: idx}, pki.CertRequest{Name: name, Role: role, SANs: pki.DefaultServerSANs(name), Days: 30}, pki.KeySpec{Type: pki.ECDSA}, o)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(res.Files, want) {
						t.Errorf("issue wrote %v\nFiles says %v", res.Files, want)
					}
					for _, f := range res.Files {
						if !slices.Contains(storeFiles, f) && !slices.Contains(role.Spec().Configs, f) {
							t.Errorf("issue wrote %s, which is neither a store nor among the %s role's configs %v", f, role, role.Spec().Configs)
						}
					}
					if id, err := identity.Load(res.Dir, ""); err != nil || id.Role != role {
						t.Errorf("Load without the index: role %q (%v), want %q", id.Role, err, role)
					}
				})
			}
		}
	}
}

// storeFiles are the files of an identity that are not configs.
var storeFiles = []string{identity.CertPEM, identity.ChainPEM, identity.CAPEM, identity.PrincipalFile, identity.PasswordFile,
	identity.KeystoreJKS, identity.TruststoreJKS, identity.KeystoreP12, identity.TruststoreP12, identity.KeyPEM, identity.KeystorePEM}

func fmtName(formats []string) string {
	if len(formats) == 0 {
		return "all"
	}
	s := ""
	for _, f := range formats {
		s += f
	}
	return s
}
