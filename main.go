// Command kafkatls secures Apache Kafka with mutual TLS: a local PKI that
// writes, per broker, controller, ZooKeeper node and client, the stores,
// PEM files, passwords and configs Kafka and its clients need.
package main

import (
	"os"

	"github.com/kafkatls/kafkatls/cmd"
)

func main() { os.Exit(cmd.Execute()) }
