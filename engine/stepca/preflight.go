package stepca

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Preflight checks, before anything is signed (kafkatls init, a bundle),
// that the provisioner exists, the password decrypts its key, and what
// step-ca publishes of it suits Kafka: a template that keeps the CSR's
// subject and SANs, and a maxTLSCertDuration covering days. Problems are
// *MismatchError values (joined); a template given as templateFile is not
// published and cannot be checked (Sign still checks every certificate).
func (c *Client) Preflight(ctx context.Context, days int) error {
	if _, err := c.providerKey(ctx); err != nil {
		return err
	}
	p, err := c.Provisioner(ctx)
	if err != nil {
		return err
	}
	var errs []error
	var opts struct {
		X509 struct {
			Template     string `json:"template"`
			TemplateFile string `json:"templateFile"`
		} `json:"x509"`
	}
	if len(p.Options) > 0 {
		if err := json.Unmarshal(p.Options, &opts); err != nil {
			return &EngineError{Op: "preflight", Path: "/1.0/provisioners", Status: 200, Message: "unparsable provisioner options: " + err.Error()}
		}
	}
	tpl := opts.X509.Template
	switch {
	case tpl == "" && opts.X509.TemplateFile == "":
		errs = append(errs, c.mismatch("subject (the Kafka principal)", "the CSR's subject", "the CN only (no template: step-ca's default)", subjectSetting, false),
			c.mismatch("SANs", "the CSR's SANs", "the token's, the CN when none (no template: step-ca's default)", sansSetting, false))
	case tpl != "":
		if !strings.Contains(tpl, ".Insecure.CR.RawSubject") && !strings.Contains(tpl, ".Insecure.CR.Subject") {
			errs = append(errs, c.mismatch("subject (the Kafka principal)", "the CSR's subject", "a template not taking it from .Insecure.CR", subjectSetting, false))
		}
		if !strings.Contains(tpl, ".Insecure.CR.DNSNames") && !strings.Contains(tpl, ".Insecure.CR.SANs") {
			errs = append(errs, c.mismatch("SANs", "the CSR's SANs", "a template not taking them from .Insecure.CR", sansSetting, false))
		}
	}
	maxD, published := stepDefaultMaxTLS, false
	if p.Claims != nil && p.Claims.MaxTLSCertDuration != "" {
		if d, err := time.ParseDuration(p.Claims.MaxTLSCertDuration); err == nil {
			maxD, published = d, true
		}
	}
	if want := time.Duration(days) * 24 * time.Hour; want > maxD {
		what := fmt.Sprintf("step-ca's default maximum %s (authority.claims is not published)", maxD)
		if published {
			what = "claims.maxTLSCertDuration " + p.Claims.MaxTLSCertDuration
		}
		errs = append(errs, c.mismatch("validity", fmt.Sprintf("%d days", days), what,
			fmt.Sprintf("claims.maxTLSCertDuration to at least \"%dh\" on provisioner %q", days*24, c.cfg.Provisioner), !published))
	}
	return errors.Join(errs...)
}
