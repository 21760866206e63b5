package kafkaacl

import (
	"errors"
	"fmt"
)

// Kafka Connect's names, as its sample connect-distributed.properties has
// them: Connect itself has no defaults for group.id and the three
// storage topics, which distributed mode requires.
const (
	DefaultConnectGroup       = "connect-cluster"
	DefaultConnectConfigTopic = "connect-configs"
	DefaultConnectOffsetTopic = "connect-offsets"
	DefaultConnectStatusTopic = "connect-status"
)

// ConnectWorker names a Connect cluster's group and internal topics: the
// resources its workers' ACLs are on.
type ConnectWorker struct {
	Group       string `yaml:"group,omitempty" json:"group,omitempty"`
	ConfigTopic string `yaml:"configTopic,omitempty" json:"configTopic,omitempty"`
	OffsetTopic string `yaml:"offsetTopic,omitempty" json:"offsetTopic,omitempty"`
	StatusTopic string `yaml:"statusTopic,omitempty" json:"statusTopic,omitempty"`
}

// WithDefaults fills the names not given with Connect's sample names.
func (w ConnectWorker) WithDefaults() ConnectWorker {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&w.Group, DefaultConnectGroup)
	def(&w.ConfigTopic, DefaultConnectConfigTopic)
	def(&w.OffsetTopic, DefaultConnectOffsetTopic)
	def(&w.StatusTopic, DefaultConnectStatusTopic)
	return w
}

// Validate checks the names (after WithDefaults): the three topics must
// differ, as Connect refuses to start when two of them are the same.
func (w ConnectWorker) Validate() error {
	for _, n := range []struct{ field, v string }{{"group", w.Group}, {"configTopic", w.ConfigTopic}, {"offsetTopic", w.OffsetTopic}, {"statusTopic", w.StatusTopic}} {
		if err := checkResourceName(n.v); err != nil {
			return fmt.Errorf("%s %q: %w", n.field, n.v, err)
		}
	}
	if w.ConfigTopic == w.OffsetTopic || w.ConfigTopic == w.StatusTopic || w.OffsetTopic == w.StatusTopic {
		return fmt.Errorf("configTopic, offsetTopic and statusTopic must be three different topics (Connect refuses to start otherwise)")
	}
	return nil
}

// Grants are what every worker of the cluster needs: on each internal
// topic Read and Write (its KafkaBasedLog consumes and produces them),
// Create (the first worker creates them), Describe and DescribeConfigs
// (it checks their cleanup.policy is compact); Read on the group (group
// membership: JoinGroup, SyncGroup, Heartbeat).
func (w ConnectWorker) Grants() []Grant {
	w = w.WithDefaults()
	ops := []string{"Read", "Write", "Create", "Describe", "DescribeConfigs"}
	return []Grant{
		{Topic: w.ConfigTopic, Operations: ops},
		{Topic: w.OffsetTopic, Operations: ops},
		{Topic: w.StatusTopic, Operations: ops},
		{Group: w.Group, Operations: []string{"Read"}},
	}
}

// Connector is one connector run by a Connect cluster and the topics it
// uses. Its tasks run in the workers with the worker's identity (unless
// the connector overrides the client settings), so its grants go to the
// worker's principal.
type Connector struct {
	Name string `yaml:"name" json:"name"`
	// Source: the connector writes Topics. Sink: it reads them.
	Type   string   `yaml:"type" json:"type"`
	Topics []string `yaml:"topics" json:"topics"`
	// Prefixed: Topics are name prefixes (a source writing topics it
	// names at run time, a sink with topics.regex).
	Prefixed bool `yaml:"prefixed,omitempty" json:"prefixed,omitempty"`
}

// Connector types.
const (
	ConnectorSource = "source"
	ConnectorSink   = "sink"
)

// ErrConnectorType: a connector is neither a source nor a sink.
var ErrConnectorType = errors.New("type must be source or sink")

// Validate checks a connector.
func (c Connector) Validate() error {
	if err := checkResourceName(c.Name); err != nil {
		return fmt.Errorf("connector name %q: %w", c.Name, err)
	}
	if c.Type != ConnectorSource && c.Type != ConnectorSink {
		return fmt.Errorf("connector %q: type %q: %w", c.Name, c.Type, ErrConnectorType)
	}
	if len(c.Topics) == 0 {
		return fmt.Errorf("connector %q: no topics", c.Name)
	}
	for _, t := range c.Topics {
		if err := checkResourceName(t); err != nil {
			return fmt.Errorf("connector %q: topic %q: %w", c.Name, t, err)
		}
	}
	return nil
}

// SinkGroup is the consumer group of a sink connector's tasks: Connect
// names it connect-<connector name> (unless the connector overrides
// consumer.override.group.id).
func (c Connector) SinkGroup() string { return "connect-" + c.Name }

// Grants are what the connector's tasks need: a source Write, Create (the
// worker creates missing topics, topic.creation.enable) and Describe on
// its topics; a sink Read and Describe on its topics and Read on its
// group.
func (c Connector) Grants() []Grant {
	var out []Grant
	for _, t := range c.Topics {
		switch c.Type {
		case ConnectorSource:
			out = append(out, Grant{Topic: t, Prefixed: c.Prefixed, Operations: []string{"Write", "Create", "Describe"}})
		case ConnectorSink:
			out = append(out, Grant{Topic: t, Prefixed: c.Prefixed, Operations: []string{"Read", "Describe"}})
		}
	}
	if c.Type == ConnectorSink {
		out = append(out, Grant{Group: c.SinkGroup(), Operations: []string{"Read"}})
	}
	return out
}

// checkResourceName refuses names Kafka would not take for a topic or a
// group that a config line or a shell word could not carry: empty, or
// with white space or control characters.
func checkResourceName(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("contains white space or a control character")
		}
	}
	return nil
}
