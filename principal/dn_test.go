package principal

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// dnRoundTrips are DNs as users type them and what Java's
// X500Principal.getName() prints for the Name ParseDN builds from them
// (checked against the JDK by TestJavaNameRealPeer).
var dnRoundTrips = []struct{ in, want string }{
	// The Lydtech keytool example: spaces after commas dropped, S prints ST.
	{"CN=client1.kafka.lydtechconsulting.com, OU=TEST, O=LYDTECH, L=London, S=LN, C=UK",
		"CN=client1.kafka.lydtechconsulting.com,OU=TEST,O=LYDTECH,L=London,ST=LN,C=UK"},
	{`CN=Tkac\, Adam,OU=ITZ,O=X`, `CN=Tkac\, Adam,OU=ITZ,O=X`},
	{`CN=a\+b,O=X`, `CN=a\+b,O=X`},
	{"CN=a,OU=x,OU=y,O=z", "CN=a,OU=x,OU=y,O=z"},
	{"CN=a+UID=b,O=z", "CN=a+UID=b,O=z"},
	// DER sorts a SET OF, so a multi-valued RDN prints in encoding order
	// (keytool -dname "UID=b+CN=a" gives the same).
	{"UID=b+CN=a,O=z", "CN=a+UID=b,O=z"},
	{"CN=Jürgen,O=Bücher", "CN=Jürgen,O=Bücher"},
	{"CN=山田太郎,O=例え", "CN=山田太郎,O=例え"},
	{"UID=jdoe,DC=example,DC=com", "UID=jdoe,DC=example,DC=com"},
	{"CN=a,SERIALNUMBER=1234", "CN=a,2.5.4.5=#130431323334"},
	{"CN=a,EMAILADDRESS=a@b.c", "CN=a,1.2.840.113549.1.9.1=#1605614062" + "2e63"},
	{"CN=a,emailAddress=a@b.c", "CN=a,1.2.840.113549.1.9.1=#16056140622e63"},
	{`CN=\ lead,O=trail\ `, `CN=\ lead,O=trail\ `},
	{`CN=\ \ two,O=x`, `CN=\ \ two,O=x`},
	{`CN=a\=b\#c,O=\#x`, `CN=a\=b\#c,O=\#x`},
	{"CN=x#y=z", `CN=x\#y\=z`},
	{`CN="Doe, John",O=x`, `CN=Doe\, John,O=x`},
	{`CN=" padded ",O=x`, `CN=\ padded\ ,O=x`},
	{"cn=a,ou=b,o=c,l=d,st=e,c=FR", "CN=a,OU=b,O=c,L=d,ST=e,C=FR"},
	{"CN=a;O=b", "CN=a,O=b"},
	{"OID.2.5.4.3=x,2.5.4.10=y", "CN=x,O=y"},
	{"CN=#0c03616263", "CN=abc"},
	{"1.2.3.4=foo", "1.2.3.4=#1303666f6f"},
	{"STREET=1 Main St,T=Dr", "STREET=1 Main St,2.5.4.12=#13024472"},
	{"GIVENNAME=Ann,SURNAME=Lee", "2.5.4.42=#1303416e6e,2.5.4.4=#13034c6565"},
	{`CN=\C3\BCber`, "CN=über"},
	{`CN=a\\b`, `CN=a\\b`},
	{`CN=\<x\>\;`, `CN=\<x\>\;`},
	{`CN=a\"b`, `CN=a\"b`},
	{`CN=\00x`, `CN=\00x`},
	{"CN=a  b", "CN=a  b"},
	{"CN=a_b*c&d@e", "CN=a_b*c&d@e"},
	{"C=uk", "C=uk"},
	{"  CN = spaced  ,  O = out  ", "CN=spaced,O=out"},
	{"CN=1.2.840.113549.1.9.1=x", `CN=1.2.840.113549.1.9.1\=x`},
}

