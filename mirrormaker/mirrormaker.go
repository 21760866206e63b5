// Package mirrormaker combines two clusters' mirrormaker identities into
// one MirrorMaker 2 (dedicated mode) configuration and the ACLs it needs on
// each cluster.
//
// The two clusters usually have two PKIs, each with its own CA. MirrorMaker
// needs no truststore that trusts both: every setting is prefixed with a
// cluster alias (A.ssl.keystore.location, B.ssl.keystore.location) and
// MirrorMaker gives each cluster's clients that cluster's settings. So each
// PKI issues MirrorMaker an identity of its own (role mirrormaker, with the
// cluster's alias), whose mirrormaker-cluster.properties holds the
// alias-prefixed settings, and Combine puts the two side by side with the
// replication flow.
//
// The ACLs (docs/mirrormaker.md) follow from what MirrorMaker 2 does with
// Kafka's defaults (checked against MirrorMakerConfig, MirrorSourceConnector,
// MirrorCheckpointConnector and MirrorHeartbeatConnector, Kafka 4.3):
//   - every cluster is the target of a herder (emit.heartbeats.enabled is
//     true, so B->A runs for heartbeats even when only A->B replicates): its
//     Connect worker's group SRC-mm2 and topics mm2-configs/offsets/status.SRC.internal,
//     and the heartbeats topic;
//   - the source: the replicated topics are read and their configs
//     described; consumer groups are described for checkpoints; the offset
//     syncs topic mm2-offset-syncs.TGT.internal is created, written and read
//     there (offset-syncs.topic.location=source);
//   - the target: the remote topics SRC.<topic> and SRC.checkpoints.internal
//     are created, written, their partitions and configs altered.
package mirrormaker

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/templates"
)

// Side is one cluster's mirrormaker identity: its directory in that
// cluster's PKI (PKI/certs/NAME).
type Side struct {
	Dir string
	// Bootstrap, if set, replaces the identity's ALIAS.bootstrap.servers
	// (or supplies it when the identity was issued without one).
	Bootstrap string
	// Rules are the cluster's ssl.principal.mapping.rules ("" or DEFAULT:
	// the DN as is): the ACLs name the mapped principal.
	Rules string
}

// Flow is a one-way replication from Source to Target.
type Flow struct {
	Source, Target Side
	// Topics and Groups are the regular expressions of A->B.topics and
	// A->B.groups. Groups empty: MirrorMaker's default, every group.
	Topics, Groups []string
}

// Grant is one ACL grant and why MirrorMaker needs it.
type Grant struct {
	kafkaacl.Grant
	Why string
}

// Cluster is one side of a combined configuration.
type Cluster struct {
	Alias     string
	Dir       string // the identity's directory, absolute
	Name      string // the identity's name
	Principal string // as that cluster's brokers see it
	CA        *x509.Certificate
	Bootstrap string
	// AdminConfig is a super user's client config of the same PKI (a
	// broker's client.properties) for acls-ALIAS.sh, or "" if there is none.
	AdminConfig string
	Grants      []Grant
	settings    []templates.Setting
}

// Config is the combined MirrorMaker 2 configuration of a flow.
type Config struct {
	Source, Target Cluster
	Topics, Groups []string
	// SameCA: both identities were signed by the same CA (one PKI for both
	// clusters). That works; it is said, not refused.
	SameCA bool
	// Properties is connect-mirror-maker.properties.
	Properties []byte
}

// Errors, in domain words; the CLI adds its flags.
var (
	// ErrNotMirrorMaker: the directory is an identity of another role.
	ErrNotMirrorMaker = errors.New("not a mirrormaker identity")
	// ErrSameAlias: both identities name the same cluster alias.
	ErrSameAlias = errors.New("both identities have the same cluster alias")
	// ErrSameIdentity: source and target are the same directory.
	ErrSameIdentity = errors.New("source and target are the same identity")
	// ErrNoBootstrap: a side has no bootstrap servers.
	ErrNoBootstrap = errors.New("has no bootstrap servers")
	// ErrNoTopics: the flow names no topics.
	ErrNoTopics = errors.New("no topics to replicate")
	// ErrBadSettings: mirrormaker-cluster.properties is not one alias's settings.
	ErrBadSettings = errors.New("is not a mirrormaker cluster file")
	// ErrRules: a cluster's principal mapping rules do not parse or fail
	// on the identity's DN.
	ErrRules = errors.New("principal mapping rules")
	// ErrExists: an output file exists and replacing was not asked for.
	ErrExists = errors.New("already exists")
)

