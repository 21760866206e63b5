package inspect

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
)

// Limits of a directory walk.
const (
	maxWalkDepth = 8
	maxWalkFiles = 5000
)

// Result is the outcome of linting files or directories.
type Result struct {
	Files    []string  `json:"files"`   // files linted
	Skipped  []string  `json:"skipped"` // files of no known format
	Findings []Finding `json:"findings"`
}

// LintPaths lints files and directories. A directory is walked: every
// file of a known format is linted, others (configs, notes) are skipped.
// A kafkatls PKI directory, or one identity's directory in it, gives each
// file its role (from the index) and the intended CA (ca.crt); o.Role and
// o.IntendedCA override them.
func LintPaths(paths []string, o LintOptions) (*Result, error) {
	res := &Result{Files: []string{}, Skipped: []string{}, Findings: []Finding{}}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			lintFile(res, p, o, true)
			continue
		}
		if err := lintDir(res, p, o); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// lintFile lints one file. explicit is false for a file met in a directory
// walk whose name does not say it is a store or certificate: content of no
// known format is skipped then. A file named like one (keystore.p12,
// tls.key, *.pem) must read as one: a truncated or corrupt file is an error.
func lintFile(res *Result, path string, o LintOptions, explicit bool) *Report {
	r, err := File(path, Options{Passwords: o.Passwords})
	if err != nil {
		if !explicit && errors.Is(err, ErrUnknownFormat) {
			res.Skipped = append(res.Skipped, path)
			return nil
		}
		msg := strings.TrimPrefix(err.Error(), path+": ")
		if errors.Is(err, ErrUnknownFormat) && nameKind(path) == "store" {
			msg = "named like a certificate, key or store file, but its content is none (truncated or corrupt?): " + msg
		}
		res.Files = append(res.Files, path)
		res.Findings = append(res.Findings, Finding{File: path, Severity: SevError, Check: "unreadable", Message: msg})
		return nil
	}
	res.Files = append(res.Files, path)
	res.Findings = append(res.Findings, Lint(r, o)...)
	return r
}

// pkiContext is what a kafkatls directory tells about its files.
type pkiContext struct {
	root    string // the PKI directory
	roles   map[string]pki.Role
	retired map[string]string // identities with no current certificate: their last status
	ca      []*x509.Certificate
	// indexErr: index.json could not be read (roles are then unknown).
	indexErr error
}

// indexFile is the PKI's index of issued certificates (pki.LoadIndex
// reads it whole; lint reads it bounded).
const indexFile = "index.json"

func loadIndex(root string) (*pki.Index, error) {
	path := filepath.Join(root, indexFile)
	b, err := fsx.ReadFileLimit(path, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &pki.Index{}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx pki.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", path, err)
	}
	return &idx, nil
}

func loadPKIContext(root string) *pkiContext {
	if _, err := os.Stat(filepath.Join(root, "kafkatls.json")); err != nil {
		return nil
	}
	c := &pkiContext{root: root, roles: map[string]pki.Role{}, retired: map[string]string{}}
	if idx, err := loadIndex(root); err != nil {
		c.indexErr = err
	} else {
		for _, r := range idx.Records {
			if r.Status == pki.StatusValid {
				c.roles[r.Name] = r.Role
			} else {
				c.retired[r.Name] = r.Status
			}
		}
		for n := range c.roles {
			delete(c.retired, n)
		}
	}
	c.ca = readCerts(filepath.Join(root, pki.TrustFile))
	return c
}

func readCerts(path string) []*x509.Certificate {
	b, err := fsx.ReadFileLimit(path, MaxFileSize)
	if err != nil {
		return nil
	}
	r, err := Inspect(b, Options{})
	if err != nil {
		return nil
	}
	var out []*x509.Certificate
	for _, e := range r.Entries {
		if e.Type == EntryCert {
			out = append(out, e.certs...)
		}
	}
	return out
}

