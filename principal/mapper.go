package principal

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reproduces Kafka's SslPrincipalMapper (ssl.principal.mapping.rules)
// on top of Go's regexp (RE2). Java patterns are translated, not passed
// through: RE2 differs from java.util.regex in '.', \s, (?i), {n,m} and
// inline flags, and lacks backreferences, lookaround, atomic groups and
// possessive quantifiers, which are refused with an error saying so.
// Replacement strings follow Java's Matcher rules, not Go's Expand ("$1x" is
// group 1 then "x" in Java, the group named "1x" in Go), after Kafka's own
// rewriting of out-of-range "$n" references. Matching and replacing follow
// Java's String.replaceAll, including its extra empty match after a
// non-empty one (".*" replaced by "x" gives "xx").
//
// Residual differences from Java, all on inputs no X.500 principal contains
// in practice: '$' without (?m) also matches before a final line terminator
// in Java; (?m)^ and (?m)$ know \r, U+0085, U+2028 and U+2029 as line ends in
// Java; \b uses Unicode letters in Java before 19; the final-sigma rule of
// toLowerCase uses Java's word BreakIterator, approximated here.

// ErrNoRule is returned (wrapped) by Mapper.Map when no
// rule matches the DN. Kafka then fails the client's authentication.
var ErrNoRule = errors.New("no principal mapping rule matches")

// Mapper implements Kafka's ssl.principal.mapping.rules
// (org.apache.kafka.common.security.ssl.SslPrincipalMapper). A nil
// *Mapper is the default rule set, DEFAULT.
type Mapper struct {
	rules []*ruleRule
}

type ruleRule struct {
	isDefault   bool
	pattern     string // Java regex as written (with \/ kept)
	replacement string // as written
	toLower     bool
	toUpper     bool
	rx          *ruleRegex
	pieces      []rulePiece
	applyErr    error // what Java throws when this rule matches, if anything
}

// Kafka's rule grammar (SslPrincipalMapper.RULE_PATTERN) in RE2 syntax, with
// Java's '.' (no line terminators) and \s (includes \x0B) spelled out.
const (
	ruleJavaDot   = `[^\n\r\x{85}\x{2028}\x{2029}]`
	ruleJavaSpace = `[ \t\n\x0B\f\r]`
	ruleGrammar   = `(DEFAULT)|RULE:((\\` + ruleJavaDot + `|[^\\/])*)/((\\` + ruleJavaDot + `|[^\\/])*)/([LU]?)` +
		ruleJavaDot + `*?|(` + ruleJavaDot + `*?)`
)