// PatternError: a topic or group expression from which no ACL can be
// derived (only names, NAME.* prefixes and .* can).
type PatternError struct {
	Kind    string // "topic" or "group"
	Pattern string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("%s pattern %q: ACLs can be derived only from names (orders), prefixes (orders.*) and .* (all)", e.Kind, e.Pattern)
}

// plainName is a topic or group name with no regular-expression syntax
// but '.' (which matches itself, among others).
var plainName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// aclResource turns a MirrorMaker topic or group expression into the ACL
// resource that covers what it matches: a name, a prefix, or every one.
func aclResource(kind, pattern string) (name string, prefixed bool, err error) {
	switch {
	case pattern == ".*":
		return "*", false, nil
	case plainName.MatchString(pattern):
		return pattern, false, nil
	case strings.HasSuffix(pattern, ".*") && plainName.MatchString(strings.TrimSuffix(pattern, ".*")):
		return strings.TrimSuffix(pattern, ".*"), true, nil
	}
	return "", false, &PatternError{Kind: kind, Pattern: pattern}
}

// Combine reads the two identities and renders the flow's
// connect-mirror-maker.properties and each cluster's grants.
func Combine(f Flow) (*Config, error) {
	if len(f.Topics) == 0 {
		return nil, ErrNoTopics
	}
	// The expressions first: they are the caller's input, the identities
	// may be fine.
	if _, err := grants("S", "T", true, f.Topics, f.Groups); err != nil {
		return nil, err
	}
	src, err := loadSide(f.Source)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	tgt, err := loadSide(f.Target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if src.Dir == tgt.Dir {
		return nil, fmt.Errorf("%s: %w", src.Dir, ErrSameIdentity)
	}
	if strings.EqualFold(src.Alias, tgt.Alias) {
		return nil, fmt.Errorf("%w %q (%s and %s): issue one of them with another alias", ErrSameAlias, src.Alias, src.Dir, tgt.Dir)
	}
	c := &Config{Source: *src, Target: *tgt, Topics: f.Topics, Groups: f.Groups,
		SameCA: bytes.Equal(src.CA.Raw, tgt.CA.Raw)}
	if c.Source.Grants, err = grants(src.Alias, tgt.Alias, true, f.Topics, f.Groups); err != nil {
		return nil, err
	}
	if c.Target.Grants, err = grants(tgt.Alias, src.Alias, false, nil, nil); err != nil {
		return nil, err
	}
	d := templates.MirrorMakerData{Topics: f.Topics, Groups: f.Groups, SameCA: c.SameCA}
	for _, p := range []struct {
		cl  *Cluster
		out *templates.MirrorMakerCluster
	}{{&c.Source, &d.Source}, {&c.Target, &d.Target}} {
		*p.out = templates.MirrorMakerCluster{Alias: p.cl.Alias, Identity: p.cl.Dir, Principal: p.cl.Principal,
			CA: caName(p.cl.CA), Settings: p.cl.settings}
	}
	if c.Properties, err = templates.RenderMirrorMaker(d); err != nil {
		return nil, err
	}
	return c, nil
}

func caName(ca *x509.Certificate) string {
	if n, err := principal.JavaName(ca.RawSubject); err == nil {
		return n
	}
	return ca.Subject.String()
}

// grants are what MirrorMaker needs on cluster alias (other: the other
// cluster's alias); source tells whether alias is the flow's source.
func grants(alias, other string, source bool, topics, groups []string) ([]Grant, error) {
	var out []Grant
	for _, g := range pki.RoleMirrorMaker.Spec().DefaultGrants {
		why := "the heartbeats topic: written by the heartbeat connector, read to replicate it"
		if g.Prefixed {
			why = "MirrorMaker's internal topics: the Connect worker's mm2-configs/offsets/status.*.internal, and the offset syncs"
		}
		out = append(out, Grant{g, why})
	}
	out = append(out, Grant{kafkaacl.Grant{Group: other + "-mm2", Operations: []string{"Read", "Describe"}},
		"the Connect worker group of the " + other + "->" + alias + " herder (emit.heartbeats.enabled runs it even without replication)"})
	if !source {
		out = append(out, Grant{kafkaacl.Grant{Topic: other + ".", Prefixed: true,
			Operations: []string{"Create", "Write", "Describe", "DescribeConfigs", "Alter", "AlterConfigs"}},
			"the remote topics " + other + ".<topic> and " + other + ".checkpoints.internal: created, written, partitions and configs kept in sync"})
		return out, nil
	}
	for _, t := range topics {
		name, prefixed, err := aclResource("topic", t)
		if err != nil {
			return nil, err
		}
		out = append(out, Grant{kafkaacl.Grant{Topic: name, Prefixed: prefixed, Operations: []string{"Read", "Describe", "DescribeConfigs"}},
			fmt.Sprintf("replicated topics (%s): read, and their configs copied", t)})
	}
	if len(groups) == 0 {
		groups = []string{".*"}
	}
	for _, g := range groups {
		name, prefixed, err := aclResource("group", g)
		if err != nil {
			return nil, err
		}
		out = append(out, Grant{kafkaacl.Grant{Group: name, Prefixed: prefixed, Operations: []string{"Describe"}},
			fmt.Sprintf("consumer groups (%s): listed and their offsets read for checkpoints", g)})
	}
	return out, nil
}

// settingsOrder is the order of the well-known settings in the combined
// file; any other setting of the identity's file follows, sorted.
var settingsOrder = []string{"bootstrap.servers", "security.protocol",
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.endpoint.identification.algorithm"}

func loadSide(s Side) (*Cluster, error) {
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not an identity directory", dir)
	}
	c := &Cluster{Dir: dir, Name: filepath.Base(dir)}
	role := indexRole(dir)
	id, err := identity.Load(dir, role)
	if err != nil {
		return nil, err
	}
	if id.Role != pki.RoleMirrorMaker {
		return nil, fmt.Errorf("%s is a %s identity, %w (issue one with role mirrormaker and the cluster's alias)", dir, id.Role, ErrNotMirrorMaker)
	}
	c.Principal = id.Principal
	if s.Rules != "" {
		mapper, err := principal.ParseRules(s.Rules)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRules, err)
		}
		dn, err := principal.JavaName(id.Leaf.RawSubject)
		if err != nil {
			return nil, err
		}
		mapped, err := mapper.Map(dn)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRules, dn, err)
		}
		c.Principal = principal.User(mapped)
	}
	props, err := identity.ReadProperties(dir, pki.MirrorMakerClusterFile)
	if err != nil {
		return nil, err
	}
	alias := ""
	for k := range props {
		a, _, ok := strings.Cut(k, ".")
		if !ok || (alias != "" && a != alias) {
			return nil, fmt.Errorf("%s %w: key %q is not prefixed with the one cluster alias", filepath.Join(dir, pki.MirrorMakerClusterFile), ErrBadSettings, k)
		}
		alias = a
	}
	if err := templates.CheckClusterAlias(alias); err != nil {
		return nil, fmt.Errorf("%s %w: %v", filepath.Join(dir, pki.MirrorMakerClusterFile), ErrBadSettings, err)
	}
	if _, ok := props[alias+".security.protocol"]; !ok {
		return nil, fmt.Errorf("%s %w: no %s.security.protocol", filepath.Join(dir, pki.MirrorMakerClusterFile), ErrBadSettings, alias)
	}
	c.Alias = alias
	if s.Bootstrap != "" {
		props[alias+".bootstrap.servers"] = s.Bootstrap
	}
	c.Bootstrap = props[alias+".bootstrap.servers"]
	if c.Bootstrap == "" {
		return nil, fmt.Errorf("cluster %s (%s) %w", alias, dir, ErrNoBootstrap)
	}
	var rest []string
	for k := range props {
		if !slices.Contains(settingsOrder, strings.TrimPrefix(k, alias+".")) {
			rest = append(rest, strings.TrimPrefix(k, alias+"."))
		}
	}
	slices.Sort(rest)
	for _, k := range append(slices.Clone(settingsOrder), rest...) {
		if v, ok := props[alias+"."+k]; ok {
			c.settings = append(c.settings, templates.Setting{Key: k, Value: v})
		}
	}
	b, err := fsx.ReadNoFollow(filepath.Join(dir, identity.CAPEM), fsx.LimitPEM)
	if err != nil {
		return nil, err
	}
	cas, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, identity.CAPEM), err)
	}
	c.CA = cas[0]
	c.AdminConfig = adminConfig(dir)
	return c, nil
}

