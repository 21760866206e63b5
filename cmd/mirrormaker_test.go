package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMirrorMakerCLI: the two-PKI flow as a user types it, and the usage
// errors (exit 2) with the flag that fixes each.
func TestMirrorMakerCLI(t *testing.T) {
	t.Setenv("KAFKATLS_NO_RESOLVE", "1")
	a, b := newTestPKI(t), newTestPKI(t)
	out := t.TempDir()
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		args []string
		code int
		want string // in stderr (errors) or stdout
	}{
		{"alias required", []string{"--dir", a, "issue", "mm2", "--role", "mirrormaker"}, ExitUsage, "--cluster-alias is required"},
		{"alias syntax", []string{"--dir", a, "issue", "mm2", "--role", "mirrormaker", "--cluster-alias", "A.1"}, ExitUsage, "--cluster-alias"},
		{"alias on a client", []string{"--dir", a, "issue", "c", "--cluster-alias", "A"}, ExitUsage, "for --role mirrormaker, not client"},
		{"bootstrap syntax", []string{"--dir", a, "issue", "mm2", "--role", "mirrormaker", "--cluster-alias", "A", "--cluster-bootstrap", "kafka-a"}, ExitUsage, "--cluster-bootstrap"},
		{"issue A", []string{"--dir", a, "issue", "mm2", "--role", "mirrormaker", "--cluster-alias", "A", "--cluster-bootstrap", "kafka-a:9093"}, 0, "mirrormaker-cluster.properties"},
		{"issue B", []string{"--dir", b, "issue", "mm2", "--role", "mirrormaker", "--cluster-alias", "B"}, 0, ""},
		{"issue client B", []string{"--dir", b, "issue", "app"}, 0, ""},
		{"issue A twice", []string{"--dir", b, "issue", "mm2-a", "--role", "mirrormaker", "--cluster-alias", "A", "--cluster-bootstrap", "kafka-b:9093"}, 0, ""},
		{"no topics", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2"}, ExitUsage, "--topics is required"},
		{"no bootstrap", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2", "--topics", "t"}, ExitUsage, "--target-bootstrap"},
		{"not a mirrormaker", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/app", "--topics", "t"}, ExitUsage, "client identity, not a mirrormaker identity"},
		{"same alias", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2-a", "--topics", "t"}, ExitUsage, `same cluster alias "A"`},
		{"regex", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2", "--topics", "a|b", "--target-bootstrap", "kafka-b:9093"}, ExitUsage, "--topics: topic pattern"},
		{"missing dir", []string{"mirrormaker", "config", "--source", a + "/certs/nope", "--target", b + "/certs/mm2", "--topics", "t"}, ExitUsage, "nope"},
		{"config", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2", "--topics", "orders", "--target-bootstrap", "kafka-b:9093", "--out", out}, 0, "acls-B.sh"},
		{"config again", []string{"mirrormaker", "config", "--source", a + "/certs/mm2", "--target", b + "/certs/mm2", "--topics", "orders", "--target-bootstrap", "kafka-b:9093", "--out", out}, ExitUsage, "--force"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			stdout, stderr, code := run(t, s.args...)
			if code != s.code {
				t.Fatalf("exit %d, want %d: %s", code, s.code, stderr)
			}
			if !strings.Contains(stdout+stderr, s.want) {
				t.Errorf("output does not mention %q:\n%s%s", s.want, stdout, stderr)
			}
		})
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("the existing --out directory's mode changed: %v %v", st.Mode(), err)
	}
	data, err := os.ReadFile(filepath.Join(out, "connect-mirror-maker.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"clusters=A, B", "A.bootstrap.servers=kafka-a:9093", "B.bootstrap.servers=kafka-b:9093", "A->B.topics=orders"} {
		if !strings.Contains(string(data), "\n"+line+"\n") {
			t.Errorf("connect-mirror-maker.properties lacks %q", line)
		}
	}
}
