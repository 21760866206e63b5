package cmd

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/testbroker"
	"github.com/kafkatls/kafkatls/verify"
)

func init() { extraCommands = append(extraCommands, newBrokerCmd) }

func newBrokerCmd(g *globals) *cobra.Command {
	var (
		listen, rules, format string
		specPath              string
		acls, noAutoCreate    bool
		topics                []string
		saslMechs             []string
		saslListen            string
	)
	c := &cobra.Command{
		Use:   "broker NAME",
		Short: "Run a Kafka-protocol test broker on mTLS with NAME's own keystore",
		Long: `broker runs an in-process Kafka-protocol broker (franz-go kfake) on a TLS
listener whose key and certificate are read back from the broker identity's
own keystore (PKCS12, else JKS, else PEM: the files are what is tested). It
requires client certificates trusted by that identity's truststore and logs
every connection: TLS version, cipher, client subject, the Kafka principal
(after --principal-mapping-rules), or the precise handshake failure.

With --acls, the grants of the bundle spec (--spec, default DIR/kafkatls.yaml) are enforced by certificate
principal (Read, Write, Create, Describe on topics and groups), plus All for
every broker and controller; a client lacking Read on a topic gets
TOPIC_AUTHORIZATION_FAILED as on a real broker. Without it, everything is
allowed. Real clients (kcat, Kafka's console tools, KafkaJS) can use it.

With --sasl scram-sha-512,scram-sha-256,oauthbearer it also serves a
SASL_SSL listener (--sasl-listen, default 127.0.0.1:9095) with the same
keystore and no client certificate: SCRAM logins against the password
files of the PKI directory's SCRAM identities, OAUTHBEARER tokens checked
against DIR/oauth/jwks.json (signature, exp, iat, issuer, audience). Each
SASL connection is logged with its mechanism and principal (User:NAME, or
User:<sub>), or why authentication failed; --acls applies to it as to a
certificate principal.

As on a default Kafka broker (auto.create.topics.enable=true,
num.partitions=1), producing to a topic that does not exist creates it with
one partition (the producer's Metadata request does); with --acls that needs
the Create grant on the topic or the cluster, as on Kafka.
--no-auto-create-topics turns this off: only the --topic topics exist.

It listens on loopback only (127.0.0.1:9093) unless --listen says otherwise,
and prints the addresses it actually bound (every one, with the real port
for port 0); listening beyond loopback (0.0.0.0, [::], a LAN address) prints
a warning, since other machines can then connect. Metadata advertises the
first bound address, loopback for 0.0.0.0 and [::]. With --json, stdout has
one JSON object per line: first the addresses ("event":"listening"), then
each connection ("accept" or "refuse").`,
		Example: `  kafkatls broker kafka-1
  kcat -F kafka-pki/certs/client1/kcat.conf -b localhost:9093 -L
  kafkatls broker kafka-1 --listen 127.0.0.1:19093 --acls --topic orders
  kafkatls broker kafka-1 --sasl scram-sha-512,oauthbearer --acls`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := identity.Load(identity.Dir(g.dir, args[0]), "")
			if id == nil {
				return err
			}
			if !id.Role.Spec().Cluster {
				return fmt.Errorf("%s is a %s: the test broker needs a broker or controller identity (kafkatls issue NAME --role broker)", args[0], id.Role)
			}
			st := id.Stores[0]
			for _, s := range id.Stores {
				if strings.EqualFold(s.Format, format) {
					st = s
				}
			}
			if err := checkListen(listen); err != nil {
				return err
			}
			mechs, err := sasl.ParseMechanisms(saslMechs)
			if err != nil {
				return usageErr("--sasl: %v", err)
			}
			if cmd.Flags().Changed("sasl-listen") && len(mechs) == 0 {
				return usageErr("--sasl-listen goes with --sasl MECHANISMS")
			}
			if len(mechs) > 0 {
				if err := checkListen(saslListen); err != nil {
					return usageErr("--sasl-listen: %v", err)
				}
			}
			mapper, err := principal.ParseRules(rules)
			if err != nil {
				return usageErr("--principal-mapping-rules: %v", err)
			}
			cfg := testbroker.Config{
				Listen: listen, Certificate: st.Cert, ClientCAs: x509.NewCertPool(), Topics: topics, NoAutoCreateTopics: noAutoCreate,
				Principal: func(c *x509.Certificate) (string, error) { return principal.Mapped(c, mapper) },
				Log: func(e testbroker.Event) {
					if g.json {
						json.NewEncoder(g.stdout).Encode(newBrokerConnJSON(e))
						return
					}
					ts := e.Time.Format(time.TimeOnly)
					via := ""
					if e.Listener == testbroker.ListenerSASLSSL {
						via = " SASL_SSL"
						if e.Mechanism != "" {
							via += "/" + e.Mechanism
						}
					}
					if e.OK {
						fmt.Fprintf(g.stdout, "%s accept %s%s %s %s principal=%s\n", ts, e.Remote, via, e.TLSVersion, e.Cipher, e.Principal)
					} else {
						fmt.Fprintf(g.stdout, "%s REFUSE %s%s %s\n", ts, e.Remote, via, e.Diagnosis)
					}
				},
			}
			for _, c := range st.Trust {
				cfg.ClientCAs.AddCert(c)
			}
			if acls {
				if specPath == "" {
					specPath = filepath.Join(g.dir, bundle.SpecFile)
				}
				if cfg.ACLs, err = specACLs(g.dir, specPath, mapper); err != nil {
					return err
				}
			}
			if len(mechs) > 0 {
				ids, loadErr := identity.LoadAll(g.dir)
				if len(ids) == 0 && loadErr != nil {
					return loadErr
				}
				sc, _, err := verify.BrokerSASL(g.dir, mechs, ids)
				if errors.Is(err, sasl.ErrNoIssuer) {
					return usageErr("--sasl oauthbearer: %v; create it first with `kafkatls oauth init`", err)
				}
				if err != nil {
					return err
				}
				sc.Listen = saslListen
				cfg.SASL = sc
			}
			b, err := testbroker.Start(cfg)
			if err != nil {
				return err
			}
			defer b.Close()
			bound := b.ListenAddrs()
			where := strings.Join(bound, ", ")
			if len(bound) != 1 || bound[0] != b.Addr() {
				where += ", advertised as " + b.Addr()
			}
			auto := "; other topics are created on first use"
			if noAutoCreate {
				auto = "; no other topic is created (--no-auto-create-topics)"
			}
			policy := "allow all"
			if acls {
				policy = "ACLs from " + specPath
			}
			saslWhere := ""
			if cfg.SASL != nil {
				sb := b.SASLListenAddrs()
				saslWhere = strings.Join(sb, ", ")
				if len(sb) != 1 || sb[0] != b.SASLAddr() {
					saslWhere += ", advertised as " + b.SASLAddr()
				}
				saslWhere = fmt.Sprintf("; SASL_SSL (%s, %d SCRAM users) on %s", strings.Join(cfg.SASL.Mechanisms, ", "), len(cfg.SASL.Users), saslWhere)
				bound = append(bound, sb...)
			}
			fmt.Fprintf(g.stderr, "Test broker %s listening on %s (mTLS, %s keystore, %s)%s; topics %s%s. Ctrl-C stops it.\n",
				id.Name, where, st.Format, policy, saslWhere, strings.Join(orDefault(topics, "kafkatls-probe"), ", "), auto)
			if open := nonLoopback(bound); len(open) > 0 {
				g.warn("%s is reachable from other machines: any client with a certificate this CA signed can connect%s (--listen 127.0.0.1:PORT keeps it local)",
					strings.Join(open, ", "), map[bool]string{true: "", false: " and, without --acls, do anything"}[acls])
			}
			if g.json {
				start := brokerStartJSON{
					Event: "listening", Broker: id.Name, Listen: b.ListenAddrs(), Advertised: b.Addr(), Store: st.Format,
					ACLs: map[bool]string{true: specPath}[acls], Topics: orDefault(topics, "kafkatls-probe"), AutoCreateTopics: !noAutoCreate,
				}
				if cfg.SASL != nil {
					start.SASL = &brokerSASLJSON{Listen: b.SASLListenAddrs(), Advertised: b.SASLAddr(), Mechanisms: cfg.SASL.Mechanisms}
				}
				json.NewEncoder(g.stdout).Encode(start)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9093", "HOST:PORT to listen on; 0.0.0.0, [::] or an empty host listen on every interface (with a warning), a host name on each of its addresses, port 0 on a free port")
	f.StringVar(&rules, "principal-mapping-rules", "", "ssl.principal.mapping.rules (Kafka syntax)")
	f.StringVar(&format, "store", "", "keystore to serve from: PKCS12, JKS or PEM (default: the first present)")
	f.BoolVar(&acls, "acls", false, "enforce the spec's grants by certificate principal")
	f.StringVar(&specPath, "spec", "", "bundle spec holding the grants for --acls (default DIR/kafkatls.yaml)")
	f.StringSliceVar(&topics, "topic", nil, "topics to create at start (default kafkatls-probe)")
	f.BoolVar(&noAutoCreate, "no-auto-create-topics", false, "do not create missing topics on first use (auto.create.topics.enable=false)")
	f.StringSliceVar(&saslMechs, "sasl", nil, "also serve a SASL_SSL listener with these mechanisms: scram-sha-512, scram-sha-256, oauthbearer")
	f.StringVar(&saslListen, "sasl-listen", "127.0.0.1:9095", "HOST:PORT of the SASL_SSL listener (with --sasl)")
	return c
}

// checkListen rejects a --listen value that is not HOST:PORT with a port
// number, before anything starts.
func checkListen(listen string) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return usageErr("--listen %q: want HOST:PORT, e.g. 127.0.0.1:9093 (%v)", listen, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return usageErr("--listen %q: the port must be a number from 0 to 65535", listen)
	}
	return nil
}

// nonLoopback returns the bound addresses other machines can reach: all but
// loopback ones (the unspecified 0.0.0.0 and [::] mean every interface).
func nonLoopback(bound []string) []string {
	var out []string
	for _, a := range bound {
		host, _, _ := net.SplitHostPort(a)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			out = append(out, a)
		}
	}
	return out
}

