package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
)

// LeafCertFile is the certificate file inside an identity's directory
// (CertsDir/NAME): what recovery reads to tell whether a pending
// certificate was placed.
const LeafCertFile = "tls.crt"

// PreviousCADir holds the outgoing CA during a rotation (ca rotate start
// moves it there before creating the new one).
const PreviousCADir = "ca/previous"

// recoverFiles finishes or undoes what a killed run left on disk (the
// caller holds the lock): in the certs directory a half-built
// ".NAME.new-*" directory is removed, and a ".NAME.old-*" directory is put
// back if NAME is missing (the run died between the two renames) and
// removed otherwise; in the PKI directory and ca/, files a batch staged
// but never renamed into place (a bundle stages a new CA's files until its
// very end) are removed. The certificates those temporaries held are
// pending in the index (Tx.Reserve): resolvePending, which runs next,
// turns them into unplaced records.
func recoverFiles(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, CADir)} {
		if err := fsx.RemoveTemps(d); err != nil {
			return err
		}
	}
	if err := recoverRotationStart(dir); err != nil {
		return err
	}
	if err := recoverCreation(dir); err != nil {
		return err
	}
	certs := filepath.Join(dir, CertsDir)
	entries, err := os.ReadDir(certs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, ".") {
			continue
		}
		if i := strings.Index(n, ".old-"); i > 0 {
			live := filepath.Join(certs, n[1:i])
			if !fsx.Exists(live) {
				if err := os.Rename(filepath.Join(certs, n), live); err != nil {
					return err
				}
				continue
			}
			os.RemoveAll(filepath.Join(certs, n))
		} else if strings.Contains(n, ".new-") {
			os.RemoveAll(filepath.Join(certs, n))
		}
	}
	return nil
}

// placedCert returns the certificate in place for identity name, if one
// parses.
func placedCert(dir, name string) (*x509.Certificate, bool) {
	b, err := os.ReadFile(filepath.Join(dir, CertsDir, name, LeafCertFile))
	if err != nil {
		return nil, false
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return nil, false
	}
	return certs[0], true
}

// recoverRotationStart undoes a rotation start that died after moving the
// current CA to PreviousCADir and before the new CA's certificate was
// placed (the new CA's batch places its certificate last): the directory
// would hold no CA. The previous CA's files move back (over the new CA's
// key, if it was placed), and DIR/ca.crt, which the new CA's batch may
// have replaced, is rewritten to trust the restored CA. The rotation can
// then be started again.
func recoverRotationStart(dir string) error {
	prev := filepath.Join(dir, PreviousCADir)
	if fsx.Exists(filepath.Join(dir, CACertFile)) || !fsx.Exists(filepath.Join(prev, "ca.crt")) {
		return nil
	}
	for _, f := range []string{CAKeyFile, CAChainFile, CACertFile} { // the certificate, which marks a CA, last
		from := filepath.Join(prev, filepath.Base(f))
		if !fsx.Exists(from) {
			continue
		}
		if err := os.Rename(from, filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	if err := fsx.SyncDir(filepath.Join(dir, CADir)); err != nil {
		return err
	}
	if err := os.Remove(prev); err != nil {
		return err
	}
	p, err := Open(dir, nil)
	if err != nil {
		return err
	}
	if trust := pem.EncodeCerts(p.TrustAnchor()); fileDiffers(filepath.Join(dir, TrustFile), trust) {
		return fsx.WriteFile(filepath.Join(dir, TrustFile), trust, fsx.PublicFile)
	}
	return nil
}

// fileDiffers reports whether path is missing or holds other bytes.
func fileDiffers(path string, data []byte) bool {
	old, err := os.ReadFile(path)
	return err != nil || !bytes.Equal(old, data)
}
