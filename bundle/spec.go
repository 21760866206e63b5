// Package bundle builds a whole cluster's PKI from a declarative spec:
// brokers, KRaft controllers or a ZooKeeper ensemble, and clients with
// their grants. It plans before it writes (create, renew, keep, orphan),
// is idempotent (a re-run of the same spec changes no file), and is the
// one code path behind `kafkatls bundle`, the wizard and CI.
package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

// Cluster modes.
const (
	ModeKRaft     = "kraft"
	ModeZooKeeper = "zookeeper"
)

// Spec is kafkatls.yaml. docs/bundle-spec.md documents every field and
// testdata/kafkatls.yaml is a commented example.
type Spec struct {
	CA          CASpec    `yaml:"ca,omitempty"`
	Mode        string    `yaml:"mode,omitempty"`
	Defaults    Defaults  `yaml:"defaults,omitempty"`
	Brokers     []Node    `yaml:"brokers,omitempty"`
	Controllers []Node    `yaml:"controllers,omitempty"`
	ZooKeepers  []Node    `yaml:"zookeepers,omitempty"`
	Clients     []Client  `yaml:"clients,omitempty"`
	Servers     []Server  `yaml:"servers,omitempty"`
	Connect     []Connect `yaml:"connect,omitempty"`
	// MirrorMakers are MirrorMaker 2 identities of this cluster (one per
	// MirrorMaker deployment); the other cluster's PKI issues its own.
	MirrorMakers []MirrorMaker `yaml:"mirrormakers,omitempty"`
	// SASL adds a SASL_SSL listener to every broker (sasl.go).
	SASL SASLSpec `yaml:"sasl,omitempty"`
}

// CASpec configures the CA created on the first run (ignored afterwards:
// the CA is never re-created by bundle).
type CASpec struct {
	CN       string `yaml:"cn,omitempty"`
	Org      string `yaml:"org,omitempty"`
	OU       string `yaml:"ou,omitempty"`
	Locality string `yaml:"locality,omitempty"`
	State    string `yaml:"state,omitempty"`
	Country  string `yaml:"country,omitempty"`
	KeyType  string `yaml:"keyType,omitempty"`
	KeySize  int    `yaml:"keySize,omitempty"`
	Days     int    `yaml:"days,omitempty"`
	// ImportCert and ImportKey adopt an existing CA (paths relative to the spec).
	ImportCert string `yaml:"importCert,omitempty"`
	ImportKey  string `yaml:"importKey,omitempty"`
	// Engine ("vault") has that engine sign instead of a local CA, at
	// Address (empty: VAULT_ADDR), mount Mount, role Role; the token comes
	// from the environment of each run, never from the spec. CN, KeyType
	// (other than the identities' default), Days and the imports do not
	// apply.
	Engine  string `yaml:"engine,omitempty"`
	Address string `yaml:"address,omitempty"`
	Mount   string `yaml:"mount,omitempty"`
	Role    string `yaml:"role,omitempty"`
	// Engine "step-ca": its CA URL (empty: STEP_CA_URL), its root
	// certificate file (relative to the spec; empty: STEP_ROOT) and the
	// JWK provisioner; the provisioner password comes from a file each
	// run names (--provisioner-password-file, STEP_PROVISIONER_PASSWORD_FILE).
	URL         string `yaml:"url,omitempty"`
	Root        string `yaml:"root,omitempty"`
	Provisioner string `yaml:"provisioner,omitempty"`
}

// EngineSettings returns the engine the spec names, nil for a local CA.
func (c CASpec) EngineSettings() *pki.EngineSettings {
	if c.Engine == "" {
		return nil
	}
	if c.Engine == "step-ca" {
		return &pki.EngineSettings{Type: c.Engine, Address: c.URL, Provisioner: c.Provisioner, Root: c.Root}
	}
	return &pki.EngineSettings{Type: c.Engine, Address: c.Address, Mount: c.Mount, Role: c.Role}
}