// brokerStartJSON is the first line of `broker --json`: what is listening
// where. Listen holds the addresses actually bound; Advertised is the one
// Metadata responses give clients.
type brokerStartJSON struct {
	Event            string   `json:"event"` // "listening"
	Broker           string   `json:"broker"`
	Listen           []string `json:"listen"`
	Advertised       string   `json:"advertised"`
	Store            string   `json:"store"`
	ACLs             string   `json:"acls,omitempty"` // the spec the grants come from
	Topics           []string `json:"topics"`
	AutoCreateTopics bool     `json:"autoCreateTopics"`
	// SASL is the SASL_SSL listener (with --sasl).
	SASL *brokerSASLJSON `json:"sasl,omitempty"`
}

type brokerSASLJSON struct {
	Listen     []string `json:"listen"`
	Advertised string   `json:"advertised"`
	Mechanisms []string `json:"mechanisms"`
}

// brokerConnJSON is one connection attempt, a line of `broker --json`.
type brokerConnJSON struct {
	Event         string    `json:"event"` // "accept" or "refuse"
	Time          time.Time `json:"time"`
	Remote        string    `json:"remote"`
	Listener      string    `json:"listener,omitempty"`  // SSL or SASL_SSL
	Mechanism     string    `json:"mechanism,omitempty"` // SASL_SSL only
	TLSVersion    string    `json:"tlsVersion,omitempty"`
	Cipher        string    `json:"cipher,omitempty"`
	ClientSubject string    `json:"clientSubject,omitempty"`
	Principal     string    `json:"principal,omitempty"`
	Diagnosis     string    `json:"diagnosis,omitempty"`
}

