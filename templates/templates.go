// Package templates renders the ready-to-use TLS configuration files of one
// kafkatls entity: Java client and broker properties, KRaft controller
// properties, ZooKeeper's zoo.cfg and client properties, a librdkafka/kcat
// config, Spring Boot properties and a KafkaJS snippet; for MirrorMaker 2,
// one cluster's alias-prefixed settings and the combined
// connect-mirror-maker.properties (RenderMirrorMaker).
//
// The files are text/template templates embedded in the binary. Every value
// written into a java.util.Properties file (all *.properties files and
// zoo.cfg) goes through PropertiesValue, so passwords, Windows paths and
// distinguished names with escaped commas load back as the exact original
// string. Hostname verification is left on everywhere.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"unicode/utf16"
	"unicode/utf8"
)

//go:embed *.tmpl
var templateFS embed.FS

// parsed parses the embedded templates on first use, not at start-up:
// most kafkatls commands never render a config.
var parsed = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"pv":             PropertiesValue,
		"js":             jsString,
		"sh":             shellQuote,
		"args":           args,
		"list":           func(s ...string) []string { return s },
		"superUsersLine": SuperUsersLine,
		"pk":             PropertiesKey,
		"holdsPassword":  holdsPassword,
		"join":           strings.Join,
		"spaces":         func(s string) string { return strings.Repeat(" ", len(s)) },
	}).ParseFS(templateFS, "*.tmpl"))
})

// Preload parses the templates now. A caller about to render many configs
// on every core (bundle) runs it on a goroutine while it still has a core
// to spare, so the first renders do not all wait for one parse.
func Preload() { parsed() }

// Files holds the paths of one entity's files as they should appear INSIDE
// configs (absolute on this host, or under a container mount path such as
// /etc/kafka/secrets/<name>). Paths are written as given.
//
// Which ones configs may reference: the JKS files only when Formats holds
// jks, the PKCS#12 files only with p12, KeyPEM and KeystorePEM only with pem.
// CertPEM, ChainPEM and CAPEM are public certificates that kafkatls writes
// whatever the formats, so they are used whenever they are non-empty (leave
// one empty if that file was not written). ChainPEM is the leaf certificate
// followed by its issuers; clients that present a PEM certificate use it in
// preference to CertPEM so brokers receive the whole chain.
type Files struct {
	KeystoreJKS, TruststoreJKS string
	KeystoreP12, TruststoreP12 string
	KeyPEM                     string // PKCS#8 private key
	CertPEM                    string // leaf certificate
	ChainPEM                   string // leaf, then its issuers
	CAPEM                      string // trusted CA certificate(s)
	KeystorePEM                string // private key followed by the certificate chain, in one file (Kafka PEM keystore)
	PasswordFile               string // not referenced by any config (Kafka cannot read a password from a file)
}

