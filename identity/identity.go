// Package identity writes one Kafka identity's directory — keystores and
// truststores (JKS, PKCS12), PEM files, its password, its Kafka principal
// and ready-to-use configs — as a unit: the files are built in a temporary
// sibling directory and renamed into place, so a crash or Ctrl-C leaves the
// old directory or the new one, never a mix.
package identity

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

// Store and file formats.
const (
	FormatJKS = "jks"
	FormatP12 = "p12"
	FormatPEM = "pem"
)

// AllFormats is the default: every format, so any runtime finds its files.
var AllFormats = []string{FormatJKS, FormatP12, FormatPEM}

// File names inside an entity directory.
const (
	KeystoreJKS   = "keystore.jks"
	TruststoreJKS = "truststore.jks"
	KeystoreP12   = "keystore.p12"
	TruststoreP12 = "truststore.p12"
	KeyPEM        = "tls.key"
	CertPEM       = pki.LeafCertFile
	ChainPEM      = "chain.pem"
	CAPEM         = "ca.crt"
	KeystorePEM   = "keystore.pem"
	PasswordFile  = "password"
	PrincipalFile = "principal.txt"
	TrustAlias    = "caroot"
)

// ParseFormats parses a --formats value ("jks,p12,pem"), naming an unknown
// format in its error.
func ParseFormats(values []string) ([]string, error) {
	items := pki.SplitList(values)
	if len(items) == 0 {
		return slices.Clone(AllFormats), nil
	}
	var out []string
	for _, f := range items {
		f = strings.ToLower(f)
		switch f {
		case "pkcs12":
			f = FormatP12
		case FormatJKS, FormatP12, FormatPEM:
		default:
			return nil, fmt.Errorf("format %q: must be jks, p12 or pem", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Material is what goes into an entity's stores.
type Material struct {
	Name string
	Role pki.Role
	// Key is nil for a certificate signed from an external CSR: only the
	// PEM certificate files are written then.
	Key  crypto.Signer
	Cert *x509.Certificate
	// CAChain follows the leaf in keystores: the CA, then its issuers.
	CAChain []*x509.Certificate
	// Trust is what truststores hold (the CA's trust anchor; during a CA
	// rotation both the old and the new one).
	Trust []*x509.Certificate
}

// Config carries the cluster context that configs need beyond the entity
// itself; zero values give a single-node localhost setup.
type Config struct {
	Mode             string   // "kraft" (default) or "zookeeper"
	SuperUsers       []string // principals for super.users; default: the entity's own (servers)
	Hosts            []string // advertised hostnames; default: the certificate's DNS SANs
	ListenerPort     int
	ZooKeeperConnect string
	Bootstrap        string
	// Connect names a Connect worker's group and internal topics (role
	// connect; empty names are Connect's sample names).
	Connect kafkaacl.ConnectWorker
	// ClusterAlias is a mirrormaker identity's cluster alias (required
	// for that role): the prefix of its settings in
	// connect-mirror-maker.properties.
	ClusterAlias string
}

// Options control how an entity is written.
type Options struct {
	Formats []string
	Compat  stores.Compat
	// Password protects the stores and the key; empty generates one.
	Password string
	// MountPath, if set, is the directory the files will live in inside a
	// container; configs then point there instead of the host path.
	MountPath string
	// Force replaces an existing entity directory.
	Force  bool
	Config Config
	// SASL: how a client authenticates (SCRAM, OAUTHBEARER) and a
	// broker's SASL_SSL listener (sasl.go).
	SASL SASLOptions
	// NoSync skips every fsync: the directory still appears whole (it is
	// built aside and renamed into place) but a power loss may empty its
	// files. A caller that sets it must make the directory durable (see
	// SyncDirs) before it records the identity anywhere durable (bundle
	// syncs every new identity together with the index it then renames).
	NoSync bool
}

// Result describes a written entity.
type Result struct {
	Name        string    `json:"name"`
	Role        pki.Role  `json:"role"`
	Dir         string    `json:"dir"`
	Files       []string  `json:"files"`
	Subject     string    `json:"subject"`
	Principal   string    `json:"principal"`
	SANs        []string  `json:"sans,omitempty"`
	NotAfter    time.Time `json:"notAfter"`
	Serial      string    `json:"serial"`
	Fingerprint string    `json:"sha256"`
	Formats     []string  `json:"formats"`
	// Auth is how the identity authenticates to Kafka (mtls, scram-sha-512, ...).
	Auth string `json:"auth,omitempty"`
}

// ErrExists is returned when the entity directory exists and Force is off.
var ErrExists = errors.New("already exists")

// ErrNotIssued: an identity's directory does not exist.
var ErrNotIssued = errors.New("does not exist")

// ErrNoIdentities: a PKI directory holds no issued identity yet.
var ErrNoIdentities = errors.New("has no issued identities")

// Dir returns the directory of entity name inside a PKI directory.
func Dir(pkiDir, name string) string { return filepath.Join(pkiDir, pki.CertsDir, name) }

// ValidateName checks an entity name: it becomes a directory, a JKS alias
// and usually a hostname, so keep it to letters, digits, '.', '-' and '_'.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("entity name is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("entity name %q: longer than 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("entity name %q: character %q not allowed (use letters, digits, '.', '-', '_')", name, c)
		}
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("entity name %q: must not start with %q", name, name[0])
	}
	return nil
}

type file struct {
	name string
	data []byte
	perm fs.FileMode
}

// Write builds the entity directory DIR (normally Dir(pkiDir, m.Name)).
func Write(dir string, m Material, o Options) (*Result, error) {
	if err := ValidateName(m.Name); err != nil {
		return nil, err
	}
	if fsx.Exists(dir) && !o.Force {
		return nil, fmt.Errorf("%s %w: refusing to overwrite an issued certificate", dir, ErrExists)
	}
	if err := CheckFormats(m.Role, o.Formats); err != nil {
		return nil, err
	}
	formats := o.Formats
	if len(formats) == 0 {
		formats = AllFormats
	}
	if o.Compat == "" {
		o.Compat = stores.Modern
	}
	password := o.Password
	if password == "" {
		password = pki.GeneratePassword()
	} else if err := pki.ValidatePassword(password); err != nil {
		return nil, err
	}
	subject, err := principal.JavaName(m.Cert.RawSubject)
	if err != nil {
		return nil, fmt.Errorf("subject of %s: %w", m.Name, err)
	}
	principal := o.SASL.principal(m.Name, principal.User(subject))
	extra, err := m.saslFiles(&o)
	if err != nil {
		return nil, err
	}

	files, p12, err := m.files(formats, o.Compat, password)
	if err != nil {
		return nil, err
	}
	defer p12.wait() // on every error path too: no encoding outlives Write
	files = append(files,
		file{PrincipalFile, []byte(principal + "\n"), fsx.PublicFile},
	)
	files = append(files, extra...)
	if m.Key != nil {
		files = append(files, file{PasswordFile, []byte(password + "\n"), fsx.PrivateFile})
		configs, err := m.configs(dir, formats, password, principal, o)
		if err != nil {
			return nil, err
		}
		files = append(files, configs...)
	}
	if err := writeDirSync(dir, files, p12, o.Force, !o.NoSync); err != nil {
		return nil, err
	}
	res := m.result(dir, subject, principal, formats, files)
	if a := o.SASL.Auth; a != "" && a != sasl.MTLS {
		res.Auth = string(a)
	}
	return res, nil
}

// result describes the identity just written to dir.
func (m Material) result(dir, subject, principal string, formats []string, files []file) *Result {
	r := &Result{
		Name: m.Name, Role: m.Role, Dir: dir, Subject: subject, Principal: principal, NotAfter: m.Cert.NotAfter.UTC(),
		Serial: pki.SerialHex(m.Cert), Fingerprint: pki.Fingerprint(m.Cert), Formats: formats,
	}
	for _, d := range m.Cert.DNSNames {
		r.SANs = append(r.SANs, "DNS:"+d)
	}
	for _, ip := range m.Cert.IPAddresses {
		r.SANs = append(r.SANs, "IP:"+ip.String())
	}
	for _, f := range files {
		r.Files = append(r.Files, f.name)
	}
	sort.Strings(r.Files)
	return r
}

// files encodes an identity's certificate files and, if m.Key is set, its
// stores in the given formats. The PKCS12 stores are still being encoded
// when it returns: their entries are empty until the returned
// pendingStores fills them (writeDirSync does).
func (m Material) files(formats []string, compat stores.Compat, password string) ([]file, *pendingStores, error) {
	chain := append([]*x509.Certificate{m.Cert}, m.CAChain...)
	trust := TrustEntries(m.Trust)
	out := []file{
		{CertPEM, pem.EncodeCerts(m.Cert), fsx.PublicFile},
		{ChainPEM, pem.EncodeCerts(chain...), fsx.PublicFile},
		{CAPEM, pem.EncodeCerts(m.Trust...), fsx.PublicFile},
	}
	if m.Key == nil {
		// Signed from an external CSR: the requester holds the key and
		// builds its own stores; hand back the certificates only.
		return out, nil, nil
	}
	p12 := m.startPKCS12(formats, trust, chain, password, compat)
	now := time.Now().UTC().Truncate(time.Second)
	for _, f := range formats {
		switch f {
		case FormatJKS:
			ts, err := stores.JKSTruststore(trust, password, now)
			if err != nil {
				p12.wait()
				return nil, nil, fmt.Errorf("%s: %w", TruststoreJKS, err)
			}
			ks, err := stores.JKSKeystore(strings.ToLower(m.Name), m.Key, chain, password, now)
			if err != nil {
				p12.wait()
				return nil, nil, fmt.Errorf("%s: %w", KeystoreJKS, err)
			}
			out = append(out, file{TruststoreJKS, ts, fsx.PublicFile}, file{KeystoreJKS, ks, fsx.PrivateFile})
		case FormatP12:
			out = append(out, file{TruststoreP12, nil, fsx.PublicFile}, file{KeystoreP12, nil, fsx.PrivateFile}) // filled by p12
		case FormatPEM:
			key, err := pem.EncodeKey(m.Key)
			if err != nil {
				p12.wait()
				return nil, nil, err
			}
			out = append(out,
				file{KeyPEM, key, fsx.PrivateFile},
				file{KeystorePEM, append(key, pem.EncodeCerts(chain...)...), fsx.PrivateFile})
		}
	}
	return out, p12, nil
}

// pendingStores are an identity's PKCS12 stores, encoded on goroutines of
// their own: their key derivations are most of an identity's CPU time, so
// they run on a core the caller leaves idle (a single issue, or the last
// identities of a bundle) while it encodes and writes the other files. A
// nil *pendingStores has nothing pending.
type pendingStores struct {
	wg       sync.WaitGroup
	ts, ks   []byte
	tsE, ksE error
}

func (m Material) startPKCS12(formats []string, trust []stores.TrustEntry, chain []*x509.Certificate, password string, compat stores.Compat) *pendingStores {
	if !slices.Contains(formats, FormatP12) {
		return nil
	}
	p := &pendingStores{}
	p.wg.Go(func() { p.ts, p.tsE = stores.PKCS12Truststore(trust, password, compat) })
	p.wg.Go(func() { p.ks, p.ksE = stores.PKCS12Keystore(m.Key, chain, password, compat) })
	return p
}

func (p *pendingStores) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// pending reports whether name is one of the stores still being encoded.
func (p *pendingStores) pending(name string) bool {
	return p != nil && (name == TruststoreP12 || name == KeystoreP12)
}

// fill waits for the stores and puts them into their entries of files.
func (p *pendingStores) fill(files []file) error {
	if p == nil {
		return nil
	}
	p.wg.Wait()
	if p.tsE != nil {
		return fmt.Errorf("%s: %w", TruststoreP12, p.tsE)
	}
	if p.ksE != nil {
		return fmt.Errorf("%s: %w", KeystoreP12, p.ksE)
	}
	for i := range files {
		switch files[i].name {
		case TruststoreP12:
			files[i].data = p.ts
		case KeystoreP12:
			files[i].data = p.ks
		}
	}
	return nil
}

func (m Material) configs(dir string, formats []string, password, principal string, o Options) ([]file, error) {
	base := dir
	if o.MountPath != "" {
		base = o.MountPath
	} else if abs, err := filepath.Abs(dir); err == nil {
		base = abs
	}
	at := func(name string) string { return filepath.ToSlash(filepath.Join(base, name)) }
	c := o.Config
	if c.Mode == "" {
		c.Mode = "kraft"
	}
	if len(c.Hosts) == 0 {
		c.Hosts = m.Cert.DNSNames
		for _, ip := range m.Cert.IPAddresses {
			c.Hosts = append(c.Hosts, ip.String())
		}
	}
	if len(c.SuperUsers) == 0 && m.Role.Spec().SuperUser {
		c.SuperUsers = []string{principal}
	}
	cw := c.Connect.WithDefaults()
	d := templates.Data{
		Name: m.Name, Role: string(m.Role), Password: password, Formats: formats, // StoreType empty: PKCS12, else JKS, else PEM
		Principal: principal, SuperUsers: c.SuperUsers, Hosts: c.Hosts, ListenerPort: c.ListenerPort,
		Mode: c.Mode, ZooKeeperConnect: c.ZooKeeperConnect, Bootstrap: c.Bootstrap,
		Connect:      templates.Connect{Group: cw.Group, ConfigTopic: cw.ConfigTopic, OffsetTopic: cw.OffsetTopic, StatusTopic: cw.StatusTopic},
		ClusterAlias: c.ClusterAlias,
		Files: templates.Files{
			KeystoreJKS: at(KeystoreJKS), TruststoreJKS: at(TruststoreJKS), KeystoreP12: at(KeystoreP12),
			TruststoreP12: at(TruststoreP12), KeyPEM: at(KeyPEM), CertPEM: at(CertPEM), ChainPEM: at(ChainPEM),
			CAPEM: at(CAPEM), KeystorePEM: at(KeystorePEM), PasswordFile: at(PasswordFile),
		},
	}
	var err error
	if d.SASL, err = m.saslConfig(o, at); err != nil {
		return nil, fmt.Errorf("configs for %s: %w", m.Name, err)
	}
	rendered, err := templates.Render(d)
	if err != nil {
		return nil, fmt.Errorf("configs for %s: %w", m.Name, err)
	}
	var out []file
	for name, data := range rendered {
		// Configs hold the store password: owner-only.
		out = append(out, file{name, data, fsx.PrivateFile})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// writeDir writes files into a fresh temporary sibling of dir and renames
// it into place. An existing dir (force) is moved aside first and removed
// only after the new one is in place.
func writeDir(dir string, files []file, p12 *pendingStores, force bool) error {
	return writeDirSync(dir, files, p12, force, true)
}

// writeDirSync is writeDir; with durable false it skips every fsync
// (Options.NoSync).
func writeDirSync(dir string, files []file, p12 *pendingStores, force, durable bool) error {
	parent := filepath.Dir(dir)
	if err := fsx.MkdirPrivate(parent); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, fsx.PrivateDir); err != nil {
		return err
	}
	if err := writeFiles(tmp, files, p12, durable); err != nil {
		return err
	}
	var old string
	if fsx.Exists(dir) {
		if !force {
			return fmt.Errorf("%s %w", dir, ErrExists)
		}
		old = filepath.Join(parent, "."+filepath.Base(dir)+".old-"+fmt.Sprint(time.Now().UnixNano()))
		fsx.Fault("move aside " + filepath.Base(dir))
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	fsx.Fault("place " + filepath.Base(dir))
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			if rerr := os.Rename(old, dir); rerr != nil {
				return fmt.Errorf("%w; putting the previous %s back also failed (it is kept at %s): %v", err, dir, old, rerr)
			}
		}
		return err
	}
	done = true
	if durable {
		if err := fsx.SyncDir(parent); err != nil {
			return err
		}
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// writeFiles writes files into tmp, a fresh directory nobody else uses
// yet, and makes them and tmp durable before the caller renames tmp into
// place. fsx.WriteFile's temporary file, rename and directory fsync per
// file are not needed there (the directory rename is what makes the
// identity appear whole), and the files and tmp are made durable together
// (fsx.SyncFiles: one syncfs, or concurrent fsyncs) instead of one journal
// commit per file. A name listed twice ends with the last content. With
// durable false nothing is synced. The files p12 is still encoding are
// written last, once it has filled them in.
func writeFiles(tmp string, files []file, p12 *pendingStores, durable bool) error {
	handles := make([]*os.File, 0, len(files))
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	last := make(map[string]int, len(files))
	for i, f := range files {
		last[f.name] = i
	}
	write := func(late bool) error {
		for i, f := range files {
			if last[f.name] != i || p12.pending(f.name) != late {
				continue // listed again later (the last content wins), or not in this pass
			}
			path := filepath.Join(tmp, f.name)
			h, err := fsx.CreateNew(path, f.perm) // exact mode, whatever the umask
			if err != nil {
				return err
			}
			handles = append(handles, h)
			if _, err := h.Write(f.data); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
		}
		return nil
	}
	if err := write(false); err != nil {
		return err
	}
	if err := p12.fill(files); err != nil {
		return err
	}
	if err := write(true); err != nil {
		return err
	}
	if durable {
		// The files and tmp itself, all at once: nothing depends on their
		// order until the caller renames tmp into place.
		d, err := os.Open(tmp)
		if err != nil {
			return err
		}
		handles = append(handles, d)
		if err := fsx.SyncFiles(handles); err != nil {
			return err
		}
	}
	opened := handles
	handles = nil // closed here, not by the deferred cleanup
	var errs []error
	for _, h := range opened {
		if err := h.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SyncDirs lists what must be made durable for identities written with
// Options.NoSync: the certs directory that holds them and each identity's
// directory, with the files in it. Bundle adds them to the fsx.Batch that
// also holds the index (fsx.Batch.IncludeDirs), so the lot costs one
// syncfs on Linux rather than several journal commits per identity.
func SyncDirs(pkiDir string, names ...string) []string {
	dirs := []string{filepath.Join(pkiDir, pki.CertsDir)}
	for _, name := range names {
		dirs = append(dirs, Dir(pkiDir, name))
	}
	return dirs
}
