package inspect

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

// Consistency of one identity directory: its configs and password file
// against the stores they name, and its stores against the CA. Stores and
// configs are written together but edited apart (a password changed in
// client.properties, a store replaced by hand); each check here is one a
// peer would otherwise fail on at startup. lint DIR and verify both run
// CheckIdentity, so they report the same findings in the same words.

// Checks of CheckIdentity.
const (
	CheckConfigPassword = "config-password"     // a configured password does not open the store
	CheckConfigFile     = "config-missing-file" // a config names a file that does not exist
	CheckConfigStore    = "config-store"        // a named file cannot be read as the config says
	CheckMountPath      = "config-mount-path"   // paths point elsewhere (a --mount-path): same names checked here
	CheckNotFromCA      = "not-from-ca"         // a store or certificate does not chain to ca.crt
)

// configNames are the configs kafkatls writes into an identity directory
// (templates/*.tmpl); kcat.conf is librdkafka's format, the others Java
// properties.
var configNames = map[string]bool{
	"client.properties": true, "server.properties": true, "zoo.cfg": true,
	"zookeeper-client.properties": true, "spring-boot.properties": true, "kcat.conf": true,
	"connect-distributed.properties": true, "connect-standalone.properties": true,
}

// IsConfig reports whether path is named like a config kafkatls writes.
func IsConfig(path string) bool { return configNames[filepath.Base(path)] }

// storeRef is one store or PEM file that a config (or the password file)
// names, with the passwords given for it.
type storeRef struct {
	source      string // the config or password file
	key         string // the setting naming the file
	location    string // as written
	typ         string // "JKS", "PKCS12", "PEM" as configured; "" when not said
	password    string
	passwordKey string // "" when no password is configured
	keyPassword string
	keyPwKey    string
	trust       bool // a truststore or CA file
	kcat        bool // librdkafka: an unencrypted key with a password is fine
}