func TestParseDNRoundTrip(t *testing.T) {
	for _, tc := range dnRoundTrips {
		der, err := ParseDN(tc.in)
		if err != nil {
			t.Errorf("ParseDN(%q): %v", tc.in, err)
			continue
		}
		got, err := JavaName(der)
		if err != nil {
			t.Errorf("JavaName(ParseDN(%q)): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("JavaName(ParseDN(%q)) = %q, want %q", tc.in, got, tc.want)
		}
		// What Java prints parses back to the same Name (a "#hex" value may
		// come back as text and so with another tag).
		der2, err := ParseDN(got)
		if err != nil {
			t.Errorf("ParseDN(%q) (Java's output): %v", got, err)
		} else if !bytes.Equal(der, der2) && !strings.Contains(tc.in, "=#") {
			t.Errorf("ParseDN(JavaName(ParseDN(%q))) differs:\n %x\n %x", tc.in, der, der2)
		}
	}
}

// dnValueTags returns the ASN.1 tag of each value in DER order.
func dnValueTags(t *testing.T, der []byte) []int {
	t.Helper()
	var seq []dnRDNSET
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) != 0 {
		t.Fatalf("unmarshal %x: %v (rest %d)", der, err, len(rest))
	}
	var tags []int
	for _, rdn := range seq {
		for _, ava := range rdn {
			tags = append(tags, ava.Value.Tag)
		}
	}
	return tags
}

func TestParseDNStringTypes(t *testing.T) {
	const (
		p = asn1.TagPrintableString
		u = asn1.TagUTF8String
		i = asn1.TagIA5String
	)
	for _, tc := range []struct {
		in   string
		tags []int // DER order (reverse of the string)
	}{
		{"CN=plain,C=GB", []int{p, p}},
		{"CN=Jürgen,O=a_b", []int{u, u}},
		{"DC=com,UID=x", []int{p, i}},
		{"EMAILADDRESS=a@b.c", []int{i}},
		{"SERIALNUMBER=A-1", []int{p}},
		{"CN=#1e020041", []int{asn1.TagBMPString}},
	} {
		der, err := ParseDN(tc.in)
		if err != nil {
			t.Fatalf("ParseDN(%q): %v", tc.in, err)
		}
		got := dnValueTags(t, der)
		if len(got) != len(tc.tags) {
			t.Fatalf("ParseDN(%q): tags %v, want %v", tc.in, got, tc.tags)
		}
		for k := range got {
			if got[k] != tc.tags[k] {
				t.Errorf("ParseDN(%q): tags %v, want %v", tc.in, got, tc.tags)
				break
			}
		}
	}
}

// Multiple OUs must stay separate RDNs in reverse order (pkix.Name would
// merge them into one multi-valued RDN).
func TestParseDNKeepsSeparateRDNs(t *testing.T) {
	der, err := ParseDN("CN=a,OU=x,OU=y,O=z")
	if err != nil {
		t.Fatal(err)
	}
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rdn := range seq {
		if len(rdn) != 1 {
			t.Fatalf("RDN %v has %d AVAs, want 1", rdn, len(rdn))
		}
		got = append(got, rdn[0].Type.String()+"="+rdn[0].Value.(string))
	}
	want := "2.5.4.10=z 2.5.4.11=y 2.5.4.11=x 2.5.4.3=a"
	if strings.Join(got, " ") != want {
		t.Errorf("DER order %q, want %q", strings.Join(got, " "), want)
	}
}

func TestParseDNErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "dn: empty distinguished name"},
		{"   ", "dn: empty distinguished name"},
		{"CN", `dn: attribute 1 "CN": missing "="`},
		{"CN=a,XX=1", `dn: attribute 2 "XX=1": unknown attribute type XX`},
		{"CN=a+OU=b,XX=1", `dn: attribute 3 "XX=1": unknown attribute type XX`},
		{"C=UKX", `dn: attribute 1 "C=UKX": country must be a two-letter code`},
		{"C=U1", "country must be a two-letter code"},
		{`CN=a\`, `dangling "\"`},
		{`CN=a\q`, `invalid escape "\q"`},
		{"CN=a,", `dn: attribute 2 "": empty attribute`},
		{"CN=a,,O=b", `dn: attribute 2 "": empty attribute`},
		{"CN=", "empty value"},
		{"CN=  ", "empty value"},
		{"=a", `missing attribute type`},
		{`CN="abc`, "unterminated quoted value"},
		{`CN="a"b`, `unexpected "b" after the closing quote`},
		{`CN=a"b`, `unescaped '"'`},
		{"DC=exämple", "DC must be ASCII"},
		{"SERIALNUMBER=12_3", "SERIALNUMBER must be a PrintableString"},
		{`CN=\C3`, "not valid UTF-8"},
		{"CN=#zz", `"#" must be followed by the hex`},
		{"CN=#020101", "tag 2, not a string type"},
		{"CN=#0c0161ff", "trailing bytes"},
		{"CN=#1302615f", "invalid for its ASN.1 tag 19"},
		{"3.1=x", "invalid OID 3.1"},
		{"OID.x=1", "unknown attribute type OID.x"},
	} {
		_, err := ParseDN(tc.in)
		if err == nil {
			t.Errorf("ParseDN(%q) succeeded, want error containing %q", tc.in, tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseDN(%q) error %q, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// Names built by Go's pkix.Name, which orders attributes its own way and
// merges repeated ones into one multi-valued RDN.
func TestJavaNameStdlibNames(t *testing.T) {
	names := map[string]pkix.Name{
		"CN=svc,OU=a+OU=b,O=Org,C=US": {CommonName: "svc", OrganizationalUnit: []string{"b", "a"},
			Organization: []string{"Org"}, Country: []string{"US"}},
		`2.5.4.5=#130135,CN=Tkac\, Adam,OU=ITZ,L=Zürich,ST=ZH`: {CommonName: "Tkac, Adam", SerialNumber: "5",
			OrganizationalUnit: []string{"ITZ"}, Locality: []string{"Zürich"}, Province: []string{"ZH"}},
		`1.2.840.113549.1.9.1=#0c03614062,UID=u1,DC=example,DC=org`: {ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "org"},
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "example"},
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "u1"},
			{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "a@b"},
		}},
	}
	for want, n := range names {
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		got, err := JavaName(der)
		if err != nil {
			t.Fatalf("JavaName(%s): %v", want, err)
		}
		if got != want {
			t.Errorf("JavaName(%v) = %q, want %q", n, got, want)
		}
	}
}

// dnTLV, dnAVAOf and friends hand-build DER for names ParseDN refuses to make.
func dnTLV(tag byte, content ...[]byte) []byte {
	b := bytes.Join(content, nil)
	var l []byte
	switch n := len(b); {
	case n < 0x80:
		l = []byte{byte(n)}
	case n < 0x100:
		l = []byte{0x81, byte(n)}
	default:
		l = []byte{0x82, byte(n >> 8), byte(n)}
	}
	return append(append([]byte{tag}, l...), b...)
}

var dnCNType = []byte{0x06, 0x03, 0x55, 0x04, 0x03}

func dnCN(tag byte, value []byte) []byte {
	return dnTLV(0x31, dnTLV(0x30, dnCNType, dnTLV(tag, value)))
}

func dnName(rdns ...[]byte) []byte { return dnTLV(0x30, rdns...) }