// pkiDir is the PKI directory of an identity directory PKI/certs/NAME, or
// "" if dir is not laid out that way.
func pkiDir(dir string) string {
	if filepath.Base(filepath.Dir(dir)) != "certs" {
		return ""
	}
	return filepath.Dir(filepath.Dir(dir))
}

// indexRole is the identity's role as its PKI's index records it ("" if
// there is no index or no record: identity.Load then tells it by its files).
func indexRole(dir string) pki.Role {
	p := pkiDir(dir)
	if p == "" {
		return ""
	}
	idx, err := pki.LoadIndex(p)
	if err != nil {
		return ""
	}
	if r, ok := idx.Current(filepath.Base(dir)); ok {
		return r.Role
	}
	return ""
}

// adminConfig is a broker's client.properties in the same PKI: a super
// user's config that can create ACLs.
func adminConfig(dir string) string {
	p := pkiDir(dir)
	if p == "" {
		return ""
	}
	idx, err := pki.LoadIndex(p)
	if err != nil {
		return ""
	}
	for _, r := range idx.Records {
		if cur, ok := idx.Current(r.Name); !ok || cur.Serial != r.Serial || !r.Role.Spec().Bootstrap {
			continue
		}
		f := filepath.Join(identity.Dir(p, r.Name), "client.properties")
		if fsx.Exists(f) {
			return f
		}
	}
	return ""
}

