package identity

import (
	"slices"

	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
)

// Files lists the files Write puts into the directory of identity name
// (role, with a key): the certificates, the stores of o.Formats, principal,
// password and the configs the templates render for o.Config. It renders
// the configs as Write would, so the list is the one a run writes; nothing
// is read or written.
func Files(name string, role pki.Role, principal string, o Options) ([]string, error) {
	formats := o.Formats
	if len(formats) == 0 {
		formats = AllFormats
	}
	files := []string{CertPEM, ChainPEM, CAPEM, PrincipalFile, PasswordFile}
	for _, f := range formats {
		switch f {
		case FormatJKS:
			files = append(files, TruststoreJKS, KeystoreJKS)
		case FormatP12:
			files = append(files, TruststoreP12, KeystoreP12)
		case FormatPEM:
			files = append(files, KeyPEM, KeystorePEM)
		}
	}
	if len(o.Config.Hosts) == 0 {
		// Write takes them from the certificate; they change what the
		// configs say, not which configs there are.
		o.Config.Hosts = []string{name}
	}
	password := o.Password
	if password == "" {
		password = pki.GeneratePassword()
	}
	m := Material{Name: name, Role: role}
	if o.SASL.Auth.Spec().OAuth && o.SASL.IdP == nil {
		// Listed, not minted: a preview signs nothing.
		files = append(files, AuthFile, sasl.TokenFile)
	} else {
		extra, err := m.saslFiles(&o)
		if err != nil {
			return nil, err
		}
		for _, f := range extra {
			files = append(files, f.name)
		}
	}
	configs, err := m.configs(Dir("", name), formats, password, principal, o)
	if err != nil {
		return nil, err
	}
	for _, c := range configs {
		files = append(files, c.name)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}
