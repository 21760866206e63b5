package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

// maxFileSize bounds every read of an identity's files: its stores are a
// few KiB, its configs less; the limit is the one for any store.
const maxFileSize = fsx.LimitStore

// readFile reads name in an identity directory, never through a symbolic
// link (fsx.ReadNoFollow: a link there is refused, naming it).
func readFile(dir, name string) ([]byte, error) {
	return fsx.ReadNoFollow(filepath.Join(dir, name), maxFileSize)
}

// LoadCert returns the certificate in an identity's tls.crt.
func LoadCert(dir string) (*x509.Certificate, error) {
	b, err := readFile(dir, CertPEM)
	if err != nil {
		return nil, err
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CertPEM), err)
	}
	return certs[0], nil
}

// readPasswordFile returns the password file's content as written.
func readPasswordFile(dir string) (string, error) {
	b, err := fsx.ReadNoFollow(filepath.Join(dir, PasswordFile), fsx.LimitSecret)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s has no %s file: its stores were not written here, or it was signed from a CSR (%w)", dir, PasswordFile, fs.ErrNotExist)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// ReadPassword returns the password of an identity's stores: the one that
// opens them, which must also be the one in its password file and in every
// config that carries one. A disagreement is an error naming the files,
// and nothing is repaired: renew copies the configs byte for byte and
// keeps the stores' password, so a password file edited (or replaced by a
// link) after issue would otherwise re-encrypt the stores under a password
// the configs do not carry. Which of the two is right is the user's call.
// Config values that refer to a config provider (${...}) are not compared.
func ReadPassword(dir string) (string, error) {
	filePW, fileErr := readPasswordFile(dir)
	if fileErr != nil && !errors.Is(fileErr, fs.ErrNotExist) {
		return "", fileErr // a link, a FIFO, a file too large: refused, never guessed around
	}
	configs, err := configPasswords(dir)
	if err != nil {
		return "", err
	}
	// The store that decides: one is enough (one password protects them
	// all), and JKS opens fastest; bundle calls this for every identity.
	var authority []string
	for _, name := range []string{KeystoreJKS, KeystoreP12, TruststoreJKS, TruststoreP12} {
		if fsx.Exists(filepath.Join(dir, name)) {
			authority = []string{name}
			break
		}
	}
	if len(authority) == 0 {
		// PEM only: nothing to open; the password file and configs must agree.
		if fileErr != nil {
			return "", fileErr
		}
		for _, c := range configs {
			if c.value != filePW {
				return "", fmt.Errorf("%s and %s (%s) hold different passwords: restore the one that was changed; nothing was written",
					filepath.Join(dir, PasswordFile), filepath.Join(dir, c.file), c.key)
			}
		}
		return filePW, nil
	}
	opens := func(pw string) (bool, error) {
		for _, name := range authority {
			b, err := readFile(dir, name)
			if err != nil {
				return false, err
			}
			if _, err := stores.Read(b, pw); err != nil {
				return false, nil
			}
		}
		return true, nil
	}
	storeNames := strings.Join(authority, " and ")
	if fileErr == nil {
		ok, err := opens(filePW)
		if err != nil {
			return "", err
		}
		if ok {
			for _, c := range configs {
				if c.value != filePW {
					return "", fmt.Errorf("%s carries a password (%s) that does not open %s in %s, which the password file opens: "+
						"restore the config (renew copies configs unchanged, so it would stay broken); nothing was written",
						filepath.Join(dir, c.file), c.key, storeNames, dir)
				}
			}
			return filePW, nil
		}
	}
	// The password file is missing or wrong: is a config's the stores'?
	tried := map[string]bool{}
	for _, c := range configs {
		if tried[c.value] {
			continue
		}
		tried[c.value] = true
		ok, err := opens(c.value)
		if err != nil {
			return "", err
		}
		if ok {
			what := "does not open " + storeNames
			if fileErr != nil {
				what = "is missing"
			}
			return "", fmt.Errorf("%s %s, but the password in %s (%s) does: the password file was changed after the stores were written. "+
				"The stores keep their password and nothing was written: put that password back in %s (to change the password, issue the identity again with --force and --password-file)",
				filepath.Join(dir, PasswordFile), what, filepath.Join(dir, c.file), c.key, filepath.Join(dir, PasswordFile))
		}
	}
	if fileErr != nil {
		return "", fileErr
	}
	return "", fmt.Errorf("no password opens %s in %s: neither %s nor the passwords its configs carry; restore the password file or the stores",
		storeNames, dir, filepath.Join(dir, PasswordFile))
}

// configPassword is one password-bearing setting of a config.
type configPassword struct{ file, key, value string }

// configPasswords returns the store passwords the identity's configs
// carry: every *ssl*password* key of its .properties and .cfg files
// (java.util.Properties syntax) and of kcat.conf (librdkafka: raw values).
func configPasswords(dir string) ([]configPassword, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []configPassword
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if !slices.Contains([]string{".properties", ".cfg", ".conf"}, ext) || strings.HasPrefix(name, ".") {
			continue
		}
		b, err := readFile(dir, name)
		if err != nil {
			return nil, err
		}
		var props map[string]string
		if ext == ".conf" {
			props = parseLibrdkafkaConf(b)
		} else {
			props = templates.ParseProperties(b)
		}
		for _, key := range slices.Sorted(maps.Keys(props)) {
			lk := strings.ToLower(key)
			if !strings.Contains(lk, "ssl") || !strings.HasSuffix(strings.ReplaceAll(lk, "-", ""), "password") {
				continue
			}
			if v := props[key]; !strings.Contains(v, "${") { // ${...}: a config provider, not the value
				out = append(out, configPassword{file: name, key: key, value: v})
			}
		}
	}
	return out, nil
}

// parseLibrdkafkaConf reads a librdkafka config file (kcat -F): key=value
// lines taken as they are, # comments.
func parseLibrdkafkaConf(b []byte) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[strings.TrimSpace(k)] = v
		}
	}
	return out
}

// CheckReissue is what Reissue checks before anything is signed: the
// directory and every file in it are not symbolic links, hold nothing
// Reissue could not carry over, and, when the stores are rewritten with
// the identity's key (withKey), their password agrees with the password
// file and the configs. Renew calls it before the CA signs, so a refusal
// leaves no signed certificate out of the index.
func CheckReissue(dir string, withKey bool) error {
	if err := fsx.CheckNotSymlink(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			return &fsx.SymlinkError{Path: path}
		case !e.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file: renewing %s would not carry it over; move it out of the directory first", path, dir)
		}
	}
	if withKey {
		if _, err := ReadPassword(dir); err != nil {
			return err
		}
	}
	return nil
}