// dnEdgeNames are Names with value types and bytes Java handles in
// surprising ways, with what JDK 17 prints for them.
var dnEdgeNames = []struct {
	der  []byte
	want string // "" with err set means Java rejects it
	err  bool
	// legacy is what JDKs before 17.0.21 print instead of want (they
	// decoded every string tag as UTF-8).
	legacy string
}{
	{der: dnName(dnCN(0x1e, []byte{0, 'A', 0, 0xe9})), want: "CN=Aé", legacy: "CN=\\00A\\00\uFFFD"}, // BMPString: UTF-16BE
	{der: dnName(dnCN(0x1e, []byte{0, 'A', 0})), want: "CN=A\uFFFD"},                                // odd length
	{der: dnName(dnCN(0x14, []byte("T61\xe9"))), want: "CN=T61é", legacy: "CN=T61\uFFFD"},           // T61String: ISO-8859-1
	{der: dnName(dnCN(0x1c, []byte{0, 0, 0, 'A'})), want: "CN=#1c0400000041"},                       // UniversalString: hex
	{der: dnName(dnCN(0x1a, []byte("vis"))), want: "CN=#1a03766973"},                                // VisibleString: hex
	{der: dnName(dnCN(0x12, []byte("12"))), want: "CN=#12023132"},                                   // NumericString: hex
	{der: dnName(dnCN(0x1b, []byte("gen"))), want: "CN=gen"},                                        // GeneralString: text
	{der: dnName(dnCN(0x02, []byte{1})), want: "CN=#020101"},                                        // INTEGER
	{der: dnName(dnCN(0x93, []byte("ab"))), want: "CN=#93026162"},                                   // context-specific
	{der: dnName(dnCN(0x2c, dnTLV(0x0c, []byte("a")))), want: "CN=#2c030c0161"},                     // constructed UTF8String
	{der: dnName(dnCN(0x0c, []byte("a\xe2\x82b"))), want: "CN=a\uFFFDb"},
	{der: dnName(dnCN(0x0c, []byte("\xed\xa0\x80x"))), want: "CN=\uFFFDx"},
	{der: dnName(dnCN(0x0c, []byte("\xed\xa0x"))), want: "CN=\uFFFDx"},
	{der: dnName(dnCN(0x0c, []byte("\xf4\x90\x80\x80x"))), want: "CN=\uFFFD\uFFFD\uFFFD\uFFFDx"},
	{der: dnName(dnCN(0x0c, []byte("\xc0\xafx"))), want: "CN=\uFFFD\uFFFDx"},
	{der: dnName(dnCN(0x0c, []byte("x\xf0\x9f\x98"))), want: "CN=x\uFFFD"},
	{der: dnName(dnCN(0x0c, []byte(" \r a \r "))), want: "CN=\\ \\\r\\ a\\ \\\r\\ "},
	{der: dnName(dnCN(0x0c, []byte("\x00a\nb\tc"))), want: "CN=\\00a\nb\tc"},
	{der: dnName(dnCN(0x0c, []byte(`a\b"c<d>e;f#g=h+i,j`))), want: `CN=a\\b\"c\<d\>e\;f\#g\=h\+i\,j`},
	{der: dnName(dnCN(0x0c, nil)), want: "CN="},
	{der: dnName(dnCN(0x0c, []byte("  "))), want: `CN=\ \ `},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, []byte{0x06, 0x02, 0x88, 0x37}, dnTLV(0x0c, []byte("a"))))), want: "2.999=#0c0161"},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, []byte{0x06, 0x0b, 0x2a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
		dnTLV(0x0c, []byte("a"))))), want: "1.2.9223372036854775808=#0c0161"},
	{der: dnName(dnCN(0x0c, []byte("a")), dnTLV(0x31)), want: ",CN=a"}, // an empty RDN prints as nothing
	{der: dnName(), want: ""},
	{der: append(dnName(dnCN(0x0c, []byte("a"))), 0), want: "CN=a"}, // trailing bytes ignored
	{der: dnName(dnTLV(0x31, dnTLV(0x30, []byte{0x06, 0x03, 0x2a, 0x80, 0x01}, dnTLV(0x0c, []byte("a"))))), err: true},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, []byte{0x06, 0x00}, dnTLV(0x0c, []byte("a"))))), err: true},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, dnCNType))), err: true},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, dnCNType, dnTLV(0x0c, []byte("a")), dnTLV(0x0c, []byte("b"))))), err: true},
	{der: dnTLV(0x31, dnCN(0x0c, []byte("a"))), err: true},
	{der: dnTLV(0x30, dnTLV(0x30, dnTLV(0x30, dnCNType, dnTLV(0x0c, []byte("a"))))), err: true},
	{der: dnName(dnTLV(0x31, dnTLV(0x30, dnCNType, []byte{0x1f, 0x1f, 0x01, 'a'}))), err: true},
}

func TestJavaNameEdgeCases(t *testing.T) {
	for _, tc := range dnEdgeNames {
		got, err := JavaName(tc.der)
		switch {
		case tc.err && err == nil:
			t.Errorf("JavaName(%x) = %q, want an error", tc.der, got)
		case !tc.err && err != nil:
			t.Errorf("JavaName(%x): %v", tc.der, err)
		case got != tc.want:
			t.Errorf("JavaName(%x) = %q, want %q", tc.der, got, tc.want)
		}
	}
}

