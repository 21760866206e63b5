// Package wizard is the interactive front end of `kafkatls bundle`: a
// bubbletea/huh program that asks for the PKI directory, the CA, the
// cluster's brokers, controllers or ZooKeeper nodes, the clients with
// their grants, the client runtimes, password policy and container mount
// path; shows exactly what will be produced; writes DIR/kafkatls.yaml; runs
// bundle.Run (the same code path as `kafkatls bundle -f`) with a progress
// view; verifies the result and prints the next steps.
//
// The answers-to-spec translation (BuildSpec) is a pure function so it can
// be tested without a terminal; the model only collects Answers.
package wizard

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	kpem "github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
)

// Client runtimes: they decide which store formats are written.
const (
	RuntimeJava       = "java"       // Java clients, Kafka CLI tools
	RuntimeSpring     = "spring"     // Spring Boot (spring.kafka.ssl.*)
	RuntimeLibrdkafka = "librdkafka" // kcat, confluent-kafka-python/-go/-dotnet, node-rdkafka
	RuntimeKafkaJS    = "kafkajs"
	RuntimeGo         = "go" // franz-go, sarama, segmentio/kafka-go (crypto/tls)
)

// Runtimes lists every runtime with its label, in display order.
var Runtimes = []struct{ ID, Label string }{
	{RuntimeJava, "Java clients / Kafka CLI tools (JKS, PKCS12)"},
	{RuntimeSpring, "Spring Boot (JKS, PKCS12)"},
	{RuntimeLibrdkafka, "librdkafka / kcat / confluent-kafka-* (PEM)"},
	{RuntimeKafkaJS, "KafkaJS (PEM)"},
	{RuntimeGo, "Go: franz-go, sarama, kafka-go (PEM)"},
}

// Password policies.
const (
	PasswordGenerated = "generated"
	PasswordEnv       = "env"
)

// DefaultEnvPrefix prefixes the per-entity password environment variables.
const DefaultEnvPrefix = "KAFKATLS_PASSWORD_"

// Grant access choices for a client's topic.
const (
	AccessProduce = "produce"
	AccessConsume = "consume"
	AccessBoth    = "both"
)

// Who signs the certificates of a new PKI directory.
const (
	SignerLocal = "local"   // a CA made in the directory (the default)
	SignerVault = "vault"   // a Vault or OpenBao PKI secrets engine (docs/engines.md)
	SignerStep  = "step-ca" // a smallstep step-ca JWK provisioner (docs/engines.md)
)

// Answers is everything the wizard asks. Strings hold what the user typed
// (comma or space separated lists); BuildSpec turns them into a spec.
type Answers struct {
	Dir string
	// ReuseCA is set when Dir already holds a CA: its subject and key are
	// kept and the CA fields below are ignored.
	ReuseCA bool

	// Signer is SignerLocal or SignerVault (a new directory only). For an
	// engine, EngineAddress (empty: VAULT_ADDR at each run), EngineMount
	// and EngineRole go into the spec's ca section; the token never does:
	// each run reads VAULT_TOKEN or --vault-token-file.
	Signer                                 string
	EngineAddress, EngineMount, EngineRole string
	// For step-ca: StepURL (empty: STEP_CA_URL at each run), StepRoot
	// (the absolute path of its root certificate file) and
	// StepProvisioner go into the spec's ca section; the provisioner
	// password never does: each run reads the file
	// --provisioner-password-file or STEP_PROVISIONER_PASSWORD_FILE names.
	StepURL, StepRoot, StepProvisioner string

	CACN, CAOrg, CAOU, CALocality, CAState, CACountry string
	KeyType                                           string // rsa or ecdsa

	Mode                 string // bundle.ModeKRaft or bundle.ModeZooKeeper
	DedicatedControllers bool   // KRaft: separate controller identities

	Brokers     []*NodeAnswer
	Controllers []*NodeAnswer
	ZooKeepers  []*NodeAnswer
	Clients     []*ClientAnswer

	// Other services: Kafka Connect workers and TLS servers outside
	// Kafka. Each list counts only while its Want flag is set, so going
	// back and answering "no" keeps what was typed without issuing it.
	WantConnect bool
	// Connect workers: Hosts are their REST listener's hostnames (SANs
	// as a broker's: name, localhost, 127.0.0.1, then hosts and IPs).
	Connect []*NodeAnswer
	// The Connect cluster's group and internal topics, shared by its
	// workers (default: Connect's sample names).
	ConnectGroup, ConnectConfigTopic, ConnectOffsetTopic, ConnectStatusTopic string
	WantServers                                                              bool
	// Servers: Hosts are their DNS SANs; no SAN is added to what is given.
	Servers []*NodeAnswer

	Runtimes  []string
	P12Compat string // stores.Modern or stores.Legacy

	PasswordMode string // PasswordGenerated or PasswordEnv
	EnvPrefix    string

	MountPath string
}

