package principal

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file turns the DN a user types into the DER Name of a certificate and
// a DER Name back into the string Java (and so Kafka and ZooKeeper) uses as
// the principal. Facts checked with JDK 17 (X500Principal.getName()):
//
//   - RDNs print in reverse DER order joined by ",", the AVAs of a
//     multi-valued RDN in stored order joined by "+".
//   - Only CN C L ST O OU STREET DC UID have keywords; every other attribute
//     prints as its dotted OID and "#" + lowercase hex of the DER value.
//   - A value prints as text only when its tag is PrintableString, T61String,
//     IA5String, GeneralString, BMPString or UTF8String (VisibleString,
//     NumericString, UniversalString... print as hex). JDK 17.0.21 decodes a
//     BMPString as UTF-16BE and a T61String as ISO-8859-1, the others as
//     UTF-8 (malformed UTF-8 becomes U+FFFD); JDK 17.0.15 decoded every tag
//     as UTF-8, printing a non-ASCII BMPString or T61String garbled.
//   - Escaping: a backslash before each of , = + < > # ; " \ anywhere, NUL as
//     \00, and a backslash before each leading and trailing space or CR.
//     Every other character (control characters, non-ASCII) prints raw.

// dnKind says how ParseDN encodes a value typed for an attribute.
type dnKind int

const (
	dnKindDirectory dnKind = iota // PrintableString when the value fits, else UTF8String
	dnKindPrintable               // PrintableString only (serialNumber, dnQualifier)
	dnKindCountry                 // PrintableString, two letters
	dnKindIA5                     // IA5String (domainComponent, emailAddress)
)

type dnAttr struct {
	oid  []byte // DER content of the OBJECT IDENTIFIER
	kind dnKind
}