// Data is everything Render needs about one entity.
type Data struct {
	Name  string // entity name, e.g. kafka-1
	Role  string // client | broker | controller | zookeeper | server | mirrormaker
	Files Files
	// Password protects the JKS/PKCS#12 stores and the key inside them. It
	// is escaped wherever it is written; it must not start or end with
	// white space, because Kafka (ConfigDef) and ZooKeeper (zoo.cfg) trim
	// values after loading them.
	Password string
	// StoreType is the Java store the Java configs (and ZooKeeper) point to:
	// PKCS12, JKS or PEM. Empty chooses PKCS12 if p12 was written, else JKS
	// if jks was written, else PEM.
	StoreType string
	// Formats is the subset of jks, p12 and pem actually written ("pkcs12"
	// is accepted for p12). Configs never reference a format not listed.
	Formats []string
	// KeyPEMEncrypted tells that KeyPEM and KeystorePEM hold a private key
	// encrypted with Password. By default (false) PEM keys are unencrypted
	// PKCS#8 and no config passes a password for them: Kafka and ZooKeeper
	// refuse a PEM keystore password, and ZooKeeper treats any key password
	// as a sign the key is encrypted.
	KeyPEMEncrypted bool
	// Principal is the entity's Kafka principal as ACLs name it, e.g.
	// User:CN=kafka-1,OU=Kafka (escaped DN characters such as "\," kept).
	Principal string
	// SuperUsers are the principals for super.users: every broker and
	// controller. The entity's own Principal is added if missing.
	SuperUsers []string
	// Hosts are the advertised hostnames; the first is the advertised host
	// of the broker listener.
	Hosts []string
	// ListenerPort is the broker SSL listener port (default 9093), the
	// controller listener port (default 9094) or ZooKeeper's
	// secureClientPort (default 2182).
	ListenerPort int
	// Mode is the cluster mode: "kraft" (default) or "zookeeper".
	Mode string
	// ZooKeeperConnect is the broker's zookeeper.connect, e.g.
	// zookeeper:2182 (required for a broker in zookeeper mode).
	ZooKeeperConnect string
	// Bootstrap is the bootstrap server list used by client configs and
	// the examples in their comments, e.g. kafka-1:9093 (for a SASL
	// client, the brokers' SASL_SSL listeners).
	Bootstrap string
	// SASL, if set, makes a client authenticate on the brokers' SASL_SSL
	// listener instead of with its certificate, and gives a broker a
	// SASL_SSL listener beside its SSL one (sasl.go).
	SASL *SASL

	// ClusterAlias is a mirrormaker identity's cluster alias in
	// connect-mirror-maker.properties (the prefix of its settings, and of
	// the topics replicated from that cluster): letters, digits, '_' and
	// '-' (required for a mirrormaker, unused otherwise).
	ClusterAlias string

	// Connect names a Connect worker's cluster (role connect only).
	Connect Connect
}

// Connect is a Connect worker's group and internal topics, the names its
// ACLs are on. All four are required for role connect: the caller fills
// in Connect's sample names (kafkaacl.ConnectWorker.WithDefaults).
type Connect struct {
	Group, ConfigTopic, OffsetTopic, StatusTopic string
}

// Roles.
const (
	RoleClient     = "client"
	RoleBroker     = "broker"
	RoleController = "controller"
	RoleZooKeeper  = "zookeeper"
	// RoleServer is a TLS server outside Kafka: it gets only a note
	// (server-tls.txt) saying which files to point it at.
	RoleServer = "server"
	// RoleConnect is a Kafka Connect worker: a Kafka client (its own,
	// and its connectors' producers, consumers and admin clients) and an
	// HTTPS REST server.
	RoleConnect = "connect"
	// RoleMirrorMaker is MirrorMaker 2 as a client of one cluster: its
	// ALIAS.-prefixed settings (mirrormaker-cluster.properties).
	RoleMirrorMaker = "mirrormaker"
)

// Cluster modes.
const (
	ModeKRaft     = "kraft"
	ModeZooKeeper = "zookeeper"
)

// Store types.
const (
	StorePKCS12 = "PKCS12"
	StoreJKS    = "JKS"
	StorePEM    = "PEM"
)

// Default ports.
const (
	DefaultBrokerPort     = 9093
	DefaultControllerPort = 9094
	DefaultZooKeeperPort  = 2182
	DefaultServerPort     = 443 // written nowhere: a TLS server's port is its own business
	DefaultConnectPort    = 8443
)

// FieldError reports a missing or invalid Data field.
type FieldError struct {
	Field string // e.g. "Password", "Files.KeystoreP12", "SuperUsers[1]"
	Msg   string
}