// NodeAnswer is one broker, controller or ZooKeeper server.
type NodeAnswer struct {
	Name  string
	Hosts string // advertised hostnames, comma or space separated
	IPs   string
	// More records the "add another" choice made after this node.
	More string
}

// ClientAnswer is one client and its optional grant.
type ClientAnswer struct {
	Name   string
	Topic  string // "" = no grant; a trailing * makes it a prefix
	Access string // AccessProduce, AccessConsume or AccessBoth
	Group  string // consumer group (trailing * = prefix)
	// Auth is how it authenticates (a sasl.Auth name; "" is mutual TLS).
	// A SASL one puts its mechanism on the brokers' SASL_SSL listener;
	// oauthbearer means tokens kafkatls mints (the run creates the local
	// token issuer when the directory has none: bundle.Options.InitIssuer).
	Auth string
	More string
}

// AuthChoices are the authentications a client may use, with their
// labels, in display order (mutual TLS, the default, first).
var AuthChoices = []struct{ ID, Label string }{
	{string(sasl.MTLS), "Mutual TLS: its certificate"},
	{string(sasl.ScramSHA512), "SCRAM-SHA-512: a generated password"},
	{string(sasl.ScramSHA256), "SCRAM-SHA-256: a generated password"},
	{string(sasl.OAuthBearer), "OAUTHBEARER: tokens kafkatls mints"},
}

// ClientAuth parses a client's authentication answer.
func ClientAuth(c ClientAnswer) (sasl.Auth, error) { return sasl.ParseAuth(c.Auth) }

// ClientPrincipal is the principal Kafka will see for the client, whose
// certificate subject, as Java prints it, is certSubject: User:NAME for
// SASL, User:<subject> for mutual TLS.
func ClientPrincipal(c ClientAnswer, certSubject string) string {
	a, err := ClientAuth(c)
	if err != nil {
		a = sasl.MTLS
	}
	return sasl.Principal(a, strings.TrimSpace(c.Name), principal.User(certSubject))
}

// Choices for the "add another" questions.
const (
	MoreNo  = "no"
	MoreYes = "yes"
)

// DefaultAnswers are the answers the wizard starts from.
func DefaultAnswers(dir string) *Answers {
	return &Answers{
		Dir:         dir,
		Signer:      SignerLocal,
		EngineMount: "pki",
		EngineRole:  "kafka",
		// step-ca's default provisioner name (stepca.DefaultProvisioner).
		StepProvisioner: "kafka",
		CACN:            "kafkatls CA",
		KeyType:         string(pki.RSA),
		Mode:            bundle.ModeKRaft,
		Brokers:         []*NodeAnswer{NewNode("kafka", 0)},
		Clients:         []*ClientAnswer{NewClient(0)},
		// Connect's sample names, as bundle's connect: entries default to.
		ConnectGroup:       kafkaacl.DefaultConnectGroup,
		ConnectConfigTopic: kafkaacl.DefaultConnectConfigTopic,
		ConnectOffsetTopic: kafkaacl.DefaultConnectOffsetTopic,
		ConnectStatusTopic: kafkaacl.DefaultConnectStatusTopic,
		Runtimes:           []string{RuntimeJava},
		P12Compat:          string(stores.Modern),
		PasswordMode:       PasswordGenerated,
		EnvPrefix:          DefaultEnvPrefix,
	}
}

// NewNode returns the default answer for the i-th (0-based) node of a kind
// whose names start with base: kafka-1, controller-2, zookeeper-3.
func NewNode(base string, i int) *NodeAnswer {
	return &NodeAnswer{Name: fmt.Sprintf("%s-%d", base, i+1), More: MoreNo}
}

