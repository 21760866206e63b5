package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/kafkatls/kafkatls/engine/enginecert"
)

// MaxListedSerials bounds the serials ListSerials accepts from one LIST
// answer: a mount holding more is a mount kafkatls does not reconcile
// against whole (see Unknown's limit).
const MaxListedSerials = 1 << 20

// listParallel is how many certificates Unknown reads at once.
const listParallel = 8

// ListSerials lists the serials of the certificates the mount stores
// (LIST /v1/MOUNT/certs), as big integers: the mount's CA certificates
// included. A role with no_store=true stores nothing, so lists nothing.
func (c *Client) ListSerials(ctx context.Context) ([]*big.Int, error) {
	path := c.cfg.Mount + "/certs"
	var s *vaultapi.Secret
	err := c.retry(ctx, func() (err error) {
		s, err = c.api.Logical().ListWithContext(ctx, path)
		return err
	})
	if err != nil {
		return nil, classify("list certificates", path, "list", err)
	}
	if s == nil || s.Data == nil {
		return nil, nil // 404: nothing stored yet
	}
	keys, _ := s.Data["keys"].([]any)
	if len(keys) > MaxListedSerials {
		return nil, &EngineError{Op: "list certificates", Path: path, Status: 200, Messages: []string{fmt.Sprintf("more than %d serials", MaxListedSerials)}}
	}
	out := make([]*big.Int, 0, len(keys))
	for _, k := range keys {
		if n, ok := ParseSerial(fmt.Sprint(k)); ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// ParseSerial reads a serial as Vault writes it ("17:67:16:..." in
// answers, "17-67-16-..." in storage keys) or as plain hex; ok is false
// for anything else (a list entry that is no serial).
func ParseSerial(s string) (*big.Int, bool) {
	h := strings.NewReplacer(":", "", "-", "").Replace(strings.TrimSpace(s))
	if h == "" {
		return nil, false
	}
	return new(big.Int).SetString(h, 16)
}

// ReadCert reads one stored certificate (GET /v1/MOUNT/cert/SERIAL).
func (c *Client) ReadCert(ctx context.Context, serial *big.Int) (*x509.Certificate, error) {
	path := c.cfg.Mount + "/cert/" + SerialColons(serial)
	var s *vaultapi.Secret
	err := c.retry(ctx, func() (err error) {
		s, err = c.api.Logical().ReadWithContext(ctx, path)
		return err
	})
	if err != nil {
		return nil, classify("read certificate", path, "read", err)
	}
	if s == nil || s.Data == nil {
		return nil, &EngineError{Op: "read certificate", Path: path, Status: 404, Messages: []string{"no such certificate"}}
	}
	cert, err := certField(s.Data, "certificate")
	if err != nil {
		return nil, &EngineError{Op: "read certificate", Path: path, Status: 200, Messages: []string{err.Error()}}
	}
	if cert.SerialNumber.Cmp(serial) != 0 {
		return nil, &EngineError{Op: "read certificate", Path: path, Status: 200, Messages: []string{"the answer holds another serial"}}
	}
	return cert, nil
}

// Unknown returns the certificates the mount stores whose serial known
// does not report (known is given the serial as lowercase hex without
// separators, as the local index writes it), reading at most limit of
// them (limit < 1: all), listParallel at a time. Vault's list says
// nothing of when a certificate was issued, and comes in serial order,
// which is random: every unknown serial has to be read to learn its key.
// complete is false when limit stopped the reading. A certificate that
// vanished between the list and the read (tidied) is skipped.
func (c *Client) Unknown(ctx context.Context, known func(serial string) bool, limit int) (certs []*x509.Certificate, complete bool, err error) {
	serials, err := c.ListSerials(ctx)
	if err != nil {
		return nil, false, err
	}
	var todo []*big.Int
	for _, s := range serials {
		if !known(fmt.Sprintf("%x", s.Bytes())) {
			todo = append(todo, s)
		}
	}
	complete = true
	if limit > 0 && len(todo) > limit {
		todo, complete = todo[:limit], false
	}
	got, errs := enginecert.SignAll(ctx, todo, listParallel, c.ReadCert)
	for i, cert := range got {
		if e := errs[i]; e != nil {
			if ee := (*EngineError)(nil); errors.As(e, &ee) && ee.Status == 404 {
				continue
			}
			return nil, false, e
		}
		certs = append(certs, cert)
	}
	return certs, complete, nil
}
