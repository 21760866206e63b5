package pki

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestRevokeAndCRL(t *testing.T) {
	p := newTestPKI(t, nil)
	idx := &Index{}
	issue := func(name string) Record {
		key, err := GenerateKey(KeySpec{Type: ECDSA})
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.Sign(CertRequest{Name: name, Role: RoleClient}, key.Public(), idx)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRecord(name, RoleClient, c, false)
		idx.SetStatus(name, StatusSuperseded)
		idx.Add(r)
		return r
	}
	old := issue("app")
	cur := issue("app")
	other := issue("other")

	if _, err := idx.Revoke("nobody", "", time.Now()); !errors.Is(err, ErrNotRevocable) {
		t.Errorf("revoking an unknown name: %v", err)
	}
	if _, err := idx.Revoke("app", "ffff", time.Now()); !errors.Is(err, ErrNotRevocable) {
		t.Errorf("revoking an unknown serial: %v", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got, err := idx.Revoke("app", "", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Serial != old.Serial || got[1].Serial != cur.Serial {
		t.Fatalf("revoked %+v, want both certificates of app", got)
	}
	if _, err := idx.Revoke("app", "", at); !errors.Is(err, ErrNotRevocable) {
		t.Errorf("second revoke: %v", err)
	}
	if _, ok := idx.Current("app"); ok {
		t.Error("app still has a current certificate")
	}

	res, err := p.WriteCRL(idx, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Number != "1" || len(res.Serials) != 2 {
		t.Fatalf("first CRL: %+v", res)
	}
	crl, err := ReadCRL(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(p.CA); err != nil {
		t.Fatalf("CRL not signed by the CA: %v", err)
	}
	listed := map[string]time.Time{}
	for _, e := range crl.RevokedCertificateEntries {
		listed[hex.EncodeToString(e.SerialNumber.Bytes())] = e.RevocationTime
	}
	for _, s := range []string{old.Serial, cur.Serial} {
		if when, ok := listed[s]; !ok || !when.Equal(at) {
			t.Errorf("serial %s: listed=%v at %v", s, ok, when)
		}
	}
	if _, ok := listed[other.Serial]; ok {
		t.Error("a valid certificate is in the CRL")
	}
	if want := at.Add(DefaultCRLDays * 24 * time.Hour); !crl.NextUpdate.Equal(want) {
		t.Errorf("nextUpdate %v, want %v", crl.NextUpdate, want)
	}

	// Revoking one serial of another identity; the CRL number goes up.
	if _, err := idx.Revoke("other", other.Serial, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err = p.WriteCRL(idx, at.Add(time.Hour), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Number != "2" || len(res.Serials) != 3 {
		t.Fatalf("second CRL: %+v", res)
	}
}

func TestCRLNeedsCAKey(t *testing.T) {
	p := newTestPKI(t, []byte("secret passphrase"))
	reopened, err := Open(p.Dir, func() ([]byte, error) { return []byte("wrong"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reopened.WriteCRL(&Index{}, time.Now(), 0); err == nil {
		t.Fatal("CRL signed with a wrong CA passphrase")
	}
	reopened, _ = Open(p.Dir, func() ([]byte, error) { return []byte("secret passphrase"), nil })
	res, err := reopened.WriteCRL(&Index{}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Serials) != 0 {
		t.Errorf("empty index gave serials %v", res.Serials)
	}
}