// NewClient returns the default answer for the i-th (0-based) client.
func NewClient(i int) *ClientAnswer {
	return &ClientAnswer{Name: fmt.Sprintf("client%d", i+1), Access: AccessBoth, Auth: string(sasl.MTLS), More: MoreNo}
}

// SplitList splits user input on commas and white space, dropping empties.
func SplitList(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(out) == 0 {
		return nil
	}
	return out
}

// ValidateHosts checks a list of advertised hostnames as DNS SANs.
func ValidateHosts(s string) error {
	for _, h := range SplitList(s) {
		if err := pki.ValidateDNSName(h); err != nil {
			if net.ParseIP(h) != nil {
				return fmt.Errorf("%s is an IP address: put it under IP addresses", h)
			}
			return err
		}
	}
	return nil
}

// ValidateIPs checks a list of IP addresses.
func ValidateIPs(s string) error {
	for _, ip := range SplitList(s) {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("invalid IP address %q", ip)
		}
	}
	return nil
}

// NodeSANs returns the SANs a server node will get: its name, localhost
// and 127.0.0.1 (pki.DefaultServerSANs), then the hostnames and IPs given.
func NodeSANs(n NodeAnswer) (pki.SANs, error) {
	if err := ValidateHosts(n.Hosts); err != nil {
		return pki.SANs{}, err
	}
	if err := ValidateIPs(n.IPs); err != nil {
		return pki.SANs{}, err
	}
	return pki.BuildSANs(pki.DefaultServerSANs(n.Name), SplitList(n.Hosts), SplitList(n.IPs), nil)
}

// ServerSANs returns the SANs a TLS server (role server) will get:
// exactly the DNS names and IPs given, at least one of them.
func ServerSANs(n NodeAnswer) (pki.SANs, error) {
	if err := ValidateHosts(n.Hosts); err != nil {
		return pki.SANs{}, err
	}
	if err := ValidateIPs(n.IPs); err != nil {
		return pki.SANs{}, err
	}
	s, err := pki.BuildSANs(pki.SANs{}, SplitList(n.Hosts), SplitList(n.IPs), nil)
	if err == nil && len(s.DNS)+len(s.IPs) == 0 {
		err = ErrServerNoSANs
	}
	return s, err
}

// ErrServerNoSANs: a TLS server certificate must name what clients dial.
var ErrServerNoSANs = errors.New("give at least one DNS name or IP address: clients check the server's certificate against them")

// ConnectWorker is the Connect cluster the answers name, with the names
// equal to Connect's samples left empty so the spec stays as a user
// would write it (bundle fills them in).
func (a *Answers) ConnectWorker() kafkaacl.ConnectWorker {
	name := func(v, def string) string {
		if v = strings.TrimSpace(v); v == def {
			return ""
		}
		return v
	}
	return kafkaacl.ConnectWorker{
		Group:       name(a.ConnectGroup, kafkaacl.DefaultConnectGroup),
		ConfigTopic: name(a.ConnectConfigTopic, kafkaacl.DefaultConnectConfigTopic),
		OffsetTopic: name(a.ConnectOffsetTopic, kafkaacl.DefaultConnectOffsetTopic),
		StatusTopic: name(a.ConnectStatusTopic, kafkaacl.DefaultConnectStatusTopic),
	}
}

// ValidateTopic checks a Kafka topic name (a trailing * makes it a prefix).
func ValidateTopic(t string) error {
	name := strings.TrimSuffix(strings.TrimSpace(t), "*")
	if name == "" {
		if strings.TrimSpace(t) == "*" {
			return errors.New("a bare * is not a prefix: type the topic prefix before it (e.g. orders.*)")
		}
		return nil
	}
	if len(name) > 249 {
		return fmt.Errorf("topic %q: longer than 249 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q: character %q not allowed (letters, digits, '.', '_', '-')", name, c)
		}
	}
	return nil
}

