package pki

import (
	"crypto/x509"
	"errors"
	"slices"
	"testing"
)

// TestRoleSpecsConsistent checks the declarations against each other: a
// rule that holds for every role is checked here once, so a new entry
// that breaks it fails here rather than somewhere downstream.
func TestRoleSpecsConsistent(t *testing.T) {
	keys, displays := map[string]Role{}, map[string]Role{}
	for _, s := range RoleSpecs() {
		t.Run(string(s.Role), func(t *testing.T) {
			if r, err := ParseRole(string(s.Role)); err != nil || r != s.Role {
				t.Errorf("ParseRole(%q) = %q, %v", s.Role, r, err)
			}
			if prev, dup := keys[s.SpecKey]; dup || s.SpecKey == "" {
				t.Errorf("spec key %q empty or shared with %s", s.SpecKey, prev)
			}
			keys[s.SpecKey] = s.Role
			if r, ok := RoleForSpecKey(s.SpecKey); !ok || r != s.Role {
				t.Errorf("RoleForSpecKey(%q) = %q, %v", s.SpecKey, r, ok)
			}
			if prev, dup := displays[s.Display]; dup || s.Display == "" {
				t.Errorf("display name %q empty or shared with %s", s.Display, prev)
			}
			displays[s.Display] = s.Role
			if s.Server != s.HasExtKeyUsage(x509.ExtKeyUsageServerAuth) {
				t.Errorf("Server = %v but serverAuth = %v", s.Server, !s.Server)
			}
			if s.DefaultSANs && !s.Server {
				t.Error("default SANs on a role that serves no TLS")
			}
			if (s.KafkaClient || s.SuperUser) && !s.HasExtKeyUsage(x509.ExtKeyUsageClientAuth) {
				t.Error("a role that logs in to Kafka needs clientAuth")
			}
			if s.KafkaServer && !(s.Server && s.HasExtKeyUsage(x509.ExtKeyUsageClientAuth)) {
				t.Error("a Kafka server needs serverAuth and clientAuth (it dials its peers)")
			}
			if (s.SuperUser || s.Advertises) && !s.Cluster {
				t.Error("a super user or an advertised listener outside the cluster")
			}
			if s.Cluster && !(s.Server && s.DefaultSANs && s.Port != 0) {
				t.Error("a cluster member serves TLS on a port of its own, with default SANs")
			}
			if s.ClientAuthServer && !(s.Server && s.HasExtKeyUsage(x509.ExtKeyUsageClientAuth)) {
				t.Error("a listener that requires client certificates from peers of its own role needs serverAuth and clientAuth")
			}
			if s.Advertises && s.Port == 0 {
				t.Error("a role that advertises a listener needs a default port")
			}
			if len(s.Configs) == 0 {
				t.Error("no config files")
			}
			if s.ReloadNote == "" && s.Role != RoleBroker { // brokers reload with kafka-configs
				t.Error("no reload note")
			}
			if s.Role.Spec().Role != s.Role {
				t.Errorf("Spec() of %q returns %q", s.Role, s.Role.Spec().Role)
			}
		})
	}
	if s := Role("admin").Spec(); s.Server || len(s.ExtKeyUsage) > 0 || s.KafkaClient {
		t.Errorf("unknown role gets capabilities: %+v", s)
	}
}

// TestSignRoleSANRules signs each role with and without SANs: a role that
// serves TLS is refused without a DNS or IP SAN, and the certificate
// verifies for exactly the role's usages.
func TestSignRoleSANRules(t *testing.T) {
	p := newTestPKI(t, nil)
	key, err := GenerateKey(KeySpec{Type: ECDSA})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	sans, err := BuildSANs(SANs{}, []string{"idp.example.com"}, []string{"10.0.0.5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Roles {
		t.Run(string(r), func(t *testing.T) {
			_, err := p.Sign(CertRequest{Name: "n-" + string(r), Role: r}, key.Public(), nil)
			var fe *InvalidFieldError
			if r.IsServer() != (err != nil) {
				t.Errorf("no SAN: err = %v, want refused = %v", err, r.IsServer())
			}
			if err != nil && (!errors.As(err, &fe) || fe.Field != FieldSANs) {
				t.Errorf("no SAN: err = %v, want an InvalidFieldError on %s", err, FieldSANs)
			}
			c, err := p.Sign(CertRequest{Name: "n-" + string(r), Role: r, SANs: sans}, key.Public(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.ExtKeyUsage, r.Spec().ExtKeyUsage) {
				t.Errorf("EKU %v, want %v", c.ExtKeyUsage, r.Spec().ExtKeyUsage)
			}
			for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				_, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{u}})
				if want := r.Spec().HasExtKeyUsage(u); want != (err == nil) {
					t.Errorf("verifies for EKU %v: %v, want %v", u, err == nil, want)
				}
			}
			if r.IsServer() {
				if err := c.VerifyHostname("idp.example.com"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestServerRoleSANs: the plain TLS server takes its SANs only from the
// user (no name, localhost or 127.0.0.1 added), unlike Kafka servers.
func TestServerRoleSANs(t *testing.T) {
	for _, tc := range []struct {
		role Role
		want bool
	}{{RoleServer, false}, {RoleBroker, true}, {RoleController, true}, {RoleZooKeeper, true}, {RoleClient, false}} {
		t.Run(string(tc.role), func(t *testing.T) {
			if got := tc.role.Spec().DefaultSANs; got != tc.want {
				t.Errorf("DefaultSANs = %v, want %v", got, tc.want)
			}
		})
	}
}
