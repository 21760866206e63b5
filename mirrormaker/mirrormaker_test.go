package mirrormaker_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/mirrormaker"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/templates"
)

// cluster is a PKI of its own (its own CA) with a mirrormaker identity.
type cluster struct {
	p   *pki.PKI
	idx *pki.Index
}

func newCluster(t *testing.T, cn string) *cluster {
	t.Helper()
	p, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "pki"), CN: cn, Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{p, &pki.Index{}}
}

func (c *cluster) issue(t *testing.T, name string, role pki.Role, cfg identity.Config) string {
	t.Helper()
	res, err := identity.Issue(&pki.Tx{Dir: c.p.Dir, PKI: c.p, Index: c.idx},
		pki.CertRequest{Name: name, Role: role, SANs: pki.DefaultServerSANs(name), Days: 30}, pki.KeySpec{Type: pki.ECDSA},
		identity.Options{Formats: []string{"p12", "pem"}, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return res.Dir
}

func props(t *testing.T, data []byte) map[string]string {
	t.Helper()
	return templates.ParseProperties(data)
}

// TestCombineTwoCAs: one identity from each cluster's CA makes one file
// with both clusters' settings, each pointing at its own stores, and the
// grants each cluster needs.
func TestCombineTwoCAs(t *testing.T) {
	a, b := newCluster(t, "Cluster A CA"), newCluster(t, "Cluster B CA")
	da := a.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "A", Bootstrap: "kafka-a:9093"})
	db := b.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "B"})
	cfg, err := mirrormaker.Combine(mirrormaker.Flow{
		Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: db, Bootstrap: "kafka-b:9093"},
		Topics: []string{"orders", "pay.*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SameCA {
		t.Error("SameCA for two PKIs")
	}
	p := props(t, cfg.Properties)
	for k, want := range map[string]string{
		"clusters": "A, B", "A->B.enabled": "true", "A->B.topics": "orders, pay.*",
		"A.bootstrap.servers": "kafka-a:9093", "B.bootstrap.servers": "kafka-b:9093",
		"A.security.protocol": "SSL", "B.security.protocol": "SSL",
		"A.ssl.keystore.location":   filepath.Join(da, identity.KeystoreP12),
		"A.ssl.truststore.location": filepath.Join(da, identity.TruststoreP12),
		"B.ssl.keystore.location":   filepath.Join(db, identity.KeystoreP12),
		"B.ssl.truststore.location": filepath.Join(db, identity.TruststoreP12),
	} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	pwA, _ := identity.ReadPassword(da)
	pwB, _ := identity.ReadPassword(db)
	if p["A.ssl.keystore.password"] != pwA || p["B.ssl.keystore.password"] != pwB {
		t.Error("each cluster's stores must come with their own password")
	}

	has := func(gs []mirrormaker.Grant, want kafkaacl.Grant) bool {
		return slices.ContainsFunc(gs, func(g mirrormaker.Grant) bool {
			return g.Topic == want.Topic && g.Group == want.Group && g.Prefixed == want.Prefixed && slices.Equal(g.Operations, want.Operations)
		})
	}
	for _, c := range []struct {
		side  string
		gs    []mirrormaker.Grant
		want  kafkaacl.Grant
		holds bool
	}{
		{"source", cfg.Source.Grants, kafkaacl.Grant{Topic: "orders", Operations: []string{"Read", "Describe", "DescribeConfigs"}}, true},
		{"source", cfg.Source.Grants, kafkaacl.Grant{Topic: "pay", Prefixed: true, Operations: []string{"Read", "Describe", "DescribeConfigs"}}, true},
		{"source", cfg.Source.Grants, kafkaacl.Grant{Group: "*", Operations: []string{"Describe"}}, true},
		{"source", cfg.Source.Grants, kafkaacl.Grant{Group: "B-mm2", Operations: []string{"Read", "Describe"}}, true},
		{"source", cfg.Source.Grants, kafkaacl.Grant{Topic: "mm2-", Prefixed: true, Operations: []string{"Read", "Write", "Create", "Describe", "DescribeConfigs"}}, true},
		{"target", cfg.Target.Grants, kafkaacl.Grant{Topic: "A.", Prefixed: true, Operations: []string{"Create", "Write", "Describe", "DescribeConfigs", "Alter", "AlterConfigs"}}, true},
		{"target", cfg.Target.Grants, kafkaacl.Grant{Group: "A-mm2", Operations: []string{"Read", "Describe"}}, true},
		{"target", cfg.Target.Grants, kafkaacl.Grant{Topic: "heartbeats", Operations: []string{"Read", "Write", "Create", "Describe", "DescribeConfigs"}}, true},
		// The target is never read from, the source never written to.
		{"target", cfg.Target.Grants, kafkaacl.Grant{Topic: "orders", Operations: []string{"Read", "Describe", "DescribeConfigs"}}, false},
		{"source", cfg.Source.Grants, kafkaacl.Grant{Topic: "B.", Prefixed: true, Operations: []string{"Create", "Write", "Describe", "DescribeConfigs", "Alter", "AlterConfigs"}}, false},
	} {
		if has(c.gs, c.want) != c.holds {
			t.Errorf("%s grants %+v: holds %v, want %v", c.side, c.want, !c.holds, c.holds)
		}
	}
	script := string(cfg.ACLScript(cfg.Target))
	if !strings.Contains(script, "--topic A. --resource-pattern-type prefixed") || !strings.Contains(script, `BOOTSTRAP="${BOOTSTRAP:-kafka-b:9093}"`) {
		t.Errorf("acls-B.sh:\n%s", script)
	}

	out := t.TempDir()
	paths, err := cfg.Write(out, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Errorf("wrote %v", paths)
	}
	if st, err := os.Stat(filepath.Join(out, templates.MirrorMakerFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v, want mode 0600 (it holds passwords)", templates.MirrorMakerFile, st.Mode(), err)
	}
	if _, err := cfg.Write(out, false); !errors.Is(err, mirrormaker.ErrExists) {
		t.Errorf("second Write without replace: %v, want ErrExists", err)
	}
}

func TestCombineRefuses(t *testing.T) {
	a, b := newCluster(t, "Cluster A CA"), newCluster(t, "Cluster B CA")
	da := a.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "A", Bootstrap: "kafka-a:9093"})
	broker := a.issue(t, "kafka-1", pki.RoleBroker, identity.Config{})
	sameAlias := b.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "A", Bootstrap: "kafka-b:9093"})
	noBootstrap := b.issue(t, "mm2-nb", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "B"})
	for _, c := range []struct {
		name string
		flow mirrormaker.Flow
		want error
	}{
		{"same alias", mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: sameAlias}, Topics: []string{"t"}}, mirrormaker.ErrSameAlias},
		{"not a mirrormaker", mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: broker}, Topics: []string{"t"}}, mirrormaker.ErrNotMirrorMaker},
		{"same identity", mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: da}, Topics: []string{"t"}}, mirrormaker.ErrSameIdentity},
		{"no bootstrap", mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: noBootstrap}, Topics: []string{"t"}}, mirrormaker.ErrNoBootstrap},
		{"no topics", mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: noBootstrap, Bootstrap: "b:1"}}, mirrormaker.ErrNoTopics},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := mirrormaker.Combine(c.flow); !errors.Is(err, c.want) {
				t.Errorf("Combine: %v, want %v", err, c.want)
			}
		})
	}
	t.Run("pattern without an ACL", func(t *testing.T) {
		_, err := mirrormaker.Combine(mirrormaker.Flow{Source: mirrormaker.Side{Dir: da}, Target: mirrormaker.Side{Dir: noBootstrap, Bootstrap: "b:1"}, Topics: []string{"orders|payments"}})
		var pe *mirrormaker.PatternError
		if !errors.As(err, &pe) || pe.Pattern != "orders|payments" {
			t.Errorf("Combine: %v, want a PatternError", err)
		}
	})
}