// ClientGrant turns a client's answers into a grant; ok is false when the
// client has no topic (no grant).
func ClientGrant(c ClientAnswer) (g kafkaacl.Grant, ok bool, err error) {
	topic := strings.TrimSpace(c.Topic)
	if topic == "" {
		return g, false, nil
	}
	if err := ValidateTopic(topic); err != nil {
		return g, false, err
	}
	g.Prefixed = strings.HasSuffix(topic, "*")
	g.Topic = strings.TrimSuffix(topic, "*")
	switch c.Access {
	case AccessProduce:
		g.Producer = true
	case AccessConsume:
		g.Consumer = true
	case AccessBoth, "":
		g.Producer, g.Consumer = true, true
	default:
		return g, false, fmt.Errorf("access %q: must be produce, consume or both", c.Access)
	}
	if g.Consumer {
		group := strings.TrimSpace(c.Group)
		if group == "" {
			return g, false, fmt.Errorf("client %q consumes %s: give its consumer group", c.Name, g.Topic)
		}
		if strings.HasSuffix(group, "*") != g.Prefixed {
			return g, false, errors.New("topic and group must both end in * (prefixes) or neither: kafka-acls applies one pattern type to both")
		}
		g.Group = strings.TrimSuffix(group, "*")
		if g.Group == "" {
			return g, false, errors.New("a bare * is not a group prefix")
		}
	}
	return g, true, g.Validate()
}

// Formats are the store formats for the chosen runtimes. Brokers,
// controllers and ZooKeeper are Java and read PKCS12, and a Connect
// worker's HTTPS REST listener cannot use PEM (identity.CheckFormats), so
// p12 is always written; Java and Spring Boot clients add JKS; librdkafka, KafkaJS and
// Go read PEM.
func Formats(runtimes []string) []string {
	want := map[string]bool{identity.FormatP12: true}
	for _, r := range runtimes {
		switch r {
		case RuntimeJava, RuntimeSpring:
			want[identity.FormatJKS] = true
		case RuntimeLibrdkafka, RuntimeKafkaJS, RuntimeGo:
			want[identity.FormatPEM] = true
		}
	}
	var out []string
	for _, f := range identity.AllFormats {
		if want[f] {
			out = append(out, f)
		}
	}
	return out
}

// EnvVar is the password environment variable of an entity: the prefix,
// then the name upper-cased with every other character turned into '_'.
func EnvVar(prefix, name string) string {
	return prefix + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, name)
}

// ValidateEnvPrefix checks that the prefix makes valid variable names.
func ValidateEnvPrefix(p string) error {
	if p == "" {
		return errors.New("give a prefix, e.g. " + DefaultEnvPrefix)
	}
	for i, c := range p {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return fmt.Errorf("prefix %q: use letters, digits and '_' (not starting with a digit)", p)
		}
	}
	return nil
}

// EntityNames lists every entity name the answers produce, in spec order.
func (a *Answers) EntityNames() []string {
	var out []string
	for _, list := range a.nodeLists() {
		for _, n := range list {
			out = append(out, n.Name)
		}
	}
	for _, c := range a.Clients {
		out = append(out, c.Name)
	}
	for _, list := range a.serviceLists() {
		for _, n := range list {
			out = append(out, n.Name)
		}
	}
	return out
}

// serviceLists are the Connect workers and TLS servers chosen, in spec
// order (servers before Connect workers, as bundle.Spec.Entities).
func (a *Answers) serviceLists() [][]*NodeAnswer {
	var lists [][]*NodeAnswer
	if a.WantServers {
		lists = append(lists, a.Servers)
	}
	if a.WantConnect {
		lists = append(lists, a.Connect)
	}
	return lists
}

func (a *Answers) nodeLists() [][]*NodeAnswer {
	lists := [][]*NodeAnswer{a.Brokers}
	if a.Mode == bundle.ModeZooKeeper {
		lists = append(lists, a.ZooKeepers)
	} else if a.DedicatedControllers {
		lists = append(lists, a.Controllers)
	}
	return lists
}

// MissingEnv lists the password variables that are unset or hold an
// unusable password, with the reason (env policy only).
func (a *Answers) MissingEnv(lookup func(string) (string, bool)) []string {
	if a.PasswordMode != PasswordEnv {
		return nil
	}
	var out []string
	for _, n := range a.EntityNames() {
		v := EnvVar(a.EnvPrefix, n)
		pw, ok := lookup(v)
		switch {
		case !ok:
			out = append(out, v+" is not set")
		case pki.ValidatePassword(pw) != nil:
			out = append(out, fmt.Sprintf("%s: %v", v, pki.ValidatePassword(pw)))
		}
	}
	return out
}

