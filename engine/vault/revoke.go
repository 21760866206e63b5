package vault

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"crypto/x509"

	vaultapi "github.com/hashicorp/vault/api"
)

// SerialColons writes a serial the way Vault names certificates
// ("02:af:d8:..."), for revoke and cert/SERIAL.
func SerialColons(serial *big.Int) string {
	b := serial.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// Revoke revokes a certificate the engine issued (POST /v1/MOUNT/revoke).
// It returns the engine's revocation time; revoking twice is not an error.
// The engine rebuilds its CRL (see CRL).
func (c *Client) Revoke(ctx context.Context, serial *big.Int) (time.Time, error) {
	path := c.cfg.Mount + "/revoke"
	var s *vaultapi.Secret
	err := c.retry(ctx, func() (err error) {
		s, err = c.api.Logical().WriteWithContext(ctx, path, map[string]any{"serial_number": SerialColons(serial)})
		return err
	})
	if err != nil {
		return time.Time{}, classify("revoke", path, "update", err)
	}
	if s != nil && s.Data != nil {
		if v, ok := s.Data["revocation_time"]; ok {
			var sec int64
			if _, err := fmt.Sscan(fmt.Sprint(v), &sec); err == nil && sec > 0 {
				return time.Unix(sec, 0).UTC(), nil
			}
		}
	}
	return time.Now().UTC(), nil
}

// rawGet fetches an endpoint that answers PEM, not JSON.
func (c *Client) rawGet(ctx context.Context, op, path string) ([]byte, error) {
	// The raw calls ignore the client's timeout: apply it here.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var resp *vaultapi.Response
	err := c.retry(ctx, func() (err error) {
		if resp != nil {
			resp.Body.Close()
		}
		resp, err = c.api.Logical().ReadRawWithContext(ctx, path)
		return err
	})
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, classify(op, path, "read", err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPEM+1))
	if err != nil {
		return nil, &EngineError{Op: op, Path: path, Err: err}
	}
	if len(b) > maxPEM {
		return nil, &EngineError{Op: op, Path: path, Status: resp.StatusCode, Messages: []string{fmt.Sprintf("answer larger than %d bytes", maxPEM)}}
	}
	return b, nil
}

// CAChain returns the mount's CA chain (GET /v1/MOUNT/ca_chain): the
// issuing CA first, then up to the root when the mount knows it.
func (c *Client) CAChain(ctx context.Context) ([]*x509.Certificate, error) {
	path := c.cfg.Mount + "/ca_chain"
	b, err := c.rawGet(ctx, "read CA chain", path)
	if err != nil {
		return nil, err
	}
	certs, err := parsePEMCerts(b)
	if err != nil {
		return nil, &EngineError{Op: "read CA chain", Path: path, Status: 200, Messages: []string{err.Error()}}
	}
	return certs, nil
}

// CRL returns the mount's current CRL (GET /v1/MOUNT/crl/pem), its
// signature checked against the mount's issuing CA.
func (c *Client) CRL(ctx context.Context) (*x509.RevocationList, error) {
	path := c.cfg.Mount + "/crl/pem"
	b, err := c.rawGet(ctx, "read CRL", path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "X509 CRL" {
		return nil, &EngineError{Op: "read CRL", Path: path, Status: 200, Messages: []string{"no PEM X509 CRL in the answer"}}
	}
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		return nil, &EngineError{Op: "read CRL", Path: path, Status: 200, Messages: []string{err.Error()}}
	}
	chain, err := c.CAChain(ctx)
	if err != nil {
		return nil, err
	}
	if err := crl.CheckSignatureFrom(chain[0]); err != nil {
		return nil, fmt.Errorf("%w: the CRL of %s is not signed by its issuing CA %q: %v", ErrEngine, c.cfg.Mount, chain[0].Subject, err)
	}
	return crl, nil
}

// Revoked reports whether crl lists serial.
func Revoked(crl *x509.RevocationList, serial *big.Int) bool {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return true
		}
	}
	return false
}