// Compiled on first use, not at start-up: most commands never parse rules.
var (
	ruleSplitter = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(ruleJavaSpace + `*(` + ruleGrammar + `)` + ruleJavaSpace + `*(,` + ruleJavaSpace + `*|$)`)
	})
	ruleParser = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:` + ruleGrammar + `)`) })
)

// ParseRules parses a ssl.principal.mapping.rules value:
// comma-separated rules, each DEFAULT or RULE:pattern/replacement/ with an
// optional L or U flag after the mandatory trailing slash ("\/" is a literal
// slash). Like Kafka, empty rules are skipped and malformed ones rejected
// with "Invalid rule: `...`, unmatched substring: `...`". An empty (or blank)
// string means DEFAULT. Unlike Kafka, a value holding only empty rules
// (", ,") is an error instead of a mapper that rejects every client, and a
// pattern using a Java regex feature RE2 cannot evaluate is an error too.
func ParseRules(rules string) (*Mapper, error) {
	if strings.TrimSpace(rules) == "" {
		return &Mapper{rules: []*ruleRule{{isDefault: true}}}, nil
	}
	trimmed := strings.TrimFunc(rules, func(r rune) bool { return r <= ' ' }) // Java's String.trim
	m := &Mapper{}
	for _, sm := range ruleSplitter().FindAllStringSubmatch(trimmed, -1) {
		rule := sm[1]
		loc := ruleParser().FindStringSubmatchIndex(rule)
		if loc == nil {
			//lint:ignore ST1005 the wording is Kafka's own (SslPrincipalMapper), so users can search for it
			return nil, fmt.Errorf("Invalid rule: %s", rule)
		}
		if loc[1] != len(rule) {
			//lint:ignore ST1005 the wording is Kafka's own (SslPrincipalMapper), so users can search for it
			return nil, fmt.Errorf("Invalid rule: `%s`, unmatched substring: `%s`", rule, rule[loc[1]:])
		}
		group := func(n int) (string, bool) {
			if loc[2*n] < 0 {
				return "", false
			}
			return rule[loc[2*n]:loc[2*n+1]], true
		}
		if _, ok := group(1); ok {
			m.rules = append(m.rules, &ruleRule{isDefault: true})
			continue
		}
		pattern, ok := group(2)
		if !ok {
			continue // an empty rule
		}
		replacement, _ := group(4)
		flag, _ := group(6)
		r, err := ruleNew(pattern, replacement, flag)
		if err != nil {
			//lint:ignore ST1005 the wording is Kafka's own (SslPrincipalMapper), so users can search for it
			return nil, fmt.Errorf("Invalid rule: `%s`: %w", rule, err)
		}
		m.rules = append(m.rules, r)
	}
	if len(m.rules) == 0 {
		//lint:ignore ST1005 the wording is Kafka's own (SslPrincipalMapper), so users can search for it
		return nil, fmt.Errorf("Invalid rules: `%s` holds no rule (Kafka would reject every client certificate)", rules)
	}
	return m, nil
}

func ruleNew(pattern, replacement, flag string) (*ruleRule, error) {
	rx, err := ruleCompile(pattern)
	if err != nil {
		return nil, err
	}
	r := &ruleRule{pattern: pattern, replacement: replacement, toLower: flag == "L", toUpper: flag == "U", rx: rx}
	javaRepl, err := ruleKafkaEscapeBackRefs(replacement, rx.groups)
	if err == nil {
		r.pieces, err = rx.parseReplacement(javaRepl)
	}
	r.applyErr = err
	return r, nil
}

// Map returns the principal name Kafka derives from dn (an RFC 2253 DN as
// JavaName prints it): the first rule whose pattern matches the whole DN
// gives dn.replaceAll(pattern, replacement), lowered or uppercased for the
// L and U flags; DEFAULT gives dn unchanged. No matching rule gives an error
// wrapping ErrNoRule. A rule whose replacement Java cannot apply
// (e.g. "$3" with two groups) gives an error when it matches, where Kafka
// throws.
func (m *Mapper) Map(dn string) (string, error) {
	if m == nil {
		return dn, nil
	}
	for _, r := range m.rules {
		if r.isDefault {
			return dn, nil
		}
		if !r.rx.full.MatchString(dn) {
			continue
		}
		if r.applyErr != nil {
			return "", fmt.Errorf("principal mapping rule %s matches %q but Kafka fails applying it: %w", r.kafkaString(), dn, r.applyErr)
		}
		out := r.rx.replaceAll(dn, r.pieces)
		if r.toLower {
			out = ruleJavaLower(out)
		} else if r.toUpper {
			out = ruleJavaUpper(out)
		}
		return out, nil
	}
	return "", fmt.Errorf("%w: no rules apply to %s, rules [%s]", ErrNoRule, dn, m.kafkaRules())
}

// String returns the rules in ssl.principal.mapping.rules syntax; parsing it
// again gives the same mapper.
func (m *Mapper) String() string {
	if m == nil {
		return "DEFAULT"
	}
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		if r.isDefault {
			parts[i] = "DEFAULT"
			continue
		}
		flag := ""
		if r.toLower {
			flag = "L"
		} else if r.toUpper {
			flag = "U"
		}
		parts[i] = "RULE:" + r.pattern + "/" + r.replacement + "/" + flag
	}
	return strings.Join(parts, ",")
}

// kafkaRules lists the rules as Kafka's SslPrincipalMapper.toString does
// (without the brackets).
func (m *Mapper) kafkaRules() string {
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		parts[i] = r.kafkaString()
	}
	return strings.Join(parts, ", ")
}

func (r *ruleRule) kafkaString() string {
	if r.isDefault {
		return "DEFAULT"
	}
	s := "RULE:" + r.pattern + "/" + r.replacement
	if r.toLower {
		s += "/L"
	} else if r.toUpper {
		s += "/U"
	}
	return s
}

// UserPrefix is the principal type DefaultKafkaPrincipalBuilder gives every
// authenticated client: ACLs and super.users name "User:" + the name.
const UserPrefix = "User:"

// User is the Kafka principal of an authenticated name: "User:" + name. It is
// the one place a principal string is built, so ACLs, super.users, the index
// and the test broker cannot disagree on its form.
func User(name string) string { return UserPrefix + name }

// ZooKeeper is ZooKeeper's x509 identity of a subject: "x509:" + the DN as
// Java prints it (ZooKeeper has no mapping rules).
func ZooKeeper(dn string) string { return "x509:" + dn }

// OfCert returns the Kafka principal of a client certificate before
// mapping rules: User(the subject as Java's X500Principal.getName() prints
// it).
func OfCert(cert *x509.Certificate) (string, error) {
	return Mapped(cert, nil)
}

// Mapped returns the principal Kafka's DefaultKafkaPrincipalBuilder gives a
// client presenting cert: User(the mapped subject DN). A nil mapper is
// DEFAULT.
func Mapped(cert *x509.Certificate, m *Mapper) (string, error) {
	name, err := JavaName(cert.RawSubject)
	if err != nil {
		return "", err
	}
	mapped, err := m.Map(name)
	if err != nil {
		return "", err
	}
	return User(mapped), nil
}

// ruleKafkaEscapeBackRefs reproduces Kafka's escapeLiteralBackReferences:
// a "$n" naming a group the pattern lacks (after dropping trailing digits
// while n >= 10) gets a backslash so Java reads it literally. Kafka computes
// the insert positions on the original string but inserts into the edited
// one, so from the second insertion on the backslash lands early; that is
// reproduced too, on UTF-16 indices as in Java.
func ruleKafkaEscapeBackRefs(repl string, groups int) (string, error) {
	if groups == 0 {
		return repl, nil
	}
	orig := utf16.Encode([]rune(repl))
	value := append([]uint16(nil), orig...)
	for i := 0; i < len(orig); {
		if orig[i] != '$' || i+1 >= len(orig) || !ruleIsDigit16(orig[i+1]) {
			i++
			continue
		}
		j := i + 1
		for j < len(orig) && ruleIsDigit16(orig[j]) {
			j++
		}
		digits := string(utf16.Decode(orig[i+1 : j]))
		gs := i + 1
		i = j
		if digits[0] == '0' {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 32)
		if err != nil {
			return "", fmt.Errorf("java.lang.NumberFormatException: For input string: \"%s\"", digits)
		}
		for n > int64(groups) && n >= 10 {
			n /= 10
		}
		if n > int64(groups) {
			edited := make([]uint16, 0, len(value)+1)
			edited = append(edited, value[:gs-1]...)
			edited = append(edited, '\\')
			value = append(edited, value[gs-1:]...)
		}
	}
	return string(utf16.Decode(value)), nil
}

func ruleIsDigit16(c uint16) bool { return c >= '0' && c <= '9' }

// rulePiece is part of a parsed Java replacement: a literal or a group.
type rulePiece struct {
	lit   string
	group int // -1 for a literal
}

// parseReplacement parses a replacement as Java's Matcher does when it
// appends a replacement: \x is x, $n takes the longest group number that
// exists (at least one digit), ${name} a named group.
func (x *ruleRegex) parseReplacement(repl string) ([]rulePiece, error) {
	var pieces []rulePiece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			pieces = append(pieces, rulePiece{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	r := []rune(repl)
	for i := 0; i < len(r); {
		switch c := r[i]; c {
		case '\\':
			i++
			if i == len(r) {
				return nil, errors.New("java.lang.IllegalArgumentException: character to be escaped is missing")
			}
			lit.WriteRune(r[i])
			i++
		case '$':
			i++
			if i == len(r) {
				return nil, errors.New("java.lang.IllegalArgumentException: Illegal group reference: group index is missing")
			}
			var ref int
			if r[i] == '{' {
				i++
				start := i
				for i < len(r) && r[i] < utf8.RuneSelf && (unicode.IsLetter(r[i]) || unicode.IsDigit(r[i])) {
					i++
				}
				name := string(r[start:i])
				switch {
				case name == "":
					return nil, errors.New("java.lang.IllegalArgumentException: named capturing group has 0 length name")
				case i == len(r) || r[i] != '}':
					return nil, errors.New("java.lang.IllegalArgumentException: named capturing group is missing trailing '}'")
				case name[0] >= '0' && name[0] <= '9':
					return nil, fmt.Errorf("java.lang.IllegalArgumentException: capturing group name {%s} starts with digit character", name)
				}
				n, ok := x.names[name]
				if !ok {
					return nil, fmt.Errorf("java.lang.IllegalArgumentException: No group with name {%s}", name)
				}
				ref = n
				i++
			} else {
				if r[i] < '0' || r[i] > '9' {
					return nil, errors.New("java.lang.IllegalArgumentException: Illegal group reference")
				}
				ref = int(r[i] - '0')
				i++
				for i < len(r) && r[i] >= '0' && r[i] <= '9' {
					next := ref*10 + int(r[i]-'0')
					if next > x.groups {
						break
					}
					ref = next
					i++
				}
				if ref > x.groups {
					return nil, fmt.Errorf("java.lang.IndexOutOfBoundsException: No group %d", ref)
				}
			}
			flush()
			pieces = append(pieces, rulePiece{group: ref})
		default:
			lit.WriteRune(c)
			i++
		}
	}
	flush()
	return pieces, nil
}

// ruleRegex is a java.util.regex pattern translated to RE2.
type ruleRegex struct {
	re     *regexp.Regexp // the pattern, for finding matches
	full   *regexp.Regexp // \A(?:pattern)\z, Java's Matcher.matches
	at     *regexp.Regexp // \A(?s:.)(?:pattern): a match right after one known rune
	groups int
	names  map[string]int
}

func ruleCompile(javaPattern string) (*ruleRegex, error) {
	t := &ruleTranslator{src: []rune(javaPattern), names: map[string]int{}, flags: []ruleFlags{{}}}
	goPattern, err := t.translate()
	if err != nil {
		return nil, err
	}
	x := &ruleRegex{groups: t.groups, names: t.names}
	if x.re, err = regexp.Compile(goPattern); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", javaPattern, err)
	}
	if x.full, err = regexp.Compile(`\A(?:` + goPattern + `)\z`); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", javaPattern, err)
	}
	if x.at, err = regexp.Compile(`\A(?s:.)(?:` + goPattern + `)`); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", javaPattern, err)
	}
	return x, nil
}

// replaceAll is Java's String.replaceAll with a parsed replacement. Go's
// FindAll drops an empty match right after a previous match; Java keeps it.
func (x *ruleRegex) replaceAll(s string, pieces []rulePiece) string {
	var b strings.Builder
	last := 0
	emit := func(m []int) {
		b.WriteString(s[last:m[0]])
		for _, p := range pieces {
			if p.group < 0 {
				b.WriteString(p.lit)
			} else if m[2*p.group] >= 0 {
				b.WriteString(s[m[2*p.group]:m[2*p.group+1]])
			}
		}
		last = m[1]
	}
	for _, m := range x.re.FindAllStringSubmatchIndex(s, -1) {
		emit(m)
		if m[1] > m[0] {
			if e := x.emptyMatchAt(s, m[1]); e != nil {
				emit(e)
			}
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// emptyMatchAt returns the submatches of the match Java's find() gets at
// position e if that match is empty, else nil. The rune before e is matched
// by the \A(?s:.) prefix so anchors and \b see their real context.
func (x *ruleRegex) emptyMatchAt(s string, e int) []int {
	_, size := utf8.DecodeLastRuneInString(s[:e])
	p := e - size
	loc := x.at.FindStringSubmatchIndex(s[p:])
	if loc == nil || loc[1] != size {
		return nil
	}
	m := make([]int, len(loc))
	m[0], m[1] = e, e
	for i := 2; i < len(loc); i++ {
		m[i] = loc[i]
		if m[i] >= 0 {
			m[i] += p
		}
	}
	return m
}

type ruleFlags struct{ caseless, multiline, dotall bool }

// ruleTranslator rewrites a java.util.regex pattern into RE2 syntax with the
// same meaning. Case-insensitivity ((?i), ASCII-only in Java) is expanded
// into classes so Go's Unicode case folding never applies.
type ruleTranslator struct {
	src    []rune
	i      int
	out    strings.Builder
	groups int
	names  map[string]int
	flags  []ruleFlags // one entry per open group; the last is in effect
}

func (t *ruleTranslator) cur() *ruleFlags { return &t.flags[len(t.flags)-1] }

func (t *ruleTranslator) unsupported(what string) error {
	return fmt.Errorf("pattern uses %s, which Go's RE2 regexp engine lacks, so this rule cannot be evaluated here", what)
}

func (t *ruleTranslator) translate() (string, error) {
	for t.i < len(t.src) {
		c := t.src[t.i]
		var err error
		switch c {
		case '\\':
			err = t.escape()
		case '[':
			err = t.class()
		case '(':
			err = t.openGroup()
		case ')':
			if len(t.flags) == 1 {
				return "", errors.New("unmatched closing ')'")
			}
			t.flags = t.flags[:len(t.flags)-1]
			t.out.WriteByte(')')
			t.i++
		case '.':
			if t.cur().dotall {
				t.out.WriteString(`(?s:.)`)
			} else {
				t.out.WriteString(ruleJavaDot)
			}
			t.i++
		case '^', '$':
			if t.cur().multiline {
				t.out.WriteString(`(?m:` + string(c) + `)`)
			} else {
				t.out.WriteRune(c)
			}
			t.i++
		case '*', '+', '?':
			t.out.WriteRune(c)
			t.i++
			err = t.quantifierSuffix()
		case '{':
			err = t.repetition()
		case '|':
			t.out.WriteByte('|')
			t.i++
		default:
			t.literal(c)
			t.i++
		}
		if err != nil {
			return "", err
		}
	}
	if len(t.flags) != 1 {
		return "", errors.New("unclosed group")
	}
	return t.out.String(), nil
}

// quantifierSuffix handles what may follow a quantifier: '?' (reluctant,
// same in RE2) or '+' (possessive, which RE2 lacks).
func (t *ruleTranslator) quantifierSuffix() error {
	if t.i < len(t.src) {
		switch t.src[t.i] {
		case '?':
			t.out.WriteByte('?')
			t.i++
		case '+':
			return t.unsupported("a possessive quantifier (*+, ++, ?+, {n}+)")
		}
	}
	return nil
}

// repetition copies a {n}, {n,} or {n,m} quantifier; any other '{' is an
// error in Java (RE2 would take it literally).
func (t *ruleTranslator) repetition() error {
	j := t.i + 1
	digits := func() int {
		k := j
		for j < len(t.src) && t.src[j] >= '0' && t.src[j] <= '9' {
			j++
		}
		return j - k
	}
	if digits() == 0 {
		return errors.New(`illegal repetition: Java rejects a '{' that does not start {n}, {n,} or {n,m} (write \{)`)
	}
	if j < len(t.src) && t.src[j] == ',' {
		j++
		digits()
	}
	if j >= len(t.src) || t.src[j] != '}' {
		return errors.New(`illegal repetition: unclosed {n,m}`)
	}
	t.out.WriteString(string(t.src[t.i : j+1]))
	t.i = j + 1
	return t.quantifierSuffix()
}

// literal writes a character matched literally, honouring Java's ASCII-only
// case-insensitive flag.
func (t *ruleTranslator) literal(c rune) {
	if t.cur().caseless && c < utf8.RuneSelf && unicode.IsLetter(c) {
		fmt.Fprintf(&t.out, "[%c%c]", unicode.ToLower(c), unicode.ToUpper(c))
		return
	}
	t.out.WriteString(regexp.QuoteMeta(string(c)))
}

func (t *ruleTranslator) openGroup() error {
	f := *t.cur()
	if t.i+1 >= len(t.src) || t.src[t.i+1] != '?' {
		t.groups++
		t.flags = append(t.flags, f)
		t.out.WriteByte('(')
		t.i++
		return nil
	}
	j := t.i + 2
	if j >= len(t.src) {
		return errors.New("unclosed group")
	}
	switch t.src[j] {
	case ':':
		t.flags = append(t.flags, f)
		t.out.WriteString("(?:")
		t.i = j + 1
		return nil
	case '=', '!':
		return t.unsupported("lookahead ((?=...) or (?!...))")
	case '>':
		return t.unsupported("an atomic group ((?>...))")
	case '<':
		if j+1 < len(t.src) && (t.src[j+1] == '=' || t.src[j+1] == '!') {
			return t.unsupported("lookbehind ((?<=...) or (?<!...))")
		}
		k := j + 1
		for k < len(t.src) && t.src[k] < utf8.RuneSelf && (unicode.IsLetter(t.src[k]) || k > j+1 && unicode.IsDigit(t.src[k])) {
			k++
		}
		if k == j+1 || k >= len(t.src) || t.src[k] != '>' {
			return errors.New("named group: the name must be an ASCII letter followed by letters or digits, closed by '>'")
		}
		name := string(t.src[j+1 : k])
		if _, dup := t.names[name]; dup {
			return fmt.Errorf("named capturing group <%s> is already defined", name)
		}
		t.groups++
		t.names[name] = t.groups
		t.flags = append(t.flags, f)
		t.out.WriteString("(?P<" + name + ">")
		t.i = k + 1
		return nil
	}
	// Inline flags: (?imsx-imsx) or (?imsx-imsx:...).
	on := true
	k := j
	for ; k < len(t.src); k++ {
		switch c := t.src[k]; c {
		case '-':
			on = false
			continue
		case 'i':
			f.caseless = on
			continue
		case 'm':
			f.multiline = on
			continue
		case 's':
			f.dotall = on
			continue
		case 'd', 'u', 'x', 'U', 'c':
			return t.unsupported(fmt.Sprintf("the inline flag %q", c))
		case ')':
			*t.cur() = f
			t.i = k + 1
			return nil
		case ':':
			t.flags = append(t.flags, f)
			t.out.WriteString("(?:")
			t.i = k + 1
			return nil
		}
		return fmt.Errorf("unknown inline modifier %q", t.src[k])
	}
	return errors.New("unclosed group")
}

// ruleSet is a character set as rune ranges plus RE2 class items (\d, \pL,
// [:alpha:]) that are copied as they are.
type ruleSet struct {
	ranges [][2]rune
	items  []string
}

var (
	ruleSpaceSet = ruleSet{ranges: [][2]rune{{'\t', '\r'}, {' ', ' '}}}
	ruleHSpace   = ruleSet{ranges: [][2]rune{{' ', ' '}, {'\t', '\t'}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x180E, 0x180E},
		{0x2000, 0x200A}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}}}
	ruleVSpace = ruleSet{ranges: [][2]rune{{'\n', '\r'}, {0x85, 0x85}, {0x2028, 0x2029}}}
)

// ruleComplement returns the complement of a set made of ranges only.
func ruleComplement(s ruleSet) ruleSet {
	rs := append([][2]rune(nil), s.ranges...)
	for i := 1; i < len(rs); i++ { // insertion sort: the sets are tiny
		for j := i; j > 0 && rs[j][0] < rs[j-1][0]; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	var out ruleSet
	next := rune(0)
	for _, r := range rs {
		if r[0] > next {
			out.ranges = append(out.ranges, [2]rune{next, r[0] - 1})
		}
		if r[1]+1 > next {
			next = r[1] + 1
		}
	}
	if next <= unicode.MaxRune {
		out.ranges = append(out.ranges, [2]rune{next, unicode.MaxRune})
	}
	return out
}

// body renders the set's contents for use inside [...]; with caseless, each
// ASCII letter range also gets its other case (Java's ASCII-only (?i)).
func (s ruleSet) body(caseless bool) string {
	var b strings.Builder
	add := func(lo, hi rune) {
		if lo == hi {
			fmt.Fprintf(&b, `\x{%x}`, lo)
		} else {
			fmt.Fprintf(&b, `\x{%x}-\x{%x}`, lo, hi)
		}
	}
	for _, r := range s.ranges {
		add(r[0], r[1])
		if !caseless {
			continue
		}
		if lo, hi := max(r[0], 'a'), min(r[1], 'z'); lo <= hi {
			add(lo-32, hi-32)
		}
		if lo, hi := max(r[0], 'A'), min(r[1], 'Z'); lo <= hi {
			add(lo+32, hi+32)
		}
	}
	for _, it := range s.items {
		b.WriteString(it)
	}
	return b.String()
}

func (s *ruleSet) add(o ruleSet) {
	s.ranges = append(s.ranges, o.ranges...)
	s.items = append(s.items, o.items...)
}

// escape translates an escape outside a character class.
func (t *ruleTranslator) escape() error {
	if t.i+1 < len(t.src) && t.src[t.i+1] == 'Q' {
		for _, c := range t.quoted() {
			t.literal(c)
		}
		return nil
	}
	set, single, err := t.escapeAtom(false)
	if err != nil {
		return err
	}
	if set == nil {
		t.literal(single)
		return nil
	}
	if len(set.ranges) == 0 && len(set.items) == 1 && strings.HasPrefix(set.items[0], `\`) {
		t.out.WriteString(set.items[0]) // \d \w \pL \b ... as they are
		return nil
	}
	t.out.WriteString("[" + set.body(false) + "]")
	return nil
}

// quoted consumes \Q...\E (or \Q to the end) and returns the quoted runes.
func (t *ruleTranslator) quoted() []rune {
	start := t.i + 2
	for k := start; k+1 < len(t.src); k++ {
		if t.src[k] == '\\' && t.src[k+1] == 'E' {
			t.i = k + 2
			return t.src[start:k]
		}
	}
	t.i = len(t.src)
	return t.src[start:]
}

// escapeAtom parses the escape at t.i (a backslash) and returns either a
// set or a single literal rune. Assertions (\b \B \A \z) are written
// directly outside classes and return (nil, -1, nil).
func (t *ruleTranslator) escapeAtom(inClass bool) (*ruleSet, rune, error) {
	t.i++
	if t.i >= len(t.src) {
		return nil, 0, errors.New(`pattern ends with a dangling "\"`)
	}
	c := t.src[t.i]
	t.i++
	switch {
	case c >= '1' && c <= '9' || c == 'k':
		return nil, 0, t.unsupported("a backreference (\\1 or \\k<name>)")
	case c == '0':
		// \0n, \0nn, or \0mnn with m <= 3.
		octal := func(k int) bool { return k < len(t.src) && t.src[k] >= '0' && t.src[k] <= '7' }
		if !octal(t.i) {
			return nil, 0, errors.New(`illegal octal escape: \0 must be followed by octal digits`)
		}
		first := t.src[t.i] - '0'
		v := first
		t.i++
		if octal(t.i) {
			v = v*8 + t.src[t.i] - '0'
			t.i++
			if octal(t.i) && first <= 3 {
				v = v*8 + t.src[t.i] - '0'
				t.i++
			}
		}
		return nil, v, nil
	case c == 'x':
		return t.hexEscape()
	case c == 'u':
		return t.unicodeEscape()
	case c == 'c':
		if t.i >= len(t.src) {
			return nil, 0, errors.New(`illegal control escape \c`)
		}
		t.i++
		return nil, t.src[t.i-1] ^ 64, nil
	case c == 't':
		return nil, '\t', nil
	case c == 'n':
		return nil, '\n', nil
	case c == 'r':
		return nil, '\r', nil
	case c == 'f':
		return nil, '\f', nil
	case c == 'a':
		return nil, '\a', nil
	case c == 'e':
		return nil, 0x1B, nil
	case c == 'd' || c == 'D' || c == 'w' || c == 'W':
		return &ruleSet{items: []string{`\` + string(c)}}, 0, nil // ASCII in both engines
	case c == 's':
		s := ruleSpaceSet
		return &s, 0, nil
	case c == 'S':
		s := ruleComplement(ruleSpaceSet)
		return &s, 0, nil
	case c == 'h':
		s := ruleHSpace
		return &s, 0, nil
	case c == 'H':
		s := ruleComplement(ruleHSpace)
		return &s, 0, nil
	case c == 'v':
		s := ruleVSpace
		return &s, 0, nil
	case c == 'V':
		s := ruleComplement(ruleVSpace)
		return &s, 0, nil
	case c == 'p' || c == 'P':
		item, err := t.property(c == 'P')
		if err != nil {
			return nil, 0, err
		}
		return &ruleSet{items: []string{item}}, 0, nil
	case !inClass && (c == 'b' || c == 'B' || c == 'A' || c == 'z'):
		if c == 'b' && t.i < len(t.src) && t.src[t.i] == '{' {
			return nil, 0, t.unsupported(`\b{g} (grapheme cluster boundary)`)
		}
		return &ruleSet{items: []string{`\` + string(c)}}, 0, nil
	case c == 'G' || c == 'Z' || c == 'R' || c == 'X' || c == 'N' || c == 'E' || c == 'b' || c == 'B' ||
		c == 'A' || c == 'z' || c == 'Q':
		return nil, 0, t.unsupported(fmt.Sprintf(`\%c here`, c))
	case c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)):
		return nil, 0, fmt.Errorf(`illegal/unsupported escape sequence \%c`, c)
	}
	return nil, c, nil // an escaped non-alphanumeric character is itself
}

func (t *ruleTranslator) hexEscape() (*ruleSet, rune, error) {
	if t.i < len(t.src) && t.src[t.i] == '{' {
		end := t.i + 1
		for end < len(t.src) && t.src[end] != '}' {
			end++
		}
		if end >= len(t.src) {
			return nil, 0, errors.New(`unclosed \x{...}`)
		}
		v, err := strconv.ParseUint(string(t.src[t.i+1:end]), 16, 32)
		if err != nil || v > unicode.MaxRune {
			return nil, 0, errors.New(`illegal hexadecimal escape \x{...}`)
		}
		t.i = end + 1
		return nil, rune(v), nil
	}
	if t.i+2 > len(t.src) {
		return nil, 0, errors.New(`illegal hexadecimal escape: \x needs two hex digits`)
	}
	v, err := strconv.ParseUint(string(t.src[t.i:t.i+2]), 16, 8)
	if err != nil {
		return nil, 0, errors.New(`illegal hexadecimal escape: \x needs two hex digits`)
	}
	t.i += 2
	return nil, rune(v), nil
}

func (t *ruleTranslator) unicodeEscape() (*ruleSet, rune, error) {
	read := func() (rune, bool) {
		if t.i+4 > len(t.src) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(t.src[t.i:t.i+4]), 16, 16)
		if err != nil {
			return 0, false
		}
		t.i += 4
		return rune(v), true
	}
	r, ok := read()
	if !ok {
		return nil, 0, errors.New(`illegal Unicode escape: \u needs four hex digits`)
	}
	if utf16.IsSurrogate(r) && r < 0xDC00 && t.i+1 < len(t.src) && t.src[t.i] == '\\' && t.src[t.i+1] == 'u' {
		save := t.i
		t.i += 2
		if lo, ok := read(); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return nil, utf16.DecodeRune(r, lo), nil
		}
		t.i = save
	}
	if utf16.IsSurrogate(r) {
		return nil, 0, t.unsupported("an unpaired surrogate escape")
	}
	return nil, r, nil
}

// rulePOSIX maps Java's ASCII-only POSIX property names to RE2 classes.
var rulePOSIX = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit",
	"Alnum": "alnum", "Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank",
	"Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// property translates \p{..} / \pX into an RE2 class item (the form used
// inside [...]).
func (t *ruleTranslator) property(neg bool) (string, error) {
	if t.i >= len(t.src) {
		return "", errors.New(`illegal property escape \p`)
	}
	var name string
	if t.src[t.i] == '{' {
		end := t.i + 1
		for end < len(t.src) && t.src[end] != '}' {
			end++
		}
		if end >= len(t.src) {
			return "", errors.New(`unclosed \p{...}`)
		}
		name = string(t.src[t.i+1 : end])
		t.i = end + 1
	} else {
		name = string(t.src[t.i])
		t.i++
	}
	if posix, ok := rulePOSIX[name]; ok {
		if neg {
			posix = "^" + posix
		}
		return "[:" + posix + ":]", nil
	}
	goName := ""
	for _, prefix := range []string{"Is", "gc=", "general_category=", "sc=", "script=", ""} {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" {
			continue
		}
		if _, ok := unicode.Categories[rest]; ok && prefix != "sc=" && prefix != "script=" {
			goName = rest
			break
		}
		if prefix == "Is" || prefix == "sc=" || prefix == "script=" {
			for s := range unicode.Scripts {
				if strings.EqualFold(s, rest) {
					goName = s
				}
			}
			if goName != "" {
				break
			}
		}
	}
	if goName == "" {
		return "", t.unsupported(fmt.Sprintf(`the property \p{%s}`, name))
	}
	if neg {
		return `\P{` + goName + `}`, nil
	}
	return `\p{` + goName + `}`, nil
}

// class translates a Java character class [...] (no nesting or
// intersection, which RE2 lacks).
func (t *ruleTranslator) class() error {
	t.i++ // '['
	neg := false
	if t.i < len(t.src) && t.src[t.i] == '^' {
		neg = true
		t.i++
	}
	var set ruleSet
	first := true
	for {
		if t.i >= len(t.src) {
			return errors.New("unclosed character class")
		}
		c := t.src[t.i]
		if c == ']' && !first {
			t.i++
			break
		}
		first = false
		switch {
		case c == '[':
			return t.unsupported("a nested character class (union)")
		case c == '&' && t.i+1 < len(t.src) && t.src[t.i+1] == '&':
			return t.unsupported("a character class intersection (&&)")
		}
		lo, isSet, err := t.classAtom(&set)
		if err != nil {
			return err
		}
		if isSet {
			continue
		}
		hi := lo
		if t.i+1 < len(t.src) && t.src[t.i] == '-' && t.src[t.i+1] != ']' {
			t.i++
			var isSet2 bool
			if hi, isSet2, err = t.classAtom(&ruleSet{}); err != nil {
				return err
			}
			if isSet2 || hi < lo {
				return errors.New("illegal character range")
			}
		}
		set.ranges = append(set.ranges, [2]rune{lo, hi})
	}
	t.out.WriteByte('[')
	if neg {
		t.out.WriteByte('^')
	}
	body := set.body(t.cur().caseless)
	if body == "" {
		return errors.New("empty character class")
	}
	t.out.WriteString(body)
	t.out.WriteByte(']')
	return nil
}

// classAtom reads one class element: a literal rune, or a set (escape class,
// property, \Q..\E) added to set.
func (t *ruleTranslator) classAtom(set *ruleSet) (rune, bool, error) {
	c := t.src[t.i]
	if c != '\\' {
		t.i++
		return c, false, nil
	}
	if t.i+1 < len(t.src) && t.src[t.i+1] == 'Q' {
		for _, q := range t.quoted() {
			set.ranges = append(set.ranges, [2]rune{q, q})
		}
		return 0, true, nil
	}
	s, single, err := t.escapeAtom(true)
	if err != nil {
		return 0, false, err
	}
	if s != nil {
		set.add(*s)
		return 0, true, nil
	}
	return single, false, nil
}

// ruleUpperSpecial holds Java's one-to-many uppercase mappings (Unicode
// SpecialCasing, unconditional), generated from JDK 17's
// String.toUpperCase(Locale.ENGLISH); every other code point maps one to one.
var ruleUpperSpecial = map[rune]string{
	0x00DF: "\u0053\u0053", 0x0149: "\u02BC\u004E", 0x01F0: "\u004A\u030C", 0x0390: "\u0399\u0308\u0301",
	0x03B0: "\u03A5\u0308\u0301", 0x0587: "\u0535\u0552", 0x1E96: "\u0048\u0331", 0x1E97: "\u0054\u0308",
	0x1E98: "\u0057\u030A", 0x1E99: "\u0059\u030A", 0x1E9A: "\u0041\u02BE", 0x1F50: "\u03A5\u0313",
	0x1F52: "\u03A5\u0313\u0300", 0x1F54: "\u03A5\u0313\u0301", 0x1F56: "\u03A5\u0313\u0342", 0x1F80: "\u1F08\u0399",
	0x1F81: "\u1F09\u0399", 0x1F82: "\u1F0A\u0399", 0x1F83: "\u1F0B\u0399", 0x1F84: "\u1F0C\u0399",
	0x1F85: "\u1F0D\u0399", 0x1F86: "\u1F0E\u0399", 0x1F87: "\u1F0F\u0399", 0x1F88: "\u1F08\u0399",
	0x1F89: "\u1F09\u0399", 0x1F8A: "\u1F0A\u0399", 0x1F8B: "\u1F0B\u0399", 0x1F8C: "\u1F0C\u0399",
	0x1F8D: "\u1F0D\u0399", 0x1F8E: "\u1F0E\u0399", 0x1F8F: "\u1F0F\u0399", 0x1F90: "\u1F28\u0399",
	0x1F91: "\u1F29\u0399", 0x1F92: "\u1F2A\u0399", 0x1F93: "\u1F2B\u0399", 0x1F94: "\u1F2C\u0399",
	0x1F95: "\u1F2D\u0399", 0x1F96: "\u1F2E\u0399", 0x1F97: "\u1F2F\u0399", 0x1F98: "\u1F28\u0399",
	0x1F99: "\u1F29\u0399", 0x1F9A: "\u1F2A\u0399", 0x1F9B: "\u1F2B\u0399", 0x1F9C: "\u1F2C\u0399",
	0x1F9D: "\u1F2D\u0399", 0x1F9E: "\u1F2E\u0399", 0x1F9F: "\u1F2F\u0399", 0x1FA0: "\u1F68\u0399",
	0x1FA1: "\u1F69\u0399", 0x1FA2: "\u1F6A\u0399", 0x1FA3: "\u1F6B\u0399", 0x1FA4: "\u1F6C\u0399",
	0x1FA5: "\u1F6D\u0399", 0x1FA6: "\u1F6E\u0399", 0x1FA7: "\u1F6F\u0399", 0x1FA8: "\u1F68\u0399",
	0x1FA9: "\u1F69\u0399", 0x1FAA: "\u1F6A\u0399", 0x1FAB: "\u1F6B\u0399", 0x1FAC: "\u1F6C\u0399",
	0x1FAD: "\u1F6D\u0399", 0x1FAE: "\u1F6E\u0399", 0x1FAF: "\u1F6F\u0399", 0x1FB2: "\u1FBA\u0399",
	0x1FB3: "\u0391\u0399", 0x1FB4: "\u0386\u0399", 0x1FB6: "\u0391\u0342", 0x1FB7: "\u0391\u0342\u0399",
	0x1FBC: "\u0391\u0399", 0x1FC2: "\u1FCA\u0399", 0x1FC3: "\u0397\u0399", 0x1FC4: "\u0389\u0399",
	0x1FC6: "\u0397\u0342", 0x1FC7: "\u0397\u0342\u0399", 0x1FCC: "\u0397\u0399", 0x1FD2: "\u0399\u0308\u0300",
	0x1FD3: "\u0399\u0308\u0301", 0x1FD6: "\u0399\u0342", 0x1FD7: "\u0399\u0308\u0342", 0x1FE2: "\u03A5\u0308\u0300",
	0x1FE3: "\u03A5\u0308\u0301", 0x1FE4: "\u03A1\u0313", 0x1FE6: "\u03A5\u0342", 0x1FE7: "\u03A5\u0308\u0342",
	0x1FF2: "\u1FFA\u0399", 0x1FF3: "\u03A9\u0399", 0x1FF4: "\u038F\u0399", 0x1FF6: "\u03A9\u0342",
	0x1FF7: "\u03A9\u0342\u0399", 0x1FFC: "\u03A9\u0399", 0xFB00: "\u0046\u0046", 0xFB01: "\u0046\u0049",
	0xFB02: "\u0046\u004C", 0xFB03: "\u0046\u0046\u0049", 0xFB04: "\u0046\u0046\u004C", 0xFB05: "\u0053\u0054",
	0xFB06: "\u0053\u0054", 0xFB13: "\u0544\u0546", 0xFB14: "\u0544\u0535", 0xFB15: "\u0544\u053B",
	0xFB16: "\u054E\u0546", 0xFB17: "\u0544\u053D",
}

// ruleJavaUpper is Java's String.toUpperCase(Locale.ENGLISH).
func ruleJavaUpper(s string) string {
	var b strings.Builder
	for _, r := range s {
		if exp, ok := ruleUpperSpecial[r]; ok {
			b.WriteString(exp)
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// ruleJavaLower is Java's String.toLowerCase(Locale.ENGLISH): one to one
// except U+0130 (to "i" + U+0307) and capital sigma, which becomes final
// sigma at the end of a word.
func ruleJavaLower(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 0x130:
			b.WriteString("i\u0307")
		case r == 0x3A3 && ruleFinalSigma(rs, i):
			b.WriteRune(0x3C2)
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// ruleFinalSigma approximates Java's Final_Cased test: a cased letter before
// position i and none after it, within the word around i. Words follow what
// JDK 17's word BreakIterator does for DN-like text: letters, digits and
// marks (format characters are transparent) and a single one of " ' - . _
// between two of them.
func ruleFinalSigma(rs []rune, i int) bool {
	wordish := func(k int) bool {
		if k < 0 || k >= len(rs) {
			return false
		}
		r := rs[k]
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.Is(unicode.Cf, r)
	}
	joiner := func(k int) bool { return k >= 0 && k < len(rs) && strings.ContainsRune(`"'-._`, rs[k]) }
	boundary := func(k int) bool { // between rs[k-1] and rs[k]
		switch {
		case k <= 0 || k >= len(rs):
			return true
		case wordish(k-1) && wordish(k):
			return false
		case joiner(k) && wordish(k-1) && wordish(k+1):
			return false
		case joiner(k-1) && wordish(k) && wordish(k-2):
			return false
		}
		return true
	}
	cased := func(r rune) bool {
		return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
			unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
	}
	for k := i; !boundary(k); k-- {
		if cased(rs[k-1]) {
			for j := i + 1; j < len(rs) && !boundary(j); j++ {
				if cased(rs[j]) {
					return false
				}
			}
			return true
		}
	}
	return false
}
