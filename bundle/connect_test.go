package bundle

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
)

// TestBundleConnect: a connect: entry becomes a Connect worker identity
// (serverAuth+clientAuth, the REST SANs), its configs name the cluster's
// bootstrap and its own group and topics, acls.sh grants the worker, its
// source and its sink, and SUMMARY.md lists it. It is no super user.
func TestBundleConnect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	s, err := ParseSpec([]byte(`
ca: {cn: Test CA, keyType: ecdsa}
brokers: [{name: kafka-1}]
connect:
  - name: connect-1
    hosts: [connect-1.example.com]
    port: 18443
    group: etl
    connectors:
      - {name: file-in, type: source, topics: [lines]}
      - {name: file-out, type: sink, topics: [lines]}
    grants:
      - {topic: dlq, operations: [Write]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	run(t, dir, s, nil)

	idDir := identity.Dir(dir, "connect-1")
	b, err := os.ReadFile(filepath.Join(idDir, identity.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("EKU %v, want serverAuth and clientAuth", c.ExtKeyUsage)
	}
	if !slices.Contains(c.DNSNames, "connect-1.example.com") || !slices.Contains(c.DNSNames, "connect-1") {
		t.Errorf("DNS SANs %v, want connect-1.example.com and the defaults", c.DNSNames)
	}
	props := read(t, filepath.Join(idDir, pki.ConnectDistributedFile))
	for _, line := range []string{"bootstrap.servers=kafka-1:9093", "listeners=https://connect-1.example.com:18443", "group.id=etl",
		"config.storage.topic=connect-configs", "offset.storage.topic=connect-offsets", "status.storage.topic=connect-status"} {
		if !strings.Contains(props, "\n"+line+"\n") {
			t.Errorf("%s lacks %s", pki.ConnectDistributedFile, line)
		}
	}
	acls := read(t, filepath.Join(dir, ACLScript))
	p := "User:CN=connect-1"
	for _, want := range []string{
		p + " --operation Read --operation Write --operation Create --operation Describe --operation DescribeConfigs --topic connect-configs",
		p + " --operation Read --operation Write --operation Create --operation Describe --operation DescribeConfigs --topic connect-status",
		p + " --operation Read --group etl",
		p + " --operation Write --operation Create --operation Describe --topic lines",
		p + " --operation Read --operation Describe --topic lines",
		p + " --operation Read --group connect-file-out",
		p + " --operation Write --topic dlq",
	} {
		if !strings.Contains(acls, want+"\n") {
			t.Errorf("acls.sh lacks ...%s\n%s", want, acls)
		}
	}
	if su := read(t, filepath.Join(dir, SuperUsersFile)); strings.Contains(su, "connect-1") {
		t.Errorf("the Connect worker is a super user:\n%s", su)
	}
	if sum := read(t, filepath.Join(dir, SummaryFile)); !strings.Contains(sum, "| connect-1 | connect |") || !strings.Contains(sum, "| connect-1.example.com:18443 |") {
		t.Errorf("SUMMARY.md does not list connect-1 as a connect worker:\n%s", sum)
	}
	// A re-run changes nothing.
	before := hashTree(t, dir)
	run(t, dir, s, nil)
	if d := diffTree(before, hashTree(t, dir)); len(d) > 0 {
		t.Errorf("second run changed %v", d)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBadConnectSpecs(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"pem only", "defaults: {formats: [pem]}\nconnect: [{name: w}]", "defaults.formats: formats [pem]: a Connect worker's REST listener"},
		{"same topics", "connect: [{name: w, offsetTopic: connect-configs}]", `connect worker "w": configTopic, offsetTopic and statusTopic must be three different topics`},
		{"bad connector", "connect: [{name: w, connectors: [{name: c, type: both, topics: [t]}]}]", `connect worker "w" connector 1: connector "c": type "both": type must be source or sink`},
		{"connector without topics", "connect: [{name: w, connectors: [{name: c, type: sink}]}]", `connector "c": no topics`},
		{"no SAN", "connect: [{name: w, noDefaultSans: true}]", `connect worker "w": no hosts or IPs`},
		{"duplicate", "clients: [{name: w}]\nconnect: [{name: w}]", `connect worker "w": duplicate name (already a client)`},
		{"unknown key", "connect: [{name: w, topics: [a]}]", "field topics not found"},
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