func (e *FieldError) Error() string { return "templates: " + e.Field + ": " + e.Msg }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Render returns the config files for d.Role, file name -> content:
//
//	client:     client.properties, spring-boot.properties; kcat.conf when
//	            librdkafka can use the material (pem, or p12 plus CAPEM);
//	            kafkajs-ssl.js when pem was written
//	broker:     server.properties (snippet), client.properties (the
//	            broker's identity, for admin tooling); in zookeeper mode also
//	            zookeeper-client.properties
//	controller: server.properties (KRaft controller snippet)
//	zookeeper:  zoo.cfg (snippet), zookeeper-client.properties
//	server:     server-tls.txt, a note naming the files to point the
//	            service at (no password in it)
//	connect:    connect-distributed.properties, connect-standalone.properties
//	            (worker snippets), connect-rest-curl.sh (the REST API with an
//	            operator's client certificate)
//	mirrormaker: mirrormaker-cluster.properties, the ClusterAlias-prefixed
//	            client settings of one cluster of connect-mirror-maker.properties
//
// Errors are *FieldError values naming the offending field.
func Render(d Data) (map[string][]byte, error) {
	v, err := newView(d)
	if err != nil {
		return nil, err
	}
	// file name -> template name
	files := map[string]string{}
	switch v.Role {
	case RoleClient:
		files["client.properties"] = "client.properties.tmpl"
		files["spring-boot.properties"] = "spring-boot.properties.tmpl"
		if v.Lib != nil && (!v.SASL.OAuth() || v.SASL.IdP()) { // librdkafka cannot read a token file; it can ask an IdP
			files["kcat.conf"] = "kcat.conf.tmpl"
		}
		if v.HasPEM {
			files["kafkajs-ssl.js"] = "kafkajs-ssl.js.tmpl"
		}
	case RoleBroker:
		files["server.properties"] = "broker-server.properties.tmpl"
		files["client.properties"] = "client.properties.tmpl"
		if v.Mode == ModeZooKeeper {
			files["zookeeper-client.properties"] = "zookeeper-client.properties.tmpl"
		}
	case RoleController:
		files["server.properties"] = "controller-server.properties.tmpl"
	case RoleZooKeeper:
		files["zoo.cfg"] = "zoo.cfg.tmpl"
		files["zookeeper-client.properties"] = "zookeeper-client.properties.tmpl"
	case RoleServer:
		files["server-tls.txt"] = "server-tls.txt.tmpl"
	case RoleConnect:
		files["connect-distributed.properties"] = "connect-distributed.properties.tmpl"
		files["connect-standalone.properties"] = "connect-standalone.properties.tmpl"
		files["connect-rest-curl.sh"] = "connect-rest-curl.sh.tmpl"
	case RoleMirrorMaker:
		files["mirrormaker-cluster.properties"] = "mirrormaker-cluster.properties.tmpl"
	}
	out := make(map[string][]byte, len(files))
	for name, t := range files {
		var buf bytes.Buffer
		if err := parsed().ExecuteTemplate(&buf, t, v); err != nil {
			return nil, fmt.Errorf("templates: rendering %s for %s: %w", name, v.Role, err)
		}
		if name == "kcat.conf" {
			if err := checkKcat(buf.Bytes()); err != nil {
				return nil, err
			}
		}
		out[name] = buf.Bytes()
	}
	return out, nil
}

// PropertiesValue escapes s for use as a java.util.Properties value (the
// text after "key="): backslashes are doubled; '#' and '!' are always
// escaped (harmless, and a value that starts a continuation line can never
// turn into a comment); a leading or trailing space is written as "\ ";
// tab, newline, carriage return and form feed become \t \n \r \f; other
// control characters and everything outside printable ASCII become \uXXXX
// (UTF-16, so the file is plain ASCII, as Properties.load(InputStream)
// reads ISO-8859-1). ':' and '=' need no escape in a value and are kept.
func PropertiesValue(s string) string { return escapeProperties(s, false) }

// PropertiesKey escapes s for use as a java.util.Properties key: like
// PropertiesValue, and also '=', ':' and every space, which would otherwise
// end the key.
func PropertiesKey(s string) string { return escapeProperties(s, true) }

