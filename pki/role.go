package pki

import (
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/kafkatls/kafkatls/kafkaacl"
)

// RoleSpec is the one declaration of a role: everything the rest of
// kafkatls decides by role (the certificate profile, SANs, the configs,
// super.users and ACLs, the bundle spec and the wizard, verify and reload)
// reads it from here, so a new role is one entry in roleSpecs plus its
// templates (docs/roles.md, "Adding a role").
type RoleSpec struct {
	Role Role
	// Display names one identity of the role in the wizard's step titles
	// ("Broker 1", "KRaft controller 2").
	Display string
	// SpecKey is the bundle spec's list of identities of this role
	// (brokers:, clients:, ...).
	SpecKey string
	// ExtKeyUsage are the certificate's extended key usages. Kafka
	// brokers, controllers and ZooKeeper servers dial their peers with the
	// certificate they serve, so they need both; a client gets clientAuth
	// only so a stolen client key cannot pose as a broker; a plain TLS
	// server gets serverAuth only so its key cannot log in to Kafka.
	ExtKeyUsage []x509.ExtKeyUsage
	// Server: the identity accepts TLS connections, so its certificate
	// must carry a DNS or IP SAN (clients verify the hostname).
	Server bool
	// DefaultSANs: the identity gets its name, localhost and 127.0.0.1 as
	// SANs unless asked not to (DefaultServerSANs). Roles without them
	// take their SANs only from what the user gives.
	DefaultSANs bool
	// Cluster: the identity is a member of the Kafka cluster (a broker, a
	// controller, a ZooKeeper server), trusted with the cluster itself.
	Cluster bool
	// Advertises: the identity has a Kafka listener others dial, named by
	// --advertise HOST[:PORT] and written to advertised.listeners.
	Advertises bool
	// Port is the default listener port written to the configs and the
	// bundle's connect strings (0: the role has no Kafka/ZooKeeper
	// listener of kafkatls' making).
	Port int
	// Bootstrap: the identity's advertised address joins the clients'
	// bootstrap.servers. ZooKeeperConnect: it joins zookeeper.connect.
	Bootstrap, ZooKeeperConnect bool
	// SuperUser: the identity's principal is in the brokers' super.users.
	SuperUser bool
	// Grants: the bundle spec may give the identity ACL grants.
	Grants bool
	// DefaultGrants are ACL grants every identity of the role gets, before
	// the spec's own (none of today's roles needs any; a Connect worker's
	// depend on its group and topic names: kafkaacl.ConnectWorker).
	DefaultGrants []kafkaacl.Grant
	// ClientAuthServer: the identity's TLS listener (not a Kafka one)
	// requires a client certificate from the CA, and the identity dials
	// its peers' listeners with its own certificate (Connect workers
	// forward REST requests to the leader). verify checks both.
	ClientAuthServer bool
	// KafkaClient: verify connects the identity to the test broker as a
	// Kafka client (brokers and controllers dial with their certificate
	// too). KafkaServer: verify runs the test broker on its keystore.
	KafkaClient, KafkaServer bool
	// Configs are the configuration files the templates may render for the
	// role (some only in one mode or for some formats); templates decides
	// their contents, identity checks that it renders nothing else.
	Configs []string
	// ReloadNote says how the role's process picks up renewed stores,
	// for roles that cannot be told with kafka-configs (brokers can; see
	// lifecycle.ReloadCommands).
	ReloadNote string
}

// serverClient are the extended key usages of a Kafka server: it accepts
// connections and dials its peers with the same certificate.
var serverClient = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}

