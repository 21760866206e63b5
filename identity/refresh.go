package identity

import (
	"bytes"
	"errors"
	"path/filepath"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

// Refresh re-renders the configs of an existing entity directory after the
// cluster around it changed (a new broker in super.users, a new bootstrap
// list) and rewrites only the files whose content differs; with dryRun it
// only reports them. Keys, certificates and stores are untouched.
func Refresh(dir, name string, role pki.Role, o Options, dryRun bool) (changed []string, err error) {
	cert, err := LoadCert(dir)
	if err != nil {
		return nil, err
	}
	// The configs are rendered with the stores' password, never with a
	// password file that disagrees with them.
	password, err := ReadPassword(dir)
	if err != nil {
		return nil, err
	}
	subject, err := principal.JavaName(cert.RawSubject)
	if err != nil {
		return nil, err
	}
	formats := o.Formats
	if len(formats) == 0 {
		formats = AllFormats
	}
	m := Material{Name: name, Role: role, Cert: cert}
	if o.SASL.Auth.Spec().Scram && o.SASL.ScramPassword == "" {
		if o.SASL.ScramPassword, err = readScramPassword(dir); err != nil {
			return nil, err
		}
	}
	if o.SASL.Auth.Spec().OAuth && o.SASL.IdP != nil && o.SASL.Client.ID == "" {
		if o.SASL.Client, err = readClient(dir); err != nil {
			return nil, err
		}
	}
	files, err := m.configs(dir, formats, password, o.SASL.principal(name, principal.User(subject)), o)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		old, err := readFile(dir, f.name)
		var link *fsx.SymlinkError
		if errors.As(err, &link) {
			return changed, err
		}
		if err == nil && bytes.Equal(old, f.data) {
			continue
		}
		changed = append(changed, f.name)
		if !dryRun {
			if err := fsx.WriteFile(path, f.data, f.perm); err != nil {
				return changed, err
			}
		}
	}
	return changed, nil
}
