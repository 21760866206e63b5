package templates

import (
	"strconv"
	"strings"
)

// ParseProperties reads a java.util.Properties file (server.properties,
// client.properties, what users add to them) as Properties.load does, the
// inverse of PropertiesKey and PropertiesValue: logical lines joined at an odd trailing backslash (the next line's
// leading white space dropped), '#' and '!' comments, the key ended by an
// unescaped '=', ':' or white space, and the escapes \t \n \r \f \uXXXX and
// \c for any other c. Later keys win, as in Java. A malformed \u escape,
// which Java rejects, keeps its text.
func ParseProperties(data []byte) map[string]string {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for oddBackslashes(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if oddBackslashes(line) {
			line = line[:len(line)-1]
		}
		keyEnd, valStart := len(line), len(line)
		escaped := false
		for j := 0; j < len(line); j++ {
			c := line[j]
			if escaped {
				escaped = false
				continue
			}
			if c == '\\' {
				escaped = true
				continue
			}
			if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
				keyEnd, valStart = j, j+1
				rest := strings.TrimLeft(line[valStart:], " \t\f")
				if c != '=' && c != ':' && rest != "" && (rest[0] == '=' || rest[0] == ':') {
					rest = rest[1:]
				}
				valStart = len(line) - len(strings.TrimLeft(rest, " \t\f"))
				break
			}
		}
		out[unescapeProperties(line[:keyEnd])] = unescapeProperties(line[valStart:])
	}
	return out
}

func oddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// unescapeProperties undoes the escapes of a key or value; raw bytes are
// ISO-8859-1, as Properties.load(InputStream) reads them.
func unescapeProperties(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteRune(rune(c))
			continue
		}
		i++
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 <= len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteString(`\u`)
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
