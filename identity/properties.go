package identity

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// ReadProperties reads a java.util.Properties file of an identity
// directory (never through a link; see ParseProperties).
func ReadProperties(dir, name string) (map[string]string, error) {
	b, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	return ParseProperties(b), nil
}

// ParseProperties parses java.util.Properties text well enough for the
// keys kafkatls writes and what users add: key=value or key:value lines,
// # and ! comments, backslash escapes (\uXXXX too) and continuation lines.
func ParseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxFileSize)
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
			i += unescapeAt(&key, line, i)
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
			j += unescapeAt(&val, rest, j)
			continue
		}
		val.WriteByte(rest[j])
	}
	return key.String(), val.String()
}

// unescapeAt writes the escape at s[i] (a backslash) to b and returns how
// many bytes after the backslash it used.
func unescapeAt(b *strings.Builder, s string, i int) int {
	switch c := s[i+1]; c {
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 'f':
		b.WriteByte('\f')
	case 'u':
		if i+6 <= len(s) {
			if r, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(r))
				return 5
			}
		}
		b.WriteByte(c)
	default:
		b.WriteByte(c)
	}
	return 1
}
