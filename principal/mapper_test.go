package principal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// The cases of Kafka's SslPrincipalMapperTest.

func TestPrincipalMapperKafkaValidRules(t *testing.T) {
	for _, rules := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	} {
		if _, err := ParseRules(rules); err != nil {
			t.Errorf("ParseRules(%q): %v", rules, err)
		}
	}
}

func TestPrincipalMapperKafkaInvalidRules(t *testing.T) {
	for _, tc := range []struct{ rules, want string }{
		{"default", "Invalid rule: `default`, unmatched substring: `default`"},
		{"DEFAUL", "Invalid rule: `DEFAUL`, unmatched substring: `DEFAUL`"},
		{"DEFAULT/L", "Invalid rule: `DEFAULT/L`, unmatched substring: `/L`"},
		{"DEFAULT/U", "unmatched substring: `/U`"},
		// The trailing slash is mandatory. Without it the text is no RULE,
		// so Kafka's splitter cuts it at the first comma.
		{"RULE:CN=(.*?),OU=ServiceUsers.*/$1", "Invalid rule: `RULE:CN=(.*?)`, unmatched substring: `RULE:CN=(.*?)`"},
		{"RULE:^CN=(.*)$/$1", "Invalid rule: `RULE:^CN=(.*)$/$1`, unmatched substring: `RULE:^CN=(.*)$/$1`"},
		{"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/", "unmatched substring: `rule:^CN"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U", "unmatched substring: `/U`"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/L", "unmatched substring: `RULE:"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/U", "unmatched substring: `RULE:"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU", "unmatched substring: `RULE:"},
		// Bad flags after the trailing slash.
		{"RULE:^CN=(.*)$/$1/X", "Invalid rule: `RULE:^CN=(.*)$/$1/X`, unmatched substring: `X`"},
		{"RULE:^CN=(.*)$/$1/LU, DEFAULT", "unmatched substring: `U`"},
		{"RULE:^CN=(.*)$/$1/l", "unmatched substring: `l`"},
		// Only empty rules: Kafka would reject everyone.
		{",   , , ,      , , ,   ", "holds no rule"},
		// Java regex errors.
		{"RULE:^CN=(.*$/$1/", "unclosed group"},
		{"RULE:^CN=a{/x/", "illegal repetition"},
		{"RULE:^CN=[a/x/", "unclosed character class"},
		{`RULE:^CN=a\/x/`, "unmatched substring"},
	} {
		m, err := ParseRules(tc.rules)
		if err == nil {
			t.Errorf("ParseRules(%q) = %v, want an error", tc.rules, m)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRules(%q) error %q, want it to contain %q", tc.rules, err, tc.want)
		}
	}
}

// Features of java.util.regex that RE2 lacks are refused, not mistranslated.
func TestPrincipalMapperUnsupportedJavaRegex(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{`^CN=(a)\1$`, "backreference"},
		{`^CN=(?<n>a)\k<n>$`, "backreference"},
		{`^CN=(?=a).*$`, "lookahead"},
		{`^CN=(?!a).*$`, "lookahead"},
		{`^.*(?<=a)$`, "lookbehind"},
		{`^.*(?<!a)$`, "lookbehind"},
		{`^CN=a*+$`, "possessive"},
		{`^CN=a++$`, "possessive"},
		{`^CN=a{2}+$`, "possessive"},
		{`^CN=(?>a)$`, "atomic group"},
		{`^CN=[a-z&&[^e]]$`, "intersection"},
		{`^CN=[a[b]]$`, "nested character class"},
		{`(?x)^CN=a$`, "inline flag 'x'"},
		{`(?U)^CN=\w$`, "inline flag 'U'"},
		{`^CN=a\Z`, `\Z`},
		{`^CN=\p{InGreek}$`, "property"},
	} {
		rules := "RULE:" + tc.pattern + "/x/"
		_, err := ParseRules(rules)
		if err == nil {
			t.Errorf("ParseRules(%q) succeeded, want an error", rules)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "RE2") {
			t.Errorf("ParseRules(%q) error %q, want it to name %q and RE2", rules, err, tc.want)
		}
		if !strings.HasPrefix(err.Error(), "Invalid rule: `"+rules+"`") {
			t.Errorf("error %q does not start with Kafka's \"Invalid rule\" form", err)
		}
	}
}

var kafkaTestRules = strings.Join([]string{
	"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
	"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
	"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
	"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
	"DEFAULT",
}, ", ")

