package kafkaacl

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

func TestCommands(t *testing.T) {
	tg := Target{Bootstrap: "kafka-1:9093", CommandConfig: "/etc/kafka/secrets/admin/client.properties"}
	tests := []struct {
		name  string
		g     Grant
		wants []string
	}{
		{"producer", Grant{Topic: "orders", Producer: true},
			[]string{"kafka-acls.sh --bootstrap-server kafka-1:9093 --command-config /etc/kafka/secrets/admin/client.properties --add --allow-principal 'User:CN=app,OU=Apps' --producer --topic orders"}},
		{"consumer prefixed", Grant{Topic: "orders.", Group: "billing", Consumer: true, Prefixed: true},
			[]string{"--consumer --topic orders. --group billing --resource-pattern-type prefixed"}},
		{"operations", Grant{Topic: "my-topic", Group: "*", Operations: []string{"read", "Write", "CREATE"}},
			[]string{"--operation Read --operation Write --operation Create --topic my-topic", "--operation Read --operation Write --operation Create --group '*'"}},
		{"transactional", Grant{TransactionalID: "tx-1"},
			[]string{"--operation Write --operation Describe --transactional-id tx-1"}},
	}
	for _, tt := range tests {
		cmds := Commands("User:CN=app,OU=Apps", tt.g, tg)
		if len(cmds) != len(tt.wants) {
			t.Errorf("%s: %d commands, want %d: %q", tt.name, len(cmds), len(tt.wants), cmds)
			continue
		}
		for i, w := range tt.wants {
			if !strings.HasSuffix(cmds[i], w) {
				t.Errorf("%s: command %d\n got %s\nwant suffix %s", tt.name, i, cmds[i], w)
			}
		}
	}
}

// The principal must reach Kafka byte for byte through a real shell.
func TestShellQuoteThroughSh(t *testing.T) {
	sh := realpeer.Need(t, "sh")[0]
	for _, s := range []string{`User:CN=Tkac\, Adam,OU=ITZ`, `User:CN=O'Brien,O=x`, "User:CN=a b,OU=$HOME", "*", "plain-name"} {
		out, err := exec.Command(sh, "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh got %q (%v), want %q", out, err, s)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]Grant{
		"no topic, group":  {Producer: true},
		"a consumer group": {Topic: "t", Consumer: true},
		"gives nothing":    {Topic: "t"},
		`operation "Fly"`:  {Topic: "t", Operations: []string{"Fly"}},
		"needs a topic":    {Group: "g", Consumer: true},
	}
	for want, g := range bad {
		if err := g.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want %q", g, err, want)
		}
	}
	if err := (Grant{Topic: "t", Group: "g", Consumer: true}).Validate(); err != nil {
		t.Error(err)
	}
}
