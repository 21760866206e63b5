package cmd

import (
	"strings"
	"testing"
)

// TestACLsConnect: acls NAME for a Connect worker prints its own ACLs on
// the names its config holds; --source-connector/--sink-connector print a
// connector's; a grant flag prints that grant only.
func TestACLsConnect(t *testing.T) {
	dir := newTestPKI(t)
	if _, stderr, code := run(t, "--dir", dir, "issue", "w1", "--role", "connect", "--group", "etl", "--offset-topic", "etl-offsets"); code != 0 {
		t.Fatalf("issue: exit %d %s", code, stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"worker", nil, []string{
			"--operation DescribeConfigs --topic connect-configs", "--operation DescribeConfigs --topic etl-offsets",
			"--operation DescribeConfigs --topic connect-status", "--operation Read --group etl"}},
		{"source", []string{"--source-connector", "db-in", "--topic", "orders"}, []string{
			"--operation Write --operation Create --operation Describe --topic orders"}},
		{"sink prefixed", []string{"--sink-connector", "s3-out", "--topic", "orders.", "--prefixed"}, []string{
			"--operation Read --operation Describe --topic orders. --resource-pattern-type prefixed",
			"--operation Read --group connect-s3-out"}}, // the group is the connector's own name, never a prefix
		{"a grant flag", []string{"--topic", "dlq", "--operation", "Write"}, []string{"--operation Write --topic dlq"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := run(t, append([]string{"--dir", dir, "acls", "w1"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d %s", code, stderr)
			}
			var cmds []string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "kafka-acls.sh ") {
					cmds = append(cmds, l)
				}
			}
			if len(cmds) != len(tc.want) {
				t.Fatalf("%d commands, want %d:\n%s", len(cmds), len(tc.want), out)
			}
			for i, w := range tc.want {
				if !strings.HasSuffix(cmds[i], w) || !strings.Contains(cmds[i], "--allow-principal User:CN=w1") {
					t.Errorf("command %d\n got %s\nwant suffix %s", i, cmds[i], w)
				}
			}
		})
	}
}
