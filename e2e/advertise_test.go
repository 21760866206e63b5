package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIssueAdvertiseGolden: `issue --advertise` writes exactly the
// templates' broker/advertise golden files (advertised.listeners and the
// client's bootstrap.servers on the advertised host and port), and the
// host joins the SANs.
func TestIssueAdvertiseGolden(t *testing.T) {
	t.Setenv("KAFKATLS_NO_RESOLVE", "1")
	dir := t.TempDir()
	ok(t, dir, "init", "--key-type", "ecdsa", "--ou", "Kafka")
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("Kp9#secret!pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := ok(t, dir, "issue", "kafka-1", "--role", "broker", "--advertise", "broker1.example.com:9095",
		"--dns", "kafka-1.example.com", "--mount-path", "/etc/kafka/secrets/kafka-1", "--password-file", "pw")
	if !strings.Contains(out, "DNS:kafka-1, DNS:localhost, DNS:kafka-1.example.com, DNS:broker1.example.com, IP:127.0.0.1") {
		t.Errorf("SANs:\n%s", out)
	}
	for _, f := range []string{"server.properties", "client.properties"} {
		got := readTrim(t, filepath.Join(dir, "kafka-pki/certs/kafka-1", f))
		want := readTrim(t, filepath.Join("../templates/testdata/broker/advertise", f+".golden"))
		if got != want {
			t.Errorf("%s differs from templates/testdata/broker/advertise/%s.golden:\n%s", f, f, got)
		}
	}
}

// TestAdvertiseUnresolvedWarning: a broker host that does not resolve
// (.invalid never does) gets exactly one warning line on stderr from issue
// and from bundle; an IP address or KAFKATLS_NO_RESOLVE=1 gets none, and
// bad addresses are usage errors.
func TestAdvertiseUnresolvedWarning(t *testing.T) {
	dir := newPKI(t)
	warnings := func(stderr string) []string {
		var out []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "resolve") {
				out = append(out, l)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		args     []string
		noLookup bool
		want     string // the one warning line; "" none
	}{
		{"issue default name", []string{"issue", "kafka-1.invalid", "--role", "broker"}, false,
			"warning: kafka-1.invalid does not resolve on this machine: advertised.listeners and the bootstrap.servers of client.properties use it; --advertise HOST[:PORT] names the host clients dial"},
		{"issue advertise", []string{"issue", "kafka-2", "--role", "broker", "--advertise", "broker2.kafkatls.invalid:9095"}, false,
			"warning: broker2.kafkatls.invalid does not resolve on this machine: advertised.listeners and the bootstrap.servers of client.properties use it; --advertise HOST[:PORT] names the host clients dial"},
		{"issue advertise IP", []string{"issue", "kafka-3", "--role", "broker", "--advertise", "10.0.0.7"}, false, ""},
		{"issue skipped", []string{"issue", "kafka-4", "--role", "broker", "--advertise", "b4.kafkatls.invalid"}, true, ""},
		{"issue client", []string{"issue", "app.invalid"}, false, ""},
		{"bundle", []string{"bundle", "--dir", "b", "--brokers", "kafka-1,kafka-2", "--advertise", "kafka-1=b1.kafkatls.invalid", "--advertise", "kafka-2=127.0.0.1:9095", "--clients", "app"}, false,
			"warning: b1.kafkatls.invalid does not resolve on this machine: advertised.listeners and the clients' bootstrap.servers name brokers by these hosts; set advertise: per broker (or --advertise NAME=HOST[:PORT]) to the hosts clients dial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noLookup {
				t.Setenv("KAFKATLS_NO_RESOLVE", "1")
			}
			r := kt(t, dir, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			got := warnings(r.stderr)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("unexpected warning %q", got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("warnings %q, want exactly %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"issue", "kafka-9", "--role", "broker", "--advertise", "host:99999"}},
		{[]string{"issue", "kafka-9", "--role", "broker", "--advertise", "*.example.com"}},
		{[]string{"issue", "app2", "--advertise", "app.example.com"}},
		{[]string{"bundle", "--dir", "c", "--brokers", "kafka-1", "--advertise", "kafka-2=x.example.com"}},
		{[]string{"bundle", "--dir", "c", "--brokers", "kafka-1", "--advertise", "kafka-1"}},
	} {
		if r := kt(t, dir, tc.args...); r.code != 2 || !strings.Contains(r.stderr, "--advertise") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming --advertise", tc.args, r.code, r.stderr)
		}
	}
}