func dnMustOID(s string) []byte {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	b, err := oid.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

const (
	dnOIDCountry      = "2.5.4.6"
	dnOIDSerialNumber = "2.5.4.5"
	dnOIDDC           = "0.9.2342.19200300.100.1.25"
	dnOIDUID          = "0.9.2342.19200300.100.1.1"
	dnOIDEmail        = "1.2.840.113549.1.9.1"
)

// dnKeywords are the attribute types ParseDN accepts by name (upper case),
// the names keytool -dname and RFC 4514/OpenSSL users type.
var dnKeywords = func() map[string]dnAttr {
	m := map[string]dnAttr{}
	add := func(oid string, kind dnKind, names ...string) {
		a := dnAttr{oid: dnMustOID(oid), kind: kind}
		for _, n := range names {
			m[n] = a
		}
	}
	add("2.5.4.3", dnKindDirectory, "CN")
	add(dnOIDCountry, dnKindCountry, "C")
	add("2.5.4.7", dnKindDirectory, "L")
	add("2.5.4.8", dnKindDirectory, "ST", "S")
	add("2.5.4.10", dnKindDirectory, "O")
	add("2.5.4.11", dnKindDirectory, "OU")
	add("2.5.4.9", dnKindDirectory, "STREET")
	add(dnOIDDC, dnKindIA5, "DC")
	add(dnOIDUID, dnKindDirectory, "UID")
	add(dnOIDSerialNumber, dnKindPrintable, "SERIALNUMBER")
	add(dnOIDEmail, dnKindIA5, "EMAILADDRESS", "EMAIL", "E")
	add("2.5.4.12", dnKindDirectory, "T", "TITLE")
	add("2.5.4.42", dnKindDirectory, "GIVENNAME")
	add("2.5.4.4", dnKindDirectory, "SURNAME")
	add("2.5.4.43", dnKindDirectory, "INITIALS")
	add("2.5.4.44", dnKindDirectory, "GENERATION")
	add("2.5.4.46", dnKindPrintable, "DNQUALIFIER", "DNQ")
	add("2.5.4.17", dnKindDirectory, "POSTALCODE")
	add("2.5.4.65", dnKindDirectory, "PSEUDONYM")
	return m
}()

// dnJavaKeywords are the only attribute types Java's RFC 2253 output names
// by keyword (AVAKeyword entries marked RFC 2253 compliant).
var dnJavaKeywords = map[string]string{
	"2.5.4.3":    "CN",
	dnOIDCountry: "C",
	"2.5.4.7":    "L",
	"2.5.4.8":    "ST",
	"2.5.4.10":   "O",
	"2.5.4.11":   "OU",
	"2.5.4.9":    "STREET",
	dnOIDDC:      "DC",
	dnOIDUID:     "UID",
}

// dnAVA and dnRDNSET mirror pkix.AttributeTypeAndValue and
// pkix.RelativeDistinguishedNameSET but keep the value's tag (and allow OID
// arcs beyond int). encoding/asn1 sorts a SET OF when marshalling, so the
// AVAs of a multi-valued RDN end up in DER order, as keytool writes them.
type dnAVA struct {
	Type  asn1.RawValue
	Value asn1.RawValue
}

type dnRDNSET []dnAVA

// ParseDN parses a DN as users type it for keytool -dname or RFC 4514, e.g.
// "CN=client1,OU=TEST,O=LYDTECH,L=London,S=LN,C=UK", and returns the DER
// encoding of the X.501 Name, built so that Java's X500Principal.getName()
// prints it as typed: the string's left-to-right order is Java's print order,
// which is the reverse of DER order. Each attribute gets its own RDN unless
// joined with '+' (a multi-valued RDN, whose AVAs DER sorts by encoding, so
// Java prints them in that order, as for keytool).
//
// Syntax: ',' (or ';') separates RDNs and '+' AVAs; spaces around them and
// around '=' are ignored. Values may escape any of , + " \ < > ; = # and
// space with a backslash, give bytes as \XX hex pairs (UTF-8), be quoted
// ("a, b"), or be a '#' followed by the hex of a DER string value. Keywords
// are case-insensitive: CN C L ST (alias S) O OU STREET DC UID SERIALNUMBER
// EMAILADDRESS (EMAIL, E) T/TITLE GIVENNAME SURNAME INITIALS GENERATION
// DNQUALIFIER POSTALCODE PSEUDONYM, or a dotted OID (optionally "OID.").
//
// C is a two-letter PrintableString, SERIALNUMBER and DNQUALIFIER
// PrintableStrings, DC and EMAILADDRESS IA5Strings; other values are
// PrintableString when they fit its character set, else UTF8String. Errors
// name the attribute by its position: dn: attribute 3 "XX=1": unknown
// attribute type XX.
func ParseDN(s string) ([]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &DNError{Reason: "empty distinguished name"}
	}
	pieces := dnSplit(s)
	var rdns []dnRDNSET
	var cur dnRDNSET
	for i, p := range pieces {
		ava, err := dnParseAVA(p.text)
		if err != nil {
			return nil, newDNError(i+1, p.text, err)
		}
		cur = append(cur, ava)
		if p.sep != '+' {
			rdns = append(rdns, cur)
			cur = nil
		}
	}
	// The user typed Java's print order; DER order is the reverse.
	seq := make([]dnRDNSET, len(rdns))
	for i, r := range rdns {
		seq[len(rdns)-1-i] = r
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		return nil, fmt.Errorf("dn: encoding: %w", err)
	}
	return der, nil
}

type dnPiece struct {
	text string
	sep  byte // the separator that ended the piece: ',', ';', '+' or 0 at the end
}

// dnSplit cuts s at every separator that is neither escaped nor inside a
// quoted value. A quote only opens a quoted value when it is the first
// non-space character after the first '='.
func dnSplit(s string) []dnPiece {
	var out []dnPiece
	start := 0
	seenEq, valueStarted, quoted := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++ // the escaped byte never separates
			valueStarted = valueStarted || seenEq
		case quoted:
			if c == '"' {
				quoted = false
			}
		case c == ',' || c == ';' || c == '+':
			out = append(out, dnPiece{text: s[start:i], sep: c})
			start = i + 1
			seenEq, valueStarted = false, false
		case !seenEq:
			seenEq = c == '='
		case !valueStarted && c == ' ':
		case !valueStarted:
			valueStarted = true
			quoted = c == '"'
		}
	}
	return append(out, dnPiece{text: s[start:]})
}

