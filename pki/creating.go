package pki

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// A new CA is written as one batch of renames: the key, then its public
// files, the certificate (which marks a directory as holding a CA) last.
// A run killed between those renames would leave a key without its
// certificate, which init must never overwrite: it cannot tell that from a
// lost certificate. So the batch first places creatingFile, the intent:
// the new CA's public files and the hash of its key file. Recovery (the
// start of every transaction) then knows the half-placed CA is kafkatls's
// own unfinished work and completes it, or removes the intent when the
// key never arrived.
const creatingFile = CADir + "/.creating"

// creation is the content of creatingFile. It holds nothing secret.
type creation struct {
	// KeySHA256 is the SHA-256 of the key file's bytes (encrypted or not),
	// so recovery can tell this CA's key from another without decrypting;
	// empty for an engine's CA, which has no key here.
	KeySHA256 string `json:"keySHA256,omitempty"`
	// Files are the public files of the new CA, relative to the PKI
	// directory, in the order they are placed.
	Files []creationFile `json:"files"`
}

type creationFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// newCreation is the intent for a CA with key file keyPEM, or none (nil: an
// engine's CA, whose key never reaches this host).
func newCreation(keyPEM []byte, files []creationFile) ([]byte, error) {
	c := creation{Files: files}
	if keyPEM != nil {
		sum := sha256.Sum256(keyPEM)
		c.KeySHA256 = hex.EncodeToString(sum[:])
	}
	return json.Marshal(c)
}

// recoverCreation completes or clears the creation of a CA that a killed
// run left half-placed (see creatingFile).
func recoverCreation(dir string) error {
	path := filepath.Join(dir, creatingFile)
	b, err := fsx.ReadFileLimit(path, fsx.LimitSpec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var c creation
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	complete := c.KeySHA256 == "" // an engine's CA: its public files are all of it
	if !complete {
		key, err := fsx.ReadFileLimit(filepath.Join(dir, CAKeyFile), fsx.LimitPEM)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Killed before the key was placed: nothing of the new CA is.
		case err != nil:
			return err
		default:
			sum := sha256.Sum256(key)
			// Else the key is another CA's (a rotation start undone by
			// recoverRotationStart): the intent is stale.
			complete = hex.EncodeToString(sum[:]) == c.KeySHA256
		}
	}
	if complete {
		// Place what is missing of the new CA.
		for _, f := range c.Files {
			target := filepath.Join(dir, f.Path)
			if fsx.Exists(target) {
				continue
			}
			if err := fsx.WriteFile(target, f.Data, fsx.PublicFile); err != nil {
				return fmt.Errorf("completing the CA an interrupted run created: %w", err)
			}
		}
		if err := fsx.SyncPaths([]string{dir, filepath.Join(dir, CADir)}); err != nil {
			return err
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// CreationDone drops the intent of a CA created into a caller's batch
// (InitOptions.Batch) once that batch is committed; recovery would drop it
// at the next transaction anyway.
func (p *PKI) CreationDone() error { return removeCreating(p.Dir) }

// removeCreating drops the intent once the new CA is wholly in place.
func removeCreating(dir string) error {
	if err := os.Remove(filepath.Join(dir, creatingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
