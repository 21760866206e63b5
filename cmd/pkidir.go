package cmd

import (
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// withPKI opens the PKI directory, takes its lock, repairs what a killed
// run left behind, loads the index, runs fn, and saves the index if fn
// succeeded. Every command that writes to a PKI directory goes through it.
func withPKI(g *globals, pass *caPassphrase, fn func(p *pki.PKI, idx *pki.Index) error) error {
	p, err := pki.Open(g.dir, pass.prompt)
	if err != nil {
		return err
	}
	unlock, err := p.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := identity.Recover(p.Dir); err != nil {
		return err
	}
	idx, err := pki.LoadIndex(p.Dir)
	if err != nil {
		return err
	}
	if err := fn(p, idx); err != nil {
		return err
	}
	return idx.Save(p.Dir)
}
