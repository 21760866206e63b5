package identity_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
)

// A Connect worker whose stores its REST listener cannot read, or whose
// internal topics collide, is refused before the CA signs anything.
func TestIssueConnectRefusedBeforeSigning(t *testing.T) {
	dir := t.TempDir()
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    identity.Options
		want string
	}{
		{"pem only", identity.Options{Formats: []string{"pem"}}, "p12 or jks"},
		{"same topic twice", identity.Options{Config: identity.Config{Connect: kafkaacl.ConnectWorker{OffsetTopic: "connect-configs"}}}, "three different topics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := &pki.Index{}
			_, err := identity.Issue(&pki.Tx{Dir: p.Dir, PKI: p, Index: idx}, pki.CertRequest{Name: "connect-1", Role: pki.RoleConnect, SANs: pki.DefaultServerSANs("connect-1"), Days: 30}, pki.KeySpec{Type: pki.ECDSA}, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Issue: %v, want an error saying %q", err, tc.want)
			}
			if tc.name == "pem only" && !errors.Is(err, identity.ErrConnectFormats) {
				t.Errorf("Issue: %v is not ErrConnectFormats", err)
			}
			if len(idx.Records) != 0 {
				t.Errorf("the CA signed before refusing: %+v", idx.Records)
			}
			if _, err := os.Stat(filepath.Join(dir, pki.CertsDir, "connect-1")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("identity directory written: %v", err)
			}
		})
	}
}

// The worker's configs carry the names given, and Connect's sample names
// for the ones not given.
func TestConnectConfigNames(t *testing.T) {
	dir := t.TempDir()
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Test CA", Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	o := identity.Options{Config: identity.Config{Bootstrap: "kafka-1:9093", Connect: kafkaacl.ConnectWorker{Group: "etl", StatusTopic: "etl-status"}}}
	res, err := identity.Issue(&pki.Tx{Dir: p.Dir, PKI: p, Index: &pki.Index{}}, pki.CertRequest{Name: "connect-1", Role: pki.RoleConnect, SANs: pki.DefaultServerSANs("connect-1"), Days: 30}, pki.KeySpec{Type: pki.ECDSA}, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, pki.ConnectDistributedFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"group.id=etl", "config.storage.topic=connect-configs", "offset.storage.topic=connect-offsets",
		"status.storage.topic=etl-status", "bootstrap.servers=kafka-1:9093", "listeners=https://connect-1:8443"} {
		if !strings.Contains(string(b), "\n"+line+"\n") {
			t.Errorf("%s lacks the line %s", pki.ConnectDistributedFile, line)
		}
	}
}