// BuildSpec turns answers into a bundle spec and validates it. It reads
// nothing from disk or the environment.
func BuildSpec(a Answers) (*bundle.Spec, error) {
	var errs []error
	s := &bundle.Spec{Mode: a.Mode}
	if s.Mode == "" {
		s.Mode = bundle.ModeKRaft
	}
	if !a.ReuseCA {
		s.CA = bundle.CASpec{CN: strings.TrimSpace(a.CACN), Org: strings.TrimSpace(a.CAOrg), OU: strings.TrimSpace(a.CAOU),
			Locality: strings.TrimSpace(a.CALocality), State: strings.TrimSpace(a.CAState), Country: strings.ToUpper(strings.TrimSpace(a.CACountry)),
			KeyType: a.KeyType}
		switch a.Signer {
		case SignerLocal, "":
		case SignerVault:
			// The engine's CA signs: the subject fields are the defaults
			// the role must write; no CA name or key is made here.
			s.CA.CN = ""
			s.CA.Engine = "vault"
			s.CA.Address = strings.TrimSpace(a.EngineAddress)
			s.CA.Mount = strings.TrimSpace(a.EngineMount)
			s.CA.Role = strings.TrimSpace(a.EngineRole)
			if err := ValidateEngineAddress(s.CA.Address); err != nil {
				errs = append(errs, err)
			}
			for _, f := range []struct{ what, v string }{{"mount", s.CA.Mount}, {"role", s.CA.Role}} {
				if err := ValidateEnginePath(f.what, f.v); err != nil {
					errs = append(errs, err)
				}
			}
		case SignerStep:
			// As for Vault: the provisioner's template keeps the CSR's
			// subject, which the answers' fields give.
			s.CA.CN = ""
			s.CA.Engine = SignerStep
			s.CA.URL = strings.TrimSuffix(strings.TrimSpace(a.StepURL), "/")
			s.CA.Root = strings.TrimSpace(a.StepRoot)
			s.CA.Provisioner = strings.TrimSpace(a.StepProvisioner)
			if err := ValidateStepURL(s.CA.URL); err != nil {
				errs = append(errs, err)
			}
			switch {
			case s.CA.Root == "":
				errs = append(errs, errors.New("give the file of step-ca's root certificate (`step ca root FILE` writes it)"))
			case !filepath.IsAbs(s.CA.Root):
				// The spec is saved in the PKI directory, where a relative
				// path would name another file.
				errs = append(errs, fmt.Errorf("step-ca root %q: give an absolute path", s.CA.Root))
			}
			if s.CA.Provisioner == "" {
				errs = append(errs, errors.New("give the step-ca provisioner's name"))
			}
		default:
			errs = append(errs, fmt.Errorf("signer %q: must be %s, %s or %s", a.Signer, SignerLocal, SignerVault, SignerStep))
		}
	}
	s.Defaults.Formats = Formats(a.Runtimes)
	if a.P12Compat != "" {
		c, err := stores.ParseCompat(a.P12Compat)
		if err != nil {
			errs = append(errs, err)
		}
		s.Defaults.P12Compat = string(c)
	}
	s.Defaults.MountPath = strings.TrimSpace(a.MountPath)
	password := func(name string) bundle.Password {
		if a.PasswordMode == PasswordEnv {
			return bundle.Password{Env: EnvVar(a.EnvPrefix, name)}
		}
		return bundle.Password{}
	}
	if a.PasswordMode == PasswordEnv {
		if err := ValidateEnvPrefix(a.EnvPrefix); err != nil {
			errs = append(errs, err)
		}
	}
	nodes := func(kind string, in []*NodeAnswer) []bundle.Node {
		var out []bundle.Node
		for _, n := range in {
			name := strings.TrimSpace(n.Name)
			if err := ValidateHosts(n.Hosts); err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
			}
			if err := ValidateIPs(n.IPs); err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
			}
			out = append(out, bundle.Node{Name: name, Hosts: SplitList(n.Hosts), IPs: SplitList(n.IPs), Password: password(name)})
		}
		return out
	}
	if len(a.Brokers) == 0 {
		errs = append(errs, errors.New("a cluster needs at least one broker"))
	}
	s.Brokers = nodes("broker", a.Brokers)
	switch s.Mode {
	case bundle.ModeZooKeeper:
		if len(a.ZooKeepers) == 0 {
			errs = append(errs, errors.New("ZooKeeper mode needs at least one ZooKeeper node"))
		}
		s.ZooKeepers = nodes("zookeeper", a.ZooKeepers)
	case bundle.ModeKRaft:
		if a.DedicatedControllers {
			if len(a.Controllers) == 0 {
				errs = append(errs, errors.New("dedicated controllers chosen but none listed"))
			}
			s.Controllers = nodes("controller", a.Controllers)
		}
	}
	var mechanisms []string
	for _, c := range a.Clients {
		name := strings.TrimSpace(c.Name)
		cl := bundle.Client{Name: name, Password: password(name)}
		if auth, err := ClientAuth(*c); err != nil {
			errs = append(errs, fmt.Errorf("client %q: %w", name, err))
		} else if auth.Spec().SASL() {
			cl.Auth = string(auth)
			mechanisms = append(mechanisms, string(auth))
		}
		g, ok, err := ClientGrant(*c)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("client %q: %w", name, err))
		case ok:
			cl.Grants = []kafkaacl.Grant{g}
		}
		s.Clients = append(s.Clients, cl)
	}
	// The brokers' SASL_SSL listener enables what the clients use.
	s.SASL.Mechanisms = unionMechanisms(nil, mechanisms)
	if a.WantServers {
		if len(a.Servers) == 0 {
			errs = append(errs, errors.New("TLS servers chosen but none listed"))
		}
		for _, n := range a.Servers {
			name := strings.TrimSpace(n.Name)
			// Hostnames and IPs are checked here for the wizard's wording;
			// a server without any is refused by s.Validate.
			if err := ValidateHosts(n.Hosts); err != nil {
				errs = append(errs, fmt.Errorf("server %q: %w", name, err))
			}
			if err := ValidateIPs(n.IPs); err != nil {
				errs = append(errs, fmt.Errorf("server %q: %w", name, err))
			}
			s.Servers = append(s.Servers, bundle.Server{Name: name, DNS: SplitList(n.Hosts), IPs: SplitList(n.IPs), Password: password(name)})
		}
	}
	if a.WantConnect {
		if len(a.Connect) == 0 {
			errs = append(errs, errors.New("no Connect worker listed, though Connect workers were chosen"))
		}
		w := a.ConnectWorker()
		for _, n := range a.Connect {
			name := strings.TrimSpace(n.Name)
			if err := ValidateHosts(n.Hosts); err != nil {
				errs = append(errs, fmt.Errorf("connect worker %q: %w", name, err))
			}
			if err := ValidateIPs(n.IPs); err != nil {
				errs = append(errs, fmt.Errorf("connect worker %q: %w", name, err))
			}
			s.Connect = append(s.Connect, bundle.Connect{Name: name, Hosts: SplitList(n.Hosts), IPs: SplitList(n.IPs), ConnectWorker: w, Password: password(name)})
		}
	}
	if err := s.Validate(); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// ValidateEngineAddress checks a Vault/OpenBao address: empty (VAULT_ADDR