// findPKI returns the kafkatls PKI directory dir is, or is inside.
func findPKI(dir string) *pkiContext {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	for d, i := abs, 0; i < 4; d, i = filepath.Dir(d), i+1 {
		if c := loadPKIContext(d); c != nil {
			return c
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return nil
}

// layoutRole guesses an identity's role from the configs kafkatls (or a
// person) put next to its stores.
func layoutRole(dir string) pki.Role {
	if _, err := os.Stat(filepath.Join(dir, pki.ServerNoteFile)); err == nil {
		return pki.RoleServer
	}
	if _, err := os.Stat(filepath.Join(dir, pki.ConnectDistributedFile)); err == nil {
		return pki.RoleConnect
	}
	if _, err := os.Stat(filepath.Join(dir, pki.MirrorMakerClusterFile)); err == nil {
		return pki.RoleMirrorMaker
	}
	if b, err := fsx.ReadFileLimit(filepath.Join(dir, "server.properties"), MaxConfigSize); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(line, "process.roles="); ok && strings.TrimSpace(v) == "controller" {
				return pki.RoleController
			}
			if v, ok := strings.CutPrefix(line, "listeners="); ok && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(v)), "CONTROLLER://") && !strings.Contains(v, ",") {
				return pki.RoleController
			}
		}
		return pki.RoleBroker
	}
	if _, err := os.Stat(filepath.Join(dir, "zoo.cfg")); err == nil {
		return pki.RoleZooKeeper
	}
	if _, err := os.Stat(filepath.Join(dir, "client.properties")); err == nil {
		return pki.RoleClient
	}
	return ""
}