func dnParseAVA(text string) (dnAVA, error) {
	eq := strings.IndexByte(text, '=')
	if eq < 0 {
		if strings.TrimSpace(text) == "" {
			return dnAVA{}, errors.New(`empty attribute (stray separator?)`)
		}
		return dnAVA{}, errors.New(`missing "=" (write TYPE=value)`)
	}
	key := strings.TrimSpace(text[:eq])
	if key == "" {
		return dnAVA{}, errors.New(`missing attribute type before "="`)
	}
	oid, kind, err := dnLookupType(key)
	if err != nil {
		return dnAVA{}, err
	}
	typ := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOID, Bytes: oid}
	raw := strings.TrimLeft(text[eq+1:], " ")
	if strings.HasPrefix(raw, "#") {
		v, err := dnParseHexValue(raw[1:])
		if err != nil {
			return dnAVA{}, err
		}
		// Java prints C and DC by keyword with their text, so a value given
		// in hex must meet the same rules as typed text, or the printed
		// principal would not parse back.
		if kind == dnKindCountry || kind == dnKindIA5 {
			var content asn1.RawValue
			if _, err := asn1.Unmarshal(v.FullBytes, &content); err != nil {
				return dnAVA{}, fmt.Errorf("%s: the hex value is not one DER value: %w", key, err)
			}
			if _, err := dnEncodeValue(strings.ToUpper(key), kind, string(content.Bytes)); err != nil {
				return dnAVA{}, err
			}
		}
		return dnAVA{Type: typ, Value: v}, nil
	}
	val, err := dnUnescapeValue(raw)
	if err != nil {
		return dnAVA{}, err
	}
	v, err := dnEncodeValue(strings.ToUpper(key), kind, val)
	if err != nil {
		return dnAVA{}, err
	}
	return dnAVA{Type: typ, Value: v}, nil
}

// dnLookupType resolves a keyword or dotted OID to the OID's DER content.
func dnLookupType(key string) ([]byte, dnKind, error) {
	up := strings.ToUpper(key)
	if a, ok := dnKeywords[up]; ok {
		return a.oid, a.kind, nil
	}
	num := key
	if strings.HasPrefix(up, "OID.") {
		num = key[4:]
	}
	if num != "" && num[0] >= '0' && num[0] <= '9' {
		oid, err := x509.ParseOID(num)
		if err != nil {
			return nil, 0, fmt.Errorf("invalid OID %s", num)
		}
		b, err := oid.MarshalBinary()
		if err != nil {
			return nil, 0, fmt.Errorf("invalid OID %s", num)
		}
		return b, dnKindDirectory, nil
	}
	return nil, 0, fmt.Errorf("unknown attribute type %s", key)
}

// dnParseHexValue decodes the "#hex" form: the DER encoding of one string
// value, kept with its tag. Only string types crypto/x509 can parse back are
// accepted, so certificates built from the Name stay readable by Go.
func dnParseHexValue(h string) (asn1.RawValue, error) {
	h = strings.TrimRight(h, " ")
	der, err := hex.DecodeString(h)
	if err != nil || len(der) == 0 {
		return asn1.RawValue{}, errors.New(`"#" must be followed by the hex of a DER value`)
	}
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("hex value is not DER: %v", err)
	}
	if len(rest) != 0 {
		return asn1.RawValue{}, errors.New("hex value has trailing bytes after the DER value")
	}
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return asn1.RawValue{}, errors.New("hex value must be a primitive universal string type")
	}
	ok := false
	switch v.Tag {
	case asn1.TagUTF8String:
		ok = utf8.Valid(v.Bytes)
	case asn1.TagPrintableString:
		ok = dnIsPrintable(string(v.Bytes))
	case asn1.TagIA5String:
		ok = dnIsASCII(string(v.Bytes))
	case asn1.TagNumericString:
		ok = strings.Trim(string(v.Bytes), "0123456789 ") == ""
	case asn1.TagT61String:
		ok = true
	case asn1.TagBMPString:
		ok = len(v.Bytes)%2 == 0
	default:
		return asn1.RawValue{}, fmt.Errorf("hex value has ASN.1 tag %d, not a string type crypto/x509 can read", v.Tag)
	}
	if !ok {
		return asn1.RawValue{}, fmt.Errorf("hex value's content is invalid for its ASN.1 tag %d", v.Tag)
	}
	return asn1.RawValue{FullBytes: der}, nil
}