// at each run) or an http(s) URL with a host and nothing after it but a
// path.
func ValidateEngineAddress(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("engine address %q: give an http(s) URL, e.g. https://vault.example.com:8200", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// Redacted: a password typed into the URL is not echoed back.
		return fmt.Errorf("engine address %q: no user, query or fragment (the token comes from VAULT_TOKEN)", u.Redacted())
	}
	return nil
}

// ValidateStepURL checks a step-ca URL: empty (STEP_CA_URL at each run)
// or https://HOST[:PORT], as step-ca serves only HTTPS at its root.
func ValidateStepURL(s string) error {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/")
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" {
		shown := s
		if err == nil {
			shown = u.Redacted() // a password typed into the URL is not echoed back
		}
		return fmt.Errorf("step-ca URL %q: give https://HOST[:PORT], e.g. https://ca.example.com:9000 (step-ca serves only HTTPS)", shown)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("step-ca URL %q: no user, query or fragment (the password comes from a file)", u.Redacted())
	}
	return nil
}

// MaxRootFile bounds what ReadStepRoot reads: a root certificate, or a few.
const MaxRootFile = 1 << 20

// ReadStepRoot reads the file of step-ca's root certificate and checks
// that it holds PEM certificates, the first a CA's: the one that
// authenticates step-ca's HTTPS and becomes the directory's trust anchor.
func ReadStepRoot(path string) (*x509.Certificate, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return nil, errors.New("give the file of step-ca's root certificate (`step ca root FILE` writes it)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a certificate file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxRootFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRootFile {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a root certificate", path, MaxRootFile)
	}
	certs, err := kpem.DecodeCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PEM certificate: %v", path, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	if !certs[0].IsCA {
		return nil, fmt.Errorf("%s: %s is not a CA certificate: give step-ca's root (`step ca root FILE`)", path, certs[0].Subject)
	}
	return certs[0], nil
}

