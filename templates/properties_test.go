package templates_test

// Test-only readers for the formats Render writes, each following the real
// consumer's parser:
//
//   - loadProperties: java.util.Properties.load(InputStream) as in JDK 17
//     (LineReader.readLine, load0, loadConvert): ISO-8859-1 bytes, natural
//     and logical lines, '\' continuation with leading white space of the
//     continuation line dropped, comment lines ('#' or '!' first on a
//     logical line, never continued), key ended by an unescaped '=', ':' or
//     white space, escapes \t \n \r \f \uXXXX and \c -> c.
//   - loadKcat: kcat's read_conf_file (kcat.c): per fgets line, trim both
//     ends, skip empty and '#' lines, replace "\:" and "\=", split at the
//     first '='. No other escapes.
//
// The real-peer tests check loadProperties against java itself and
// loadKcat's view against kcat -X dump.

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// property is one key/value pair in file order.
type property struct {
	Key, Value string
	Line       int // natural line where the logical line starts (1-based)
}

// loadProperties parses data as java.util.Properties.load(InputStream) does
// and returns the pairs in file order (duplicates kept; Java keeps the last).
func loadProperties(data []byte) ([]property, error) {
	// Properties.load(InputStream) maps each byte to the char of the same
	// value (ISO-8859-1).
	in := make([]uint16, len(data))
	for i, b := range data {
		in[i] = uint16(b)
	}
	var out []property
	lr := &lineReader{in: in, line: 1}
	for {
		buf, start, ok := lr.readLine()
		if !ok {
			return out, nil
		}
		limit := len(buf)
		keyLen, valueStart, hasSep, preceding := 0, limit, false, false
		for keyLen < limit {
			c := buf[keyLen]
			if (c == '=' || c == ':') && !preceding {
				valueStart, hasSep = keyLen+1, true
				break
			} else if (c == ' ' || c == '\t' || c == '\f') && !preceding {
				valueStart = keyLen + 1
				break
			}
			if c == '\\' {
				preceding = !preceding
			} else {
				preceding = false
			}
			keyLen++
		}
		for valueStart < limit {
			c := buf[valueStart]
			if c != ' ' && c != '\t' && c != '\f' {
				if !hasSep && (c == '=' || c == ':') {
					hasSep = true
				} else {
					break
				}
			}
			valueStart++
		}
		key, err := loadConvert(buf[:keyLen])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		value, err := loadConvert(buf[valueStart:])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		out = append(out, property{Key: key, Value: value, Line: start})
	}
}

type lineReader struct {
	in   []uint16
	off  int
	line int // current natural line number
}

// readLine returns the next logical line (continuations joined, the
// backslash-newline and the continuation's leading white space removed),
// skipping blank and comment lines, and the natural line it started on.
func (lr *lineReader) readLine() ([]uint16, int, bool) {
	var buf []uint16
	skipWhiteSpace := true
	appendedLineBegin := false
	precedingBackslash := false
	start := lr.line
	for {
		if lr.off >= len(lr.in) {
			if len(buf) == 0 {
				return nil, 0, false
			}
			if precedingBackslash {
				buf = buf[:len(buf)-1]
			}
			return buf, start, true
		}
		c := lr.in[lr.off]
		lr.off++
		if skipWhiteSpace {
			if c == ' ' || c == '\t' || c == '\f' {
				continue
			}
			if !appendedLineBegin && (c == '\r' || c == '\n') {
				lr.newline(c)
				continue
			}
			skipWhiteSpace = false
			appendedLineBegin = false
		}
		if len(buf) == 0 {
			start = lr.line
			if c == '#' || c == '!' {
				// Comment: consume the rest of the natural line.
				for lr.off < len(lr.in) {
					c = lr.in[lr.off]
					lr.off++
					if c == '\n' || c == '\r' {
						lr.newline(c)
						break
					}
				}
				skipWhiteSpace = true
				continue
			}
		}
		if c != '\n' && c != '\r' {
			buf = append(buf, c)
			if c == '\\' {
				precedingBackslash = !precedingBackslash
			} else {
				precedingBackslash = false
			}
			continue
		}
		// End of a natural line.
		lr.newline(c)
		if len(buf) == 0 {
			skipWhiteSpace = true
			continue
		}
		if lr.off >= len(lr.in) {
			if precedingBackslash {
				buf = buf[:len(buf)-1]
			}
			return buf, start, true
		}
		if precedingBackslash {
			buf = buf[:len(buf)-1]
			skipWhiteSpace = true
			appendedLineBegin = true
			precedingBackslash = false
			continue
		}
		return buf, start, true
	}
}

// newline counts a natural line end; "\r\n" is one line end.
func (lr *lineReader) newline(c uint16) {
	if c == '\r' && lr.off < len(lr.in) && lr.in[lr.off] == '\n' {
		lr.off++
	}
	lr.line++
}

func loadConvert(in []uint16) (string, error) {
	var out []uint16
	for i := 0; i < len(in); {
		c := in[i]
		i++
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i >= len(in) {
			// Java would read past the end here (cannot happen: a trailing
			// odd backslash is dropped as a continuation).
			return "", fmt.Errorf("dangling backslash")
		}
		c = in[i]
		i++
		switch c {
		case 'u':
			if i+4 > len(in) {
				return "", fmt.Errorf("malformed \\uxxxx encoding")
			}
			var v uint16
			for _, h := range in[i : i+4] {
				switch {
				case h >= '0' && h <= '9':
					v = v<<4 + h - '0'
				case h >= 'a' && h <= 'f':
					v = v<<4 + 10 + h - 'a'
				case h >= 'A' && h <= 'F':
					v = v<<4 + 10 + h - 'A'
				default:
					return "", fmt.Errorf("malformed \\uxxxx encoding")
				}
			}
			i += 4
			out = append(out, v)
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 'f':
			out = append(out, '\f')
		default:
			out = append(out, c)
		}
	}
	return string(utf16.Decode(out)), nil
}

// propMap turns pairs into a map, failing on duplicate keys (Java would
// silently keep the last one, hiding a template bug).
func propMap(ps []property) (map[string]string, error) {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		if _, dup := m[p.Key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", p.Line, p.Key)
		}
		m[p.Key] = p.Value
	}
	return m, nil
}

// loadKcat parses a kcat -F config file as kcat's read_conf_file does.
func loadKcat(data []byte) (map[string]string, error) {
	m := map[string]string{}
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if len(line) > 511 {
			return nil, fmt.Errorf("line %d: longer than kcat's 512-byte buffer", i+1)
		}
		s := strings.TrimLeft(line, " \t\n\v\f\r")
		s = strings.TrimRight(s, " \t\n\v\f\r")
		if s == "" || s[0] == '#' {
			continue
		}
		s = strings.ReplaceAll(s, `\:`, ":")
		s = strings.ReplaceAll(s, `\=`, "=")
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: expected property=value", i+1)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", i+1, k)
		}
		m[k] = v
	}
	return m, nil
}