// ACLScriptName is the file of acls-ALIAS.sh for a cluster.
func ACLScriptName(alias string) string { return "acls-" + alias + ".sh" }

// ACLScript renders acls-ALIAS.sh: the kafka-acls.sh commands for cl's
// grants, each after a comment saying why, to run against that cluster.
func (c *Config) ACLScript(cl Cluster) []byte {
	role := "target"
	if cl.Alias == c.Source.Alias {
		role = "source"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# Kafka ACLs for MirrorMaker 2 on cluster %s (the %s of %s->%s), principal %s\n",
		cl.Alias, role, c.Source.Alias, c.Target.Alias, cl.Principal)
	b.WriteString("# (kafkatls mirrormaker config). Run it against cluster " + cl.Alias + " with a super user's client config.\n")
	b.WriteString("set -eu\n")
	fmt.Fprintf(&b, "KAFKA_ACLS=\"${KAFKA_ACLS:-kafka-acls.sh}\"\nBOOTSTRAP=\"${BOOTSTRAP:-%s}\"\n", shellDefault(cl.Bootstrap))
	if cl.AdminConfig != "" {
		fmt.Fprintf(&b, "COMMAND_CONFIG=\"${COMMAND_CONFIG:-%s}\"\n", shellDefault(cl.AdminConfig))
	} else {
		fmt.Fprintf(&b, "COMMAND_CONFIG=\"${COMMAND_CONFIG:?set COMMAND_CONFIG to a super user's client.properties for cluster %s}\"\n", cl.Alias)
	}
	target := kafkaacl.Target{Tool: `"$KAFKA_ACLS"`, Bootstrap: `"$BOOTSTRAP"`, CommandConfig: `"$COMMAND_CONFIG"`}
	for _, g := range cl.Grants {
		fmt.Fprintf(&b, "\n# %s\n", g.Why)
		for _, l := range kafkaacl.Commands(cl.Principal, g.Grant, target) {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// shellDefault makes s safe inside "${VAR:-...}": the characters a double
// quoted shell word would expand are escaped.
func shellDefault(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`", "}", `\}`)
	return r.Replace(s)
}

// Files are the files Write writes, by name, with their modes.
func (c *Config) Files() []File {
	return []File{
		{templates.MirrorMakerFile, c.Properties, fsx.PrivateFile},
		{ACLScriptName(c.Source.Alias), c.ACLScript(c.Source), 0o755},
		{ACLScriptName(c.Target.Alias), c.ACLScript(c.Target), 0o755},
	}
}

// File is one output file.
type File struct {
	Name string
	Data []byte
	Perm fs.FileMode
}

// Write writes the files into dir. Unless replace, it refuses before
// writing anything if one of them exists.
func (c *Config) Write(dir string, replace bool) ([]string, error) {
	files := c.Files()
	if !replace {
		for _, f := range files {
			p := filepath.Join(dir, f.Name)
			if _, err := os.Lstat(p); err == nil {
				return nil, fmt.Errorf("%s %w", p, ErrExists)
			}
		}
	}
	var b fsx.Batch
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := b.WriteFile(p, f.Data, f.Perm); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if err := b.Commit(); err != nil {
		return nil, err
	}
	return paths, nil
}