// dnUnescapeValue decodes an unquoted or quoted value: escapes resolved,
// unescaped leading and trailing spaces dropped, result valid UTF-8.
func dnUnescapeValue(raw string) (string, error) {
	var out []byte
	keep := 0 // len(out) up to the last character that is not a trailing unescaped space
	i := 0
	quoted := strings.HasPrefix(raw, `"`)
	if quoted {
		i = 1
	}
	closed := false
	for i < len(raw) {
		c := raw[i]
		if quoted && c == '"' {
			closed = true
			i++
			break
		}
		if c == '\\' {
			if i+1 >= len(raw) {
				return "", errors.New(`dangling "\" at the end of the value`)
			}
			d := raw[i+1]
			if i+2 < len(raw) && dnIsHex(d) && dnIsHex(raw[i+2]) {
				b, _ := hex.DecodeString(raw[i+1 : i+3])
				out = append(out, b[0])
				i += 3
			} else if strings.IndexByte(",+\"\\<>;=# \r", d) >= 0 { // Java escapes a leading or trailing CR
				out = append(out, d)
				i += 2
			} else {
				r, _ := utf8.DecodeRuneInString(raw[i+1:])
				return "", fmt.Errorf(`invalid escape "\%c" (escape only , + " \ < > ; = # space, or give \XX hex)`, r)
			}
			keep = len(out)
			continue
		}
		if c == '"' && !quoted {
			return "", errors.New(`unescaped '"' in the value (write \" or quote the whole value)`)
		}
		out = append(out, c)
		i++
		if c != ' ' || quoted {
			keep = len(out)
		}
	}
	if quoted {
		if !closed {
			return "", errors.New("unterminated quoted value")
		}
		if strings.TrimSpace(raw[i:]) != "" {
			return "", fmt.Errorf("unexpected %q after the closing quote", strings.TrimSpace(raw[i:]))
		}
	}
	out = out[:keep]
	if !utf8.Valid(out) {
		return "", errors.New("value is not valid UTF-8 (check the \\XX escapes)")
	}
	return string(out), nil
}

func dnEncodeValue(key string, kind dnKind, v string) (asn1.RawValue, error) {
	if v == "" {
		return asn1.RawValue{}, errors.New("empty value")
	}
	tag := asn1.TagPrintableString
	switch kind {
	case dnKindCountry:
		if len(v) != 2 || !dnIsLetter(v[0]) || !dnIsLetter(v[1]) {
			return asn1.RawValue{}, fmt.Errorf("country must be a two-letter code (ISO 3166), got %q", v)
		}
	case dnKindPrintable:
		if !dnIsPrintable(v) {
			return asn1.RawValue{}, fmt.Errorf("%s must be a PrintableString (letters, digits, space and '()+,-./:=?), got %q", key, v)
		}
	case dnKindIA5:
		if !dnIsASCII(v) {
			return asn1.RawValue{}, fmt.Errorf("%s must be ASCII (IA5String), got %q", key, v)
		}
		tag = asn1.TagIA5String
	default:
		if !dnIsPrintable(v) {
			tag = asn1.TagUTF8String
		}
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(v)}, nil
}

// dnIsPrintableChar reports whether c is in PrintableString's character set
// (the same set as Java's DerValue.isPrintableStringChar).
func dnIsPrintableChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune(` '()+,-./:=?`, c)
}