func newBrokerConnJSON(e testbroker.Event) brokerConnJSON {
	ev := "refuse"
	if e.OK {
		ev = "accept"
	}
	return brokerConnJSON{Event: ev, Time: e.Time, Remote: e.Remote, Listener: e.Listener, Mechanism: e.Mechanism, TLSVersion: e.TLSVersion, Cipher: e.Cipher,
		ClientSubject: e.ClientSubject, Principal: e.Principal, Diagnosis: e.Diagnosis}
}

func orDefault(v []string, d string) []string {
	if len(v) == 0 {
		return []string{d}
	}
	return v
}

// specACLs turns DIR/kafkatls.yaml grants into test-broker ACLs; members
// of the cluster (brokers, controllers, ZooKeeper servers) get All on the
// cluster, as super users would.
func specACLs(dir, path string, mapper *principal.Mapper) (*testbroker.ACLs, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--acls reads the grants from %s: %w (give --spec, or run kafkatls bundle first)", path, err)
	}
	spec, err := bundle.LoadSpec(path)
	if err != nil {
		return nil, err
	}
	var out []testbroker.ACL
	for _, e := range spec.Entities() {
		id, err := identity.Load(identity.Dir(dir, e.Name), e.Role)
		if id == nil {
			return nil, err
		}
		principal, err := principal.Mapped(id.Leaf, mapper)
		if id.Auth.Spec().SASL() {
			// Its principal is its SASL one (principal.txt), whatever the rules.
			principal, err = sasl.Principal(id.Auth, id.Name, ""), nil
		}
		if err != nil {
			continue // cannot authenticate: no ACL can apply
		}
		if e.Role.Spec().Cluster {
			for _, rt := range []testbroker.ResourceType{testbroker.Topic, testbroker.Group, testbroker.Cluster} {
				out = append(out, testbroker.ACL{Principal: principal, Resource: rt, Name: "*", Operation: "All"})
			}
			continue
		}
		for _, g := range e.Grants {
			out = append(out, grantACLs(principal, g)...)
		}
	}
	acls := testbroker.NewACLs(out...)
	return acls, acls.Validate()
}