// Defaults apply to every entity.
type Defaults struct {
	Days      int      `yaml:"days,omitempty"`
	KeyType   string   `yaml:"keyType,omitempty"`
	KeySize   int      `yaml:"keySize,omitempty"`
	Formats   []string `yaml:"formats,omitempty"`
	P12Compat string   `yaml:"p12Compat,omitempty"`
	MountPath string   `yaml:"mountPath,omitempty"`
	// RenewBefore renews certificates expiring within this window ("30d").
	RenewBefore string `yaml:"renewBefore,omitempty"`
}

// Node is a broker, controller or ZooKeeper server.
type Node struct {
	Name  string   `yaml:"name"`
	Hosts []string `yaml:"hosts,omitempty"` // advertised hostnames: all become DNS SANs
	IPs   []string `yaml:"ips,omitempty"`
	Port  int      `yaml:"port,omitempty"`
	// Advertise is the HOST[:PORT] others dial (advertised.listeners,
	// bootstrap.servers, zookeeper.connect); its host joins the SANs and
	// its port, if given, is the listener port. Default: the first host,
	// else the name.
	Advertise     string   `yaml:"advertise,omitempty"`
	Subject       string   `yaml:"subject,omitempty"`
	NoDefaultSANs bool     `yaml:"noDefaultSans,omitempty"`
	Password      Password `yaml:"password,omitempty"`
}

// Client is a Kafka client identity and what it may do.
type Client struct {
	Name     string           `yaml:"name"`
	Subject  string           `yaml:"subject,omitempty"`
	Grants   []kafkaacl.Grant `yaml:"grants,omitempty"`
	Password Password         `yaml:"password,omitempty"`
	// Auth is how the client authenticates: mtls (default),
	// scram-sha-512, scram-sha-256 or oauthbearer (sasl.go).
	Auth string `yaml:"auth,omitempty"`
	// ScramPassword is a SCRAM client's password source (default generated).
	ScramPassword Password `yaml:"scramPassword,omitempty"`
}

// Server is a TLS server of the platform outside Kafka (an IdP such as
// Keycloak, a REST proxy, a metrics endpoint): a serverAuth-only
// certificate for exactly the names and addresses given, its stores and a
// note (role server in pki.RoleSpecs).
type Server struct {
	Name     string   `yaml:"name"`
	DNS      []string `yaml:"dns,omitempty"`
	IPs      []string `yaml:"ips,omitempty"`
	Subject  string   `yaml:"subject,omitempty"`
	Password Password `yaml:"password,omitempty"`
}

// Connect is a Kafka Connect worker: a Kafka client (its group, its
// internal topics, its connectors' topics) and an HTTPS REST server on
// Port (default 8443) named by its first host, else its name. Its ACLs are
// the worker's (kafkaacl.ConnectWorker), its connectors' and its own
// grants, in that order. Workers of one Connect cluster share the group
// and topic names.
type Connect struct {
	Name          string   `yaml:"name"`
	Hosts         []string `yaml:"hosts,omitempty"` // REST listener hostnames: all become DNS SANs
	IPs           []string `yaml:"ips,omitempty"`
	Port          int      `yaml:"port,omitempty"`
	NoDefaultSANs bool     `yaml:"noDefaultSans,omitempty"`
	Subject       string   `yaml:"subject,omitempty"`
	// Group and the three internal topics (default: Connect's sample
	// names, connect-cluster, connect-configs, connect-offsets,
	// connect-status).
	kafkaacl.ConnectWorker `yaml:",inline"`
	Connectors             []kafkaacl.Connector `yaml:"connectors,omitempty"`
	Grants                 []kafkaacl.Grant     `yaml:"grants,omitempty"`
	Password               Password             `yaml:"password,omitempty"`
}

// node is the worker's REST listener as a Node: the same SAN rules.
func (c Connect) node() Node {
	return Node{Name: c.Name, Hosts: c.Hosts, IPs: c.IPs, Port: c.Port, NoDefaultSANs: c.NoDefaultSANs}
}

// grants are the worker's ACL grants: its cluster's, its connectors', its own.
func (c Connect) grants() []kafkaacl.Grant {
	out := c.ConnectWorker.Grants()
	for _, k := range c.Connectors {
		out = append(out, k.Grants()...)
	}
	return append(out, c.Grants...)
}