// ValidateEnginePath checks a mount or role name: non-empty, without
// white space, and not starting or ending with '/'.
func ValidateEnginePath(what, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return fmt.Errorf("give the engine's %s", what)
	case strings.ContainsAny(s, " \t?#"), strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"):
		return fmt.Errorf("engine %s %q: a path such as pki or kafka (no spaces, ?, # or leading/trailing /)", what, s)
	}
	return nil
}

// EngineSettings are the engine the answers name for a new directory, nil
// for a local CA or a reused directory.
func (a *Answers) EngineSettings() *pki.EngineSettings {
	if a.ReuseCA {
		return nil
	}
	switch a.Signer {
	case SignerStep:
		return &pki.EngineSettings{Type: SignerStep, Address: strings.TrimSuffix(strings.TrimSpace(a.StepURL), "/"),
			Provisioner: strings.TrimSpace(a.StepProvisioner), Root: strings.TrimSpace(a.StepRoot)}
	case SignerVault:
	default:
		return nil
	}
	return &pki.EngineSettings{Type: "vault", Address: strings.TrimSpace(a.EngineAddress),
		Mount: strings.TrimSpace(a.EngineMount), Role: strings.TrimSpace(a.EngineRole)}
}

// DuplicateName reports whether name (case-insensitively) is used by
// another entity than self (a *NodeAnswer or *ClientAnswer) of the cluster
// the answers describe.
func (a *Answers) DuplicateName(name string, self any) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, list := range a.nodeLists() {
		for _, n := range list {
			if any(n) != self && strings.ToLower(strings.TrimSpace(n.Name)) == name {
				return true
			}
		}
	}
	for _, c := range a.Clients {
		if any(c) != self && strings.ToLower(strings.TrimSpace(c.Name)) == name {
			return true
		}
	}
	for _, list := range a.serviceLists() {
		for _, n := range list {
			if any(n) != self && strings.ToLower(strings.TrimSpace(n.Name)) == name {
				return true
			}
		}
	}
	return false
}