// dnRandomValues returns UTF8String values with random (mostly malformed)
// bytes, to pin the UTF-8 decoding and escaping to Java's.
func dnRandomValues(n int) [][]byte {
	rng := rand.New(rand.NewSource(4514))
	alphabet := []byte("a ,=+<>#;\"\\\x00\r\n\x80\xbf\xc0\xc2\xdf\xe0\xa0\xed\xef\xf0\x90\xf4\x8f\xf5\xff")
	out := make([][]byte, n)
	for i := range out {
		v := make([]byte, rng.Intn(8))
		for k := range v {
			v[k] = alphabet[rng.Intn(len(alphabet))]
		}
		out[i] = v
	}
	return out
}

// TestJavaNameRealPeer runs the JDK's X500Principal.getName() on every Name
// the other tests use and checks JavaName prints the same.
func TestJavaNameRealPeer(t *testing.T) {
	classes := realpeer.JavaClasses(t)
	type probe struct {
		what   string
		der    []byte
		want   string // expected string when known
		legacy string // what JDKs before 17.0.21 print instead
	}
	var probes []probe
	for _, tc := range dnRoundTrips {
		der, err := ParseDN(tc.in)
		if err != nil {
			t.Fatalf("ParseDN(%q): %v", tc.in, err)
		}
		probes = append(probes, probe{"ParseDN " + tc.in, der, tc.want, ""})
	}
	for want, n := range map[string]pkix.Name{
		"CN=svc,OU=a+OU=b,O=Org,C=US": {CommonName: "svc", OrganizationalUnit: []string{"b", "a"},
			Organization: []string{"Org"}, Country: []string{"US"}},
		"1.3.6.1.4.1.99999.1=#1303782b79,CN=extra": {CommonName: "extra", ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: "x+y"}}},
	} {
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{"pkix " + want, der, want, ""})
	}
	for _, tc := range dnEdgeNames {
		probes = append(probes, probe{"edge " + hex.EncodeToString(tc.der), tc.der, tc.want, tc.legacy})
	}
	for _, v := range dnRandomValues(300) {
		probes = append(probes, probe{"random " + hex.EncodeToString(v), dnName(dnCN(0x0c, v)), "", ""})
	}
	args := []string{"-cp", classes, "X500Name", "-x"}
	for _, p := range probes {
		args = append(args, hex.EncodeToString(p.der))
	}
	out, err := exec.Command("java", args...).Output()
	if err != nil {
		t.Fatalf("java X500Name: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(probes) {
		t.Fatalf("java printed %d lines for %d names:\n%s", len(lines), len(probes), out)
	}
	for i, p := range probes {
		got, goErr := JavaName(p.der)
		if strings.HasPrefix(lines[i], "ERROR ") {
			if goErr == nil {
				t.Errorf("%s: Java rejects it (%s), JavaName gives %q", p.what, lines[i], got)
			}
			continue
		}
		javaBytes, err := hex.DecodeString(lines[i])
		if err != nil {
			t.Fatalf("bad java output line %q", lines[i])
		}
		java := string(javaBytes)
		if p.legacy != "" && java == p.legacy {
			t.Logf("%s: this JDK prints the pre-17.0.21 form %q; JavaName follows current JDKs (%q)", p.what, java, got)
			continue
		}
		if goErr != nil {
			t.Errorf("%s: JavaName: %v; Java prints %q", p.what, goErr, java)
			continue
		}
		if got != java {
			t.Errorf("%s: JavaName = %q, Java prints %q", p.what, got, java)
		}
		if p.want != "" && java != p.want {
			t.Errorf("%s: Java prints %q, the test expects %q", p.what, java, p.want)
		}
	}
}

// Found by FuzzParseDN: a hex-given C or DC must meet the typed-text rules,
// since Java prints those attributes by keyword and the principal must
// parse back.
func TestParseDNHexValuesOfKeywordAttributes(t *testing.T) {
	for _, in := range []string{"C=#0C03000000", "C=#130455534131", "DC=#0c02c3a9"} {
		if _, err := ParseDN(in); err == nil {
			t.Errorf("ParseDN(%q) accepted a value Java would print unparseably", in)
		}
	}
	if _, err := ParseDN("C=#13024742"); err != nil { // PrintableString "GB"
		t.Errorf("ParseDN(C=#13024742): %v", err)
	}
}
