package bundle

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

// TestSpecListsAreTheRoleSpecKeys: the spec has one identity list per
// role, under the key the role's declaration names, and Entities gives
// each list's entries that role.
func TestSpecListsAreTheRoleSpecKeys(t *testing.T) {
	var keys []string
	st := reflect.TypeFor[Spec]()
	for i := range st.NumField() {
		if f := st.Field(i); f.Type.Kind() == reflect.Slice {
			keys = append(keys, strings.Split(f.Tag.Get("yaml"), ",")[0])
		}
	}
	var want []string
	for _, rs := range pki.RoleSpecs() {
		want = append(want, rs.SpecKey)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("spec lists %v, role spec keys %v", keys, want)
	}
	for _, rs := range pki.RoleSpecs() {
		t.Run(rs.SpecKey, func(t *testing.T) {
			y := rs.SpecKey + ": [{name: x1}]"
			if rs.Role == pki.RoleServer {
				y = rs.SpecKey + ": [{name: x1, dns: [x1.example.com]}]"
			}
			s, err := ParseSpec([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			es := s.Entities()
			if len(es) != 1 || es[0].Role != rs.Role {
				t.Fatalf("entities of %q: %+v, want one %s", y, es, rs.Role)
			}
		})
	}
}

// TestBundleServers: a servers: entry becomes a serverAuth-only identity
// for exactly its dns/ips, with its stores and the note, no Kafka config;
// it is not a super user and takes no part in acls.sh or bootstrap lists.
func TestBundleServers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s := ecSpec()
	s.Clients = append(s.Clients, Client{Name: "reader", Grants: nil})
	s.Servers = []Server{{Name: "idp", DNS: []string{"idp.example.com"}, IPs: []string{"10.0.0.7"}}}
	run(t, dir, s, nil)

	idDir := identity.Dir(dir, "idp")
	ents, err := os.ReadDir(idDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	for _, want := range []string{identity.KeystoreJKS, identity.KeystoreP12, identity.KeyPEM, identity.CertPEM, pki.ServerNoteFile} {
		if !slices.Contains(files, want) {
			t.Errorf("idp has %v, missing %s", files, want)
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".properties") || f == "zoo.cfg" || f == "kcat.conf" {
			t.Errorf("idp got a Kafka config %s", f)
		}
	}
	b, err := os.ReadFile(filepath.Join(idDir, identity.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("EKU %v, want serverAuth only", c.ExtKeyUsage)
	}
	if !slices.Equal(c.DNSNames, []string{"idp.example.com"}) || len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "10.0.0.7" {
		t.Errorf("SANs DNS %v IP %v, want exactly idp.example.com and 10.0.0.7", c.DNSNames, c.IPAddresses)
	}
	su, err := os.ReadFile(filepath.Join(dir, SuperUsersFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(su), "CN=idp") {
		t.Errorf("the server is a super user:\n%s", su)
	}
	props, err := os.ReadFile(filepath.Join(identity.Dir(dir, "client1"), "client.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(props), "idp") {
		t.Errorf("a client's config names the server:\n%s", props)
	}
	// A re-run with the same spec changes nothing.
	before := hashTree(t, dir)
	run(t, dir, s, nil)
	if d := diffTree(before, hashTree(t, dir)); len(d) > 0 {
		t.Errorf("second run changed %v", d)
	}
}

func TestBadServerSpecs(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"no SAN", "servers: [{name: idp}]", `server "idp": no dns or ips`},
		{"bad dns", `servers: [{name: idp, dns: ["idp example"]}]`, `server "idp": invalid DNS name`},
		{"ip as dns", `servers: [{name: idp, dns: [10.0.0.1]}]`, `server "idp": invalid DNS name "10.0.0.1": this is an IP address`},
		{"duplicate", "brokers: [{name: idp}]\nservers: [{name: idp, dns: [idp.example.com]}]", `server "idp": duplicate name (already a broker)`},
		{"hosts is not a server key", "servers: [{name: idp, hosts: [idp.example.com]}]", "field hosts not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSpec([]byte(tt.yaml))
			if err == nil {
				err = s.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant containing %q", err, tt.want)
			}
		})
	}
}

func TestSpecMergeServers(t *testing.T) {
	saved := &Spec{Servers: []Server{{Name: "idp", DNS: []string{"idp.example.com"}}}, Clients: []Client{{Name: "app"}}}
	got, err := saved.Merge(&Spec{Servers: []Server{{Name: "idp"}, {Name: "proxy", DNS: []string{"proxy.example.com"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Servers) != 2 || !slices.Equal(got.Servers[0].DNS, []string{"idp.example.com"}) {
		t.Errorf("merged servers %+v", got.Servers)
	}
	for _, tc := range []struct {
		add  *Spec
		want string
	}{
		{&Spec{Servers: []Server{{Name: "app", DNS: []string{"a.example.com"}}}}, `server "app": the saved spec has it as a client`},
		{&Spec{Servers: []Server{{Name: "idp", DNS: []string{"other.example.com"}}}}, `server "idp": defined differently`},
		{&Spec{Clients: []Client{{Name: "idp"}}}, `client "idp": the saved spec has it as a server`},
	} {
		if _, err := saved.Merge(tc.add); !errors.Is(err, ErrSpecConflict) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Merge(%+v) = %v, want a conflict naming %q", tc.add, err, tc.want)
		}
	}
}

// TestBundleMirrorMakers: a mirrormakers: entry becomes a clientAuth-only
// identity whose mirrormaker-cluster.properties carries the bundle's
// bootstrap servers under its alias, and its default grants join acls.sh.
func TestBundleMirrorMakers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s := ecSpec()
	s.MirrorMakers = []MirrorMaker{{Name: "mm2", ClusterAlias: "primary"}}
	run(t, dir, s, nil)

	props, err := identity.ReadProperties(identity.Dir(dir, "mm2"), pki.MirrorMakerClusterFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := props["primary.bootstrap.servers"]; got != "kafka-1.example.com:9093,kafka-2:9093" {
		t.Errorf("primary.bootstrap.servers = %q, want the bundle's brokers", got)
	}
	if props["primary.security.protocol"] != "SSL" {
		t.Errorf("primary.security.protocol = %q", props["primary.security.protocol"])
	}
	b, err := os.ReadFile(filepath.Join(identity.Dir(dir, "mm2"), identity.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(certs[0].ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("EKU %v, want clientAuth only", certs[0].ExtKeyUsage)
	}
	acls, err := os.ReadFile(filepath.Join(dir, ACLScript))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(acls), "--allow-principal 'User:CN=mm2,O=Acme'") || !strings.Contains(string(acls), "--topic mm2- --resource-pattern-type prefixed") {
		t.Errorf("acls.sh lacks mm2's default grants:\n%s", acls)
	}
	before := hashTree(t, dir)
	run(t, dir, s, nil)
	if d := diffTree(before, hashTree(t, dir)); len(d) > 0 {
		t.Errorf("second run changed %v", d)
	}
}

func TestBadMirrorMakerSpecs(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"no alias", "mirrormakers: [{name: mm2}]", `mirrormaker "mm2": clusterAlias: empty`},
		{"dotted alias", "mirrormakers: [{name: mm2, clusterAlias: a.b}]", `mirrormaker "mm2": clusterAlias: "a.b": character '.' not allowed`},
		{"duplicate", "clients: [{name: mm2}]\nmirrormakers: [{name: mm2, clusterAlias: A}]", `mirrormaker "mm2": duplicate name (already a client)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSpec([]byte(tt.yaml))
			if err == nil {
				err = s.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant containing %q", err, tt.want)
			}
		})
	}
}
