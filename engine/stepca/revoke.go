package stepca

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// Revocation reason codes (RFC 5280 CRLReason) Revoke accepts.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
)

const (
	revokePath = "/1.0/revoke"
	crlPath    = "/1.0/crl"
	rootsPath  = "/1.0/roots"
	intersPath = "/1.0/intermediates"
)

// ErrNoCRL is wrapped when step-ca serves no CRL: its ca.json has no
// "crl": {"enabled": true} (or its database cannot keep one).
var ErrNoCRL = errors.New("step-ca has no CRL configured")

// Revoke revokes a certificate step-ca issued (POST /1.0/revoke with a
// one-time token whose subject is the serial, passive revocation: step-ca
// records it and lists it in its CRL). Revoking twice is refused by
// step-ca; the error says so.
func (c *Client) Revoke(ctx context.Context, serial *big.Int, reasonCode int, reason string) error {
	if serial == nil || serial.Sign() <= 0 {
		return fmt.Errorf("revoke: serial must be positive")
	}
	if reasonCode < 0 || reasonCode > 10 || reasonCode == 7 {
		return fmt.Errorf("revoke: reason code %d is not an RFC 5280 CRLReason", reasonCode)
	}
	if _, err := c.providerKey(ctx); err != nil {
		return err
	}
	dec := serial.String() // step-ca's database keys certificates by the decimal serial
	_, err := c.do(ctx, "POST", revokePath, func() (any, error) {
		ott, err := c.token(ctx, revokePath, dec, nil)
		if err != nil {
			return nil, err
		}
		return map[string]any{"serial": dec, "ott": ott, "reasonCode": reasonCode, "reason": reason, "passive": true}, nil
	})
	if err != nil {
		return c.classify("revoke", revokePath, err)
	}
	return nil
}

// RootsFromCA returns the roots step-ca publishes (GET /1.0/roots), over
// the HTTPS connection the configured root authenticates.
func (c *Client) RootsFromCA(ctx context.Context) ([]*x509.Certificate, error) {
	b, err := c.do(ctx, "GET", rootsPath, nil)
	if err != nil {
		return nil, c.classify("read roots", rootsPath, err)
	}
	var ans struct {
		Crts []string `json:"crts"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, &EngineError{Op: "read roots", Path: rootsPath, Status: 200, Message: "unparsable answer: " + err.Error()}
	}
	var out []*x509.Certificate
	for _, s := range ans.Crts {
		certs, err := parsePEMCerts([]byte(s))
		if err != nil {
			return nil, &EngineError{Op: "read roots", Path: rootsPath, Status: 200, Message: err.Error()}
		}
		out = append(out, certs...)
	}
	return out, nil
}

// Chain returns step-ca's CA chain: the intermediate that signs leaves
// first (GET /1.0/intermediates; step-ca lists its issuing certificate
// first), up to the configured root, each signature checked. A step-ca
// whose root signs leaves directly has no intermediates: the chain is the
// root alone.
func (c *Client) Chain(ctx context.Context) ([]*x509.Certificate, error) {
	b, err := c.do(ctx, "GET", intersPath, nil)
	var inters []*x509.Certificate
	if err != nil {
		err = c.classify("read intermediates", intersPath, err)
		if ee, ok := err.(*EngineError); !ok || ee.Status != 501 { // 501: none, the root signs
			return nil, err
		}
	} else {
		var ans struct {
			Crts []string `json:"crts"`
		}
		if err := json.Unmarshal(b, &ans); err != nil {
			return nil, &EngineError{Op: "read intermediates", Path: intersPath, Status: 200, Message: "unparsable answer: " + err.Error()}
		}
		for _, s := range ans.Crts {
			certs, err := parsePEMCerts([]byte(s))
			if err != nil {
				return nil, &EngineError{Op: "read intermediates", Path: intersPath, Status: 200, Message: err.Error()}
			}
			inters = append(inters, certs...)
		}
	}
	if len(inters) == 0 {
		return []*x509.Certificate{c.roots[0]}, nil
	}
	chain := []*x509.Certificate{inters[0]}
	for cur := inters[0]; len(chain) <= 10; {
		if r := findParent(cur, c.roots); r != nil {
			return append(chain, r), nil
		}
		p := findParent(cur, inters)
		if p == nil || selfSigned(p) {
			return nil, fmt.Errorf("%w: step-ca's issuing CA %q does not chain to %s; is it the root of this CA (step ca root)?", ErrIncompleteChain, cur.Subject, c.cfg.Root)
		}
		chain = append(chain, p)
		cur = p
	}
	return nil, fmt.Errorf("%w: more than 10 certificates in the chain", ErrIncompleteChain)
}

// CRL returns step-ca's current CRL (GET /1.0/crl; served when ca.json has
// "crl": {"enabled": true}), its signature checked against issuer (the
// intermediate that signs leaves: Issued.Intermediates[0], or the root).
func (c *Client) CRL(ctx context.Context, issuer *x509.Certificate) (*x509.RevocationList, error) {
	b, err := c.do(ctx, "GET", crlPath, nil)
	if err != nil {
		err = c.classify("read CRL", crlPath, err)
		if ee, ok := err.(*EngineError); ok && (ee.Status == 404 || ee.Status == 501) {
			return nil, fmt.Errorf(`%w at %s (GET %s: HTTP %d %s): set "crl": {"enabled": true, "generateOnRevoke": true} in its ca.json (with a "db"), and restart it`,
				ErrNoCRL, c.cfg.URL, crlPath, ee.Status, ee.Message)
		}
		return nil, err
	}
	der := b
	if blk, _ := pem.Decode(b); blk != nil && blk.Type == "X509 CRL" {
		der = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, &EngineError{Op: "read CRL", Path: crlPath, Status: 200, Message: err.Error()}
	}
	if issuer == nil {
		return nil, fmt.Errorf("read CRL: no issuer to check its signature against")
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("%w: step-ca's CRL is not signed by %q: %v", ErrEngine, issuer.Subject, err)
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
