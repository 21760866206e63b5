package kafkaacl

import (
	"strings"
	"testing"
)

// The commands a Connect worker's grants turn into, as acls.sh runs them.
func TestConnectWorkerCommands(t *testing.T) {
	tg := Target{Bootstrap: "kafka-1:9093", CommandConfig: "admin.properties"}
	var got []string
	for _, g := range (ConnectWorker{Group: "etl"}).Grants() {
		if err := g.Validate(); err != nil {
			t.Fatalf("grant %+v: %v", g, err)
		}
		got = append(got, Commands("User:CN=connect-1", g, tg)...)
	}
	ops := "--operation Read --operation Write --operation Create --operation Describe --operation DescribeConfigs"
	want := []string{
		ops + " --topic connect-configs",
		ops + " --topic connect-offsets",
		ops + " --topic connect-status",
		"--operation Read --group etl",
	}
	if len(got) != len(want) {
		t.Fatalf("%d commands, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], want[i]) {
			t.Errorf("command %d\n got %s\nwant suffix %s", i, got[i], want[i])
		}
	}
}

func TestConnectorGrants(t *testing.T) {
	tests := []struct {
		name string
		c    Connector
		want []string
	}{
		{"source", Connector{Name: "file-in", Type: ConnectorSource, Topics: []string{"lines"}},
			[]string{"--operation Write --operation Create --operation Describe --topic lines"}},
		{"sink", Connector{Name: "file-out", Type: ConnectorSink, Topics: []string{"lines", "more."}, Prefixed: true},
			[]string{"--operation Read --operation Describe --topic lines --resource-pattern-type prefixed",
				"--operation Read --operation Describe --topic more. --resource-pattern-type prefixed",
				"--operation Read --group connect-file-out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range tt.c.Grants() {
				got = append(got, Commands("User:CN=w", g, Target{})...)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%q, want %d commands", got, len(tt.want))
			}
			for i := range tt.want {
				if !strings.HasSuffix(got[i], tt.want[i]) {
					t.Errorf("command %d\n got %s\nwant suffix %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestConnectValidate(t *testing.T) {
	bad := map[string]interface{ Validate() error }{
		"type must be source or sink": Connector{Name: "x", Type: "both", Topics: []string{"t"}},
		"no topics":                   Connector{Name: "x", Type: ConnectorSink},
		"white space":                 Connector{Name: "a b", Type: ConnectorSink, Topics: []string{"t"}},
		"three different topics":      ConnectWorker{OffsetTopic: "s", StatusTopic: "s"}.WithDefaults(),
		`group ""`:                    ConnectWorker{ConfigTopic: "a", OffsetTopic: "b", StatusTopic: "c"},
	}
	for want, v := range bad {
		t.Run(want, func(t *testing.T) {
			if err := v.Validate(); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Validate(%+v) = %v, want %q", v, err, want)
			}
		})
	}
	if err := (ConnectWorker{}).WithDefaults().Validate(); err != nil {
		t.Errorf("Connect's sample names: %v", err)
	}
}
