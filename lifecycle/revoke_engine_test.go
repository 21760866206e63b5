package lifecycle

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pki"
)

// flakyCRLEngine is an engine whose CA is a local kafkatls CA in another
// directory: it signs and revokes for real, and its CRL endpoint fails as
// a network would (crlErr). What is under test is our transaction around
// the engine, not the engine: e2e/engine_test.go and e2e/stepca_test.go
// revoke against real OpenBao and step-ca.
type flakyCRLEngine struct {
	ca      *pki.PKI
	revoked []string
	crlErr  error
}

func (e *flakyCRLEngine) Sign(_ context.Context, req pki.CertRequest, subject string) (*x509.Certificate, []*x509.Certificate, error) {
	var pub crypto.PublicKey
	if req.CSR != nil {
		pub = req.CSR.PublicKey
	} else {
		pub = req.Key.Public()
	}
	req.Subject, req.Serial, req.Key, req.CSR = subject, nil, nil, nil
	c, err := e.ca.Sign(req, pub, nil)
	if err != nil {
		return nil, nil, err
	}
	return c, e.ca.Chain(), nil
}

func (e *flakyCRLEngine) Revoke(_ context.Context, serial *big.Int) (time.Time, error) {
	e.revoked = append(e.revoked, serial.Text(16))
	return time.Now().UTC().Truncate(time.Second), nil
}

func (e *flakyCRLEngine) CRL(context.Context) (*x509.RevocationList, error) {
	if e.crlErr != nil {
		return nil, e.crlErr
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(int64(len(e.revoked) + 1)), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, s := range e.revoked {
		n, _ := new(big.Int).SetString(s, 16)
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now()})
	}
	key, err := e.ca.Signer()
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, e.ca.CA, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

func (e *flakyCRLEngine) Chain(context.Context) ([]*x509.Certificate, error) {
	return e.ca.Chain(), nil
}

