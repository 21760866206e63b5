package inspect

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/pki"
)

// Severity of a lint finding. Errors break Kafka TLS (or are unsafe);
// warnings will break it later or in some runtimes; infos are facts worth
// knowing that need no action.
type Severity string

// Severities.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevInfo    Severity = "info"
)

// Finding is one lint result.
type Finding struct {
	File     string   `json:"file"`
	Entry    string   `json:"entry,omitempty"`
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`
}

// LintOptions configure Lint.
type LintOptions struct {
	// Role is what the certificate is for; "" when unknown (role checks
	// then only flag what is wrong for every role).
	Role pki.Role
	// Within flags certificates expiring within this window.
	Within time.Duration
	// Now is the clock (zero: time.Now()).
	Now time.Time
	// IntendedCA is what truststores should trust and keystores should
	// chain to (a kafkatls directory's ca.crt, or --ca).
	IntendedCA []*x509.Certificate
	// Passwords are explicit store passwords (sibling password files are
	// tried too).
	Passwords []Password
	// KeyOnly lints only the key strength (the CA's own encrypted key).
	KeyOnly bool
}

// DefaultTrustBundleSize is the number of trusted certificates from which a
// truststore is taken for a whole CA bundle (the JDK's cacerts holds ~150).
const DefaultTrustBundleSize = 10

type linter struct {
	r        *Report
	o        LintOptions
	out      []Finding
	seen     map[string]bool
	anchors  []*x509.Certificate // trusted entries of this file
	now      time.Time
	nameLow  string
	trustish bool
	keyish   bool
}

// Lint checks one inspected file against what Kafka needs.
func Lint(r *Report, o LintOptions) []Finding {
	l := &linter{r: r, o: o, seen: map[string]bool{}, now: o.Now}
	if l.now.IsZero() {
		l.now = time.Now()
	}
	l.nameLow = strings.ToLower(filepath.Base(r.File))
	l.trustish = strings.Contains(l.nameLow, "truststore") || strings.Contains(l.nameLow, "cacerts")
	l.keyish = strings.Contains(l.nameLow, "keystore")
	if o.KeyOnly {
		for _, e := range r.Entries {
			if e.Key != nil {
				l.keyStrength(entryName(e, 0), e.Key)
			}
		}
		return l.out
	}
	for _, e := range r.Entries {
		if e.Type == EntryTrusted {
			l.anchors = append(l.anchors, e.certs...)
		}
	}
	if r.Format == FormatJKS || r.Format == FormatPKCS12 {
		l.store()
	}
	l.trust()
	for i, e := range r.Entries {
		name := entryName(e, i)
		switch e.Type {
		case EntryKey, EntryEncryptedKey, EntryPrivateKey:
			l.keyEntry(name, e)
		case EntryCSR:
			l.csr(name, e)
		case EntryCRL:
			if !e.crl.NextUpdate.IsZero() && l.now.After(e.crl.NextUpdate) {
				l.add(name, SevWarning, "crl-stale", "the CRL's nextUpdate (%s) has passed: relying parties treat it as stale; re-sign it (kafkatls revoke --crl)", day(e.crl.NextUpdate))
			}
		}
	}
	// Certificate files (PEM/DER): a leaf followed by issuers is a chain.
	var plain []*x509.Certificate
	for _, e := range r.Entries {
		if e.Type == EntryCert {
			plain = append(plain, e.certs...)
		}
	}
	if len(plain) > 0 && (r.Format == FormatPEM || r.Format == FormatDER) {
		if !isCA(plain[0]) {
			l.chain("certificate 1", plain)
			l.leafRole("certificate 1", plain[0])
		}
	}
	plainN := 0
	for i, e := range r.Entries {
		for j, c := range e.certs {
			name := certName(e, i, j)
			if e.Type == EntryCert && e.Alias == "" {
				plainN++
				name = fmt.Sprintf("certificate %d", plainN)
			}
			l.cert(name, c, e.Type == EntryTrusted)
		}
	}
	sort.SliceStable(l.out, func(i, j int) bool { return sevRank(l.out[i].Severity) < sevRank(l.out[j].Severity) })
	return l.out
}

func sevRank(s Severity) int {
	switch s {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

func (l *linter) add(entry string, sev Severity, check, format string, a ...any) {
	l.out = append(l.out, Finding{File: l.r.File, Entry: entry, Severity: sev, Check: check, Message: fmt.Sprintf(format, a...)})
}

func entryName(e Entry, i int) string {
	if e.Alias != "" {
		return "alias " + e.Alias
	}
	return fmt.Sprintf("entry %d", i+1)
}

func certName(e Entry, i, j int) string {
	n := entryName(e, i)
	if len(e.certs) > 1 {
		n += fmt.Sprintf(" certificate %d", j+1)
	}
	return n
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func subj(c *x509.Certificate) string { return javaName(c.RawSubject, c.Subject) }

func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// signedBy reports whether parent issued child. SHA-1 signatures, which Go
// refuses to verify, count when the names match (weak-signature reports
// them).
func signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	err := child.CheckSignatureFrom(parent)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

func (l *linter) store() {
	r := l.r
	var keys, trusted, plain int
	for _, e := range r.Entries {
		switch e.Type {
		case EntryKey, EntryEncryptedKey:
			keys++
		case EntryTrusted:
			trusted++
		case EntryCert:
			if !e.trustUnknown {
				plain++
			}
		}
	}
	if r.LegacyRC2 {
		l.add("", SevWarning, "legacy-rc2", "PKCS12 encrypted with RC2 (legacy): OpenSSL 3 cannot read it without -legacy (librdkafka needs ssl.providers=default,legacy) and FIPS JVMs reject it; rewrite it with AES (keytool -importkeystore, or kafkatls issue --p12-compat modern)")
	}
	if strings.HasPrefix(r.Integrity, "not verified") {
		l.add("", SevInfo, "integrity-unverified", "store integrity not verified and keys not decrypted: no password was given (--password-file or --password-env)")
	}
	if r.p12NotTrusted && keys == 0 && trusted == 0 {
		// go-pkcs12's DecodeTrustStore found a certificate without the attribute.
		l.add("", SevError, "p12-not-trusted", "truststore made without Java's trusted-certificate attribute (an openssl pkcs12 -nokeys truststore?): Java loads 0 entries and fails with \"trustAnchors parameter must be non-empty\"; rebuild it with keytool -importcert or kafkatls")
		return
	}
	if len(r.Entries) == 0 {
		l.add("", SevError, "empty-store", "the store holds no entries: a truststore must hold the CA (\"trustAnchors parameter must be non-empty\") and a keystore the key")
		return
	}
	if r.Format == FormatPKCS12 && plain > 0 {
		if keys == 0 && trusted == 0 {
			l.add("", SevError, "p12-not-trusted", "no certificate carries Java's trusted-certificate attribute (an openssl pkcs12 -nokeys truststore?): Java loads 0 entries and fails with \"trustAnchors parameter must be non-empty\"; rebuild it with keytool -importcert or kafkatls")
		} else {
			l.add("", SevWarning, "p12-not-trusted", "%d certificate(s) without Java's trusted-certificate attribute and outside any key chain: Java ignores them", plain)
		}
	}
	if l.trustish && keys > 0 {
		l.add("", SevError, "key-in-truststore", "a truststore holds a private key: truststores are shared and world-readable; keep keys only in the keystore (mode 0600)")
	}
	if l.keyish && keys == 0 {
		l.add("", SevError, "no-key-entry", "a keystore without a private-key entry: Kafka cannot present a certificate from it (is it a truststore?)")
	}
	if keys > 1 {
		l.add("", SevWarning, "multiple-keys", "%d private-key entries: Kafka has no alias setting and Java picks one by key type and issuer; keep one key entry per keystore", keys)
	}
	if keys > 0 && trusted > 0 {
		l.add("", SevInfo, "keystore-trusts", "the keystore also holds %d trusted certificate(s): harmless, but Kafka takes trust only from ssl.truststore.*, so a CA here does not make peers trusted", trusted)
	}
	// Aliases: Java looks JKS and PKCS12 aliases up lowercased.
	byLower := map[string][]string{}
	for _, e := range r.Entries {
		if e.Alias != "" {
			k := strings.ToLower(e.Alias)
			byLower[k] = append(byLower[k], e.Alias)
		}
	}
	var lowers []string
	for k := range byLower {
		lowers = append(lowers, k)
	}
	sort.Strings(lowers)
	for _, k := range lowers {
		v := byLower[k]
		if len(v) > 1 {
			l.add("", SevError, "alias-collision", "aliases %s differ only in case: Java lowercases aliases when it loads the store, so one entry silently replaces the other; rename them", strings.Join(quoteAll(v), ", "))
		} else if v[0] != k {
			l.add("alias "+v[0], SevInfo, "alias-case", "mixed-case alias %q: Java lists and looks it up as %q; scripts that compare aliases case-sensitively will miss it", v[0], k)
		}
	}
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// trust checks what a truststore (or a PEM CA bundle named like one) trusts.
func (l *linter) trust() {
	anchors := l.anchors
	if len(anchors) == 0 && l.trustish && (l.r.Format == FormatPEM || l.r.Format == FormatDER) {
		for _, e := range l.r.Entries {
			if e.Type == EntryCert {
				anchors = append(anchors, e.certs...)
			}
		}
		l.anchors = anchors
	}
	if len(anchors) == 0 {
		return
	}
	var extra []*x509.Certificate
	if len(l.o.IntendedCA) > 0 {
		found := false
		for _, a := range anchors {
			if containsCert(l.o.IntendedCA, a) {
				found = true
			} else {
				extra = append(extra, a)
			}
		}
		if !found {
			l.add("", SevError, "ca-not-trusted", "the truststore does not hold the intended CA %q: peers with certificates from it are rejected (\"unable to find valid certification path\")", subj(l.o.IntendedCA[0]))
		}
	} else if len(anchors) >= DefaultTrustBundleSize {
		extra = anchors
	}
	switch {
	case len(extra) >= DefaultTrustBundleSize:
		l.add("", SevError, "trusts-too-much", "the truststore trusts %d certificates%s, a whole CA bundle such as the JDK's cacerts: with ssl.client.auth=required any certificate those CAs issue authenticates to Kafka, named by its subject; trust only your CA", len(extra), besides(l.o.IntendedCA))
	case len(extra) > 0:
		var names []string
		for _, c := range extra {
			names = append(names, fmt.Sprintf("%q", subj(c)))
		}
		l.add("", SevWarning, "trusts-extra", "the truststore also trusts %s besides the intended CA: every certificate those issue is accepted by Kafka; remove them unless you mean it", strings.Join(names, ", "))
	}
	for _, a := range anchors {
		if !isCA(a) && !containsCert(extra, a) {
			l.add("", SevWarning, "trusted-leaf", "trusts the end-entity certificate %q directly instead of its CA: it must be re-imported on every renewal; trust the issuing CA", subj(a))
		}
	}
}

func besides(ca []*x509.Certificate) string {
	if len(ca) == 0 {
		return ""
	}
	return fmt.Sprintf(" (besides the intended CA %q)", subj(ca[0]))
}

func containsCert(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range list {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// cert checks one certificate's own properties, once per file.
func (l *linter) cert(name string, c *x509.Certificate, anchor bool) {
	fp := string(c.Raw)
	if l.seen[fp] {
		return
	}
	l.seen[fp] = true
	// A truststore that trusts too much is reported once; its other
	// anchors are not the user's certificates.
	if anchor && len(l.anchors) >= DefaultTrustBundleSize && !containsCert(l.o.IntendedCA, c) {
		return
	}
	what := "certificate"
	if isCA(c) {
		what = "CA certificate"
	}
	switch {
	case l.now.After(c.NotAfter):
		l.add(name, SevError, "expired", "%s %q expired on %s: renew it (kafkatls renew NAME, or kafkatls ca rotate for the CA)", what, subj(c), day(c.NotAfter))
	case l.now.Before(c.NotBefore):
		l.add(name, SevError, "not-yet-valid", "%s %q is not valid before %s: check the clocks of the issuing and the verifying hosts", what, subj(c), c.NotBefore.UTC().Format(time.RFC3339))
	case l.o.Within > 0 && c.NotAfter.Sub(l.now) < l.o.Within:
		l.add(name, SevWarning, "expiring", "%s %q expires on %s, within %s: renew it now (kafkatls renew NAME, or kafkatls ca rotate for the CA)", what, subj(c), day(c.NotAfter), fmtWindow(l.o.Within))
	}
	ki := keyInfo(c.PublicKey)
	l.keyStrength(name, &ki)
	if !selfSigned(c) {
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
			l.add(name, SevError, "weak-signature", "%q is signed with %s: OpenSSL 3 (librdkafka, kcat) and Go clients reject such signatures and they can be forged; re-issue it with SHA-256", subj(c), c.SignatureAlgorithm)
		}
	}
}

func (l *linter) keyStrength(name string, k *KeyInfo) {
	switch {
	case k.Type == "RSA" && k.Bits > 0 && k.Bits < 2048:
		l.add(name, SevError, "weak-key", "RSA-%d key: under NIST's 2048-bit minimum; OpenSSL at security level 2 (the default on Debian, Ubuntu and RHEL 9, so librdkafka and kcat) and FIPS providers reject it; re-key with RSA-2048+ or ECDSA P-256", k.Bits)
	case k.Type == "ECDSA" && k.Bits > 0 && k.Bits < 256:
		l.add(name, SevError, "weak-key", "ECDSA key on %s (%d bits): use P-256 or P-384", k.Curve, k.Bits)
	case k.Type == "DSA":
		l.add(name, SevWarning, "dsa-key", "DSA key: TLS 1.3 has no DSA signatures and recent JDKs disable it; re-key with RSA or ECDSA")
	case k.Type == "Ed25519":
		l.add(name, SevInfo, "ed25519-key", "Ed25519 key: Java 11-era brokers and some librdkafka builds cannot negotiate it")
	}
}

func (l *linter) keyEntry(name string, e Entry) {
	if e.Key != nil && e.Type != EntryKey {
		l.keyStrength(name, e.Key)
	}
	switch {
	case e.keyForm == "PKCS#1" || e.keyForm == "SEC1":
		l.add(name, SevWarning, "pem-not-pkcs8", "%s key (%s): Kafka's PEM store type (ssl.keystore.type=PEM) reads only PKCS#8 (BEGIN PRIVATE KEY); convert with openssl pkcs8 -topk8 -nocrypt", e.keyForm, e.PEMType)
	case strings.HasPrefix(e.keyForm, "legacy"):
		l.add(name, SevError, "pem-legacy-encrypted", "legacy OpenSSL-encrypted key (Proc-Type header): Kafka and Java cannot read it; convert with openssl pkcs8 -topk8")
	case e.pbes2Key:
		l.add(name, SevWarning, "pem-pbes2", "PBES2-encrypted PEM key: Java 17 cannot read it for ssl.keystore.type=PEM (\"PBES2 SecretKeyFactory not available\", fixed in JDK 19); use an unencrypted PKCS#8 key (mode 0600) or PBES1 SHA1-3DES")
	}
	if len(e.certs) == 0 {
		return
	}
	leaf := e.certs[0]
	if e.KeyMatches != nil && !*e.KeyMatches {
		l.add(name, SevError, "key-mismatch", "the private key does not belong to the certificate %q: the TLS handshake fails (\"no suitable certificate\" / handshake_failure); re-issue, or put the matching certificate first", subj(leaf))
	}
	if isCA(leaf) {
		l.add(name, SevWarning, "ca-as-leaf", "the key entry's certificate %q is a CA certificate: Kafka needs an end-entity certificate signed by the CA", subj(leaf))
	}
	l.chain(name, e.certs)
	l.toIntended(name, e.certs)
	l.leafRole(name, leaf)
}

// chain checks order, completeness and lifetimes of a leaf-first chain.
func (l *linter) chain(name string, chain []*x509.Certificate) {
	for i := 0; i+1 < len(chain); i++ {
		child, parent := chain[i], chain[i+1]
		if !signedBy(child, parent) {
			issuer := -1
			for j, c := range chain {
				if j != i && signedBy(child, c) {
					issuer = j
					break
				}
			}
			if issuer >= 0 {
				l.add(name, SevError, "chain-order", "the chain is out of order: certificate %d (%q) is issued by certificate %d, not by the next one (%q); put the leaf first, then each issuer in turn (peers receive the chain as stored)", i+1, subj(child), issuer+1, subj(parent))
			} else {
				l.add(name, SevError, "chain-broken", "certificate %d (%q) is not issued by certificate %d (%q), nor by any other certificate in the chain: a foreign certificate in the chain; rebuild it from the issuing CA", i+1, subj(child), i+2, subj(parent))
			}
			return
		}
		if child.NotAfter.After(parent.NotAfter) {
			l.add(name, SevWarning, "outlives-ca", "%q expires %s, after its issuer %q (%s): it stops working when the CA expires, and the real deadline is hidden; renew it with shorter validity or rotate the CA", subj(child), day(child.NotAfter), subj(parent), day(parent.NotAfter))
		}
	}
	last := chain[len(chain)-1]
	if selfSigned(last) {
		if len(chain) == 1 && !isCA(last) {
			l.add(name, SevWarning, "self-signed", "%q is a self-signed end-entity certificate: every peer must import this exact certificate into its truststore and again after each renewal; issue it from a CA (kafkatls issue, or kafkatls sign for a CSR)", subj(last))
		}
		return
	}
	known := append(append([]*x509.Certificate{}, l.o.IntendedCA...), l.anchors...)
	var issuer *x509.Certificate
	for _, c := range known {
		if signedBy(last, c) {
			issuer = c
			break
		}
	}
	switch {
	case issuer == nil && len(chain) == 1:
		l.add(name, SevWarning, "chain-incomplete", "the chain is the leaf alone and its issuer %q is not known here: peers must trust that issuer directly; add the CA certificate after the leaf", javaName(last.RawIssuer, last.Issuer))
	case issuer == nil:
		l.add(name, SevWarning, "chain-incomplete", "the chain ends at %q, which is not self-signed, and its issuer %q is missing: peers that trust only the root cannot build the path; append the issuers up to the root", subj(last), javaName(last.RawIssuer, last.Issuer))
	case !selfSigned(issuer):
		l.add(name, SevWarning, "chain-incomplete", "the chain ends below the intermediate %q: append it so peers that trust only the root can build the path", subj(issuer))
	default:
		if last.NotAfter.After(issuer.NotAfter) {
			l.add(name, SevWarning, "outlives-ca", "%q expires %s, after its CA %q (%s): it stops working when the CA expires; rotate the CA before then", subj(last), day(last.NotAfter), subj(issuer), day(issuer.NotAfter))
		}
	}
}

// toIntended checks that a keystore's chain leads to the intended CA.
func (l *linter) toIntended(name string, chain []*x509.Certificate) {
	if len(l.o.IntendedCA) == 0 {
		return
	}
	for _, c := range chain {
		for _, ca := range l.o.IntendedCA {
			if c.Equal(ca) || signedBy(c, ca) {
				return
			}
		}
	}
	l.add(name, SevError, "wrong-ca", "the certificate does not chain to the intended CA %q: peers that trust it reject this one", subj(l.o.IntendedCA[0]))
}

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true // no EKU extension: any usage
	}
	for _, x := range c.ExtKeyUsage {
		if x == u || x == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

func explicitEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, x := range c.ExtKeyUsage {
		if x == u {
			return true
		}
	}
	return false
}

// leafRole checks an end-entity certificate against its role.
func (l *linter) leafRole(name string, c *x509.Certificate) {
	if isCA(c) {
		return
	}
	role := l.o.Role
	rs := role.Spec() // what the role's certificates must carry
	server, client := hasEKU(c, x509.ExtKeyUsageServerAuth), hasEKU(c, x509.ExtKeyUsageClientAuth)
	switch {
	case rs.KafkaClient && !rs.Server && !client:
		// A Kafka client of any kind (a client, MirrorMaker 2).
		l.add(name, SevError, "eku", "%s certificate %q lacks the clientAuth extended key usage: brokers reject it (\"Extended key usage does not permit use for TLS client authentication\"); re-issue it with clientAuth", role, subj(c))
	case rs.Server && rs.HasExtKeyUsage(x509.ExtKeyUsageClientAuth) && (!server || !client):
		var missing []string
		if !server {
			missing = append(missing, "serverAuth")
		}
		if !client {
			missing = append(missing, "clientAuth")
		}
		l.add(name, SevError, "eku", "%s certificate %q lacks %s: a %s accepts connections (serverAuth) and dials its peers with the same certificate (clientAuth, inter-broker/quorum); re-issue it with both", role, subj(c), strings.Join(missing, " and "), role)
	case rs.Server && !server:
		// A TLS server outside Kafka (role server): serverAuth is all it
		// needs, and clientAuth is not asked for.
		l.add(name, SevError, "eku", "%s certificate %q lacks serverAuth: TLS clients refuse it (\"Extended key usage does not permit use for TLS server authentication\"); re-issue it with serverAuth", role, subj(c))
	case role == "" && explicitEKU(c, x509.ExtKeyUsageServerAuth) && !client:
		l.add(name, SevWarning, "eku", "%q has serverAuth but not clientAuth: fine for a pure server, but Kafka brokers, controllers and ZooKeeper quorum peers dial each other with it and are rejected", subj(c))
	}
	noSAN := len(c.DNSNames) == 0 && len(c.IPAddresses) == 0
	switch {
	case rs.Server && noSAN:
		l.add(name, SevError, "missing-san", "%s certificate %q has no DNS or IP subject alternative name: clients verify the hostname (ssl.endpoint.identification.algorithm=https) and fail (\"No subject alternative DNS name matching\"); re-issue it with every advertised host and IP", role, subj(c))
	case role == "" && explicitEKU(c, x509.ExtKeyUsageServerAuth) && noSAN:
		l.add(name, SevWarning, "missing-san", "server certificate %q has no DNS or IP subject alternative name: hostname verification fails in Go and most clients (Java falls back to the CN); add SANs for every advertised host", subj(c))
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		l.add(name, SevError, "key-usage", "%q has a key usage without digitalSignature: TLS 1.3 and ECDHE handshakes need it; re-issue it", subj(c))
	}
}

func (l *linter) csr(name string, e Entry) {
	if e.csr == nil {
		return
	}
	ki := keyInfo(e.csr.PublicKey)
	l.keyStrength(name, &ki)
	if e.csr.CheckSignature() != nil {
		l.add(name, SevError, "csr-signature", "the CSR's signature does not verify: it was altered or is corrupt; regenerate it")
	}
	if l.o.Role.Spec().Server && len(e.csr.DNSNames) == 0 && len(e.csr.IPAddresses) == 0 {
		l.add(name, SevWarning, "missing-san", "the CSR requests no DNS or IP SAN for a %s: give them when signing (kafkatls sign --dns/--ip)", l.o.Role)
	}
}

func fmtWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Count returns the number of error and warning findings.
func Count(fs []Finding) (errs, warns int) {
	for _, f := range fs {
		switch f.Severity {
		case SevError:
			errs++
		case SevWarning:
			warns++
		}
	}
	return
}