// KeepUnasked carries into built (the spec the answers make) what the
// saved spec of the directory (DIR/kafkatls.yaml, read with
// bundle.LoadSpec so its file paths are absolute) says and the wizard
// does not ask, so that re-running the wizard on a directory never drops
// a setting the user wrote by hand: the wizard's run replaces the saved
// spec (bundle.SpecReplace). What the answers say wins; for an identity
// the answers still list (matched by name), its port, advertise address,
// subject, noDefaultSans, a password file (when the answers chose
// generated passwords), a SCRAM password source (while it stays SCRAM),
// a client's or Connect worker's other grants and a worker's connectors
// are kept. The cluster's sasl port and mechanisms are kept (the answers
// add the mechanisms their clients use), as are the ca: section of a
// reused directory, the identities' key and validity defaults,
// renewBefore and the MirrorMaker identities. Identities the answers no
// longer list are dropped from the spec (their files stay: orphans).
func KeepUnasked(built, saved *bundle.Spec) *bundle.Spec {
	if saved == nil {
		return built
	}
	s := *built
	if s.CA == (bundle.CASpec{}) {
		s.CA = saved.CA
	}
	d := &s.Defaults
	if d.Days == 0 {
		d.Days = saved.Defaults.Days
	}
	if d.KeyType == "" && d.KeySize == 0 {
		d.KeyType, d.KeySize = saved.Defaults.KeyType, saved.Defaults.KeySize
	}
	if d.RenewBefore == "" {
		d.RenewBefore = saved.Defaults.RenewBefore
	}
	if s.SASL.Port == 0 {
		s.SASL.Port = saved.SASL.Port
	}
	if len(saved.SASL.Mechanisms) > 0 {
		s.SASL.Mechanisms = unionMechanisms(saved.SASL.Mechanisms, s.SASL.Mechanisms)
	}
	if len(s.MirrorMakers) == 0 {
		s.MirrorMakers = saved.MirrorMakers
	}
	password := func(p *bundle.Password, old bundle.Password) {
		if *p == (bundle.Password{}) && old.File != "" {
			*p = bundle.Password{File: old.File}
		}
	}
	nodes := func(out []bundle.Node, old []bundle.Node) []bundle.Node {
		out = slices.Clone(out)
		for i := range out {
			j := slices.IndexFunc(old, func(o bundle.Node) bool { return strings.EqualFold(o.Name, out[i].Name) })
			if j < 0 {
				continue
			}
			o, n := old[j], &out[i]
			if n.Port == 0 {
				n.Port = o.Port
			}
			if n.Advertise == "" {
				n.Advertise = o.Advertise
			}
			if n.Subject == "" {
				n.Subject = o.Subject
			}
			n.NoDefaultSANs = n.NoDefaultSANs || o.NoDefaultSANs
			password(&n.Password, o.Password)
		}
		return out
	}
	s.Brokers = nodes(s.Brokers, saved.Brokers)
	s.Controllers = nodes(s.Controllers, saved.Controllers)
	s.ZooKeepers = nodes(s.ZooKeepers, saved.ZooKeepers)
	s.Clients = slices.Clone(s.Clients)
	for i := range s.Clients {
		c := &s.Clients[i]
		j := slices.IndexFunc(saved.Clients, func(o bundle.Client) bool { return strings.EqualFold(o.Name, c.Name) })
		if j < 0 {
			continue
		}
		o := saved.Clients[j]
		if c.Subject == "" {
			c.Subject = o.Subject
		}
		c.Grants = unionGrants(c.Grants, o.Grants)
		password(&c.Password, o.Password)
		if strings.EqualFold(strings.TrimSpace(c.Auth), strings.TrimSpace(o.Auth)) && c.ScramPassword == (bundle.Password{}) {
			c.ScramPassword = o.ScramPassword
		}
	}
	s.Servers = slices.Clone(s.Servers)
	for i := range s.Servers {
		v := &s.Servers[i]
		j := slices.IndexFunc(saved.Servers, func(o bundle.Server) bool { return strings.EqualFold(o.Name, v.Name) })
		if j < 0 {
			continue
		}
		if v.Subject == "" {
			v.Subject = saved.Servers[j].Subject
		}
		password(&v.Password, saved.Servers[j].Password)
	}
	s.Connect = slices.Clone(s.Connect)
	for i := range s.Connect {
		w := &s.Connect[i]
		j := slices.IndexFunc(saved.Connect, func(o bundle.Connect) bool { return strings.EqualFold(o.Name, w.Name) })
		if j < 0 {
			continue
		}
		o := saved.Connect[j]
		if w.Port == 0 {
			w.Port = o.Port
		}
		if w.Subject == "" {
			w.Subject = o.Subject
		}
		w.NoDefaultSANs = w.NoDefaultSANs || o.NoDefaultSANs
		if len(w.Connectors) == 0 {
			w.Connectors = o.Connectors
		}
		w.Grants = unionGrants(w.Grants, o.Grants)
		password(&w.Password, o.Password)
	}
	return &s
}

// unionGrants is first's grants, then those of second that first does
// not hold.
func unionGrants(first, second []kafkaacl.Grant) []kafkaacl.Grant {
	out := slices.Clone(first)
	for _, g := range second {
		if !slices.ContainsFunc(out, func(h kafkaacl.Grant) bool { return reflect.DeepEqual(g, h) }) {
			out = append(out, g)
		}
	}
	return out
}

// unionMechanisms is the mechanisms of both lists, each once, in
// sasl.Specs order (the spec then stays the same from run to run).
func unionMechanisms(a, b []string) []string {
	want := map[sasl.Auth]bool{}
	for _, list := range [][]string{a, b} {
		for _, m := range list {
			for _, v := range strings.Split(m, ",") {
				if x, err := sasl.ParseAuth(v); err == nil {
					want[x] = true
				}
			}
		}
	}
	var out []string
	for _, sp := range sasl.Specs() {
		if want[sp.Auth] && sp.SASL() {
			out = append(out, string(sp.Auth))
		}
	}
	return out
}

// ReadSavedSpec reads DIR/kafkatls.yaml, the spec a previous run saved;
// nil when there is none.
func ReadSavedSpec(dir string) (*bundle.Spec, error) {
	s, err := bundle.LoadSpec(filepath.Join(dir, bundle.SpecFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}