// grantACLs expands a spec grant as kafka-acls.sh would: --producer is
// Write, Describe, Create on the topic; --consumer is Read, Describe on the
// topic and Read on the group.
func grantACLs(principal string, g kafkaacl.Grant) []testbroker.ACL {
	var out []testbroker.ACL
	add := func(rt testbroker.ResourceType, name string, ops ...string) {
		if name == "" {
			return
		}
		for _, op := range ops {
			out = append(out, testbroker.ACL{Principal: principal, Resource: rt, Name: name, Prefixed: g.Prefixed, Operation: testbroker.Operation(kafkaacl.CanonicalOperation(op))})
		}
	}
	if g.Producer {
		add(testbroker.Topic, g.Topic, "Write", "Describe", "Create")
	}
	if g.Consumer {
		add(testbroker.Topic, g.Topic, "Read", "Describe")
		add(testbroker.Group, g.Group, "Read")
	}
	if len(g.Operations) > 0 {
		add(testbroker.Topic, g.Topic, g.Operations...)
		if !g.Consumer {
			add(testbroker.Group, g.Group, g.Operations...)
		}
		add(testbroker.TransactionalID, g.TransactionalID, g.Operations...)
	} else if g.TransactionalID != "" {
		add(testbroker.TransactionalID, g.TransactionalID, "Write", "Describe")
	}
	return out
}