// configRefs lists the files one config names. Java configs name stores
// by KEY.keystore.location / KEY.truststore.location (ZooKeeper's
// keyStore, Spring's key-store-location), with the type and passwords
// under the same prefix.
func configRefs(path string, props map[string]string, kcat bool) []storeRef {
	lower := map[string]string{}
	var keys []string
	for k, v := range props {
		lower[strings.ToLower(k)] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	get := func(k string) (string, string) {
		if v, ok := lower[strings.ToLower(k)]; ok {
			return v, k
		}
		return "", ""
	}
	var out []storeRef
	if kcat {
		ca, _ := get("ssl.ca.location")
		if ca != "" {
			out = append(out, storeRef{source: path, key: "ssl.ca.location", location: ca, typ: "PEM", trust: true, kcat: true})
		}
		if c, _ := get("ssl.certificate.location"); c != "" {
			out = append(out, storeRef{source: path, key: "ssl.certificate.location", location: c, typ: "PEM", kcat: true})
		}
		if k, _ := get("ssl.key.location"); k != "" {
			r := storeRef{source: path, key: "ssl.key.location", location: k, typ: "PEM", kcat: true}
			r.keyPassword, r.keyPwKey = get("ssl.key.password")
			out = append(out, r)
		}
		if ks, _ := get("ssl.keystore.location"); ks != "" {
			r := storeRef{source: path, key: "ssl.keystore.location", location: ks, typ: "PKCS12", kcat: true}
			r.password, r.passwordKey = get("ssl.keystore.password")
			out = append(out, r)
		}
		return out
	}
	for _, k := range keys {
		lk := strings.ToLower(k)
		for _, form := range []struct{ loc, typ, pw, keyPw string }{
			{"keystore.location", "keystore.type", "keystore.password", "key.password"},
			{"truststore.location", "truststore.type", "truststore.password", ""},
			{"key-store-location", "key-store-type", "key-store-password", "key-password"},
			{"trust-store-location", "trust-store-type", "trust-store-password", ""},
		} {
			if !strings.HasSuffix(lk, form.loc) {
				continue
			}
			base := k[:len(k)-len(form.loc)]
			r := storeRef{source: path, key: k, location: strings.TrimPrefix(props[k], "file:"), trust: form.keyPw == ""}
			r.typ, _ = get(base + form.typ)
			r.typ = strings.ToUpper(strings.TrimSpace(r.typ))
			r.password, r.passwordKey = get(base + form.pw)
			if form.keyPw != "" {
				r.keyPassword, r.keyPwKey = get(base + form.keyPw)
			}
			out = append(out, r)
		}
	}
	return out
}

// identityStores are the store and certificate files kafkatls writes into
// an identity directory that must chain to the CA.
var identityStores = []string{"keystore.jks", "keystore.p12", "keystore.pem", "truststore.jks", "truststore.p12", "chain.pem", "tls.crt", "ca.crt"}

// CheckIdentity checks one identity directory (or a bundle's top
// directory, with its truststores and truststore.password): every config's passwords
// open the stores it names, every file a config names exists (paths under
// another directory, such as a --mount-path, are checked by base name in
// dir, and a note says so), the password file opens the stores, and every
// store and certificate file chains to the CA: the PKI directory's ca.crt
// when dir is inside one, else dir's own ca.crt. During a CA rotation
// ca.crt holds both CAs, and chaining to either is enough.
func CheckIdentity(dir string) []Finding {
	var out []Finding
	absDir, err := filepath.Abs(dir)
	if err != nil {
		absDir = dir
	}
	var refs []storeRef
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if configNames[e.Name()] && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	for _, n := range names {
		path := filepath.Join(dir, n)
		b, err := fsx.ReadFileLimit(path, MaxConfigSize)
		if err != nil {
			out = append(out, Finding{File: path, Severity: SevError, Check: "unreadable", Message: strings.Replace(err.Error(), path, "the file", 1)})
			continue
		}
		var props map[string]string
		if n == "kcat.conf" {
			props = parseKcat(b)
		} else {
			props = templates.ParseProperties(b)
		}
		cr := configRefs(path, props, n == "kcat.conf")
		noted := map[string]bool{}
		for i, r := range cr {
			loc := r.location
			if !filepath.IsAbs(loc) {
				loc = filepath.Join(absDir, loc)
			}
			if d := filepath.Dir(filepath.Clean(loc)); !sameDir(d, absDir) && !noted[d] {
				noted[d] = true
				out = append(out, Finding{File: path, Severity: SevInfo, Check: CheckMountPath,
					Message: fmt.Sprintf("paths point at %s, not this directory (a --mount-path?): checked the files of the same names here", d)})
			}
			cr[i].location = filepath.Join(dir, filepath.Base(loc))
		}
		refs = append(refs, cr...)
	}
	// The password files kafkatls writes: an identity's "password" opens
	// its stores, a bundle's "truststore.password" its truststores.
	for _, pf := range []struct {
		name   string
		stores []string
	}{
		{"password", []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"}},
		{"truststore.password", []string{"truststore.jks", "truststore.p12"}},
	} {
		pwPath, storeNames := filepath.Join(dir, pf.name), pf.stores
		pw, err := readPassword(pwPath)
		if err != nil {
			continue // lint reports a password file that does not read
		}
		for _, s := range storeNames {
			if p := filepath.Join(dir, s); fileExists(p) {
				refs = append(refs, storeRef{source: pwPath, key: "the password file", location: p, password: pw, passwordKey: "the password file", trust: strings.HasPrefix(s, "truststore")})
			}
		}
	}
	for _, r := range refs {
		out = append(out, r.check()...)
	}
	out = append(out, chainsToCA(dir, absDir)...)
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// sameDir reports whether a and b name one directory (through symlinks:
// a config may name the PKI through a link, /tmp through /private/tmp).
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// check reads the file r names with r's passwords.
func (r storeRef) check() []Finding {
	name := filepath.Base(r.location)
	fail := func(check, format string, a ...any) []Finding {
		return []Finding{{File: r.source, Severity: SevError, Check: check, Message: fmt.Sprintf(format, a...)}}
	}
	data, err := fsx.ReadFileLimit(r.location, MaxFileSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail(CheckConfigFile, "%s names %s, which does not exist: the client or server fails at startup", r.key, name)
	case err != nil:
		return fail(CheckConfigStore, "%s names %s, which cannot be read: %v", r.key, name, err)
	}
	if r.typ == "PEM" {
		return r.checkPEM(name, data)
	}
	if _, ok := stores.Detect(data); !ok {
		if Detect(data) == FormatPEM {
			return fail(CheckConfigStore, "%s names %s, a PEM file, but the type is %s: set the type to PEM or name the JKS/PKCS12 store", r.key, name, orJKS(r.typ))
		}
		return fail(CheckConfigStore, "%s names %s, which is not a JKS or PKCS12 store", r.key, name)
	}
	if r.passwordKey == "" {
		if r.trust {
			return nil // Java loads a truststore without a password, unverified
		}
		return fail(CheckConfigPassword, "%s names the keystore %s but no password is set: Java cannot decrypt its key", r.key, name)
	}
	st, err := stores.Read(data, r.password)
	switch {
	case errors.Is(err, stores.ErrWrongPassword):
		return fail(CheckConfigPassword, "%s does not open %s (%s): keytool and Kafka refuse it (\"keystore password was incorrect\"); make the store and its password agree", r.passwordKey, name, integrityName(data))
	case err != nil:
		return fail(CheckConfigStore, "%s names %s, which cannot be read with %s: %s", r.key, name, r.passwordKey, strings.TrimPrefix(err.Error(), "jks: "))
	}
	if r.keyPwKey != "" && r.keyPassword != r.password {
		for _, e := range st.Entries {
			if e.PrivateKey != nil {
				return fail(CheckConfigPassword, "%s differs from %s, but the key in %s is encrypted with the store password: Java fails to recover it (\"Cannot recover key\")", r.keyPwKey, r.passwordKey, name)
			}
		}
	}
	return nil
}

func orJKS(t string) string {
	if t == "" {
		return "JKS (the default)"
	}
	return t
}

func integrityName(data []byte) string {
	if f, _ := stores.Detect(data); f == stores.JKS {
		return "the JKS integrity check fails"
	}
	return "the PKCS12 MAC check fails"
}

// checkPEM checks a PEM file a config names: a CA file or certificate
// must hold certificates; a key (alone or with its chain) must decrypt
// with the configured key password, and be unencrypted when none is set.
func (r storeRef) checkPEM(name string, data []byte) []Finding {
	fail := func(check, format string, a ...any) []Finding {
		return []Finding{{File: r.source, Severity: SevError, Check: check, Message: fmt.Sprintf(format, a...)}}
	}
	var pws []Password
	if r.keyPwKey != "" {
		pws = []Password{{Value: r.keyPassword, Source: r.keyPwKey}}
	}
	rep, err := Inspect(data, Options{Passwords: pws})
	if err != nil || rep.Format != FormatPEM {
		return fail(CheckConfigStore, "%s names %s, which is not a PEM file: %v", r.key, name, errOrFormat(err, rep))
	}
	var keys, encrypted, certs int
	var form string
	for _, e := range rep.Entries {
		switch e.Type {
		case EntryKey, EntryPrivateKey:
			keys++
			form = e.keyForm
		case EntryEncryptedKey:
			encrypted++
		}
		certs += len(e.certs)
	}
	wantKey := r.key == "ssl.key.location" || (!r.trust && r.key != "ssl.certificate.location")
	switch {
	case r.trust || r.key == "ssl.certificate.location":
		if certs == 0 {
			return fail(CheckConfigStore, "%s names %s, which holds no certificate", r.key, name)
		}
	case wantKey && encrypted > 0 && r.keyPwKey == "":
		return fail(CheckConfigPassword, "the key in %s is encrypted but no key password is set: the client or server cannot read it", name)
	case wantKey && encrypted > 0:
		return fail(CheckConfigPassword, "%s does not decrypt the key in %s: the client or server cannot read it", r.keyPwKey, name)
	case wantKey && keys == 0:
		return fail(CheckConfigStore, "%s names %s, which holds no private key", r.key, name)
	case wantKey && r.keyPwKey != "" && !r.kcat && form != "encrypted PKCS#8":
		return fail(CheckConfigPassword, "%s is set but the key in %s is not encrypted: Kafka's PEM store then fails to read it; drop the key password", r.keyPwKey, name)
	}
	return nil
}

func errOrFormat(err error, r *Report) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("it is %s", r.Format)
}

// chainsToCA checks that each store and certificate file of the identity
// leads to the CA: key entries and certificates chain to a certificate of
// ca.crt, truststores and CA files trust at least one of them.
func chainsToCA(dir, absDir string) []Finding {
	caFile := filepath.Join(dir, "ca.crt")
	ca := []*x509.Certificate(nil)
	if ctx := findPKI(absDir); ctx != nil && len(ctx.ca) > 0 && ctx.root != absDir {
		ca, caFile = ctx.ca, filepath.Join(ctx.root, "ca.crt")
	} else {
		ca = readCerts(caFile)
	}
	if len(ca) == 0 {
		return nil
	}
	var out []Finding
	reports := map[string]*Report{}
	var known []*x509.Certificate // every certificate of the identity: the intermediates a path may need
	for _, n := range identityStores {
		path := filepath.Join(dir, n)
		if path == caFile || !fileExists(path) {
			continue
		}
		r, err := File(path, Options{})
		if err != nil {
			continue // reported by lint as unreadable, or by the password checks
		}
		reports[n] = r
		for _, e := range r.Entries {
			known = append(known, e.certs...)
		}
	}
	chainTrusted := func(chain, ca []*x509.Certificate) bool { return reachesCA(chain, known, ca) }
	for _, n := range identityStores {
		path := filepath.Join(dir, n)
		r := reports[n]
		if r == nil {
			continue
		}
		var anchors, chain []*x509.Certificate
		keyed := false
		for _, e := range r.Entries {
			switch {
			case e.Type == EntryTrusted:
				anchors = append(anchors, e.certs...)
			case (e.Type == EntryKey || e.Type == EntryEncryptedKey) && len(e.certs) > 0:
				keyed = true
				if !chainTrusted(e.certs, ca) {
					out = append(out, Finding{File: path, Severity: SevError, Check: CheckNotFromCA,
						Message: fmt.Sprintf("the certificate %q does not chain to %s: peers that trust that CA reject it; re-issue it (kafkatls renew)", subj(e.certs[0]), caFile)})
				}
			case e.Type == EntryCert:
				chain = append(chain, e.certs...)
			}
		}
		if !keyed && len(chain) > 0 && (n == "ca.crt" || isCA(chain[0])) {
			anchors, chain = append(anchors, chain...), nil
		}
		if len(anchors) > 0 && !anyIn(anchors, ca) {
			out = append(out, Finding{File: path, Severity: SevError, Check: CheckNotFromCA,
				Message: fmt.Sprintf("trusts none of the CAs in %s: peers with certificates from it are rejected; rewrite it (kafkatls renew)", caFile)})
		}
		if !keyed && len(chain) > 0 && !chainTrusted(chain, ca) {
			out = append(out, Finding{File: path, Severity: SevError, Check: CheckNotFromCA,
				Message: fmt.Sprintf("the certificate %q does not chain to %s: peers that trust that CA reject it; re-issue it (kafkatls renew)", subj(chain[0]), caFile)})
		}
	}
	return out
}

// reachesCA reports whether chain leads to a certificate of ca, through
// the certificates of known where the chain stops below it (tls.crt holds
// the leaf alone; an imported intermediate CA is in chain.pem and the
// keystores, while ca.crt holds the root).
func reachesCA(chain, known, ca []*x509.Certificate) bool {
	seen := map[string]bool{}
	todo := append([]*x509.Certificate{}, chain...)
	for len(todo) > 0 && len(seen) <= len(chain)+len(known) {
		c := todo[0]
		todo = todo[1:]
		if seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		for _, a := range ca {
			if c.Equal(a) || signedBy(c, a) {
				return true
			}
		}
		for _, k := range known {
			if !seen[string(k.Raw)] && signedBy(c, k) {
				todo = append(todo, k)
			}
		}
	}
	return false
}

func anyIn(list, set []*x509.Certificate) bool {
	for _, c := range list {
		if containsCert(set, c) {
			return true
		}
	}
	return false
}
