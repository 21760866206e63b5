package identity_test

import (
	"reflect"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// TestFilesIsWhatIssueWrites: for every role, mode and format mix, Files
// names exactly the files a real issue writes.
func TestFilesIsWhatIssueWrites(t *testing.T) {
	dir := t.TempDir()
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Subject: pki.SubjectDefaults{Organization: "Acme"}, Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	idx := &pki.Index{}
	for _, role := range []pki.Role{pki.RoleBroker, pki.RoleController, pki.RoleZooKeeper, pki.RoleClient} {
		for _, mode := range []string{"kraft", "zookeeper"} {
			if role == pki.RoleController && mode == "zookeeper" {
				continue // no such thing
			}
			for _, formats := range [][]string{nil, {"pem"}, {"p12"}, {"jks"}, {"jks", "pem"}} {
				name := string(role) + "-" + mode + "-" + fmtName(formats)
				t.Run(name, func(t *testing.T) {
					o := identity.Options{Formats: formats, Config: identity.Config{Mode: mode, Bootstrap: "kafka-1:9093", ZooKeeperConnect: "zk:2182"}}
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
				})
			}
		}
	}
}

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
