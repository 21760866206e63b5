package lifecycle

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pki"
)

// Store kinds for ReloadCommands.
const (
	Keystore   = "keystore"
	Truststore = "truststore"
)

// ReloadOptions say how the printed commands reach the cluster.
type ReloadOptions struct {
	Tool          string            // default kafka-configs.sh
	Bootstrap     string            // default "$BOOTSTRAP"
	CommandConfig string            // default "$ADMIN_CONFIG"
	NodeIDs       map[string]string // identity name → broker node.id
	// Rotation adds what matters before a CA is dropped.
	Rotation bool
}

// Reload is what one identity needs after its stores changed.
type Reload struct {
	Name     string   `json:"name"`
	Role     pki.Role `json:"role"`
	Commands []string `json:"commands,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// ReloadCommands returns, per identity, how to make the running process
// pick up rewritten stores. Brokers reload a listener's keystore or
// truststore when kafka-configs sets its location again, even to the same
// path (KIP-226; DefaultSslEngineFactory.shouldBeRebuilt sees the file
// changed), per broker and per listener (listener.name.<name>.ssl.*: the
// un-prefixed ssl.* cannot be altered dynamically). Everything else loads
// its stores at startup: the KRaft controller listener (KAFKA-20583),
// Java clients, and ZooKeeper unless its cert-reload options are on.
func ReloadCommands(ids []Identity, kinds []string, o ReloadOptions) []Reload {
	tool := o.Tool
	if tool == "" {
		tool = "kafka-configs.sh"
	}
	bootstrap := `"$BOOTSTRAP"`
	if o.Bootstrap != "" {
		bootstrap = kafkaacl.ShellQuote(o.Bootstrap)
	}
	cfg := `"$ADMIN_CONFIG"`
	if o.CommandConfig != "" {
		cfg = kafkaacl.ShellQuote(o.CommandConfig)
	}
	var out []Reload
	for _, id := range ids {
		r := Reload{Name: id.Name, Role: id.Role}
		switch id.Role {
		case pki.RoleBroker:
			props := readProperties(filepath.Join(id.Dir, "server.properties"))
			node := o.NodeIDs[id.Name]
			if node == "" {
				node = firstNonEmpty(props["node.id"], props["broker.id"])
			}
			if node == "" {
				node = `"$` + nodeVar(id.Name) + `"`
				r.Notes = append(r.Notes, fmt.Sprintf("set %s to the node.id of %s (or give --node-id %s=ID)", nodeVar(id.Name), id.Name, id.Name))
			} else {
				node = kafkaacl.ShellQuote(node)
			}
			listeners := sslListeners(props)
			if len(listeners) == 0 {
				r.Notes = append(r.Notes, "no server.properties with an SSL listener next to its stores: restart the broker to load them")
			}
			for _, l := range listeners {
				var sets []string
				for _, k := range kinds {
					prefix := "listener.name." + strings.ToLower(l) + "."
					loc := firstNonEmpty(props[prefix+"ssl."+k+".location"], props["ssl."+k+".location"])
					if loc == "" {
						continue
					}
					sets = append(sets, prefix+"ssl."+k+".location="+loc)
				}
				if len(sets) == 0 {
					continue
				}
				r.Commands = append(r.Commands, strings.Join([]string{tool, "--bootstrap-server", bootstrap, "--command-config", cfg,
					"--entity-type", "brokers", "--entity-name", node, "--alter", "--add-config", kafkaacl.ShellQuote(strings.Join(sets, ","))}, " "))
			}
			if contains(kinds, Keystore) {
				r.Notes = append(r.Notes, "Kafka accepts the new keystore only with the same subject and SANs (kafkatls keeps them)")
			}
			if contains(kinds, Truststore) && len(r.Commands) > 0 {
				r.Notes = append(r.Notes, truststoreReloadNote)
			}
			if o.Rotation {
				r.Notes = append(r.Notes, "its own connections to KRaft controllers (or ZooKeeper) use the stores loaded at startup: restart it (rolling) before the next rotation step")
			}
		default: // the others cannot be told: their declaration says what to do
			note := id.Role.Spec().ReloadNote
			if note == "" {
				note = pki.RoleClient.Spec().ReloadNote
			}
			r.Notes = append(r.Notes, note)
		}
		out = append(out, r)
	}
	return out
}

// truststoreReloadNote: with Kafka 4.3.1 (combined and broker-only
// processes) the broker refused, in some runs, a truststore update during a
// CA rotation, sometimes after applying it to some of its channels, while
// kafka-configs reported success (interop/run.sh; docs/lifecycle.md).
const truststoreReloadNote = "prefer a rolling restart for this truststore change: Kafka 4.3.1 sometimes refuses the reload " +
	"(broker log: \"Encountered metadata publishing fault ... Validation of dynamic config update of SSLFactory failed\") " +
	"while kafka-configs reports success; if you reload, check that log and restart the broker if it is there"

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

var nonVar = regexp.MustCompile(`[^A-Za-z0-9_]`)

func nodeVar(name string) string { return "NODE_ID_" + nonVar.ReplaceAllString(name, "_") }

// sslListeners returns the broker's non-controller listeners whose
// security protocol is SSL.
func sslListeners(props map[string]string) []string {
	proto := map[string]string{}
	for _, kv := range strings.Split(props["listener.security.protocol.map"], ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), ":"); ok {
			proto[strings.ToUpper(k)] = strings.ToUpper(v)
		}
	}
	ctrl := map[string]bool{}
	for _, n := range strings.Split(props["controller.listener.names"], ",") {
		ctrl[strings.ToUpper(strings.TrimSpace(n))] = true
	}
	var out []string
	for _, l := range strings.Split(props["listeners"], ",") {
		name, _, ok := strings.Cut(strings.TrimSpace(l), "://")
		if !ok {
			continue
		}
		name = strings.ToUpper(name)
		p := proto[name]
		if p == "" && len(proto) == 0 {
			p = name // default map: the listener name is the protocol
		}
		if p == "SSL" && !ctrl[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// readProperties reads an identity's properties file (never through a
// link); a missing or unreadable file reads as empty.
func readProperties(path string) map[string]string {
	props, err := identity.ReadProperties(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return map[string]string{}
	}
	return props
}
