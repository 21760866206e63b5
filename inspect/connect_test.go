package inspect

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// TestCheckIdentityConnect: a Connect worker's configs are checked like
// every other config, under each prefix (the worker's own, producer.,
// consumer., admin., listeners.https.): a password edited in one of them
// is found and named, and the worker as written passes.
func TestCheckIdentityConnect(t *testing.T) {
	for _, tc := range []struct {
		name, file, old, new string
		want                 string
	}{
		{"as written", "", "", "", ""},
		{"REST keystore password", pki.ConnectDistributedFile, "listeners.https.ssl.keystore.password=", "listeners.https.ssl.keystore.password=x",
			"connect-distributed.properties config-password listeners.https.ssl.keystore.password does not open keystore.p12"},
		{"producer truststore password", "connect-standalone.properties", "producer.ssl.truststore.password=", "producer.ssl.truststore.password=x",
			"connect-standalone.properties config-password producer.ssl.truststore.password does not open truststore.p12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, pkiDir := testPKI(t)
			tx := &pki.Tx{Dir: pkiDir, PKI: p, Index: &pki.Index{}}
			if _, err := identity.Issue(tx, pki.CertRequest{Name: "connect-1", Role: pki.RoleConnect, SANs: pki.DefaultServerSANs("connect-1")}, pki.KeySpec{Type: pki.ECDSA}, identity.Options{}); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(pkiDir, "certs", "connect-1")
			if tc.file != "" {
				editFile(t, filepath.Join(dir, tc.file), tc.old, tc.new)
			}
			got := errorsOf(CheckIdentity(dir))
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("errors in a worker as written:\n  %s", strings.Join(got, "\n  "))
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Fatalf("errors:\n  %s\nwant one containing %q", strings.Join(got, "\n  "), tc.want)
			}
		})
	}
}
