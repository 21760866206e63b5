package templates

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// MirrorMakerFile is the combined MirrorMaker 2 configuration
// (connect-mirror-maker.sh takes it as its one argument).
const MirrorMakerFile = "connect-mirror-maker.properties"

// MirrorMakerCluster is one cluster of connect-mirror-maker.properties:
// its alias and its client settings, taken from the mirrormaker identity
// that cluster's PKI issued.
type MirrorMakerCluster struct {
	Alias string
	// Identity names where the settings come from (the identity's
	// directory), for the file's comments.
	Identity string
	// CA is the subject of the CA that signed the identity (comments).
	CA        string
	Principal string
	// Settings are the cluster's client settings without the alias prefix
	// (bootstrap.servers, security.protocol, ssl.*), in the order written.
	Settings []Setting
}

// Setting is one key and its value, unescaped.
type Setting struct{ Key, Value string }

// MirrorMakerData is a one-way replication flow between two clusters.
type MirrorMakerData struct {
	Source, Target MirrorMakerCluster
	// Topics and Groups are A->B.topics and A->B.groups: regular
	// expressions as MirrorMaker takes them (Groups empty: MirrorMaker's
	// default, every group).
	Topics, Groups []string
	// SameCA: both identities were signed by one CA (said in a comment).
	SameCA bool
}

// RenderMirrorMaker renders connect-mirror-maker.properties for MirrorMaker
// 2 in dedicated mode. Errors are *FieldError values naming the field.
func RenderMirrorMaker(d MirrorMakerData) ([]byte, error) {
	for _, c := range []struct {
		field string
		c     MirrorMakerCluster
	}{{"Source", d.Source}, {"Target", d.Target}} {
		if err := CheckClusterAlias(c.c.Alias); err != nil {
			return nil, fieldErr(c.field+".Alias", "%s", err.(*FieldError).Msg)
		}
		for i, s := range c.c.Settings {
			if err := checkText(fmt.Sprintf("%s.Settings[%d].Key", c.field, i), s.Key, true); err != nil {
				return nil, err
			}
			if err := checkText(fmt.Sprintf("%s.Settings[%d].Value", c.field, i), s.Value, false); err != nil {
				return nil, err
			}
		}
		for _, f := range []struct{ name, v string }{{"Identity", c.c.Identity}, {"CA", c.c.CA}, {"Principal", c.c.Principal}} {
			if f.v == "" {
				continue
			}
			if err := checkText(c.field+"."+f.name, f.v, false); err != nil {
				return nil, err
			}
		}
	}
	if strings.EqualFold(d.Source.Alias, d.Target.Alias) {
		return nil, fieldErr("Target.Alias", "%q is also the source's alias; the two clusters need different aliases", d.Target.Alias)
	}
	if len(d.Topics) == 0 {
		return nil, fieldErr("Topics", "empty; name the topics to replicate (\".*\" for all)")
	}
	for field, list := range map[string][]string{"Topics": d.Topics, "Groups": d.Groups} {
		for i, t := range list {
			if err := checkText(fmt.Sprintf("%s[%d]", field, i), t, true); err != nil {
				return nil, err
			}
			if strings.Contains(t, ",") {
				return nil, fieldErr(fmt.Sprintf("%s[%d]", field, i), "%q contains ',', the list separator", t)
			}
		}
	}
	v := struct {
		MirrorMakerData
		Clusters []MirrorMakerCluster
	}{d, []MirrorMakerCluster{d.Source, d.Target}}
	var buf bytes.Buffer
	if err := parsed().ExecuteTemplate(&buf, "connect-mirror-maker.properties.tmpl", v); err != nil {
		return nil, fmt.Errorf("templates: rendering %s: %w", MirrorMakerFile, err)
	}
	return buf.Bytes(), nil
}

// holdsPassword tells whether a cluster's settings carry a password.
func holdsPassword(c MirrorMakerCluster) bool {
	return slices.ContainsFunc(c.Settings, func(s Setting) bool { return strings.HasSuffix(s.Key, ".password") })
}