func dnIsPrintable(s string) bool {
	for _, c := range s {
		if !dnIsPrintableChar(c) {
			return false
		}
	}
	return true
}

func dnIsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func dnIsLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func dnIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// JavaName formats a DER X.501 Name (for example cert.RawSubject) exactly as
// Java's X500Principal.getName() (RFC 2253 format) does; this is the string
// Kafka feeds to ssl.principal.mapping.rules and ZooKeeper uses as the x509
// identity. It rejects BER that Java would tolerate (non-minimal or
// indefinite lengths), which Go never produces nor accepts in certificates;
// like Java it ignores bytes after the Name.
func JavaName(rawName []byte) (string, error) {
	var name asn1.RawValue
	if _, err := asn1.Unmarshal(rawName, &name); err != nil {
		return "", fmt.Errorf("dn: parsing Name: %w", err)
	}
	if name.Class != asn1.ClassUniversal || name.Tag != asn1.TagSequence || !name.IsCompound {
		return "", errors.New("dn: Name is not a SEQUENCE")
	}
	var rdns []string
	for rest := name.Bytes; len(rest) > 0; {
		var set asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &set); err != nil {
			return "", fmt.Errorf("dn: parsing RDN %d: %w", len(rdns)+1, err)
		}
		if set.Class != asn1.ClassUniversal || set.Tag != asn1.TagSet || !set.IsCompound {
			return "", fmt.Errorf("dn: RDN %d is not a SET", len(rdns)+1)
		}
		var avas []string
		for r := set.Bytes; len(r) > 0; {
			var seq asn1.RawValue
			if r, err = asn1.Unmarshal(r, &seq); err != nil {
				return "", fmt.Errorf("dn: parsing RDN %d: %w", len(rdns)+1, err)
			}
			if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
				return "", fmt.Errorf("dn: RDN %d holds a non-SEQUENCE attribute", len(rdns)+1)
			}
			s, err := dnJavaAVA(seq.Bytes)
			if err != nil {
				return "", fmt.Errorf("dn: RDN %d: %w", len(rdns)+1, err)
			}
			avas = append(avas, s)
		}
		rdns = append(rdns, strings.Join(avas, "+"))
	}
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ","), nil
}

func dnJavaAVA(b []byte) (string, error) {
	var typ, val asn1.RawValue
	rest, err := asn1.Unmarshal(b, &typ)
	if err != nil {
		return "", err
	}
	if typ.Class != asn1.ClassUniversal || typ.Tag != asn1.TagOID || typ.IsCompound {
		return "", errors.New("attribute type is not an OBJECT IDENTIFIER")
	}
	var oid x509.OID
	if err := oid.UnmarshalBinary(typ.Bytes); err != nil {
		return "", fmt.Errorf("attribute type: %w", err)
	}
	if rest, err = asn1.Unmarshal(rest, &val); err != nil {
		return "", fmt.Errorf("attribute %s value: %w", oid, err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("attribute %s has data after its value", oid)
	}
	if val.Tag >= 31 {
		// Java's DerValue only handles single-byte tags.
		return "", fmt.Errorf("attribute %s value has a multi-byte tag", oid)
	}
	kw, ok := dnJavaKeywords[oid.String()]
	if !ok || !dnJavaStringTag(val) {
		if !ok {
			kw = oid.String()
		}
		return kw + "=#" + hex.EncodeToString(val.FullBytes), nil
	}
	return kw + "=" + dnJavaEscape(dnJavaDecode(val)), nil
}

// dnJavaDecode decodes a string value as current JDKs do: a BMPString as
// UTF-16BE, a T61String as ISO-8859-1, the others as UTF-8 (malformed
// input becoming U+FFFD). JDK 17.0.15 and older decoded every tag as
// UTF-8, so they print a non-ASCII BMPString or T61String garbled; no
// kafkatls certificate uses those tags (it writes UTF8String).
func dnJavaDecode(v asn1.RawValue) string {
	switch v.Tag {
	case asn1.TagBMPString:
		units := make([]uint16, 0, len(v.Bytes)/2)
		for i := 0; i+1 < len(v.Bytes); i += 2 {
			units = append(units, uint16(v.Bytes[i])<<8|uint16(v.Bytes[i+1]))
		}
		s := string(utf16.Decode(units))
		if len(v.Bytes)%2 == 1 {
			s += "\uFFFD"
		}
		return s
	case asn1.TagT61String:
		r := make([]rune, len(v.Bytes))
		for i, b := range v.Bytes {
			r[i] = rune(b)
		}
		return string(r)
	}
	return dnJavaDecodeUTF8(v.Bytes)
}

// dnJavaStringTag reports whether Java prints a value as text (AVA's
// isDerString): primitive universal Printable, T61, IA5, General, BMP or
// UTF8 strings.
func dnJavaStringTag(v asn1.RawValue) bool {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return false
	}
	switch v.Tag {
	case asn1.TagPrintableString, asn1.TagT61String, asn1.TagIA5String,
		asn1.TagGeneralString, asn1.TagBMPString, asn1.TagUTF8String:
		return true
	}
	return false
}

