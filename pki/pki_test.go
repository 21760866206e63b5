package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/principal"
)

func TestKeySpecNormalize(t *testing.T) {
	tests := []struct {
		in      KeySpec
		want    KeySpec
		wantErr string
	}{
		{KeySpec{}, KeySpec{RSA, 2048}, ""},
		{KeySpec{Type: "RSA", Size: 4096}, KeySpec{RSA, 4096}, ""},
		{KeySpec{Type: ECDSA}, KeySpec{ECDSA, 256}, ""},
		{KeySpec{Type: ECDSA, Size: 384}, KeySpec{ECDSA, 384}, ""},
		{KeySpec{Type: RSA, Size: 1024}, KeySpec{}, "under 2048"},
		{KeySpec{Type: RSA, Size: 2049}, KeySpec{}, "2048, 3072 or 4096"},
		{KeySpec{Type: ECDSA, Size: 521}, KeySpec{}, "256 (P-256) or 384"},
		{KeySpec{Type: "ed25519"}, KeySpec{}, `key type "ed25519"`},
	}
	for _, tt := range tests {
		got, err := tt.in.Normalize()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Normalize(%v) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestGenerateKeyTypes(t *testing.T) {
	k, err := GenerateKey(KeySpec{Type: ECDSA, Size: 384})
	if err != nil {
		t.Fatal(err)
	}
	if ec, ok := k.(*ecdsa.PrivateKey); !ok || ec.Curve.Params().BitSize != 384 {
		t.Fatalf("want P-384 key, got %T", k)
	}
	if testing.Short() {
		return
	}
	k, err = GenerateKey(KeySpec{Type: RSA, Size: 3072})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := k.(*rsa.PrivateKey); !ok || r.N.BitLen() != 3072 {
		t.Fatalf("want RSA-3072 key, got %T", k)
	}
}

func TestBuildSANs(t *testing.T) {
	got, err := BuildSANs(DefaultServerSANs("Kafka-1"), []string{"kafka-1.example.com,KAFKA-1", "lb.example.com"}, []string{"10.0.0.1", "127.0.0.1", "::1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "DNS:kafka-1, DNS:localhost, DNS:kafka-1.example.com, DNS:lb.example.com, IP:127.0.0.1, IP:10.0.0.1, IP:::1"; got.String() != want {
		t.Errorf("SANs = %s\nwant   %s", got, want)
	}
	bad := []struct {
		dns, ip, email []string
		want           string
	}{
		{dns: []string{"kafka_1..x"}, want: `"kafka_1..x"`},
		{dns: []string{"-kafka"}, want: `label "-kafka" starts or ends with a hyphen`},
		{dns: []string{"kafka 1"}, want: `character ' '`},
		{dns: []string{"10.0.0.1"}, want: "belongs in the IP SANs"},
		{dns: []string{strings.Repeat("a", 64) + ".com"}, want: "over-long label"},
		{ip: []string{"10.0.0.300"}, want: `invalid IP address "10.0.0.300"`},
		{ip: []string{"kafka-1"}, want: `invalid IP address "kafka-1"`},
		{email: []string{"not an email"}, want: `invalid email address "not an email"`},
	}
	for _, b := range bad {
		_, err := BuildSANs(SANs{}, b.dns, b.ip, b.email)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("BuildSANs(%v %v %v) error = %v, want containing %q", b.dns, b.ip, b.email, err, b.want)
		}
	}
}

func TestRoleProfiles(t *testing.T) {
	server, client := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth
	// Every role, with the usages its certificates carry: Kafka servers
	// dial their peers with the certificate they serve (both); a client
	// never poses as a server; a plain TLS server never logs in to Kafka.
	want := map[Role][]x509.ExtKeyUsage{
		RoleClient:     {client},
		RoleBroker:     {server, client},
		RoleController: {server, client},
		RoleZooKeeper:  {server, client},
		RoleServer:     {server},
		RoleConnect:    {server, client},
		// MirrorMaker 2 is a Kafka client of two clusters.
		RoleMirrorMaker: {client},
	}
	if len(Roles) != len(want) {
		t.Errorf("Roles = %v, want the %d roles of this table", Roles, len(want))
	}
	for _, r := range Roles {
		t.Run(string(r), func(t *testing.T) {
			eku := r.ExtKeyUsage()
			if !slices.Equal(eku, want[r]) {
				t.Errorf("ExtKeyUsage = %v, want %v", eku, want[r])
			}
			if hasServer := slices.Contains(eku, server); hasServer != r.IsServer() {
				t.Errorf("serverAuth = %v, IsServer = %v", hasServer, r.IsServer())
			}
		})
	}
	if _, err := ParseRole("Broker"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRole("admin"); err == nil || !strings.Contains(err.Error(), `role "admin"`) {
		t.Errorf("ParseRole(admin) = %v", err)
	}
	if KeyUsage(RSA)&x509.KeyUsageKeyEncipherment == 0 || KeyUsage(ECDSA)&x509.KeyUsageKeyEncipherment != 0 {
		t.Error("keyEncipherment must be set for RSA only")
	}
}

func TestPasswords(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != PasswordLength || seen[p] {
			t.Fatalf("bad or repeated password %q", p)
		}
		seen[p] = true
		if err := ValidatePassword(p); err != nil {
			t.Fatal(err)
		}
		for _, c := range p {
			if !strings.ContainsRune(passwordAlphabet, c) {
				t.Fatalf("password char %q outside the alphabet", c)
			}
		}
	}
	for pw, want := range map[string]string{"abc": "at least 6", "pässwörd": "not printable ASCII", "tab\there": "not printable ASCII"} {
		if err := ValidatePassword(pw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidatePassword(%q) = %v, want %q", pw, err, want)
		}
	}
}

func newTestPKI(t *testing.T, pass []byte) *PKI {
	t.Helper()
	p, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "pki"), CN: "Test CA", Subject: SubjectDefaults{Organization: "Acme", Country: "GB"},
		Key: KeySpec{Type: ECDSA}, Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInitCA(t *testing.T) {
	p := newTestPKI(t, nil)
	ca := p.CA
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("CA constraints: IsCA=%v pathlen=%d zero=%v", ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA key usage = %v", ca.KeyUsage)
	}
	if len(ca.SubjectKeyId) == 0 || ca.SerialNumber.BitLen() < 64 {
		t.Error("CA needs a SubjectKeyId and a random serial")
	}
	if name, _ := principal.JavaName(ca.RawSubject); name != "CN=Test CA,O=Acme,C=GB" {
		t.Errorf("CA subject = %q", name)
	}
	st, err := os.Stat(filepath.Join(p.Dir, CAKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if st, _ := os.Stat(p.Dir); st.Mode().Perm() != 0o700 {
		t.Errorf("PKI dir mode = %v; want 0700", st.Mode().Perm())
	}
	// Refuses to replace without Force; with Force the old CA is kept.
	_, err = Init(InitOptions{Dir: p.Dir})
	if !errors.Is(err, ErrCAExists) {
		t.Fatalf("second Init without Force: %v", err)
	}
	p2, err := Init(InitOptions{Dir: p.Dir, Force: true, Key: KeySpec{Type: ECDSA}})
	if err != nil {
		t.Fatal(err)
	}
	if p2.CA.Equal(ca) {
		t.Fatal("Force did not create a new CA")
	}
	old, _ := filepath.Glob(filepath.Join(p.Dir, CADir, "replaced-*", CAKeyFile))
	if len(old) != 1 {
		t.Fatalf("old CA key not kept aside: %v", old)
	}
}

// With InitOptions.Batch the CA's files are staged for the caller to
// commit: nothing is in place before, and StagedTrust stands in for
// TrustFile meanwhile.
func TestInitIntoBatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	var b fsx.Batch
	p, err := Init(InitOptions{Dir: dir, CN: "Test CA", Key: KeySpec{Type: ECDSA}, Batch: &b})
	if err != nil {
		t.Fatal(err)
	}
	if st := p.StagedTrust(); len(st) != 1 || !st[0].Equal(p.CA) {
		t.Fatalf("StagedTrust = %d certificates, want the new CA", len(st))
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrNoCA) {
		t.Fatalf("Open before the commit = %v, want ErrNoCA", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	opened, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after the commit: %v", err)
	}
	if !opened.CA.Equal(p.CA) || opened.StagedTrust() != nil {
		t.Fatal("the committed CA differs, or an opened PKI reports staged trust")
	}
	if _, err := opened.Signer(); err != nil {
		t.Fatalf("committed CA key: %v", err)
	}
	trust, err := os.ReadFile(filepath.Join(dir, TrustFile))
	if err != nil || !bytes.Equal(trust, pem.EncodeCerts(p.CA)) {
		t.Fatalf("%s does not hold the staged trust anchor (err %v)", TrustFile, err)
	}
	if newTestPKI(t, nil).StagedTrust() != nil {
		t.Fatal("an Init that commits its own files reports staged trust")
	}
}

// Init removes what a killed bundle staged for its CA and never renamed.
func TestInitRemovesStaleTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	stale := filepath.Join(dir, CADir, ".ca.key.tmp-0123456789ab")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("a killed run's key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(InitOptions{Dir: dir, Key: KeySpec{Type: ECDSA}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s survived init (%v)", stale, err)
	}
}

func TestEncryptedCAKey(t *testing.T) {
	p := newTestPKI(t, []byte("correct horse"))
	b, _ := os.ReadFile(filepath.Join(p.Dir, CAKeyFile))
	if !strings.Contains(string(b), "ENCRYPTED PRIVATE KEY") {
		t.Fatal("CA key not encrypted at rest")
	}
	req := CertRequest{Name: "c1", Role: RoleClient}
	key, _ := GenerateKey(KeySpec{Type: ECDSA})

	noPass, _ := Open(p.Dir, nil)
	if _, err := noPass.Sign(req, key.Public(), nil); !errors.Is(err, ErrCAKeyEncrypted) {
		t.Errorf("sign without passphrase: %v", err)
	}
	wrong, _ := Open(p.Dir, func() ([]byte, error) { return []byte("wrong"), nil })
	if _, err := wrong.Sign(req, key.Public(), nil); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("sign with wrong passphrase: %v", err)
	}
	right, _ := Open(p.Dir, func() ([]byte, error) { return []byte("correct horse"), nil })
	if _, err := right.Sign(req, key.Public(), nil); err != nil {
		t.Errorf("sign with passphrase: %v", err)
	}
}

func TestSignProfiles(t *testing.T) {
	p := newTestPKI(t, nil)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	sans, _ := BuildSANs(DefaultServerSANs("kafka-1"), []string{"kafka-1.example.com"}, []string{"10.1.2.3"}, nil)
	broker, err := p.Sign(CertRequest{Name: "kafka-1", Role: RoleBroker, SANs: sans}, key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if broker.IsCA || !broker.BasicConstraintsValid {
		t.Error("leaf must be CA:FALSE")
	}
	if len(broker.ExtKeyUsage) != 2 || broker.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("broker EKU %v KU %v", broker.ExtKeyUsage, broker.KeyUsage)
	}
	if err := broker.VerifyHostname("kafka-1.example.com"); err != nil {
		t.Error(err)
	}
	if err := broker.VerifyHostname("10.1.2.3"); err != nil {
		t.Error(err)
	}
	if !broker.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IPs %v", broker.IPAddresses)
	}
	if name, _ := principal.JavaName(broker.RawSubject); name != "CN=kafka-1,O=Acme,C=GB" {
		t.Errorf("broker subject %q", name)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	if _, err := broker.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("broker does not verify for serverAuth: %v", err)
	}
	client, err := p.Sign(CertRequest{Name: "client1", Subject: `CN=Tkac\, Adam,OU=ITZ,O=Acme`}, key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(client.ExtKeyUsage) != 1 || client.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client EKU %v", client.ExtKeyUsage)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate must not verify for serverAuth")
	}
	if name, _ := principal.JavaName(client.RawSubject); name != `CN=Tkac\, Adam,OU=ITZ,O=Acme` {
		t.Errorf("client subject %q", name)
	}
	// A server without SANs is refused; a leaf never outlives its CA.
	if _, err := p.Sign(CertRequest{Name: "zk", Role: RoleZooKeeper}, key.Public(), nil); err == nil || !strings.Contains(err.Error(), "no DNS or IP SAN") {
		t.Errorf("server without SANs: %v", err)
	}
	_, err = p.Sign(CertRequest{Name: "c2", Days: 5000}, key.Public(), nil)
	var oe *OutlivesCAError
	if !errors.Is(err, ErrOutlivesCA) || !errors.As(err, &oe) || oe.MaxDays != p.MaxDays(time.Now()) || !strings.Contains(err.Error(), "days at most") {
		t.Errorf("outliving leaf: %v", err)
	}
	if max := p.MaxDays(time.Now()); max < 3640 || max > 3650 {
		t.Errorf("MaxDays = %d", max)
	}
}

