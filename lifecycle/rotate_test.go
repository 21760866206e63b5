package lifecycle

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/stores"
)

// setup is a PKI directory with a broker and a client, and a transaction
// on it (the tests are its only writer: no lock needed).
func setup(t *testing.T, pass []byte) *pki.Tx {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := pki.Init(pki.InitOptions{Dir: dir, CN: "Acme CA", Subject: pki.SubjectDefaults{Organization: "Acme"}, Key: pki.KeySpec{Type: pki.ECDSA}, Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	tx := &pki.Tx{Dir: dir, PKI: p, Index: &pki.Index{}}
	issue := func(req pki.CertRequest, o identity.Options) {
		if _, err := identity.Issue(tx, req, pki.KeySpec{Type: pki.ECDSA}, o); err != nil {
			t.Fatal(err)
		}
	}
	issue(pki.CertRequest{Name: "kafka-1", Role: pki.RoleBroker, SANs: pki.DefaultServerSANs("kafka-1")},
		identity.Options{Config: identity.Config{SuperUsers: []string{"User:CN=kafka-1,O=Acme", "User:CN=kafka-2,O=Acme"}}})
	issue(pki.CertRequest{Name: "client1", Role: pki.RoleClient}, identity.Options{Compat: stores.Legacy, Formats: []string{"p12", "pem"}})
	if err := tx.Save(); err != nil {
		t.Fatal(err)
	}
	return tx
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trusted(t *testing.T, dir, store string) []*x509.Certificate {
	t.Helper()
	st, err := stores.Read(read(t, filepath.Join(dir, store)), strings.TrimSpace(string(read(t, filepath.Join(dir, "password")))))
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for _, e := range st.Entries {
		out = append(out, e.TrustedCert)
	}
	return out
}

func leafOf(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	certs, err := pem.DecodeCerts(read(t, filepath.Join(dir, "tls.crt")))
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func TestRenewKeepsKeyPasswordAndConfigs(t *testing.T) {
	tx := setup(t, nil)
	p, idx := tx.PKI, tx.Index
	dir := identity.Dir(p.Dir, "kafka-1")
	before := map[string][]byte{}
	for _, f := range []string{"server.properties", "client.properties", "password", "tls.key", "principal.txt"} {
		before[f] = read(t, filepath.Join(dir, f))
	}
	old := leafOf(t, dir)
	res, err := Renew(tx, "kafka-1", RenewOptions{Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range before {
		if !bytes.Equal(read(t, filepath.Join(dir, f)), b) {
			t.Errorf("%s changed on renewal", f)
		}
	}
	cur := leafOf(t, dir)
	if cur.SerialNumber.Cmp(old.SerialNumber) == 0 || !bytes.Equal(cur.RawSubject, old.RawSubject) || strings.Join(cur.DNSNames, ",") != strings.Join(old.DNSNames, ",") {
		t.Fatal("renewed certificate: same serial, or subject/SANs changed")
	}
	if d := time.Until(cur.NotAfter); d > 31*24*time.Hour || d < 29*24*time.Hour {
		t.Errorf("--days 30 gave %v", d)
	}
	// The keystore holds the same key with the new certificate.
	st, err := stores.Read(read(t, filepath.Join(dir, "keystore.jks")), strings.TrimSpace(string(before["password"])))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := st.KeyPair()
	if err != nil || !pair.Leaf.Equal(cur) {
		t.Fatalf("keystore: %v", err)
	}
	if rec, _ := idx.Current("kafka-1"); rec.Serial != res.Serial {
		t.Errorf("index current %s, renewed %s", rec.Serial, res.Serial)
	}
	var statuses []string
	for _, r := range idx.Records {
		if r.Name == "kafka-1" {
			statuses = append(statuses, r.Status)
		}
	}
	if strings.Join(statuses, ",") != "superseded,valid" {
		t.Errorf("index statuses %v", statuses)
	}

	// --rekey: a new key, the same password; formats and PKCS12 profile kept.
	cdir := identity.Dir(p.Dir, "client1")
	oldKey := read(t, filepath.Join(cdir, "tls.key"))
	oldP12 := read(t, filepath.Join(cdir, "keystore.p12"))
	if _, err := Renew(tx, "client1", RenewOptions{Rekey: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(read(t, filepath.Join(cdir, "tls.key")), oldKey) {
		t.Error("--rekey kept the key")
	}
	if _, err := os.Stat(filepath.Join(cdir, "keystore.jks")); err == nil {
		t.Error("renewal added a JKS the identity never had")
	}
	newP12 := read(t, filepath.Join(cdir, "keystore.p12"))
	if identity.DirCompat(cdir) != stores.Legacy || bytes.Equal(newP12, oldP12) {
		t.Error("PKCS12 profile not kept (legacy) or keystore not rewritten")
	}

	if _, err := Renew(tx, "nobody", RenewOptions{}); err == nil {
		t.Error("renewed an unknown identity")
	}
}

func TestRevokeWritesCRL(t *testing.T) {
	tx := setup(t, nil)
	p, idx := tx.PKI, tx.Index
	old := leafOf(t, identity.Dir(p.Dir, "client1"))
	if _, err := Renew(tx, "client1", RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	// Revoke only the superseded certificate, by its serial as openssl prints it.
	res, err := Revoke(tx, "client1", strings.ToUpper(old.SerialNumber.Text(16)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 1 || res.CRL.Number != "1" || res.CRL.Serials[0] != pki.SerialHex(old) {
		t.Fatalf("revoke by serial: %+v", res)
	}
	if _, ok := idx.Current("client1"); !ok {
		t.Error("revoking the old serial revoked the current certificate")
	}
	res, err = Revoke(tx, "client1", "", 0)
	if err != nil || len(res.Revoked) != 1 || len(res.CRL.Serials) != 2 || res.CRL.Number != "2" {
		t.Fatalf("revoke all: %v %+v", err, res)
	}
	if _, err := Renew(tx, "client1", RenewOptions{}); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("renewing a revoked identity: %v", err)
	}
}

func TestRotation(t *testing.T) {
	pass := []byte("rotation passphrase")
	tx := setup(t, pass)
	p, idx := tx.PKI, tx.Index
	bdir, cdir := identity.Dir(p.Dir, "kafka-1"), identity.Dir(p.Dir, "client1")
	oldCA := p.CA
	oldKey := read(t, filepath.Join(bdir, "tls.key"))
	oldServer := read(t, filepath.Join(bdir, "server.properties"))

	if _, err := Reissue(tx, RenewOptions{}); err == nil {
		t.Fatal("reissue outside a rotation")
	}
	if _, err := Start(tx, StartOptions{}); err == nil {
		t.Fatal("start without the passphrase of an encrypted CA key")
	}
	tx.PKI, _ = pki.Open(p.Dir, func() ([]byte, error) { return pass, nil })
	res, err := Start(tx, StartOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	np := tx.PKI
	if res.New.Subject != "CN=Acme CA G2,O=Acme" || res.Trust != 2 || len(res.Updated) != 2 {
		t.Fatalf("start: %+v", res)
	}
	if !np.Settings.CAKeyEncrypted || !pem.IsEncryptedKey(read(t, filepath.Join(p.Dir, pki.CAKeyFile))) {
		t.Error("the new CA key is not encrypted")
	}
	for _, d := range []string{bdir, cdir} {
		for _, ts := range []string{"truststore.jks", "truststore.p12"} {
			if _, err := os.Stat(filepath.Join(d, ts)); err != nil {
				continue
			}
			got := trusted(t, d, ts)
			if len(got) != 2 || !got[0].Equal(np.CA) || !got[1].Equal(oldCA) {
				t.Errorf("%s/%s does not trust new+old", filepath.Base(d), ts)
			}
		}
	}
	if cas, _ := pem.DecodeCerts(read(t, filepath.Join(p.Dir, "ca.crt"))); len(cas) != 2 {
		t.Errorf("DIR/ca.crt holds %d certificates", len(cas))
	}
	// An identity issued during the rotation trusts both CAs too.
	if _, err := identity.Issue(tx, pki.CertRequest{Name: "late", Role: pki.RoleClient}, pki.KeySpec{Type: pki.ECDSA}, identity.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := trusted(t, identity.Dir(p.Dir, "late"), "truststore.jks"); len(got) != 2 {
		t.Errorf("identity issued mid-rotation trusts %d CAs", len(got))
	}
	if st := GetStatus(np, idx); st.Phase != "started" || len(st.Pending) != 2 {
		t.Errorf("status after start: %+v", st)
	}
	// Start again resumes (idempotent), it does not make a third CA.
	if res2, err := Start(tx, StartOptions{Passphrase: pass}); err != nil || !res2.Resumed || res2.New.SHA256 != res.New.SHA256 {
		t.Errorf("second start: %v %+v", err, res2)
	}
	if _, err := Finish(tx, false); err == nil {
		t.Error("finish with identities on the previous CA")
	}

	done, err := Reissue(tx, RenewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 {
		t.Fatalf("reissued %d identities", len(done))
	}
	leaf := leafOf(t, bdir)
	if leaf.CheckSignatureFrom(np.CA) != nil {
		t.Error("broker not re-issued from the new CA")
	}
	if !bytes.Equal(read(t, filepath.Join(bdir, "tls.key")), oldKey) || !bytes.Equal(read(t, filepath.Join(bdir, "server.properties")), oldServer) {
		t.Error("reissue changed the key or the configs")
	}
	st, _ := stores.Read(read(t, filepath.Join(bdir, "keystore.jks")), strings.TrimSpace(string(read(t, filepath.Join(bdir, "password")))))
	if chain := st.Entries[0].Chain; len(chain) != 2 || !chain[1].Equal(np.CA) {
		t.Error("keystore does not chain to the new CA")
	}
	if got := trusted(t, bdir, "truststore.jks"); len(got) != 2 {
		t.Error("truststores lost the previous CA before finish")
	}
	if again, _ := Reissue(tx, RenewOptions{}); len(again) != 0 {
		t.Error("reissue is not idempotent")
	}
	if s := GetStatus(np, idx); s.Phase != "reissued" {
		t.Errorf("status after reissue: %+v", s)
	}

	fin, err := Finish(tx, false)
	if err != nil {
		t.Fatal(err)
	}
	if InProgress(np.Dir) || !strings.Contains(fin.Retired, "retired-") {
		t.Errorf("finish: %+v", fin)
	}
	if _, err := os.Stat(filepath.Join(fin.Retired, "ca.key")); err != nil {
		t.Error("the previous CA key was not kept")
	}
	for _, d := range []string{bdir, cdir} {
		if got := trusted(t, d, "truststore.p12"); len(got) != 1 || !got[0].Equal(np.CA) {
			t.Errorf("%s still trusts the old CA", filepath.Base(d))
		}
	}
}

func TestReloadCommands(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "server.properties"), []byte(`# comment
listeners=SSL://0.0.0.0:9093,INTERNAL://0.0.0.0:9094,CONTROLLER://0.0.0.0:9095
listener.security.protocol.map=SSL:SSL,INTERNAL:SSL,CONTROLLER:SSL
controller.listener.names=CONTROLLER
ssl.keystore.location=/etc/kafka/secrets/keystore.p12
ssl.truststore.location=/etc/kafka/secrets/trust\
store.p12
listener.name.internal.ssl.truststore.location=/etc/kafka/internal/truststore.jks
`), 0o600)
	rs := ReloadCommands([]Identity{{Name: "kafka-1", Role: pki.RoleBroker, Dir: dir}, {Name: "ctl", Role: pki.RoleController}},
		[]string{Truststore}, ReloadOptions{Bootstrap: "kafka-1:9093", CommandConfig: "/etc/kafka/admin client.properties", NodeIDs: map[string]string{"kafka-1": "1"}})
	want := []string{
		`kafka-configs.sh --bootstrap-server kafka-1:9093 --command-config '/etc/kafka/admin client.properties' --entity-type brokers --entity-name 1 --alter --add-config listener.name.internal.ssl.truststore.location=/etc/kafka/internal/truststore.jks`,
		`kafka-configs.sh --bootstrap-server kafka-1:9093 --command-config '/etc/kafka/admin client.properties' --entity-type brokers --entity-name 1 --alter --add-config listener.name.ssl.ssl.truststore.location=/etc/kafka/secrets/truststore.p12`,
	}
	if strings.Join(rs[0].Commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(rs[0].Commands, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(rs[0].Notes, truststoreReloadNote) {
		t.Errorf("broker truststore reload without the note on refused updates: %q", rs[0].Notes)
	}
	if len(rs[1].Commands) != 0 || !strings.Contains(rs[1].Notes[0], "restart") {
		t.Errorf("controller: %+v", rs[1])
	}
	// Without a node id: a named shell variable, and a note saying so.
	rs = ReloadCommands([]Identity{{Name: "kafka-2", Role: pki.RoleBroker, Dir: dir}}, []string{Keystore}, ReloadOptions{})
	if !strings.Contains(rs[0].Commands[0], `--entity-name "$NODE_ID_kafka_2"`) || !strings.Contains(rs[0].Commands[0], `--bootstrap-server "$BOOTSTRAP"`) {
		t.Errorf("placeholder: %s", rs[0].Commands[0])
	}
}

func TestNextCN(t *testing.T) {
	for in, want := range map[string]string{"Acme CA": "Acme CA G2", "Acme CA G2": "Acme CA G3", "": "kafkatls CA G2", "CA G9": "CA G10"} {
		if got := NextCN(in); got != want {
			t.Errorf("NextCN(%q) = %q, want %q", in, got, want)
		}
	}
}
