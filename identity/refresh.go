package identity

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
)

// Refresh re-renders the configs of an existing entity directory after the
// cluster around it changed (a new broker in super.users, a new bootstrap
// list) and rewrites only the files whose content differs; with dryRun it
// only reports them. Keys, certificates and stores are untouched.
func Refresh(dir, name string, role pki.Role, o Options, dryRun bool) (changed []string, err error) {
	certPEM, err := fsx.ReadFileLimit(filepath.Join(dir, CertPEM), fsx.LimitPEM)
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CertPEM), err)
	}
	pw, err := fsx.ReadFileLimit(filepath.Join(dir, PasswordFile), fsx.LimitSecret)
	if err != nil {
		return nil, err
	}
	password := strings.TrimRight(string(pw), "\r\n")
	subject, err := principal.JavaName(certs[0].RawSubject)
	if err != nil {
		return nil, err
	}
	formats := o.Formats
	if len(formats) == 0 {
		formats = AllFormats
	}
	m := Material{Name: name, Role: role, Cert: certs[0]}
	files, err := m.configs(dir, formats, password, principal.User(subject), o)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if old, err := fsx.ReadFileLimit(path, fsx.LimitStore); err == nil && bytes.Equal(old, f.data) {
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
