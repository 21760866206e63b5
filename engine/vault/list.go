package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

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

// NotBeforeSlack is how long before a request a certificate issued for
// it may start: Vault and OpenBao backdate notBefore by the role's
// not_before_duration (30 s by default).
const NotBeforeSlack = time.Hour

// listDetailed lists the mount's certificates with their notBefore (LIST
// /v1/MOUNT/certs/detailed, which OpenBao has and Vault has not); ok is
// false when the engine does not answer it, and ListSerials is the way.
func (c *Client) listDetailed(ctx context.Context) (serials []*big.Int, notBefore map[string]time.Time, ok bool) {
	path := c.cfg.Mount + "/certs/detailed"
	var s *vaultapi.Secret
	err := c.retry(ctx, func() (err error) {
		s, err = c.api.Logical().ListWithContext(ctx, path)
		return err
	})
	if err != nil || s == nil || s.Data == nil {
		return nil, nil, false
	}
	info, isMap := s.Data["key_info"].(map[string]any)
	if !isMap || len(info) > MaxListedSerials {
		return nil, nil, false
	}
	notBefore = map[string]time.Time{}
	for k, v := range info {
		n, isSerial := ParseSerial(k)
		if !isSerial {
			continue
		}
		serials = append(serials, n)
		if m, isMap := v.(map[string]any); isMap {
			if t, err := time.Parse(time.RFC3339, fmt.Sprint(m["not_before"])); err == nil {
				notBefore[n.String()] = t
			}
		}
	}
	return serials, notBefore, true
}

// Unknown returns the certificates the mount stores whose serial known
// does not report (known is given the serial as lowercase hex without
// separators, as the local index writes it), reading at most limit of
// them (limit < 1: all), listParallel at a time. On OpenBao the listing
// carries each certificate's notBefore: only those starting after since
// (less NotBeforeSlack) are read, newest first. Vault's list says nothing
// of when a certificate was issued and comes in serial order, which is
// random: every unknown serial is read. complete is false when limit
// stopped the reading. A certificate that vanished between the list and
// the read (tidied) is skipped.
func (c *Client) Unknown(ctx context.Context, known func(serial string) bool, since time.Time, limit int) (certs []*x509.Certificate, complete bool, err error) {
	serials, notBefore, detailed := c.listDetailed(ctx)
	if !detailed {
		if serials, err = c.ListSerials(ctx); err != nil {
			return nil, false, err
		}
	}
	var todo []*big.Int
	for _, s := range serials {
		if known(fmt.Sprintf("%x", s.Bytes())) {
			continue
		}
		if nb, dated := notBefore[s.String()]; dated && !since.IsZero() && nb.Before(since.Add(-NotBeforeSlack)) {
			continue
		}
		todo = append(todo, s)
	}
	if detailed { // newest first: a limit keeps the likeliest
		sort.SliceStable(todo, func(i, j int) bool { return notBefore[todo[i].String()].After(notBefore[todo[j].String()]) })
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