// dnJavaEscape escapes a decoded value as AVA.toRFC2253String does.
func dnJavaEscape(v string) string {
	esc := make([]rune, 0, len(v))
	for _, c := range v {
		switch {
		case strings.ContainsRune(`,=+<>#;"\`, c):
			esc = append(esc, '\\', c)
		case c == 0:
			esc = append(esc, '\\', '0', '0')
		default:
			esc = append(esc, c)
		}
	}
	space := func(c rune) bool { return c == ' ' || c == '\r' }
	lead := 0
	for lead < len(esc) && space(esc[lead]) {
		lead++
	}
	trail := len(esc) - 1
	for trail >= 0 && space(esc[trail]) {
		trail--
	}
	var b strings.Builder
	for i, c := range esc {
		if i < lead || i > trail {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// dnJavaDecodeUTF8 decodes b as Java's new String(b, UTF_8) does: malformed
// input becomes U+FFFD per maximal ill-formed subsequence, except that Java
// accepts ED A0..BF as a prefix and turns a whole encoded surrogate (ED
// A0..BF 80..BF) into a single U+FFFD.
func dnJavaDecodeUTF8(b []byte) string {
	const repl = '\uFFFD'
	cont := func(i int) bool { return i < len(b) && b[i]&0xC0 == 0x80 }
	in := func(i int, lo, hi byte) bool { return i < len(b) && b[i] >= lo && b[i] <= hi }
	var out strings.Builder
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			out.WriteByte(c)
			i++
		case c >= 0xC2 && c <= 0xDF:
			if cont(i + 1) {
				out.Write(b[i : i+2])
				i += 2
			} else {
				out.WriteRune(repl)
				i++
			}
		case c >= 0xE0 && c <= 0xEF:
			lo := byte(0x80)
			if c == 0xE0 {
				lo = 0xA0
			}
			switch {
			case !in(i+1, lo, 0xBF):
				out.WriteRune(repl)
				i++
			case !cont(i + 2):
				out.WriteRune(repl)
				i += 2
			default:
				if c == 0xED && b[i+1] >= 0xA0 {
					out.WriteRune(repl) // an encoded surrogate
				} else {
					out.Write(b[i : i+3])
				}
				i += 3
			}
		case c >= 0xF0 && c <= 0xF4:
			lo, hi := byte(0x80), byte(0xBF)
			if c == 0xF0 {
				lo = 0x90
			} else if c == 0xF4 {
				hi = 0x8F
			}
			switch {
			case !in(i+1, lo, hi):
				out.WriteRune(repl)
				i++
			case !cont(i + 2):
				out.WriteRune(repl)
				i += 2
			case !cont(i + 3):
				out.WriteRune(repl)
				i += 3
			default:
				out.Write(b[i : i+4])
				i += 4
			}
		default:
			out.WriteRune(repl)
			i++
		}
	}
	return out.String()
}