// MirrorMaker is MirrorMaker 2's identity on this cluster: a clientAuth
// certificate from this PKI's CA and mirrormaker-cluster.properties with
// the settings prefixed by ClusterAlias (role mirrormaker in
// pki.RoleSpecs). `kafkatls mirrormaker config` combines it with the
// other cluster's identity (docs/mirrormaker.md).
type MirrorMaker struct {
	Name         string           `yaml:"name"`
	ClusterAlias string           `yaml:"clusterAlias"`
	Subject      string           `yaml:"subject,omitempty"`
	Grants       []kafkaacl.Grant `yaml:"grants,omitempty"`
	Password     Password         `yaml:"password,omitempty"`
}

// sans are the server's SANs: its DNS names and IPs, nothing added.
func (v Server) sans() (pki.SANs, error) { return pki.BuildSANs(pki.SANs{}, v.DNS, v.IPs, nil) }

// Password says where an entity's store password comes from; empty means
// generated.
type Password struct {
	Env  string `yaml:"env,omitempty"`
	File string `yaml:"file,omitempty"`
}

// LoadSpec reads a spec file strictly: unknown keys are errors (a typo must
// not silently drop a SAN).
func LoadSpec(path string) (*Spec, error) {
	b, err := fsx.ReadFileLimit(path, fsx.LimitSpec)
	if err != nil {
		return nil, err
	}
	s, err := ParseSpec(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.resolvePaths(filepath.Dir(path))
	return s, nil
}

// ParseSpec parses spec YAML strictly.
func ParseSpec(b []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, &InvalidSpecError{Err: err}
	}
	return &s, nil
}

func (s *Spec) resolvePaths(base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	s.CA.ImportCert, s.CA.ImportKey, s.CA.Root = abs(s.CA.ImportCert), abs(s.CA.ImportKey), abs(s.CA.Root)
	for _, list := range [][]Node{s.Brokers, s.Controllers, s.ZooKeepers} {
		for i := range list {
			list[i].Password.File = abs(list[i].Password.File)
		}
	}
	for i := range s.Clients {
		s.Clients[i].Password.File = abs(s.Clients[i].Password.File)
		s.Clients[i].ScramPassword.File = abs(s.Clients[i].ScramPassword.File)
	}
	for i := range s.MirrorMakers {
		s.MirrorMakers[i].Password.File = abs(s.MirrorMakers[i].Password.File)
	}
	for i := range s.Servers {
		s.Servers[i].Password.File = abs(s.Servers[i].Password.File)
	}
	for i := range s.Connect {
		s.Connect[i].Password.File = abs(s.Connect[i].Password.File)
	}
}

// Marshal renders the spec as YAML. A Spec holds only strings, numbers,
// booleans, slices and maps of them, which YAML always encodes, so an error
// here is a programming error (a field of a type YAML cannot encode) and
// panics rather than writing a truncated spec.
func (s *Spec) Marshal() []byte {
	var buf bytes.Buffer
	buf.WriteString("# kafkatls bundle spec: kafkatls bundle -f kafkatls.yaml (docs/bundle-spec.md)\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		panic("bundle: encoding the spec as YAML: " + err.Error())
	}
	if err := enc.Close(); err != nil {
		panic("bundle: encoding the spec as YAML: " + err.Error())
	}
	return buf.Bytes()
}

// Entity is one planned identity, resolved from the spec.
type Entity struct {
	Name    string
	Role    pki.Role
	Subject string // DN string ("" = CN=NAME + defaults)
	SANs    pki.SANs
	// Advertised is the host clients dial (the first spec host, else the
	// name): advertised.listeners, bootstrap lists and zookeeper.connect.
	Advertised string
	Port       int
	Password   Password
	Grants     []kafkaacl.Grant
	// Connect names a Connect worker's group and internal topics.
	Connect kafkaacl.ConnectWorker
	// ClusterAlias: a mirrormaker's cluster alias.
	ClusterAlias string
	// Auth is a client's authentication; ScramPassword its SCRAM password source.
	Auth          sasl.Auth
	ScramPassword Password
}

