package lifecycle

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
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
		case pki.RoleController:
			r.Notes = append(r.Notes, "the KRaft controller listener cannot reload its stores (KAFKA-20583): restart this controller (one at a time)")
		case pki.RoleZooKeeper:
			r.Notes = append(r.Notes, "restart this ZooKeeper server (one at a time), or run ZooKeeper >= 3.8.1 with client.certReload=true and sslQuorumReloadCertFiles=true, which reload changed store files")
		default:
			r.Notes = append(r.Notes, "restart the client application: Java clients, librdkafka and KafkaJS load their stores only at startup")
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

// readProperties reads a java.util.Properties file well enough for the
// keys kafkatls writes: key=value or key:value lines, # and ! comments,
// backslash escapes and continuation lines.
func readProperties(path string) map[string]string {
	out := map[string]string{}
	b, err := fsx.ReadFileLimit(path, fsx.LimitPEM)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var logical string
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if logical == "" && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		// An odd number of trailing backslashes continues the line.
		n := len(line) - len(strings.TrimRight(line, `\`))
		if n%2 == 1 {
			logical += line[:len(line)-1]
			continue
		}
		logical += line
		k, v := splitProperty(logical)
		out[k] = v
		logical = ""
	}
	return out
}

func splitProperty(line string) (string, string) {
	var key strings.Builder
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			i++
			key.WriteByte(unescape(line[i]))
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' {
			break
		}
		key.WriteByte(c)
	}
	rest := strings.TrimLeft(line[i:], " \t")
	if strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, ":") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	var val strings.Builder
	for j := 0; j < len(rest); j++ {
		if rest[j] == '\\' && j+1 < len(rest) {
			j++
			val.WriteByte(unescape(rest[j]))
			continue
		}
		val.WriteByte(rest[j])
	}
	return key.String(), val.String()
}

func unescape(c byte) byte {
	switch c {
	case 't':
		return '\t'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 'f':
		return '\f'
	}
	return c
}