func escapeProperties(s string, key bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '=', ':':
			if key {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case ' ':
			if key || i == 0 || i == len(s)-1 {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		default:
			if r >= 0x20 && r <= 0x7e {
				b.WriteRune(r)
				continue
			}
			// (Invalid UTF-8 has been decoded as U+FFFD.)
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, `\u%04X`, u)
			}
		}
	}
	return b.String()
}

// SuperUsersLine returns the super.users line for principals: Kafka splits
// the value on ';' (distinguished names contain commas), so the principals
// are joined with ';' and the whole value is escaped with PropertiesValue.
func SuperUsersLine(principals []string) string {
	return "super.users=" + PropertiesValue(strings.Join(principals, ";"))
}

// javaStores is what a Java config (Kafka, ZooKeeper, Spring) points at.
type javaStores struct {
	Type               string // PKCS12 | JKS | PEM
	KeystoreLocation   string
	KeystorePassword   string // empty for PEM
	KeyPassword        string // empty for an unencrypted PEM key
	TruststoreLocation string
	TruststorePassword string // empty for PEM
	PEM                bool
	HoldsPassword      bool
	// ZooKeeper has no separate key password: its keystore password is
	// the store password, or for PEM the key's encryption password.
	ZKKeystorePassword string
}

// librdkafka is what kcat.conf points at.
type librdkafka struct {
	CALocation          string
	CertificateLocation string // PEM
	KeyLocation         string // PEM
	KeyPassword         string // encrypted PEM key only
	KeystoreLocation    string // PKCS#12 (when no PEM was written)
	KeystorePassword    string
	HoldsPassword       bool
}

// view is the data the templates see.
type view struct {
	Data
	Role, Mode        string
	Port              int
	Stores            javaStores
	Lib               *librdkafka
	HasPEM            bool
	HasP12, HasJKS    bool
	SuperUsers        []string
	AdvertisedHost    string // bracketed if IPv6
	BootstrapOrHint   string // Bootstrap, or a placeholder for examples
	BootstrapList     []string
	CertChain         string // ChainPEM or CertPEM
	SpringPlaceholder bool   // the password contains "${"
	// REST is what a Connect worker's HTTPS listener (Jetty) points at:
	// a PKCS12 or JKS store, never PEM, which Jetty cannot load.
	REST    javaStores
	RESTURL string // https://HOST:PORT
}

