package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
)

// caPassphrase is the shared source of the CA key passphrase: a file or
// the KAFKATLS_CA_PASSPHRASE environment variable. Never a flag value, so
// it cannot leak through shell history or the process list.
type caPassphrase struct{ file string }

func (c *caPassphrase) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.file, "ca-passphrase-file", "", "file holding the CA key passphrase (or env KAFKATLS_CA_PASSPHRASE)")
}

// get returns the passphrase, or nil if none was given.
func (c *caPassphrase) get() ([]byte, error) {
	if c.file != "" {
		b, err := fsx.ReadFileLimit(c.file, fsx.LimitSecret)
		if err != nil {
			return nil, fmt.Errorf("--ca-passphrase-file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return nil, fmt.Errorf("--ca-passphrase-file %s is empty", c.file)
		}
		return []byte(p), nil
	}
	if p := os.Getenv("KAFKATLS_CA_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, nil
}

// looseMode reports the mode of --ca-passphrase-file when group or others
// may read it: the passphrase is the CA key's only protection at rest.
func (c *caPassphrase) looseMode() (os.FileMode, bool) {
	if c.file == "" {
		return 0, false
	}
	st, err := os.Stat(c.file)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return 0, false
	}
	return st.Mode().Perm(), true
}

// prompt is the callback pki.Open uses when the CA key is encrypted.
func (c *caPassphrase) prompt() ([]byte, error) {
	p, err := c.get()
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, pki.ErrCAKeyEncrypted // Run adds how to give it
	}
	return p, nil
}

// storePassword is the shared source of a user-chosen store password.
type storePassword struct{ file, env string }

func (s *storePassword) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.file, "password-file", "", "read the store/key password from this file instead of generating one")
	cmd.Flags().StringVar(&s.env, "password-env", "", "read the store/key password from this environment variable")
}

// get returns the password, or "" to generate one.
func (s *storePassword) get() (string, error) {
	var pw, src string
	switch {
	case s.file != "" && s.env != "":
		return "", usageErr("--password-file and --password-env are exclusive: give one")
	case s.file != "":
		b, err := fsx.ReadFileLimit(s.file, fsx.LimitSecret)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		pw, src = strings.TrimRight(string(b), "\r\n"), "--password-file "+s.file
	case s.env != "":
		v, ok := os.LookupEnv(s.env)
		if !ok {
			return "", fmt.Errorf("--password-env: environment variable %s is not set", s.env)
		}
		pw, src = v, "--password-env "+s.env
	default:
		return "", nil
	}
	if err := pki.ValidatePassword(pw); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	return pw, nil
}
