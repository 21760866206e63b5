package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
)

// connectFlags are issue's settings of a Connect worker (role connect).
type connectFlags struct {
	worker    kafkaacl.ConnectWorker
	port      int
	bootstrap string
}

var connectFlagNames = []string{"group", "config-topic", "offset-topic", "status-topic", "port", "bootstrap"}

func (f *connectFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.worker.Group, "group", "", "connect: the Connect cluster's group.id (default "+kafkaacl.DefaultConnectGroup+")")
	fl.StringVar(&f.worker.ConfigTopic, "config-topic", "", "connect: config.storage.topic (default "+kafkaacl.DefaultConnectConfigTopic+")")
	fl.StringVar(&f.worker.OffsetTopic, "offset-topic", "", "connect: offset.storage.topic (default "+kafkaacl.DefaultConnectOffsetTopic+")")
	fl.StringVar(&f.worker.StatusTopic, "status-topic", "", "connect: status.storage.topic (default "+kafkaacl.DefaultConnectStatusTopic+")")
	fl.IntVar(&f.port, "port", 0, fmt.Sprintf("connect: the HTTPS REST listener's port (default %d)", pki.ConnectRESTPort))
	fl.StringVar(&f.bootstrap, "bootstrap", "", "connect: the brokers' SSL listeners, HOST:PORT[,HOST:PORT...] (bootstrap.servers)")
}

// check refuses the flags for another role, and bad values.
func (f *connectFlags) check(c *cobra.Command, role pki.Role) error {
	if role != pki.RoleConnect {
		for _, n := range connectFlagNames {
			if c.Flags().Changed(n) {
				return usageErr("--%s: only a Connect worker (--role connect) takes it, not a %s", n, role)
			}
		}
		return nil
	}
	if f.port < 0 || f.port > 65535 || c.Flags().Changed("port") && f.port == 0 {
		return usageErr("--port %d: not a TCP port", f.port)
	}
	if strings.ContainsAny(f.bootstrap, " '\"\\") {
		return usageErr("--bootstrap %q: want HOST:PORT[,HOST:PORT...] without spaces or quotes", f.bootstrap)
	}
	if err := f.worker.WithDefaults().Validate(); err != nil {
		return usageErr("%v", strings.NewReplacer("configTopic", "--config-topic", "offsetTopic", "--offset-topic",
			"statusTopic", "--status-topic", "group ", "--group ").Replace(err.Error()))
	}
	return nil
}

func (f *connectFlags) apply(c *identity.Config) {
	c.Connect = f.worker
	if f.port != 0 {
		c.ListenerPort = f.port
	}
	c.Bootstrap = f.bootstrap
}