func TestPrincipalMapperKafkaMapping(t *testing.T) {
	m, err := ParseRules(kafkaTestRules)
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":         "duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US":  "duke@sme",
		"cn=duke,ou=sme,dc=mycp,dc=com":              "DUKE@SME",
		"cN=duke,OU=JavaSoft,O=Sun Microsystems":     "DUKE",
		"OU=JavaSoft,O=Sun Microsystems,C=US":        "OU=JavaSoft,O=Sun Microsystems,C=US",
		"CN=client1.kafka.lydtechconsulting.com,O=x": "CLIENT1.KAFKA.LYDTECHCONSULTING.COM",
	} {
		got, err := m.Map(dn)
		if err != nil || got != want {
			t.Errorf("Map(%q) = %q, %v; want %q", dn, got, err, want)
		}
	}
}

func TestPrincipalMapperKafkaCommaWithWhitespace(t *testing.T) {
	m, err := ParseRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Map(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`)
	if want := `Tkac\, Adam`; err != nil || got != want {
		t.Errorf("Map = %q, %v; want %q", got, err, want)
	}
}

func TestPrincipalMapperKafkaRulesSplitting(t *testing.T) {
	for _, tc := range []struct{ rules, want string }{
		{"DEFAULT", "[DEFAULT]"},
		{"RULE://", "[RULE:/]"},
		{"RULE:/.*/", "[RULE:/.*]"},
		{"RULE:/.*/L", "[RULE:/.*/L]"},
		{"RULE://,DEFAULT", "[RULE:/, DEFAULT]"},
		{"  RULE:// ,  DEFAULT  ", "[RULE:/, DEFAULT]"},
		{"  RULE:   /     / ,  DEFAULT  ", "[RULE:   /     , DEFAULT]"},
		{"  RULE:  /     /U   ,DEFAULT  ", "[RULE:  /     /U, DEFAULT]"},
		{"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ", "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"},
		{",,RULE://,,,DEFAULT,,", "[RULE:/, DEFAULT]"},
		{",  , RULE: /   /    ,,,   DEFAULT, ,   ", "[RULE: /   , DEFAULT]"},
		{"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", "[RULE:   /  /U, DEFAULT]"},
		{`RULE:\/\\\(\)\n\t/\/\//`, `[RULE:\/\\\(\)\n\t/\/\/]`},
		{`RULE:\**\/+/*/L,RULE:\/*\**/**/`, `[RULE:\**\/+/*/L, RULE:\/*\**/**]`},
		{`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
			`[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]`},
	} {
		m, err := ParseRules(tc.rules)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tc.rules, err)
			continue
		}
		if got := "[" + m.kafkaRules() + "]"; got != tc.want {
			t.Errorf("ParseRules(%q) = %s, want %s", tc.rules, got, tc.want)
		}
		// String() is a rules value that parses back to the same rules.
		again, err := ParseRules(m.String())
		if err != nil {
			t.Errorf("reparsing %q: %v", m.String(), err)
		} else if again.kafkaRules() != m.kafkaRules() {
			t.Errorf("String() %q reparses to [%s], want [%s]", m.String(), again.kafkaRules(), m.kafkaRules())
		}
	}
}

func TestPrincipalMapperDefaultAndNoMatch(t *testing.T) {
	for _, rules := range []string{"", "  ", "DEFAULT"} {
		m, err := ParseRules(rules)
		if err != nil {
			t.Fatalf("ParseRules(%q): %v", rules, err)
		}
		if got, err := m.Map("CN=x,O=y"); err != nil || got != "CN=x,O=y" {
			t.Errorf("rules %q: Map = %q, %v; want the DN unchanged", rules, got, err)
		}
		if m.String() != "DEFAULT" {
			t.Errorf("rules %q: String() = %q, want DEFAULT", rules, m.String())
		}
	}
	var nilMapper *Mapper
	if got, err := nilMapper.Map("CN=x"); err != nil || got != "CN=x" {
		t.Errorf("nil mapper: Map = %q, %v", got, err)
	}
	m, err := ParseRules("RULE:^CN=(.*),OU=Kafka$/$1/")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Map("CN=x,OU=Other")
	if !errors.Is(err, ErrNoRule) {
		t.Fatalf("Map without a matching rule: %v, want ErrNoRule", err)
	}
	if want := "no rules apply to CN=x,OU=Other, rules [RULE:^CN=(.*),OU=Kafka$/$1]"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	// A partial match is no match: patterns must match the whole DN.
	m, _ = ParseRules("RULE:CN=([^,]+)/$1/")
	if _, err := m.Map("CN=x,O=y"); !errors.Is(err, ErrNoRule) {
		t.Errorf("partial match: %v, want ErrNoRule", err)
	}
}

// Replacement strings follow Java (after Kafka's rewriting), not Go.
func TestPrincipalMapperReplacement(t *testing.T) {
	for _, tc := range []struct{ rules, dn, want, wantErr string }{
		// "$1x" is group 1 then "x" in Java; Go's Expand reads a group "1x".
		{rules: "RULE:^CN=([^,]+),.*$/$1x/", dn: "CN=bob,O=z", want: "bobx"},
		{rules: "RULE:^CN=([^,]+),.*$/$1_svc/", dn: "CN=bob,O=z", want: "bob_svc"},
		// "$12" with two groups is group 1 then "2".
		{rules: "RULE:^CN=(.)(.),.*$/$12/", dn: "CN=ab,O=z", want: "a2"},
		// Kafka makes "$3" literal when the pattern has fewer groups.
		{rules: "RULE:^CN=([^,]+),.*$/$3-$1/", dn: "CN=bob,O=z", want: "$3-bob"},
		{rules: "RULE:^CN=([^,]+),.*$/$13/", dn: "CN=bob,O=z", want: "bob3"},
		{rules: `RULE:^CN=([^,]+),.*$/\$$1/`, dn: "CN=bob,O=z", want: "$bob"},
		{rules: `RULE:^CN=([^,]+),.*$/a\\b\/$1/`, dn: "CN=bob,O=z", want: `a\b/bob`},
		{rules: "RULE:^CN=(?<cn>[^,]+),.*$/${cn}@x/", dn: "CN=bob,O=z", want: "bob@x"},
		{rules: "RULE:^CN=([^,]+),.*$/$0!/", dn: "CN=bob,O=z", want: "CN=bob,O=z!"},
		{rules: "RULE:^(a)|(b)$/[$1$2]/", dn: "b", want: "[b]"},
		// Java's replaceAll also replaces the empty match after the first.
		{rules: "RULE:.*/x/", dn: "CN=a", want: "xx"},
		{rules: "RULE:(.*)/$1@REALM/", dn: "CN=a", want: "CN=a@REALM@REALM"},
		{rules: "RULE:^(.*)$/$1@REALM/", dn: "CN=a", want: "CN=a@REALM"},
		// Kafka computes escape positions on the original replacement but
		// inserts into the edited one: "$3$4" with one group becomes
		// "\$\3$4", and "$4" makes Java throw.
		{rules: "RULE:^CN=(.*)$/$3$4/", dn: "CN=a", wantErr: "No group 4"},
		{rules: "RULE:^CN=(.*)$/$1$/", dn: "CN=a", wantErr: "group index is missing"},
		{rules: "RULE:^CN=(.*)$/$a/", dn: "CN=a", wantErr: "Illegal group reference"},
		{rules: "RULE:^CN=(.*)$/${x}/", dn: "CN=a", wantErr: "No group with name {x}"},
		{rules: `RULE:^CN=(.*)$/x\/`, dn: "CN=a", wantErr: "unmatched substring"},
		{rules: "RULE:^CN=.*$/$1/", dn: "CN=a", wantErr: "No group 1"},
		{rules: "RULE:^CN=(.*)$/$99999999999/", dn: "CN=a", wantErr: "NumberFormatException"},
	} {
		m, err := ParseRules(tc.rules)
		if err == nil {
			var got string
			got, err = m.Map(tc.dn)
			if err == nil {
				if tc.wantErr != "" {
					t.Errorf("rules %q: Map(%q) = %q, want an error containing %q", tc.rules, tc.dn, got, tc.wantErr)
				} else if got != tc.want {
					t.Errorf("rules %q: Map(%q) = %q, want %q", tc.rules, tc.dn, got, tc.want)
				}
				continue
			}
		}
		if tc.wantErr == "" || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("rules %q, DN %q: error %v, want %q / %q", tc.rules, tc.dn, err, tc.want, tc.wantErr)
		}
		if errors.Is(err, ErrNoRule) {
			t.Errorf("rules %q: a rule Java cannot apply must not look like a missing rule: %v", tc.rules, err)
		}
	}
}

func TestRuleKafkaEscapeBackRefs(t *testing.T) {
	for _, tc := range []struct {
		repl   string
		groups int
		want   string
	}{
		{"$1", 0, "$1"},
		{"$1@$2", 2, "$1@$2"},
		{"$1@$4", 3, `$1@\$4`},
		{"$123", 12, "$123"},
		{"$123", 2, "$123"}, // 123 -> 12 -> 1: group 1 exists
		{"$9", 2, `\$9`},
		{"$05", 1, "$05"},
		{"$3$4", 1, `\$\3$4`}, // Kafka's index drift
		{"é$2", 1, `é\$2`},
		{"😀$2x$3", 1, `😀\$2\x$3`}, // UTF-16 indices, drift included
	} {
		got, err := ruleKafkaEscapeBackRefs(tc.repl, tc.groups)
		if err != nil || got != tc.want {
			t.Errorf("ruleKafkaEscapeBackRefs(%q, %d) = %q, %v; want %q", tc.repl, tc.groups, got, err, tc.want)
		}
	}
}

func TestPrincipalMapperCase(t *testing.T) {
	for _, tc := range []struct{ rules, dn, want string }{
		{"RULE:^CN=([^,]+),.*$/$1/U", "CN=Groß,O=x", "GROSS"},
		{"RULE:^CN=([^,]+),.*$/$1/U", "CN=ﬁx,O=x", "FIX"},
		{"RULE:^CN=([^,]+),.*$/$1/U", "CN=straße,O=x", "STRASSE"},
		{"RULE:^CN=([^,]+),.*$/$1/L", "CN=ΟΔΟΣ,O=x", "οδος"},
		{"RULE:^(.*)$/$1/L", "CN=ΟΔΟΣ,O=ΣΑ", "cn=οδος,o=σα"},
		{"RULE:^CN=([^,]+),.*$/$1/L", "CN=İz,O=x", "i\u0307z"},
		{"RULE:^CN=([^,]+),.*$/$1/L", "CN=Jürgen,O=x", "jürgen"},
		// Java's (?i) is ASCII-only: the Kelvin sign is no 'k'.
		{"RULE:(?i)^cn=([a-z]+),.*$/$1/L, DEFAULT", "CN=Kim,O=x", "kim"},
		{"RULE:(?i)^cn=k.*$/matched/, DEFAULT", "CN=\u212Aim", "CN=\u212Aim"},
	} {
		m, err := ParseRules(tc.rules)
		if err != nil {
			t.Fatalf("ParseRules(%q): %v", tc.rules, err)
		}
		if got, err := m.Map(tc.dn); err != nil || got != tc.want {
			t.Errorf("rules %q: Map(%q) = %q, %v; want %q", tc.rules, tc.dn, got, err, tc.want)
		}
	}
}

func dnTestCert(t *testing.T, dn string) *x509.Certificate {
	t.Helper()
	subject, err := ParseDN(dn)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestPrincipalOfCertificate(t *testing.T) {
	cert := dnTestCert(t, "CN=client1.kafka.lydtechconsulting.com, OU=TEST, O=LYDTECH, L=London, S=LN, C=UK")
	const dn = "CN=client1.kafka.lydtechconsulting.com,OU=TEST,O=LYDTECH,L=London,ST=LN,C=UK"
	if got, err := OfCert(cert); err != nil || got != "User:"+dn {
		t.Errorf("Principal = %q, %v; want %q", got, err, "User:"+dn)
	}
	if got, err := Mapped(cert, nil); err != nil || got != "User:"+dn {
		t.Errorf("Mapped(nil mapper) = %q, %v", got, err)
	}
	m, err := ParseRules("RULE:^CN=([^.]+)\\..*,OU=TEST,.*$/$1/U,DEFAULT")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Mapped(cert, m); err != nil || got != "User:CLIENT1" {
		t.Errorf("KafkaPrincipal = %q, %v; want User:CLIENT1", got, err)
	}
	m, _ = ParseRules("RULE:^CN=admin$/admin/")
	if _, err := Mapped(cert, m); !errors.Is(err, ErrNoRule) {
		t.Errorf("KafkaPrincipal without a matching rule: %v, want ErrNoRule", err)
	}
}

// ruleRegexCases are pattern/replacement/case triples run through both
// java.util.regex (String.replaceAll + toLowerCase/toUpperCase) and the Go
// translation.
var ruleRegexCases = []struct {
	pattern, replacement, flag string
	inputs                     []string
}{
	{"^CN=(.*?),OU=ServiceUsers.*$", "$1", "L", []string{"CN=Duke,OU=ServiceUsers,O=Org,C=US", "CN=x,OU=Other"}},
	{"^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$", "$1@$2", "L", []string{"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US"}},
	{"^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$", "$1@$2", "U", []string{"cn=duke,ou=sme,dc=mycp,dc=com"}},
	{"^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$", "$1", "U", []string{"cN=duke,OU=JavaSoft,O=Sun Microsystems", "OU=JavaSoft,O=Sun Microsystems,C=US"}},
	{`^CN=((\\, *|\w)+)(,.*|$)`, "$1", "", []string{`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`}},
	{".*", "x", "", []string{"CN=a", ""}},
	{"(.*)", "$1@x", "", []string{"CN=a"}},
	{"^(.*)$", "[$1]", "", []string{"CN=a"}},
	{"a|", "-", "", []string{"a"}},
	{"|a", "-", "", []string{"a"}},
	{"a*", "-", "", []string{"aaa", ""}},
	{`x*`, "y", "", []string{""}},
	{"(?i)^cn=([a-z]+).*$", "$1", "", []string{"CN=Bob,O=x", "cn=bob", "CN=\u212Aa", "CN=ſ"}},
	{"(?i)[a-c]+", "Z", "", []string{"ABC", "abc", "ǅ"}},
	{"(?i)[^a-c]+", "Z", "", []string{"ABC", "xyz"}},
	{"(?i:é)+", "Z", "", []string{"é", "É"}},
	{`\s+`, "_", "", []string{" \x0b\t", "\u00a0"}},
	{`\S+`, "_", "", []string{"ab", "a\x0bb"}},
	{`[\s,]+`, "_", "", []string{" ,\x0b"}},
	{`\h+`, "_", "", []string{" \u00a0\u3000", "\n"}},
	{`\v+`, "_", "", []string{"\n\u2028\x0b", " "}},
	{"CN=(.)", "$1x", "", []string{"CN=a"}},
	{"CN=(.)(.)", "$12", "", []string{"CN=ab"}},
	{"CN=(?<n>[a-z]+)", "${n}!", "", []string{"CN=ab"}},
	{"CN=([^,]+),.*", `\$$1`, "", []string{"CN=bob,O=x"}},
	{"CN=([^,]+),.*", "$1", "U", []string{"CN=Groß,O=x", "CN=ﬁx,O=x", "CN=ŉ ǰ ΐ,O=x"}},
	{"CN=([^,]+),.*", "$1", "L", []string{"CN=ΟΔΟΣ,O=x", "CN=İz,O=x", "CN=ΑΣ.Β,O=x", "CN=ΑΣ-Β,O=x", "CN=Α:Σ,O=x",
		"CN=ΑΣ Β,O=x", "CN=1Σ,O=x", "CN=ΑΣ1Β,O=x", "CN=Σ,O=x", "CN=ΑΣ\u0301Β,O=x", "CN=ΑΣ\u00adΒ,O=x"}},
	{"(.*)", "$1", "L", []string{"CN=ΟΔΟΣ,O=ΣΑ", "CN=ΑΣ'Β", "CN=Α'Σ", "CN=ΑΣ_1", "CN=ΑΣ.", "ΑΣ..Β"}},
	{"CN=(.*)", "$1", "", []string{"CN=a\rb", "CN=a\nb", "CN=a\u2028b", "CN=a\u0085b"}},
	{"(?s)CN=(.*)", "$1", "", []string{"CN=a\rb", "CN=a\nb"}},
	{"(?s:.)(.)", "$1", "", []string{"\nb"}},
	{`\p{Lu}+`, "U", "", []string{"ÄB", "äb"}},
	{`\p{Alpha}+`, "A", "", []string{"ab", "äb"}},
	{`[\p{Lower}\d]+`, "L", "", []string{"a1", "A1"}},
	{`\P{L}+`, "N", "", []string{"12", "a"}},
	{`\p{IsGreek}+`, "G", "", []string{"αβ", "ab"}},
	{`\p{IsLu}\pL`, "G", "", []string{"Ab"}},
	{`\Q.*\E`, "q", "", []string{".*", "ab"}},
	{`[\Q]\E-]+`, "q", "", []string{"]-", "a"}},
	{`\x41\u0042\0103\x{44}\t`, "ok", "", []string{"ABCD\t"}},
	{`\cA`, "ok", "", []string{"\x01"}},
	{"a{2}", "b", "", []string{"aa", "a"}},
	{"a{2,}?", "b", "", []string{"aaa"}},
	{"a{1,2}b", "c", "", []string{"aab"}},
	{`\bx\b.`, "w", "", []string{"x "}},
	{`.\B.`, "w", "", []string{"ab", "a "}},
	{`\Aab\z`, "w", "", []string{"ab"}},
	{"(a)|b", "[$1]", "", []string{"b", "a"}},
	{"(?m)^a$", "x", "", []string{"a"}},
	{"[]a]+", "x", "", []string{"]a"}},
	{"[^]a]+", "x", "", []string{"bc", "a"}},
	{"[a-]+", "x", "", []string{"a-"}},
	{`[\w.-]+@[\w.-]+`, "mail", "", []string{"a.b@c-d.e"}},
	{`\/`, "slash", "", []string{"/"}},
	{"(?i)a(?-i)b", "x", "", []string{"Ab", "AB"}},
	{"((?i)a)b", "x", "", []string{"Ab", "AB"}},
	{"a(?i)b|c", "x", "", []string{"aB", "C"}},
	// Replacements Java rejects (the pattern matches, so replaceAll runs).
	{"CN=(.*)", "$2", "", []string{"CN=a"}},
	{"CN=(.*)", "x$", "", []string{"CN=a"}},
	{"CN=(.*)", `x\`, "", []string{"CN=a"}},
	{"CN=(.*)", "$a", "", []string{"CN=a"}},
	{"CN=(.*)", "${}", "", []string{"CN=a"}},
	{"CN=(.*)", "${n", "", []string{"CN=a"}},
	{"CN=(.*)", "${1n}", "", []string{"CN=a"}},
	{"CN=(?<n>.*)", "${m}", "", []string{"CN=a"}},
	// A bad replacement does not matter when nothing matches.
	{"CN=(.*)", "$2", "", []string{"O=a"}},
	// Patterns Java rejects.
	{"a{", "x", "", []string{"a{"}},
	{"x{,2}", "x", "", []string{"x"}},
	{"(a", "x", "", []string{"a"}},
	{"a)", "x", "", []string{"a"}},
	{`\q`, "x", "", []string{"q"}},
	{"[b-a]", "x", "", []string{"a"}},
}

// ruleGoReplaceAll is what the Java -regex oracle computes, done in Go:
// "NOMATCH", the hex of the result, or "ERROR" when Java would throw.
func ruleGoReplaceAll(pattern, replacement, flag, input string) string {
	rx, err := ruleCompile(pattern)
	if err != nil {
		return "ERROR " + err.Error()
	}
	if !rx.full.MatchString(input) {
		return "NOMATCH"
	}
	pieces, err := rx.parseReplacement(replacement)
	if err != nil {
		return "ERROR " + err.Error()
	}
	out := rx.replaceAll(input, pieces)
	switch flag {
	case "L":
		out = ruleJavaLower(out)
	case "U":
		out = ruleJavaUpper(out)
	}
	return hex.EncodeToString([]byte(out))
}

func TestRuleRegexRealPeer(t *testing.T) {
	classes := realpeer.JavaClasses(t)
	args := []string{"-cp", classes, "X500Name", "-regex"}
	type probe struct{ pattern, replacement, flag, input string }
	var probes []probe
	for _, c := range ruleRegexCases {
		args = append(args, c.pattern, c.replacement, c.flag, strconv.Itoa(len(c.inputs)))
		for _, in := range c.inputs {
			args = append(args, in)
			probes = append(probes, probe{c.pattern, c.replacement, c.flag, in})
		}
	}
	out, err := exec.Command("java", args...).Output()
	if err != nil {
		t.Fatalf("java X500Name -regex: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(probes) {
		t.Fatalf("java printed %d lines for %d inputs:\n%s", len(lines), len(probes), out)
	}
	for i, p := range probes {
		java := lines[i]
		got := ruleGoReplaceAll(p.pattern, p.replacement, p.flag, p.input)
		javaErr, goErr := strings.HasPrefix(java, "ERROR "), strings.HasPrefix(got, "ERROR ")
		if javaErr || goErr {
			// Replacement errors carry Java's exception text; pattern
			// errors only need to agree that the pattern is bad.
			if javaErr != goErr || strings.HasPrefix(got, "ERROR java.") && got != java {
				t.Errorf("pattern %q replacement %q input %q: Java %s, Go %s", p.pattern, p.replacement, p.input, java, got)
			}
			continue
		}
		if got != java {
			jb, _ := hex.DecodeString(java)
			gb, _ := hex.DecodeString(got)
			t.Errorf("pattern %q replacement %q flag %q input %q: Go %q, Java %q (%s)", p.pattern, p.replacement, p.flag, p.input, gb, jb, java)
		}
	}
}
