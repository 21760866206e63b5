package inspect

import (
	"strings"
)

// parseKcat reads a kcat/librdkafka config file as kcat's -F does: per
// line, trimmed, '#' comments, "\:" and "\=" unescaped, split at the first
// '='. Values are raw otherwise.
func parseKcat(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		r := strings.NewReplacer(`\:`, ":", `\=`, "=")
		out[r.Replace(k)] = r.Replace(v)
	}
	return out
}