func newView(d Data) (*view, error) {
	v := &view{Data: d}
	v.Role = strings.ToLower(strings.TrimSpace(d.Role))
	switch v.Role {
	case RoleClient, RoleBroker, RoleController, RoleZooKeeper, RoleServer, RoleConnect, RoleMirrorMaker:
	case "":
		return nil, fieldErr("Role", "empty; want client, broker, controller, zookeeper, server, connect or mirrormaker")
	default:
		return nil, fieldErr("Role", "unknown role %q; want client, broker, controller, zookeeper, server, connect or mirrormaker", d.Role)
	}
	if v.Role == RoleMirrorMaker {
		if err := CheckClusterAlias(d.ClusterAlias); err != nil {
			return nil, err
		}
	}
	if err := checkText("Name", d.Name, true); err != nil {
		return nil, err
	}

	v.Mode = strings.ToLower(strings.TrimSpace(d.Mode))
	switch v.Mode {
	case "":
		v.Mode = ModeKRaft
	case ModeKRaft, ModeZooKeeper:
	default:
		return nil, fieldErr("Mode", "unknown mode %q; want kraft or zookeeper", d.Mode)
	}
	if v.Role == RoleController && v.Mode != ModeKRaft {
		return nil, fieldErr("Mode", "a controller exists only in kraft mode, not %q", d.Mode)
	}

	formats := map[string]bool{}
	if len(d.Formats) == 0 {
		return nil, fieldErr("Formats", "empty; want a subset of jks, p12, pem")
	}
	for i, f := range d.Formats {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "pkcs12" {
			f = "p12"
		}
		switch f {
		case "jks", "p12", "pem":
			formats[f] = true
		default:
			return nil, fieldErr(fmt.Sprintf("Formats[%d]", i), "unknown format %q; want jks, p12 or pem", d.Formats[i])
		}
	}
	v.HasPEM = formats["pem"]
	v.HasP12, v.HasJKS = formats["p12"], formats["jks"]

	// Every path given must be usable in a config; the ones a written
	// format needs must be given.
	paths := []struct {
		field, path, format string
	}{
		{"Files.KeystoreJKS", d.Files.KeystoreJKS, "jks"},
		{"Files.TruststoreJKS", d.Files.TruststoreJKS, "jks"},
		{"Files.KeystoreP12", d.Files.KeystoreP12, "p12"},
		{"Files.TruststoreP12", d.Files.TruststoreP12, "p12"},
		{"Files.KeyPEM", d.Files.KeyPEM, "pem"},
		{"Files.CertPEM", d.Files.CertPEM, ""},
		{"Files.ChainPEM", d.Files.ChainPEM, ""},
		{"Files.CAPEM", d.Files.CAPEM, "pem"},
		{"Files.KeystorePEM", d.Files.KeystorePEM, ""}, // needed only for StoreType PEM, checked below
		{"Files.PasswordFile", d.Files.PasswordFile, ""},
	}
	for _, p := range paths {
		if p.path == "" {
			if p.format != "" && formats[p.format] {
				return nil, fieldErr(p.field, "empty, but Formats includes %s", p.format)
			}
			continue
		}
		if err := checkText(p.field, p.path, true); err != nil {
			return nil, err
		}
	}
	if v.HasPEM && d.Files.CertPEM == "" && d.Files.ChainPEM == "" {
		return nil, fieldErr("Files.CertPEM", "empty (and so is Files.ChainPEM), but Formats includes pem")
	}
	certField := "Files.ChainPEM"
	v.CertChain = d.Files.ChainPEM
	if v.CertChain == "" {
		v.CertChain, certField = d.Files.CertPEM, "Files.CertPEM"
	}

	// The Java store.
	st := strings.ToUpper(strings.TrimSpace(d.StoreType))
	switch st {
	case "":
		switch {
		case formats["p12"]:
			st = StorePKCS12
		case formats["jks"]:
			st = StoreJKS
		default:
			st = StorePEM
		}
	case "P12":
		st = StorePKCS12
	case StorePKCS12, StoreJKS, StorePEM:
	default:
		return nil, fieldErr("StoreType", "unknown store type %q; want PKCS12, JKS or PEM", d.StoreType)
	}
	need := map[string]string{StorePKCS12: "p12", StoreJKS: "jks", StorePEM: "pem"}[st]
	if !formats[need] {
		return nil, fieldErr("StoreType", "%s, but Formats %v has no %s (leave StoreType empty to choose from the written formats)", st, d.Formats, need)
	}
	pwNeeded := st != StorePEM || d.KeyPEMEncrypted
	switch st {
	case StorePKCS12:
		v.Stores = javaStores{Type: st, KeystoreLocation: d.Files.KeystoreP12, TruststoreLocation: d.Files.TruststoreP12,
			KeystorePassword: d.Password, KeyPassword: d.Password, TruststorePassword: d.Password}
	case StoreJKS:
		v.Stores = javaStores{Type: st, KeystoreLocation: d.Files.KeystoreJKS, TruststoreLocation: d.Files.TruststoreJKS,
			KeystorePassword: d.Password, KeyPassword: d.Password, TruststorePassword: d.Password}
	case StorePEM:
		if d.Files.KeystorePEM == "" {
			return nil, fieldErr("Files.KeystorePEM", "empty, but the Java configs use a PEM keystore (StoreType PEM)")
		}
		v.Stores = javaStores{Type: st, PEM: true, KeystoreLocation: d.Files.KeystorePEM, TruststoreLocation: d.Files.CAPEM}
		if d.KeyPEMEncrypted {
			v.Stores.KeyPassword = d.Password
		}
	}
	v.Stores.ZKKeystorePassword = v.Stores.KeystorePassword
	if v.Stores.PEM {
		v.Stores.ZKKeystorePassword = v.Stores.KeyPassword
	}
	v.Stores.HoldsPassword = v.Stores.KeystorePassword != "" || v.Stores.KeyPassword != "" || v.Stores.TruststorePassword != ""

	// librdkafka (kcat.conf): PEM if written, else a PKCS#12 keystore; the
	// CA is PEM either way. Never JKS, never a truststore.
	if v.Role == RoleClient {
		switch {
		case v.HasPEM:
			v.Lib = &librdkafka{CALocation: d.Files.CAPEM, CertificateLocation: v.CertChain, KeyLocation: d.Files.KeyPEM}
			if d.KeyPEMEncrypted {
				v.Lib.KeyPassword = d.Password
			}
		case formats["p12"] && d.Files.CAPEM != "":
			v.Lib = &librdkafka{CALocation: d.Files.CAPEM, KeystoreLocation: d.Files.KeystoreP12, KeystorePassword: d.Password}
		}
		if v.Lib != nil {
			v.Lib.HoldsPassword = v.Lib.KeyPassword != "" || v.Lib.KeystorePassword != ""
			// kcat's -F reader replaces "\:" and "\=" anywhere in a line.
			for _, f := range []struct{ field, value string }{
				{"Files.CAPEM", v.Lib.CALocation}, {"Files.KeyPEM", v.Lib.KeyLocation},
				{"Files.KeystoreP12", v.Lib.KeystoreLocation}, {"Password", v.Lib.KeyPassword + v.Lib.KeystorePassword},
				{certField, v.Lib.CertificateLocation}, {"Bootstrap", d.Bootstrap},
			} {
				if strings.Contains(f.value, `\:`) || strings.Contains(f.value, `\=`) {
					return nil, fieldErr(f.field, `contains "\:" or "\=", which kcat's config-file reader rewrites to ":" and "="`)
				}
			}
		}
	}

	// The password.
	switch {
	case d.Password == "":
		if pwNeeded && st == StorePEM {
			return nil, fieldErr("Password", "empty, but KeyPEMEncrypted says the PEM key is encrypted with it")
		}
		if pwNeeded {
			return nil, fieldErr("Password", "empty, but the %s stores need one", st)
		}
	default:
		if err := checkText("Password", d.Password, false); err != nil {
			return nil, err
		}
		if strings.TrimSpace(d.Password) != d.Password {
			return nil, fieldErr("Password", "starts or ends with white space, which Kafka and ZooKeeper trim from config values")
		}
		v.SpringPlaceholder = strings.Contains(d.Password, "${")
	}

	// The principal and super.users.
	isServer := v.Role == RoleBroker || v.Role == RoleController
	if d.Principal != "" {
		if err := checkPrincipal("Principal", d.Principal); err != nil {
			return nil, err
		}
	} else if isServer {
		return nil, fieldErr("Principal", "empty; a %s must be in super.users", v.Role)
	}
	if isServer {
		for i, p := range d.SuperUsers {
			field := fmt.Sprintf("SuperUsers[%d]", i)
			if err := checkPrincipal(field, p); err != nil {
				return nil, err
			}
			if strings.Contains(p, ";") {
				return nil, fieldErr(field, "%q contains ';', the super.users separator (Kafka does not honour escapes there)", p)
			}
			if !slices.Contains(v.SuperUsers, p) {
				v.SuperUsers = append(v.SuperUsers, p)
			}
		}
		if strings.Contains(d.Principal, ";") {
			return nil, fieldErr("Principal", "%q contains ';', the super.users separator (Kafka does not honour escapes there)", d.Principal)
		}
		if !slices.Contains(v.SuperUsers, d.Principal) {
			v.SuperUsers = append([]string{d.Principal}, v.SuperUsers...)
		}
	}

	// Hosts, ports, connect strings.
	// Only the first host is written (advertised listener); the others
	// (e.g. wildcard SANs) are not used.
	if v.Role == RoleBroker && len(d.Hosts) == 0 {
		return nil, fieldErr("Hosts", "empty; a broker needs its advertised hostname")
	}
	if v.Role == RoleConnect && len(d.Hosts) == 0 {
		return nil, fieldErr("Hosts", "empty; a Connect worker needs the hostname of its REST listener")
	}
	if len(d.Hosts) > 0 && (v.Role == RoleBroker || v.Role == RoleController || v.Role == RoleConnect) {
		if err := checkHost("Hosts[0]", d.Hosts[0]); err != nil {
			return nil, err
		}
		v.AdvertisedHost = d.Hosts[0]
		if strings.Contains(v.AdvertisedHost, ":") {
			v.AdvertisedHost = "[" + v.AdvertisedHost + "]"
		}
	}
	v.Port = d.ListenerPort
	if v.Port == 0 {
		v.Port = map[string]int{RoleClient: DefaultBrokerPort, RoleBroker: DefaultBrokerPort,
			RoleController: DefaultControllerPort, RoleZooKeeper: DefaultZooKeeperPort, RoleServer: DefaultServerPort,
			RoleConnect: DefaultConnectPort, RoleMirrorMaker: DefaultBrokerPort}[v.Role]
	}
	if v.Port < 1 || v.Port > 65535 {
		return nil, fieldErr("ListenerPort", "%d is not a TCP port", d.ListenerPort)
	}
	if err := checkList("Bootstrap", d.Bootstrap); err != nil {
		return nil, err
	}
	if err := checkList("ZooKeeperConnect", d.ZooKeeperConnect); err != nil {
		return nil, err
	}
	if v.Role == RoleBroker && v.Mode == ModeZooKeeper && d.ZooKeeperConnect == "" {
		return nil, fieldErr("ZooKeeperConnect", "empty; a broker in zookeeper mode needs zookeeper.connect (e.g. zookeeper:2182)")
	}
	if v.Role == RoleBroker && v.Bootstrap == "" {
		v.Bootstrap = v.AdvertisedHost + ":" + strconv.Itoa(v.Port)
	}
	if err := checkSASL(v); err != nil {
		return nil, err
	}
	v.BootstrapOrHint = v.Bootstrap
	if v.BootstrapOrHint == "" {
		v.BootstrapOrHint = "BROKER_HOST:" + strconv.Itoa(DefaultBrokerPort)
		if v.SASL != nil {
			v.BootstrapOrHint = "BROKER_HOST:" + strconv.Itoa(v.SASL.Port)
		}
	}
	for _, b := range strings.Split(v.BootstrapOrHint, ",") {
		if b = strings.TrimSpace(b); b != "" {
			v.BootstrapList = append(v.BootstrapList, b)
		}
	}
	if v.Role == RoleConnect {
		if err := v.connect(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// connect checks a Connect worker's names and chooses its REST stores.
func (v *view) connect() error {
	for _, f := range []struct{ field, value string }{
		{"Connect.Group", v.Connect.Group}, {"Connect.ConfigTopic", v.Connect.ConfigTopic},
		{"Connect.OffsetTopic", v.Connect.OffsetTopic}, {"Connect.StatusTopic", v.Connect.StatusTopic},
	} {
		if err := checkText(f.field, f.value, true); err != nil {
			return err
		}
		if strings.ContainsAny(f.value, " '\"\\") {
			return fieldErr(f.field, "%q: no spaces, quotes or backslashes in a Kafka topic or group name", f.value)
		}
	}
	// Jetty's SslContextFactory opens the stores with KeyStore.getInstance:
	// PKCS12 or JKS only.
	switch {
	case v.Stores.Type == StorePKCS12 || v.Stores.Type == StoreJKS:
		v.REST = v.Stores
	case v.HasP12:
		v.REST = javaStores{Type: StorePKCS12, KeystoreLocation: v.Files.KeystoreP12, TruststoreLocation: v.Files.TruststoreP12,
			KeystorePassword: v.Password, KeyPassword: v.Password, TruststorePassword: v.Password}
	case v.HasJKS:
		v.REST = javaStores{Type: StoreJKS, KeystoreLocation: v.Files.KeystoreJKS, TruststoreLocation: v.Files.TruststoreJKS,
			KeystorePassword: v.Password, KeyPassword: v.Password, TruststorePassword: v.Password}
	default:
		return fieldErr("Formats", "%v: a Connect worker's REST listener (Jetty) reads only PKCS12 or JKS stores; include p12 or jks", v.Formats)
	}
	if v.REST.KeystorePassword == "" {
		return fieldErr("Password", "empty, but the REST listener's %s stores need one", v.REST.Type)
	}
	v.RESTURL = "https://" + v.AdvertisedHost + ":" + strconv.Itoa(v.Port)
	if v.Files.CAPEM == "" {
		return fieldErr("Files.CAPEM", "empty; connect-rest-curl.sh trusts the CA through it")
	}
	return nil
}

// CheckClusterAlias checks a MirrorMaker 2 cluster alias: it prefixes
// property keys (ALIAS.bootstrap.servers), names flows (A->B.enabled) and
// topics (A.orders), so it is kept to letters, digits, '_' and '-': no '.'
// (the remote-topic separator), no '>' or spaces. Errors are *FieldError
// values for ClusterAlias.
func CheckClusterAlias(alias string) error {
	if alias == "" {
		return fieldErr("ClusterAlias", "empty; a mirrormaker identity needs the alias of its cluster (e.g. A, primary, us-east)")
	}
	for _, r := range alias {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fieldErr("ClusterAlias", "%q: character %q not allowed; use letters, digits, '_' and '-' (it prefixes keys and topic names)", alias, r)
		}
	}
	if len(alias) > 64 {
		return fieldErr("ClusterAlias", "%q is longer than 64 characters", alias)
	}
	return nil
}

// checkText rejects control characters (they would break the line-based
// formats, comments included) and, for names and paths, surrounding white
// space (Kafka trims string values).
func checkText(field, s string, trim bool) error {
	if s == "" {
		return fieldErr(field, "empty")
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return fieldErr(field, "contains control character %U", r)
		}
	}
	if trim && strings.TrimSpace(s) != s {
		return fieldErr(field, "%q starts or ends with white space", s)
	}
	return nil
}

func checkPrincipal(field, p string) error {
	if err := checkText(field, p, true); err != nil {
		return err
	}
	typ, name, ok := strings.Cut(p, ":")
	if !ok || typ == "" || name == "" {
		return fieldErr(field, "%q is not a principal of the form Type:name (e.g. User:CN=kafka-1)", p)
	}
	return nil
}

func checkHost(field, h string) error {
	if h == "" {
		return fieldErr(field, "empty")
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:%", r)) {
			return fieldErr(field, "%q: character %q not allowed in a hostname or IP address", h, r)
		}
	}
	return nil
}

// checkList checks a comma-separated host:port list (may be empty).
func checkList(field, s string) error {
	if s == "" {
		return nil
	}
	if err := checkText(field, s, true); err != nil {
		return err
	}
	if strings.ContainsAny(s, " \t'\"\\#!") {
		return fieldErr(field, "%q: want host:port[,host:port...] without spaces or quotes", s)
	}
	return nil
}

// checkKcat checks kcat.conf against kcat's reader: fgets into a 512-byte
// buffer, so every line must fit in 511 bytes with its newline.
func checkKcat(b []byte) error {
	for i, line := range strings.SplitAfter(string(b), "\n") {
		if len(line) > 511 {
			return fieldErr("Files", "kcat.conf line %d is %d bytes; kcat reads at most 511 (shorten the paths)", i+1, len(line))
		}
	}
	return nil
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// shellQuote returns s single-quoted for a POSIX shell (for examples in
// comments).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// args builds a map for passing several values to a nested template.
func args(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("args: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("args: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
