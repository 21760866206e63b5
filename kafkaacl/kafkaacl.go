// Package kafkaacl turns a client's grants into kafka-acls.sh commands,
// quoted so that a POSIX shell passes the principal to Kafka byte for byte
// (DNs contain commas, spaces and backslash escapes).
package kafkaacl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Operations Kafka's AclCommand accepts.
var Operations = []string{"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite", "All"}

// Grant is what one client may do. Producer and Consumer are the
// kafka-acls.sh convenience sets: --producer is Write, Describe and Create
// on the topic; --consumer is Read and Describe on the topic and Read on
// the group (which it requires).
type Grant struct {
	Topic           string   `yaml:"topic,omitempty" json:"topic,omitempty"`
	Group           string   `yaml:"group,omitempty" json:"group,omitempty"`
	TransactionalID string   `yaml:"transactionalId,omitempty" json:"transactionalId,omitempty"`
	Prefixed        bool     `yaml:"prefixed,omitempty" json:"prefixed,omitempty"`
	Producer        bool     `yaml:"producer,omitempty" json:"producer,omitempty"`
	Consumer        bool     `yaml:"consumer,omitempty" json:"consumer,omitempty"`
	Operations      []string `yaml:"operations,omitempty" json:"operations,omitempty"`
}

// ErrNoGroup: a consumer grant names no consumer group (kafka-acls.sh
// --consumer requires one).
var ErrNoGroup = errors.New("needs a consumer group")

// Validate checks a grant, naming the problem.
func (g Grant) Validate() error {
	if g.Topic == "" && g.Group == "" && g.TransactionalID == "" {
		return fmt.Errorf("grant names no topic, group or transactionalId")
	}
	if g.Consumer && g.Group == "" {
		return fmt.Errorf("consumer grant on topic %q %w", g.Topic, ErrNoGroup)
	}
	if (g.Producer || g.Consumer) && g.Topic == "" {
		return fmt.Errorf("producer/consumer grant needs a topic")
	}
	if !g.Producer && !g.Consumer && len(g.Operations) == 0 {
		return fmt.Errorf("grant on %s gives nothing: set producer, consumer or operations", g.resource())
	}
	for _, op := range g.Operations {
		if CanonicalOperation(op) == "" {
			return fmt.Errorf("operation %q: must be one of %s", op, strings.Join(Operations, ", "))
		}
	}
	return nil
}

func (g Grant) resource() string {
	switch {
	case g.Topic != "":
		return "topic " + g.Topic
	case g.Group != "":
		return "group " + g.Group
	}
	return "transactional-id " + g.TransactionalID
}

// CanonicalOperation returns op with Kafka's spelling ("read" → "Read"), or "" if unknown.
func CanonicalOperation(op string) string {
	for _, o := range Operations {
		if strings.EqualFold(o, op) {
			return o
		}
	}
	return ""
}

// Target is how the commands reach the cluster. Its fields are inserted
// verbatim (already shell-ready: quote them with ShellQuote, or pass a
// variable such as "$BOOTSTRAP").
type Target struct {
	Tool          string // default kafka-acls.sh
	Bootstrap     string // host:port of an SSL listener
	CommandConfig string // path of an admin client.properties (a super user's)
}

// ShellQuote quotes s for a POSIX shell: single quotes, with embedded
// single quotes closed, escaped and reopened.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Commands returns the kafka-acls.sh command lines granting g to principal
// ("User:CN=..."). They use --bootstrap-server and --command-config, which
// work for KRaft and for 3.x ZooKeeper-mode clusters alike.
func Commands(principal string, g Grant, t Target) []string {
	tool := t.Tool
	if tool == "" {
		tool = "kafka-acls.sh"
	}
	base := []string{tool, "--bootstrap-server", t.Bootstrap, "--command-config", t.CommandConfig,
		"--add", "--allow-principal", ShellQuote(principal)}
	pattern := []string{}
	if g.Prefixed {
		pattern = []string{"--resource-pattern-type", "prefixed"}
	}
	var cmds []string
	add := func(parts ...string) {
		line := append(slices.Clone(base), parts...)
		cmds = append(cmds, strings.Join(append(line, pattern...), " "))
	}
	if g.Producer {
		add("--producer", "--topic", ShellQuote(g.Topic))
	}
	if g.Consumer {
		add("--consumer", "--topic", ShellQuote(g.Topic), "--group", ShellQuote(g.Group))
	}
	if len(g.Operations) > 0 {
		var ops []string
		for _, op := range g.Operations {
			ops = append(ops, "--operation", CanonicalOperation(op))
		}
		for _, r := range []struct{ flag, name string }{{"--topic", g.Topic}, {"--group", g.Group}, {"--transactional-id", g.TransactionalID}} {
			if r.name == "" || (r.flag == "--group" && g.Consumer) {
				continue
			}
			add(append(slices.Clone(ops), r.flag, ShellQuote(r.name))...)
		}
	}
	if g.TransactionalID != "" && len(g.Operations) == 0 {
		add("--operation", "Write", "--operation", "Describe", "--transactional-id", ShellQuote(g.TransactionalID))
	}
	return cmds
}