// Entities returns every identity in the spec in a stable order: brokers,
// controllers, ZooKeeper servers, clients, TLS servers, Connect workers.
// Each gets its role's default grants (pki.RoleSpec.DefaultGrants) before
// its own; a Connect worker's grants are its cluster's and its
// connectors' (Connect.grants), which depend on their names.
func (s *Spec) Entities() []Entity {
	var out []Entity
	node := func(n Node, role pki.Role, port int) {
		e := Entity{Name: n.Name, Role: role, Subject: n.Subject, Port: n.Port, Password: n.Password, Advertised: n.Name}
		if hosts := pki.SplitList(n.Hosts); len(hosts) > 0 {
			e.Advertised = hosts[0]
		}
		if adv, err := n.advertise(); err == nil && adv.Host != "" { // else Validate reports it
			e.Advertised = adv.Host
			if adv.Port != 0 {
				e.Port = adv.Port
			}
		}
		if e.Port == 0 {
			e.Port = port
		}
		e.SANs, _ = n.sans() // validated in Validate
		out = append(out, e)
	}
	for _, n := range s.Brokers {
		node(n, pki.RoleBroker, pki.RoleBroker.Spec().Port)
	}
	for _, n := range s.Controllers {
		node(n, pki.RoleController, pki.RoleController.Spec().Port)
	}
	for _, n := range s.ZooKeepers {
		node(n, pki.RoleZooKeeper, pki.RoleZooKeeper.Spec().Port)
	}
	for _, c := range s.Clients {
		auth, _ := sasl.ParseAuth(c.Auth) // validated in Validate
		out = append(out, Entity{Name: c.Name, Role: pki.RoleClient, Subject: c.Subject, Password: c.Password, Grants: c.Grants,
			Auth: auth, ScramPassword: c.ScramPassword})
	}
	for _, v := range s.Servers {
		e := Entity{Name: v.Name, Role: pki.RoleServer, Subject: v.Subject, Password: v.Password, Advertised: v.Name}
		e.SANs, _ = v.sans() // validated in Validate
		if len(e.SANs.DNS) > 0 {
			e.Advertised = e.SANs.DNS[0]
		} else if len(e.SANs.IPs) > 0 {
			e.Advertised = e.SANs.IPs[0].String()
		}
		out = append(out, e)
	}
	for _, c := range s.Connect {
		e := Entity{Name: c.Name, Role: pki.RoleConnect, Subject: c.Subject, Password: c.Password, Advertised: c.Name,
			Port: c.Port, Grants: c.grants(), Connect: c.ConnectWorker.WithDefaults()}
		if hosts := pki.SplitList(c.Hosts); len(hosts) > 0 {
			e.Advertised = hosts[0]
		}
		if e.Port == 0 {
			e.Port = pki.RoleConnect.Spec().Port
		}
		e.SANs, _ = c.node().sans() // validated in Validate
		out = append(out, e)
	}
	for _, m := range s.MirrorMakers {
		out = append(out, Entity{Name: m.Name, Role: pki.RoleMirrorMaker, Subject: m.Subject, Password: m.Password,
			Grants: m.Grants, ClusterAlias: m.ClusterAlias})
	}
	for i := range out {
		if d := out[i].Role.Spec().DefaultGrants; len(d) > 0 {
			out[i].Grants = append(slices.Clone(d), out[i].Grants...)
		}
	}
	return out
}

// advertise parses the node's advertise field (zero when unset).
func (n Node) advertise() (identity.Advertise, error) {
	if n.Advertise == "" {
		return identity.Advertise{}, nil
	}
	return identity.ParseAdvertise(n.Advertise)
}

// sans are the node's SANs: the defaults (unless noDefaultSans), hosts,
// IPs and the advertised host.
func (n Node) sans() (pki.SANs, error) {
	var base pki.SANs
	if !n.NoDefaultSANs {
		base = pki.DefaultServerSANs(n.Name)
	}
	dns, ips := n.Hosts, n.IPs
	if adv, err := n.advertise(); err == nil && adv.Host != "" {
		if adv.IsIP() {
			ips = append(slices.Clone(ips), adv.Host)
		} else {
			dns = append(slices.Clone(dns), adv.Host)
		}
	}
	return pki.BuildSANs(base, dns, ips, nil)
}