// roleSpecs declares every role, in display order.
var roleSpecs = []RoleSpec{
	{
		Role: RoleClient, Display: "Client", SpecKey: "clients",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		Grants:      true, KafkaClient: true,
		Configs:    []string{"client.properties", "spring-boot.properties", "kcat.conf", "kafkajs-ssl.js"},
		ReloadNote: "restart the client application: Java clients, librdkafka and KafkaJS load their stores only at startup",
	},
	{
		Role: RoleBroker, Cluster: true, Display: "Broker", SpecKey: "brokers",
		ExtKeyUsage: serverClient, Server: true, DefaultSANs: true, Advertises: true, Port: 9093,
		Bootstrap: true, SuperUser: true, KafkaClient: true, KafkaServer: true,
		Configs: []string{"server.properties", "client.properties", "zookeeper-client.properties"},
	},
	{
		Role: RoleController, Cluster: true, Display: "KRaft controller", SpecKey: "controllers",
		ExtKeyUsage: serverClient, Server: true, DefaultSANs: true, Advertises: true, Port: 9094,
		SuperUser: true, KafkaClient: true, KafkaServer: true,
		Configs:    []string{"server.properties"},
		ReloadNote: "the KRaft controller listener cannot reload its stores (KAFKA-20583): restart this controller (one at a time)",
	},
	{
		Role: RoleZooKeeper, Cluster: true, Display: "ZooKeeper node", SpecKey: "zookeepers",
		ExtKeyUsage: serverClient, Server: true, DefaultSANs: true, Port: 2182, ZooKeeperConnect: true,
		Configs:    []string{"zoo.cfg", "zookeeper-client.properties"},
		ReloadNote: "restart this ZooKeeper server (one at a time), or run ZooKeeper >= 3.8.1 with client.certReload=true and sslQuorumReloadCertFiles=true, which reload changed store files",
	},
	{
		Role: RoleServer, Display: "TLS server", SpecKey: "servers",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Server: true,
		Configs:    []string{ServerNoteFile},
		ReloadNote: "restart the service, or have it re-read its certificate files (most reverse proxies and IdPs reload on SIGHUP or on file change)",
	},
	{
		Role: RoleConnect, Display: "Connect worker", SpecKey: "connect",
		ExtKeyUsage: serverClient, Server: true, DefaultSANs: true, Port: ConnectRESTPort,
		Grants: true, KafkaClient: true, ClientAuthServer: true,
		Configs:    []string{ConnectDistributedFile, "connect-standalone.properties", "connect-rest-curl.sh"},
		ReloadNote: "restart this Connect worker (one at a time): its Kafka clients and its REST listener (Jetty) load their stores only at startup",
	},
	{
		// One identity per cluster, each from that cluster's CA: the
		// MirrorMaker process logs in to cluster A with the one and to B
		// with the other. Its ACLs depend on the replication flow (which
		// cluster is the source, which topics), so the mirrormaker
		// package derives them when it combines the two sides; the grants
		// here are the ones it needs on every cluster whatever the flow.
		Role: RoleMirrorMaker, Display: "MirrorMaker 2", SpecKey: "mirrormakers",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		Grants:      true, KafkaClient: true, DefaultGrants: mirrorMakerGrants,
		Configs:    []string{MirrorMakerClusterFile},
		ReloadNote: "restart MirrorMaker 2 (connect-mirror-maker.sh): its clients load their stores only at startup",
	},
}

// MirrorMakerClusterFile is a mirrormaker identity's config: the
// ALIAS.-prefixed client settings of its one cluster, which the
// mirrormaker package combines with the other cluster's into
// connect-mirror-maker.properties. Its presence also tells a directory's
// role when the index does not.
const MirrorMakerClusterFile = "mirrormaker-cluster.properties"

// mirrorMakerGrants are what MirrorMaker 2 in dedicated mode needs on
// every cluster with Kafka's defaults (emit.heartbeats.enabled=true makes
// each cluster the target of a herder, MirrorMakerConfig.clusterPairs):
// its Connect worker's internal topics mm2-configs/offsets/status.SRC.internal
// and the offset syncs topic mm2-offset-syncs.TGT.internal (all under the
// prefix mm2-), and the heartbeats topic it writes and replicates.
var mirrorMakerGrants = []kafkaacl.Grant{
	{Topic: "mm2-", Prefixed: true, Operations: []string{"Read", "Write", "Create", "Describe", "DescribeConfigs"}},
	{Topic: "heartbeats", Operations: []string{"Read", "Write", "Create", "Describe", "DescribeConfigs"}},
}

// ConnectDistributedFile is a Connect worker's distributed-mode config; its
// presence tells a directory's role when the index does not.
const ConnectDistributedFile = "connect-distributed.properties"

// ConnectRESTPort is the default port of a Connect worker's HTTPS REST
// listener (Connect's own default, 8083, is its plain HTTP listener).
const ConnectRESTPort = 8443

// ServerNoteFile is the note a plain TLS server identity gets instead of
// Kafka configs: which files to point the service at. Its presence also
// tells a directory's role when the index does not.
const ServerNoteFile = "server-tls.txt"

// RoleSpecs returns every role's declaration in display order.
func RoleSpecs() []RoleSpec { return slices.Clone(roleSpecs) }

// Spec returns the role's declaration; an unknown role (or "") gets a
// zero RoleSpec naming it, which has no usages and no capabilities.
func (r Role) Spec() RoleSpec {
	for _, s := range roleSpecs {
		if s.Role == r {
			return s
		}
	}
	return RoleSpec{Role: r}
}

// RoleForSpecKey returns the role whose bundle spec list is key.
func RoleForSpecKey(key string) (Role, bool) {
	for _, s := range roleSpecs {
		if s.SpecKey == key {
			return s.Role, true
		}
	}
	return "", false
}

// HasExtKeyUsage reports whether the role's certificates carry u.
func (s RoleSpec) HasExtKeyUsage(u x509.ExtKeyUsage) bool {
	return slices.Contains(s.ExtKeyUsage, u)
}

// CheckEngineRequest checks what an engine client is asked to sign: at
// least a day of validity and a known role ("" is a client), and returns
// the role to sign for. Both engine clients (engine/vault, engine/stepca)
// check their requests with it before anything is sent.
func CheckEngineRequest(days int, role Role) (Role, error) {
	if days < 1 {
		return "", fmt.Errorf("validity %d days: must be at least 1", days)
	}
	if role == "" {
		role = RoleClient
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", err
	}
	return role, nil
}