func lintDir(res *Result, dir string, o LintOptions) error {
	ctx := findPKI(dir)
	if ctx != nil && ctx.indexErr != nil {
		path := filepath.Join(ctx.root, indexFile)
		res.Findings = append(res.Findings, Finding{File: path, Severity: SevError, Check: "unreadable",
			Message: strings.Replace(ctx.indexErr.Error(), path, "the index", 1) + ": roles of the identities are unknown"})
	}
	count := 0
	noted := map[string]bool{}
	byDir := map[string][]*Report{}
	var dirs []string
	configDirs := map[string]bool{}
	var cdirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(d.Name(), ".") || strings.Count(rel, string(filepath.Separator)) >= maxWalkDepth) {
				return filepath.SkipDir
			}
			// Retired CAs are kept for the record, not in use.
			if ctx != nil && filepath.Base(filepath.Dir(path)) == pki.CADir && (strings.HasPrefix(d.Name(), "replaced-") || strings.HasPrefix(d.Name(), "retired-")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		count++
		if count > maxWalkFiles {
			return fmt.Errorf("%s holds more than %d files: lint a smaller directory", dir, maxWalkFiles)
		}
		fo := o
		fdir := filepath.Dir(path)
		if ctx != nil {
			absPath, _ := filepath.Abs(path)
			relPKI, _ := filepath.Rel(ctx.root, absPath)
			parts := strings.Split(relPKI, string(filepath.Separator))
			if len(parts) == 3 && parts[0] == pki.CertsDir {
				if st, ok := ctx.retired[parts[1]]; ok {
					if !noted[parts[1]] {
						noted[parts[1]] = true
						res.Findings = append(res.Findings, Finding{File: fdir, Severity: SevInfo, Check: "not-current",
							Message: fmt.Sprintf("identity %s has no current certificate (%s): its files are not linted", parts[1], st)})
					}
					return nil
				}
				if fo.Role == "" {
					fo.Role = ctx.roles[parts[1]]
				}
			}
			if len(fo.IntendedCA) == 0 {
				fo.IntendedCA = ctx.ca
			}
			if parts[0] == pki.CADir && strings.HasSuffix(relPKI, ".key") {
				fo.KeyOnly = true // a CA key: encrypted at rest, never read by Kafka
			}
		}
		if fo.Role == "" {
			fo.Role = layoutRole(fdir)
		}
		if len(fo.IntendedCA) == 0 {
			if fdir != dir || ctx == nil {
				// An identity directory written by kafkatls names its CA in ca.crt.
				if _, err := os.Stat(filepath.Join(fdir, "principal.txt")); err == nil {
					fo.IntendedCA = readCerts(filepath.Join(fdir, "ca.crt"))
				}
			}
		}
		if IsConfig(path) {
			// Read by the consistency check of its directory, below.
			res.Files = append(res.Files, path)
			if !configDirs[fdir] {
				configDirs[fdir] = true
				cdirs = append(cdirs, fdir)
			}
			return nil
		}
		if nameKind(path) == "password" {
			lintPasswordFile(res, path)
			// Checked against the stores next to it, below.
			if !configDirs[fdir] {
				configDirs[fdir] = true
				cdirs = append(cdirs, fdir)
			}
			return nil
		}
		if r := lintFile(res, path, fo, nameKind(path) == "store"); r != nil {
			if _, ok := byDir[fdir]; !ok {
				dirs = append(dirs, fdir)
			}
			byDir[fdir] = append(byDir[fdir], r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range dirs {
		res.Findings = append(res.Findings, crossCheck(byDir[d])...)
	}
	// Configs and password files against the stores they name, and
	// stores against ca.crt.
	// A store the per-file checks already found off the intended CA is
	// not reported twice.
	offCA := map[string]bool{}
	for _, f := range res.Findings {
		if f.Check == "wrong-ca" || f.Check == "ca-not-trusted" {
			offCA[f.File] = true
		}
	}
	for _, d := range cdirs {
		for _, f := range CheckIdentity(d) {
			if f.Check == CheckNotFromCA && offCA[f.File] {
				continue
			}
			res.Findings = append(res.Findings, f)
		}
	}
	return nil
}

// lintPasswordFile reads a password file as the stores next to it are
// opened with it: a file that cannot be read, is empty or too large is an
// error (whether the password opens the stores is the consistency check's).
func lintPasswordFile(res *Result, path string) {
	res.Files = append(res.Files, path)
	if _, err := readPassword(path); err != nil {
		res.Findings = append(res.Findings, Finding{File: path, Severity: SevError, Check: "unreadable", Message: strings.Replace(err.Error(), path, "the file", 1)})
	}
}

// crossCheck compares the files of one directory: a keystore's chain must
// lead to a CA its sibling truststore trusts, and a PEM key must belong to
// the PEM certificate next to it.
func crossCheck(reports []*Report) []Finding {
	var out []Finding
	var trusts []*Report
	for _, r := range reports {
		base := strings.ToLower(filepath.Base(r.File))
		if strings.Contains(base, "truststore") && len(trustedCerts(r)) > 0 {
			trusts = append(trusts, r)
		}
	}
	var pemKey crypto.Signer
	var pemKeyFile string
	var pemCert *x509.Certificate
	var pemCertFile string
	for _, r := range reports {
		base := strings.ToLower(filepath.Base(r.File))
		for _, e := range r.Entries {
			switch {
			case e.Type == EntryPrivateKey && e.key != nil && pemKey == nil:
				if s, ok := e.key.(crypto.Signer); ok {
					pemKey, pemKeyFile = s, r.File
				}
			case e.Type == EntryCert && pemCert == nil && !isCA(e.certs[0]) && (base == "tls.crt" || strings.HasSuffix(base, ".crt") || strings.HasSuffix(base, ".pem")):
				pemCert, pemCertFile = e.certs[0], r.File
			}
			if e.Type != EntryKey || len(e.certs) == 0 || !strings.Contains(base, "keystore") {
				continue
			}
			for _, t := range trusts {
				if !chainTrusted(e.certs, trustedCerts(t)) {
					out = append(out, Finding{File: r.File, Entry: entryName(e, 0), Severity: SevError, Check: "ca-not-trusted",
						Message: fmt.Sprintf("its certificate does not chain to any CA in %s: peers using that truststore (other brokers, clients of the same CA) reject it; put the issuing CA into the truststore", filepath.Base(t.File))})
				}
			}
		}
	}
	if pemKey != nil && pemCert != nil && !keyMatches(pemKey, pemCert) {
		out = append(out, Finding{File: pemKeyFile, Severity: SevError, Check: "key-mismatch",
			Message: fmt.Sprintf("the key does not belong to the certificate in %s (%q): PEM clients (librdkafka, KafkaJS, Go) fail to load the pair", filepath.Base(pemCertFile), subj(pemCert))})
	}
	return out
}

func trustedCerts(r *Report) []*x509.Certificate {
	var out []*x509.Certificate
	for _, e := range r.Entries {
		if e.Type == EntryTrusted {
			out = append(out, e.certs...)
		}
	}
	return out
}

func chainTrusted(chain, anchors []*x509.Certificate) bool {
	for _, c := range chain {
		for _, a := range anchors {
			if c.Equal(a) || signedBy(c, a) {
				return true
			}
		}
	}
	return false
}