// EffectiveMode is the cluster mode: explicit, else zookeeper when ZooKeeper
// servers are listed, else kraft.
func (s *Spec) EffectiveMode() string {
	if s.Mode != "" {
		return strings.ToLower(s.Mode)
	}
	if len(s.ZooKeepers) > 0 {
		return ModeZooKeeper
	}
	return ModeKRaft
}

// Validate checks the spec without touching disk, collecting every
// problem so a user fixes them in one go.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch s.EffectiveMode() {
	case ModeKRaft:
		if len(s.ZooKeepers) > 0 {
			bad("mode kraft with zookeepers listed: a cluster uses KRaft controllers or ZooKeeper, not both")
		}
	case ModeZooKeeper:
		if len(s.Controllers) > 0 {
			bad("zookeepers and controllers both listed: a cluster uses KRaft controllers or ZooKeeper, not both (Kafka 4 is KRaft only)")
		}
	default:
		bad("mode %q: must be kraft or zookeeper", s.Mode)
	}
	if len(s.Brokers)+len(s.Controllers)+len(s.ZooKeepers)+len(s.Clients)+len(s.Servers)+len(s.Connect)+len(s.MirrorMakers) == 0 {
		bad("the spec lists no brokers, controllers, zookeepers, clients, servers, connect workers or mirrormakers")
	}
	if _, err := (pki.KeySpec{Type: pki.KeyType(s.CA.KeyType), Size: s.CA.KeySize}).Normalize(); err != nil {
		bad("ca: %v", err)
	}
	if s.Defaults.KeyType != "" || s.Defaults.KeySize != 0 {
		if _, err := (pki.KeySpec{Type: pki.KeyType(s.Defaults.KeyType), Size: s.Defaults.KeySize}).Normalize(); err != nil {
			bad("defaults: %v", err)
		}
	}
	if (s.CA.ImportCert == "") != (s.CA.ImportKey == "") {
		bad("ca: importCert and importKey go together")
	}
	if s.CA.Engine != "" && s.CA.ImportCert != "" {
		bad("ca: engine %s signs: importCert and importKey do not apply", s.CA.Engine)
	}
	switch vaultSet, stepSet := s.CA.Address != "" || s.CA.Mount != "" || s.CA.Role != "", s.CA.URL != "" || s.CA.Root != "" || s.CA.Provisioner != ""; {
	case s.CA.Engine == "" && vaultSet:
		bad("ca: address, mount and role are an engine's settings: set ca.engine too")
	case s.CA.Engine == "" && stepSet:
		bad("ca: url, root and provisioner are step-ca's settings: set ca.engine: step-ca too")
	case s.CA.Engine == "step-ca" && vaultSet:
		bad("ca: address, mount and role are vault's settings; step-ca's are url, root and provisioner")
	case s.CA.Engine == "vault" && stepSet:
		bad("ca: url, root and provisioner are step-ca's settings; vault's are address, mount and role")
	case s.CA.Engine != "" && s.CA.Engine != "vault" && s.CA.Engine != "step-ca":
		bad("ca: engine %q: the engines are vault and step-ca", s.CA.Engine)
	}
	if s.CA.Days < 0 || s.Defaults.Days < 0 {
		bad("days must be positive")
	}
	if s.CA.Days > 0 && s.Defaults.Days > s.CA.Days {
		bad("defaults.days %d exceeds ca.days %d: certificates would outlive the CA", s.Defaults.Days, s.CA.Days)
	}
	if _, err := identity.ParseFormats(s.Defaults.Formats); err != nil {
		bad("defaults.formats: %v", err)
	}
	if s.Defaults.P12Compat != "" {
		if _, err := stores.ParseCompat(s.Defaults.P12Compat); err != nil {
			bad("defaults.p12Compat: %v", err)
		}
	}
	if m := s.Defaults.MountPath; m != "" && !strings.HasPrefix(m, "/") {
		bad("defaults.mountPath %q: must be an absolute path", m)
	}
	if _, err := ParseWindow(s.Defaults.RenewBefore); err != nil {
		bad("defaults.renewBefore: %v", err)
	}
	seen := map[string]string{}
	checkName := func(kind, name string) {
		if err := identity.ValidateName(name); err != nil {
			bad("%s: %v", kind, err)
			return
		}
		key := strings.ToLower(name)
		if prev, dup := seen[key]; dup {
			bad("%s %q: duplicate name (already a %s); names must be unique across the bundle", kind, name, prev)
		}
		seen[key] = kind
	}
	checkPassword := func(kind, name string, p Password) {
		if p.Env != "" && p.File != "" {
			bad("%s %q: password.env and password.file are exclusive", kind, name)
		}
	}
	for _, l := range []struct {
		kind  string
		nodes []Node
	}{{"broker", s.Brokers}, {"controller", s.Controllers}, {"zookeeper", s.ZooKeepers}} {
		for _, n := range l.nodes {
			checkName(l.kind, n.Name)
			adv, err := n.advertise()
			if err != nil {
				bad("%s %q: advertise: %v", l.kind, n.Name, err)
			} else if adv.Port != 0 && n.Port != 0 && adv.Port != n.Port {
				bad("%s %q: port %d and advertise port %d differ: the listener binds the port it advertises", l.kind, n.Name, n.Port, adv.Port)
			}
			sans, err := n.sans()
			if err != nil {
				bad("%s %q: %v", l.kind, n.Name, err)
			} else if len(sans.DNS)+len(sans.IPs) == 0 {
				bad("%s %q: no hosts or IPs (and noDefaultSans set): clients could not verify its hostname", l.kind, n.Name)
			}
			if n.Port < 0 || n.Port > 65535 {
				bad("%s %q: port %d out of range", l.kind, n.Name, n.Port)
			}
			if n.Subject != "" {
				if _, err := principal.ParseDN(n.Subject); err != nil {
					bad("%s %q: subject: %v", l.kind, n.Name, err)
				}
			}
			checkPassword(l.kind, n.Name, n.Password)
		}
	}
	for _, c := range s.Clients {
		checkName("client", c.Name)
		if c.Subject != "" {
			if _, err := principal.ParseDN(c.Subject); err != nil {
				bad("client %q: subject: %v", c.Name, err)
			}
		}
		for i, g := range c.Grants {
			if err := g.Validate(); err != nil {
				bad("client %q grant %d: %v", c.Name, i+1, err)
			}
		}
		checkPassword("client", c.Name, c.Password)
	}
	for _, v := range s.Servers {
		checkName("server", v.Name)
		sans, err := v.sans()
		if err != nil {
			bad("server %q: %v", v.Name, err)
		} else if len(sans.DNS)+len(sans.IPs) == 0 {
			bad("server %q: no dns or ips: clients could not verify its hostname", v.Name)
		}
		if v.Subject != "" {
			if _, err := principal.ParseDN(v.Subject); err != nil {
				bad("server %q: subject: %v", v.Name, err)
			}
		}
		checkPassword("server", v.Name, v.Password)
	}
	for _, c := range s.Connect {
		checkName("connect worker", c.Name)
		sans, err := c.node().sans()
		if err != nil {
			bad("connect worker %q: %v", c.Name, err)
		} else if len(sans.DNS)+len(sans.IPs) == 0 {
			bad("connect worker %q: no hosts or IPs (and noDefaultSans set): REST clients could not verify its hostname", c.Name)
		}
		if c.Port < 0 || c.Port > 65535 {
			bad("connect worker %q: port %d out of range", c.Name, c.Port)
		}
		if c.Subject != "" {
			if _, err := principal.ParseDN(c.Subject); err != nil {
				bad("connect worker %q: subject: %v", c.Name, err)
			}
		}
		if err := c.ConnectWorker.WithDefaults().Validate(); err != nil {
			bad("connect worker %q: %v", c.Name, err)
		}
		for i, k := range c.Connectors {
			if err := k.Validate(); err != nil {
				bad("connect worker %q connector %d: %v", c.Name, i+1, err)
			}
		}
		for i, g := range c.Grants {
			if err := g.Validate(); err != nil {
				bad("connect worker %q grant %d: %v", c.Name, i+1, err)
			}
		}
		checkPassword("connect worker", c.Name, c.Password)
	}
	if formats, err := identity.ParseFormats(s.Defaults.Formats); err == nil && len(s.Connect) > 0 {
		if err := identity.CheckFormats(pki.RoleConnect, formats); err != nil {
			bad("defaults.formats: %v", err)
		}
	}
	for _, m := range s.MirrorMakers {
		checkName("mirrormaker", m.Name)
		if err := templates.CheckClusterAlias(m.ClusterAlias); err != nil {
			msg := err.Error()
			if fe := (*templates.FieldError)(nil); errors.As(err, &fe) {
				msg = fe.Msg
			}
			bad("mirrormaker %q: clusterAlias: %s", m.Name, msg)
		}
		if m.Subject != "" {
			if _, err := principal.ParseDN(m.Subject); err != nil {
				bad("mirrormaker %q: subject: %v", m.Name, err)
			}
		}
		for i, g := range m.Grants {
			if err := g.Validate(); err != nil {
				bad("mirrormaker %q grant %d: %v", m.Name, i+1, err)
			}
		}
		checkPassword("mirrormaker", m.Name, m.Password)
	}
	errs = append(errs, s.validateSASL()...)
	return errors.Join(errs...)
}

