package identity

import (
	"crypto"
	"fmt"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
)

// Issue generates a key, has the CA sign it and writes the entity
// directory, then records the certificate in idx (marking the name's
// previous certificate superseded). The caller holds the PKI lock and saves
// idx afterwards; the index is the commit point, written only once the
// directory is complete.
func Issue(p *pki.PKI, idx *pki.Index, req pki.CertRequest, key pki.KeySpec, o Options) (*Result, error) {
	if err := ValidateName(req.Name); err != nil {
		return nil, err
	}
	if dir := Dir(p.Dir, req.Name); fsx.Exists(dir) && !o.Force {
		return nil, fmt.Errorf("%s %w: refusing to overwrite an issued certificate", dir, ErrExists)
	}
	k, err := pki.GenerateKey(key)
	if err != nil {
		return nil, err
	}
	res, rec, err := IssueWithKey(p, idx, req, k, o)
	if err != nil {
		return nil, err
	}
	idx.SetStatus(req.Name, pki.StatusSuperseded)
	idx.Add(rec)
	return res, nil
}

// IssueWithKey is Issue with a key generated elsewhere (kept across a
// renewal). It only reads idx, so the bundle orchestrator can run it in
// parallel, and returns the index record for the caller to add.
func IssueWithKey(p *pki.PKI, idx *pki.Index, req pki.CertRequest, key crypto.Signer, o Options) (*Result, pki.Record, error) {
	cert, err := p.Sign(req, key.Public(), idx)
	if err != nil {
		return nil, pki.Record{}, err
	}
	res, err := Write(Dir(p.Dir, req.Name), Material{
		Name: req.Name, Role: req.Role, Key: key, Cert: cert, CAChain: p.Chain(), Trust: TrustSet(p),
	}, o)
	if err != nil {
		return nil, pki.Record{}, err
	}
	return res, pki.NewRecord(req.Name, req.Role, cert, false), nil
}