// TestCombineMappingRules: a cluster with ssl.principal.mapping.rules
// gets ACLs for the mapped principal; the other keeps the DN.
func TestCombineMappingRules(t *testing.T) {
	a, b := newCluster(t, "Cluster A CA"), newCluster(t, "Cluster B CA")
	da := a.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "A", Bootstrap: "kafka-a:9093"})
	db := b.issue(t, "mm2", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "B", Bootstrap: "kafka-b:9093"})
	cfg, err := mirrormaker.Combine(mirrormaker.Flow{Source: mirrormaker.Side{Dir: da},
		Target: mirrormaker.Side{Dir: db, Rules: "RULE:^CN=([^,]+).*$/$1/L,DEFAULT"}, Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source.Principal != "User:CN=mm2" || cfg.Target.Principal != "User:mm2" {
		t.Errorf("principals %q and %q, want User:CN=mm2 and the mapped User:mm2", cfg.Source.Principal, cfg.Target.Principal)
	}
	if !strings.Contains(string(cfg.ACLScript(cfg.Target)), "--allow-principal User:mm2 ") {
		t.Errorf("acls-B.sh does not grant the mapped principal")
	}
	_, err = mirrormaker.Combine(mirrormaker.Flow{Source: mirrormaker.Side{Dir: da, Rules: "RULE:broken"}, Target: mirrormaker.Side{Dir: db}, Topics: []string{"t"}})
	if !errors.Is(err, mirrormaker.ErrRules) {
		t.Errorf("broken rules: %v, want ErrRules", err)
	}
}

// TestCombineSameCA: both identities from one PKI work, and say so.
func TestCombineSameCA(t *testing.T) {
	a := newCluster(t, "Shared CA")
	d1 := a.issue(t, "mm2-a", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "A", Bootstrap: "kafka-a:9093"})
	d2 := a.issue(t, "mm2-b", pki.RoleMirrorMaker, identity.Config{ClusterAlias: "B", Bootstrap: "kafka-b:9093"})
	cfg, err := mirrormaker.Combine(mirrormaker.Flow{Source: mirrormaker.Side{Dir: d1}, Target: mirrormaker.Side{Dir: d2}, Topics: []string{".*"}})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SameCA || !strings.Contains(string(cfg.Properties), "signed by the same CA") {
		t.Errorf("SameCA %v; the file must say the clusters share a CA", cfg.SameCA)
	}
	if !slices.ContainsFunc(cfg.Source.Grants, func(g mirrormaker.Grant) bool { return g.Topic == "*" && !g.Prefixed }) {
		t.Error(".* must grant on every topic (*)")
	}
}