// ParseWindow parses a duration such as "30d", "12h" or "2w"; "" is 0.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	unit := time.Duration(0)
	switch s[len(s)-1] {
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	}
	if unit != 0 {
		var n int
		if _, err := fmt.Sscanf(s[:len(s)-1], "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != s[:len(s)-1] {
			return 0, fmt.Errorf("%q: want a number of days or weeks like 30d or 2w", s)
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a duration like 30d, 2w or 72h", s)
	}
	return d, nil
}

// read resolves an entity's password source ("" = generate).
func (p Password) read() (string, error) {
	pw, err := p.readRaw()
	if err != nil || pw == "" {
		return pw, err
	}
	if err := pki.ValidatePassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// readRaw reads the password source, unchecked ("" = generate).
func (p Password) readRaw() (string, error) {
	var pw string
	switch {
	case p.Env != "":
		v, ok := os.LookupEnv(p.Env)
		if !ok {
			return "", fmt.Errorf("password.env: environment variable %s is not set", p.Env)
		}
		pw = v
	case p.File != "":
		b, err := fsx.ReadFileLimit(p.File, fsx.LimitSecret)
		if err != nil {
			return "", fmt.Errorf("password.file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	return pw, nil
}

// Merge returns s with the identities of add that s does not list added,
// for a flag-form run extending the saved spec. An identity both list is
// kept as s defines it when add only names it (as the flag form does);
// listed under another role, or defined differently, it is a conflict.
// So is a CA or defaults setting add gives that differs from s's. Merge
// refuses conflicts, naming each, rather than letting one run's spec
// overwrite another's.
func (s *Spec) Merge(add *Spec) (*Spec, error) {
	out := *s
	out.Brokers = slices.Clone(s.Brokers)
	out.Controllers = slices.Clone(s.Controllers)
	out.ZooKeepers = slices.Clone(s.ZooKeepers)
	out.Clients = slices.Clone(s.Clients)
	out.Servers = slices.Clone(s.Servers)
	out.Connect = slices.Clone(s.Connect)
	out.MirrorMakers = slices.Clone(s.MirrorMakers)
	var conflicts []string
	conflicts = append(conflicts, mergeSettings("ca", reflect.ValueOf(&out.CA).Elem(), reflect.ValueOf(add.CA))...)
	conflicts = append(conflicts, mergeSettings("defaults", reflect.ValueOf(&out.Defaults).Elem(), reflect.ValueOf(add.Defaults))...)
	conflicts = append(conflicts, mergeSettings("sasl", reflect.ValueOf(&out.SASL).Elem(), reflect.ValueOf(add.SASL))...)
	if add.Mode != "" && add.Mode != s.EffectiveMode() {
		conflicts = append(conflicts, fmt.Sprintf("mode: the saved spec has %s, this run gives %s", s.EffectiveMode(), add.Mode))
	}
	roles := map[string]string{}
	for _, e := range s.Entities() {
		roles[e.Name] = string(e.Role)
	}
	mergeList(roles, &conflicts, pki.RoleBroker, &out.Brokers, add.Brokers)
	mergeList(roles, &conflicts, pki.RoleController, &out.Controllers, add.Controllers)
	mergeList(roles, &conflicts, pki.RoleZooKeeper, &out.ZooKeepers, add.ZooKeepers)
	mergeList(roles, &conflicts, pki.RoleClient, &out.Clients, add.Clients)
	mergeList(roles, &conflicts, pki.RoleServer, &out.Servers, add.Servers)
	mergeList(roles, &conflicts, pki.RoleConnect, &out.Connect, add.Connect)
	mergeList(roles, &conflicts, pki.RoleMirrorMaker, &out.MirrorMakers, add.MirrorMakers)
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrSpecConflict, strings.Join(conflicts, "\n  "))
	}
	return &out, nil
}

// mergeList adds to have the entries of add (of one role's spec list) that
// the saved spec lacks. roles maps every name seen so far to its role; a
// name saved under another role, or saved differently (an entry giving
// more than its name that is not the saved one), is a conflict.
func mergeList[T specEntry[T]](roles map[string]string, conflicts *[]string, role pki.Role, have *[]T, add []T) {
	for _, n := range add {
		name := n.entryName()
		switch r, ok := roles[name]; {
		case !ok:
			*have = append(*have, n)
			roles[name] = string(role)
		case r != string(role):
			*conflicts = append(*conflicts, fmt.Sprintf("%s %q: the saved spec has it as a %s", role, name, r))
		default:
			i := slices.IndexFunc(*have, func(h T) bool { return h.entryName() == name })
			if !reflect.DeepEqual(n, n.nameOnly()) && !reflect.DeepEqual(n, (*have)[i]) {
				*conflicts = append(*conflicts, fmt.Sprintf("%s %q: defined differently in the saved spec", role, name))
			}
		}
	}
}

// specEntry is an entry of one of the spec's identity lists.
type specEntry[T any] interface {
	entryName() string
	nameOnly() T // the entry with its name only, as the flag form gives it
}

func (n Node) entryName() string            { return n.Name }
func (n Node) nameOnly() Node               { return Node{Name: n.Name} }
func (c Client) entryName() string          { return c.Name }
func (c Client) nameOnly() Client           { return Client{Name: c.Name} }
func (v Server) entryName() string          { return v.Name }
func (v Server) nameOnly() Server           { return Server{Name: v.Name} }
func (c Connect) entryName() string         { return c.Name }
func (c Connect) nameOnly() Connect         { return Connect{Name: c.Name} }
func (m MirrorMaker) entryName() string     { return m.Name }
func (m MirrorMaker) nameOnly() MirrorMaker { return MirrorMaker{Name: m.Name} }

// ErrSpecConflict is wrapped by Merge when a run's spec contradicts the
// saved one.
var ErrSpecConflict = errors.New("this run's identities and settings conflict with the saved spec")

// mergeSettings copies into have every field of add that is set where have
// has none, and reports each field both set to different values by its
// YAML name.
func mergeSettings(section string, have, add reflect.Value) []string {
	var conflicts []string
	for i := range add.NumField() {
		a, h := add.Field(i), have.Field(i)
		if a.IsZero() {
			continue
		}
		name, _, _ := strings.Cut(add.Type().Field(i).Tag.Get("yaml"), ",")
		switch {
		case h.IsZero():
			h.Set(a)
		case !reflect.DeepEqual(a.Interface(), h.Interface()):
			conflicts = append(conflicts, fmt.Sprintf("%s.%s: the saved spec has %v, this run gives %v", section, name, h.Interface(), a.Interface()))
		}
	}
	return conflicts
}