func TestCSRKeepsSANs(t *testing.T) {
	p := newTestPKI(t, nil)
	key, _ := GenerateKey(KeySpec{Type: ECDSA})
	sans, _ := BuildSANs(SANs{}, []string{"kafka-3.internal"}, []string{"10.0.0.3"}, nil)
	der, err := CreateCSR(key, "CN=kafka-3,OU=Kafka,O=Acme", sans)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	req, err := CSRRequest(csr, "", RoleBroker, []string{"kafka-3.example.com"}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if req.Name != "kafka-3" || req.SANs.String() != "DNS:kafka-3.internal, DNS:kafka-3.example.com, IP:10.0.0.3" {
		t.Errorf("request %+v", req)
	}
	cert, err := p.Sign(req, csr.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(cert.RawSubject) != string(csr.RawSubject) {
		t.Error("signed subject differs from the CSR's bytes")
	}
	csr.Signature[len(csr.Signature)-1] ^= 0xff
	if _, err := CSRRequest(csr, "", RoleBroker, nil, nil, 0); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("tampered CSR: %v", err)
	}
}

func TestImportIntermediateCA(t *testing.T) {
	root := newTestPKI(t, nil)
	// Make an intermediate signed by root, then adopt it.
	ikey, _ := GenerateKey(KeySpec{Type: ECDSA})
	tmpl := &x509.Certificate{SerialNumber: bigOne(), RawSubject: mustDN(t, "CN=Intermediate,O=Acme"), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().AddDate(2, 0, 0), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rk, _ := root.Signer()
	der, err := x509.CreateCertificate(randReader, tmpl, root.CA, ikey.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(der)
	certPEM := append(encodeCert(inter), encodeCert(root.CA)...)
	keyPEM := encodeKey(t, ikey)
	p, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "i"), ImportCert: certPEM, ImportKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Chain()) != 2 || !p.TrustAnchor().Equal(root.CA) {
		t.Fatalf("chain %d, anchor %v", len(p.Chain()), p.TrustAnchor().Subject)
	}
	reopened, err := Open(p.Dir, nil)
	if err != nil || len(reopened.Parents) != 1 {
		t.Fatalf("reopen: %v parents=%d", err, len(reopened.Parents))
	}
	// Adopting the same CA again is "already initialised"; another CA is a
	// difference naming both.
	var exists *ExistingCAError
	if _, err := Init(InitOptions{Dir: p.Dir, ImportCert: certPEM, ImportKey: keyPEM}); !errors.As(err, &exists) || !exists.Same() {
		t.Errorf("same import again: %v", err)
	}
	if _, err := Init(InitOptions{Dir: p.Dir, ImportCert: encodeCert(root.CA), ImportKey: encodeKey(t, rk)}); !errors.As(err, &exists) || exists.Same() ||
		!strings.Contains(err.Error(), "the CA is CN=Intermediate,O=Acme") {
		t.Errorf("another import: %v", err)
	}
	// Mismatched key is refused.
	other, _ := GenerateKey(KeySpec{Type: ECDSA})
	if _, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "j"), ImportCert: certPEM, ImportKey: encodeKey(t, other)}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched import key: %v", err)
	}
	// A leaf is not a CA.
	leaf, _ := root.Sign(CertRequest{Name: "c"}, other.Public(), nil)
	if _, err := Init(InitOptions{Dir: filepath.Join(t.TempDir(), "k"), ImportCert: encodeCert(leaf), ImportKey: encodeKey(t, other)}); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("leaf as CA: %v", err)
	}
}
