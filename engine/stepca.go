package engine

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/pki"
)

// StepCAConfig is the stepca.Config for settings s and credentials c: the
// CA URL, provisioner and root file from s (each from STEP_CA_URL,
// STEP_PROVISIONER, STEP_ROOT when s has none; the root from c.TrustFile
// when the file s names is gone), the password from c.PasswordFile, else
// from the file STEP_PROVISIONER_PASSWORD_FILE names. A missing password
// is left to stepca.New to report.
func StepCAConfig(s pki.EngineSettings, c Credentials) (stepca.Config, error) {
	getenv := c.getenv()
	cfg := stepca.Config{URL: getenv(stepca.EnvCAURL), Root: getenv(stepca.EnvRoot), Provisioner: getenv(stepca.EnvProvisioner)}
	if s.Address != "" {
		cfg.URL = s.Address
	}
	if s.Provisioner != "" {
		cfg.Provisioner = s.Provisioner
	}
	if cfg.Provisioner == "" {
		cfg.Provisioner = stepca.DefaultProvisioner
	}
	if s.Root != "" {
		cfg.Root = s.Root
	}
	if c.TrustFile != "" {
		if _, err := os.Stat(cfg.Root); cfg.Root == "" || err != nil {
			if _, err := os.Stat(c.TrustFile); err == nil {
				cfg.Root = c.TrustFile
			}
		}
	}
	if cfg.Root != "" {
		if abs, err := filepath.Abs(cfg.Root); err == nil {
			cfg.Root = abs
		}
	}
	file := c.PasswordFile
	if file == "" {
		file = getenv(stepca.EnvPasswordFile)
	}
	if file != "" {
		pw, err := stepca.ReadPasswordFile(file)
		if err != nil {
			return cfg, err
		}
		cfg.Password = pw
	}
	return cfg, nil
}

// StepCA returns the step-ca client for settings s (see StepCAConfig).
func StepCA(s pki.EngineSettings, c Credentials) (*stepca.Client, error) {
	cfg, err := StepCAConfig(s, c)
	if err != nil {
		return nil, err
	}
	return stepca.New(cfg)
}

// stepEngine is a step-ca JWK provisioner as a pki.Engine.
type stepEngine struct{ c *stepca.Client }

func (e *stepEngine) Sign(ctx context.Context, req pki.CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	sr := stepca.FromCertRequest(req, subject)
	var is *stepca.Issued
	var err error
	if req.CSR != nil {
		is, err = e.c.SignCSR(ctx, sr, req.CSR)
	} else {
		is, err = e.c.Sign(ctx, sr, req.Key)
	}
	if err != nil {
		if is != nil && is.Leaf != nil { // signed, then refused: record it
			return is.Leaf, nil, err
		}
		if stepNothingIssued(err) {
			return nil, nil, pki.NothingIssued(err)
		}
		return nil, nil, err
	}
	chain := append(append([]*x509.Certificate{}, is.Intermediates...), is.Root)
	return is.Leaf, chain, nil
}

// stepNothingIssued reports whether err says step-ca signed nothing: the
// password did not decrypt the key (nothing was sent), the token was
// refused, a refusal, a 4xx answer, a step-ca no connection was made to.
// A timeout or a 5xx is not: step-ca may have signed.
func stepNothingIssued(err error) bool {
	var pe *stepca.PermissionError
	var me *stepca.MismatchError
	var ee *stepca.EngineError
	var dial *net.OpError
	switch {
	case errors.As(err, &dial) && dial.Op == "dial":
		return true
	case errors.Is(err, stepca.ErrPassword), errors.As(err, &pe):
		return true
	case errors.As(err, &me):
		return me.Want == ""
	case errors.As(err, &ee):
		return ee.Status >= 400 && ee.Status < 500 && ee.Status != http.StatusRequestTimeout
	case errors.Is(err, stepca.ErrEngine):
		return false
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// Revoke revokes at step-ca (passive revocation: it lists the serial in
// its CRL). step-ca does not say when; the time is this host's.
func (e *stepEngine) Revoke(ctx context.Context, serial *big.Int) (time.Time, error) {
	if err := e.c.Revoke(ctx, serial, stepca.ReasonUnspecified, "revoked with kafkatls"); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// CRL is step-ca's CRL, its signature checked against the issuing CA; a
// step-ca without one is an error wrapping stepca.ErrNoCRL that names the
// ca.json setting.
func (e *stepEngine) CRL(ctx context.Context) (*x509.RevocationList, error) {
	chain, err := e.c.Chain(ctx)
	if err != nil {
		return nil, err
	}
	crl, err := e.c.CRL(ctx, chain[0])
	if errors.Is(err, stepca.ErrNoCRL) {
		return nil, fmt.Errorf("%w: %w", pki.ErrEngineNoCRL, err)
	}
	return crl, err
}

func (e *stepEngine) Chain(ctx context.Context) ([]*x509.Certificate, error) {
	chain, err := e.c.Chain(ctx)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: step-ca published no CA certificate", stepca.ErrEngine)
	}
	return chain, nil
}