// TestRevokeRecordedWhenEngineCRLFails: the engine revoked the certificate
// but its CRL could not be fetched (a network fault): the index records
// the revocation all the same (the engine will never un-revoke it), the
// result warns that crl.pem does not list it and names the command that refreshes
// it, and that command does once the engine answers again.
func TestRevokeRecordedWhenEngineCRLFails(t *testing.T) {
	ca, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := pki.Init(pki.InitOptions{Dir: dir, Key: pki.KeySpec{Type: pki.ECDSA}, Engine: &pki.EngineSettings{Type: "test"}, EngineChain: ca.Chain()}); err != nil {
		t.Fatal(err)
	}
	e := &flakyCRLEngine{ca: ca}
	o := pki.UpdateOptions{Engines: func(context.Context, pki.EngineSettings) (pki.Engine, error) { return e, nil }}
	if err := pki.Update(context.Background(), dir, o, func(tx *pki.Tx) error {
		_, err := identity.Issue(tx, pki.CertRequest{Name: "client1", Role: pki.RoleClient}, pki.KeySpec{Type: pki.ECDSA}, identity.Options{Formats: []string{"pem"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	e.crlErr = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	var res *RevokeResult
	if err := pki.Update(context.Background(), dir, o, func(tx *pki.Tx) (err error) {
		res, err = Revoke(tx, "client1", "", 7*24*time.Hour)
		return err
	}); err != nil {
		t.Fatalf("revoke with the engine's CRL unreachable: %v", err)
	}
	if len(e.revoked) != 1 {
		t.Fatalf("the engine revoked %v", e.revoked)
	}
	if len(res.Revoked) != 1 || !sameSerial(res.Revoked[0].Serial, e.revoked[0]) || res.CRL != nil {
		t.Errorf("result: revoked %+v, CRL %+v", res.Revoked, res.CRL)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "connection reset by peer") || !strings.Contains(w, pki.CRLFile+" does not list it yet") ||
		!strings.Contains(w, "kafkatls revoke --crl") {
		t.Errorf("warnings do not say crl.pem is stale and how to refresh it: %q", res.Warnings)
	}
	idx, err := pki.LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rec pki.Record
	for _, r := range idx.Records {
		if sameSerial(r.Serial, e.revoked[0]) {
			rec = r
		}
	}
	if rec.Status != pki.StatusRevoked || rec.RevokedAt.IsZero() {
		t.Fatalf("the index does not record the revocation the engine made: %+v", rec)
	}
	if _, err := os.Stat(filepath.Join(dir, pki.CRLFile)); !os.IsNotExist(err) {
		t.Errorf("%s written without a CRL from the engine (stat: %v)", pki.CRLFile, err)
	}

	// The refresh the warning names: revoke --crl (no name) fetches it.
	e.crlErr = nil
	if err := pki.Update(context.Background(), dir, o, func(tx *pki.Tx) (err error) {
		res, err = Revoke(tx, "", "", 7*24*time.Hour)
		return err
	}); err != nil {
		t.Fatalf("revoke --crl once the engine answers: %v", err)
	}
	if res.CRL == nil || len(res.CRL.Serials) != 1 || !sameSerial(res.CRL.Serials[0], e.revoked[0]) || len(res.Warnings) != 0 {
		t.Errorf("refreshed CRL %+v, warnings %q", res.CRL, res.Warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, pki.CRLFile)); err != nil {
		t.Errorf("%s not written by the refresh: %v", pki.CRLFile, err)
	}
}

// sameSerial compares hex serials however they are spelled (leading zeros).
func sameSerial(a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 16)
	y, ok2 := new(big.Int).SetString(b, 16)
	return ok1 && ok2 && x.Cmp(y) == 0
}

// failingRevokeEngine revokes the first certificate asked and refuses the
// others with failErr (a network fault, a 5xx) until failErr is cleared.
type failingRevokeEngine struct {
	flakyCRLEngine
	failErr error
	asked   []string
}

func (e *failingRevokeEngine) Revoke(ctx context.Context, serial *big.Int) (time.Time, error) {
	e.asked = append(e.asked, serial.Text(16))
	if e.failErr != nil && len(e.revoked) > 0 {
		return time.Time{}, e.failErr
	}
	return e.flakyCRLEngine.Revoke(ctx, serial)
}

// TestRevokePartialEngineFailureRecorded: a name with two certificates (a
// renewed one and its superseded predecessor); the engine revokes the
// first and fails on the second. The revocation the engine made is in the
// index, the other keeps its earlier status, the error names what failed
// and how to retry, and the retry revokes only what is left.
func TestRevokePartialEngineFailureRecorded(t *testing.T) {
	ca, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := pki.Init(pki.InitOptions{Dir: dir, Key: pki.KeySpec{Type: pki.ECDSA}, Engine: &pki.EngineSettings{Type: "test"}, EngineChain: ca.Chain()}); err != nil {
		t.Fatal(err)
	}
	e := &failingRevokeEngine{flakyCRLEngine: flakyCRLEngine{ca: ca}}
	o := pki.UpdateOptions{Engines: func(context.Context, pki.EngineSettings) (pki.Engine, error) { return e, nil }}
	if err := pki.Update(context.Background(), dir, o, func(tx *pki.Tx) error {
		_, err := identity.Issue(tx, pki.CertRequest{Name: "client1", Role: pki.RoleClient}, pki.KeySpec{Type: pki.ECDSA}, identity.Options{Formats: []string{"pem"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := pki.Update(context.Background(), dir, o, func(tx *pki.Tx) error {
		_, err := Renew(tx, "client1", RenewOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	statuses := func() map[string]pki.Record {
		idx, err := pki.LoadIndex(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]pki.Record{}
		for _, r := range idx.Records {
			out[r.Serial] = r
		}
		return out
	}
	before := statuses()
	if len(before) != 2 {
		t.Fatalf("index holds %d records, want the certificate and its renewal", len(before))
	}

	e.failErr = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	res, err := RevokeUpdate(context.Background(), dir, o, "client1", "", 7*24*time.Hour)
	var partial *PartialRevokeError
	if err == nil {
		t.Fatal("revoke with the engine failing on the second certificate succeeded")
	}
	if !errors.As(err, &partial) {
		t.Errorf("revoke with the engine failing on the second certificate: %v, want a PartialRevokeError", err)
	}
	if len(e.revoked) != 1 || len(e.asked) != 2 {
		t.Fatalf("the engine revoked %v of %v", e.revoked, e.asked)
	}
	failed := e.asked[1]
	msg := err.Error()
	for _, want := range []string{"connection refused", "client1", strings.TrimLeft(failed, "0"), "kafkatls revoke client1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if res == nil || len(res.Revoked) != 1 || !sameSerial(res.Revoked[0].Serial, e.revoked[0]) {
		t.Errorf("result %+v", res)
	}
	after := statuses()
	for serial, r := range after {
		switch {
		case sameSerial(serial, e.revoked[0]):
			if r.Status != pki.StatusRevoked || r.RevokedAt.IsZero() {
				t.Errorf("the revocation the engine made is not recorded: %+v", r)
			}
		case r.Status != before[serial].Status || !r.RevokedAt.IsZero():
			t.Errorf("the certificate the engine did not revoke changed: %+v, was %+v", r, before[serial])
		}
	}

	// The retry the error names revokes only what is left.
	e.failErr = nil
	res, err = RevokeUpdate(context.Background(), dir, o, "client1", "", 7*24*time.Hour)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(e.revoked) != 2 || len(e.asked) != 3 || !sameSerial(e.asked[2], failed) || len(res.Revoked) != 1 {
		t.Errorf("retry asked the engine %v (revoked %v), result %+v", e.asked, e.revoked, res.Revoked)
	}
	for _, r := range statuses() {
		if r.Status != pki.StatusRevoked {
			t.Errorf("after the retry: %+v", r)
		}
	}
}

// unlistableEngine is a flakyCRLEngine whose listing fails (a token
// without the list capability).
type unlistableEngine struct{ flakyCRLEngine }

func (e *unlistableEngine) Unknown(context.Context, func(string) bool, time.Time, int) ([]*x509.Certificate, bool, error) {
	return nil, false, errors.New("permission denied on pki/certs")
}

// TestRevokeLostAnswerSaysReconciliationFailed: revoking a request whose
// answer was lost, when the transaction's reconciliation could not list
// the engine's certificates, fails naming both: the serial never came
// back, and why reconciliation did not find it.
func TestRevokeLostAnswerSaysReconciliationFailed(t *testing.T) {
	ca, err := pki.Init(pki.InitOptions{Dir: filepath.Join(t.TempDir(), "engine-ca"), Key: pki.KeySpec{Type: pki.ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := pki.Init(pki.InitOptions{Dir: dir, Key: pki.KeySpec{Type: pki.ECDSA}, Engine: &pki.EngineSettings{Type: "test"}, EngineChain: ca.Chain()}); err != nil {
		t.Fatal(err)
	}
	idx := &pki.Index{}
	idx.Add(pki.Record{Name: "c1", Role: pki.RoleClient, Status: pki.StatusUnplaced, EngineKey: strings.Repeat("ab", 32), IssuedAt: time.Now().UTC()})
	if err := idx.Save(dir); err != nil {
		t.Fatal(err)
	}
	e := &unlistableEngine{flakyCRLEngine{ca: ca}}
	o := pki.UpdateOptions{Engines: func(context.Context, pki.EngineSettings) (pki.Engine, error) { return e, nil }}
	err = pki.Update(context.Background(), dir, o, func(tx *pki.Tx) error {
		_, err := Revoke(tx, "c1", "", 7*24*time.Hour)
		return err
	})
	if !errors.Is(err, ErrSerialNeverReturned) || !errors.Is(err, pki.ErrNotRevocable) || !strings.Contains(err.Error(), "permission denied on pki/certs") {
		t.Errorf("revoke: %v; want the serial never returned and the reconciliation's error", err)
	}
}
