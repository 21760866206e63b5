package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
)

// Store is one format's worth of TLS material of an identity, loaded from
// the files on disk (the files are what is tested).
type Store struct {
	Format string // JKS, PKCS12 or PEM
	Cert   tls.Certificate
	Roots  *x509.CertPool
	// Trust are the certificates the truststore holds.
	Trust []*x509.Certificate
}

// Identity is an entity directory as loaded from disk, for the commands
// that use its stores (verify, broker) rather than rewrite them.
type Identity struct {
	Name      string
	Role      pki.Role
	Dir       string
	Principal string // principal.txt
	// Auth is how it authenticates to Kafka (auth.txt): for a SASL
	// identity Principal is its SASL principal, not its certificate's.
	Auth   sasl.Auth
	Leaf   *x509.Certificate
	Stores []Store
}

// Load reads an entity directory written by kafkatls: every store
// format present, with the password from its password file.
func Load(dir string, role pki.Role) (*Identity, error) {
	id := &Identity{Name: filepath.Base(dir), Role: role, Dir: dir}
	if b, err := readFile(dir, PrincipalFile); err == nil {
		id.Principal = strings.TrimSpace(string(b))
	}
	if a, err := DirAuth(dir); err == nil {
		id.Auth = a
	}
	// The stores are tested as they are, with the password file as it is
	// (not through a link).
	pw, err := readPasswordFile(dir)
	var link *fsx.SymlinkError
	if errors.As(err, &link) {
		return nil, err
	}
	if id.Role == "" {
		id.Role = guessRole(dir)
	}
	var errs []error
	for _, f := range []struct{ format, ks, ts string }{
		{"JKS", KeystoreJKS, TruststoreJKS},
		{"PKCS12", KeystoreP12, TruststoreP12},
	} {
		ksData, err := readFile(dir, f.ks)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := loadJavaStores(ksData, dir, f.ts, pw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.ks, err))
			continue
		}
		st.Format = f.format
		id.Stores = append(id.Stores, st)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyPEM)); err == nil {
		st, err := loadPEM(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("PEM files: %w", err))
		} else {
			id.Stores = append(id.Stores, st)
		}
	}
	if len(id.Stores) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, fmt.Errorf("%s holds no keystore (keystore.jks, keystore.p12 or tls.key)", dir)
	}
	id.Leaf = id.Stores[0].Cert.Leaf
	return id, errors.Join(errs...)
}

func guessRole(dir string) pki.Role {
	switch {
	case fileExists(filepath.Join(dir, pki.ServerNoteFile)):
		return pki.RoleServer
	case fileExists(filepath.Join(dir, pki.ConnectDistributedFile)):
		return pki.RoleConnect
	case fileExists(filepath.Join(dir, pki.MirrorMakerClusterFile)):
		return pki.RoleMirrorMaker
	case fileExists(filepath.Join(dir, "zoo.cfg")):
		return pki.RoleZooKeeper
	case fileExists(filepath.Join(dir, "server.properties")):
		b, _ := fsx.ReadFileLimit(filepath.Join(dir, "server.properties"), fsx.LimitPEM)
		if strings.Contains(string(b), "listener.name.controller.ssl.keystore") && !strings.Contains(string(b), "inter.broker.listener.name") {
			return pki.RoleController
		}
		return pki.RoleBroker
	}
	return pki.RoleClient
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func loadJavaStores(ksData []byte, dir, tsName, pw string) (Store, error) {
	var st Store
	ks, err := stores.Read(ksData, pw)
	if err != nil {
		return st, err
	}
	if st.Cert, err = ks.KeyPair(); err != nil {
		return st, err
	}
	if st.Cert.Leaf == nil {
		st.Cert.Leaf, _ = x509.ParseCertificate(st.Cert.Certificate[0])
	}
	tsData, err := readFile(dir, tsName)
	if err != nil {
		return st, fmt.Errorf("truststore: %w", err)
	}
	ts, err := stores.Read(tsData, pw)
	if err != nil {
		return st, fmt.Errorf("%s: %w", tsName, err)
	}
	st.Roots = x509.NewCertPool()
	for _, e := range ts.Entries {
		if e.TrustedCert != nil {
			st.Roots.AddCert(e.TrustedCert)
			st.Trust = append(st.Trust, e.TrustedCert)
		}
	}
	if len(st.Trust) == 0 {
		return st, fmt.Errorf("%s has no trusted certificate: Java would fail with \"trustAnchors parameter must be non-empty\"", tsName)
	}
	return st, nil
}

func loadPEM(dir string) (Store, error) {
	st := Store{Format: "PEM"}
	var err error
	chain, err := readFile(dir, ChainPEM)
	if err != nil {
		return st, err
	}
	key, err := readFile(dir, KeyPEM)
	if err != nil {
		return st, err
	}
	if st.Cert, err = tls.X509KeyPair(chain, key); err != nil {
		return st, err
	}
	caData, err := readFile(dir, CAPEM)
	if err != nil {
		return st, err
	}
	if st.Trust, err = pem.DecodeCerts(caData); err != nil {
		return st, fmt.Errorf("%s: %w", CAPEM, err)
	}
	st.Roots = x509.NewCertPool()
	for _, c := range st.Trust {
		st.Roots.AddCert(c)
	}
	return st, nil
}

// LoadAll loads every identity of a PKI directory, in index order,
// skipping certificates signed from external CSRs (no key here).
func LoadAll(dir string) ([]*Identity, error) {
	idx, err := pki.LoadIndex(dir)
	if err != nil {
		return nil, err
	}
	roles := map[string]pki.Role{}
	var names []string
	for _, r := range idx.Records {
		// A pending record is an identity a killed run was placing: the
		// next write resolves it; until then verify what is in place.
		pending := r.Status == pki.StatusPending && fsx.Exists(Dir(dir, r.Name))
		if r.Status != pki.StatusValid && !pending || r.ExternalKey {
			continue
		}
		if _, seen := roles[r.Name]; !seen {
			names = append(names, r.Name)
		}
		roles[r.Name] = r.Role
	}
	if len(names) == 0 {
		// No index (e.g. a copied bundle): take the directories.
		entries, _ := os.ReadDir(filepath.Join(dir, pki.CertsDir))
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
	}
	var out []*Identity
	var errs []error
	for _, n := range names {
		id, err := Load(Dir(dir, n), roles[n])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
		if id != nil {
			out = append(out, id)
		}
	}
	if len(out) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("%s %w", dir, ErrNoIdentities)
	}
	return out, errors.Join(errs...)
}
