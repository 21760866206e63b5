package stepca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want, err string
	}{
		{"one trailing newline removed", write("ok", "pass word \n", 0o600), "pass word ", ""},
		{"CRLF removed", write("crlf", "secret\r\n", 0o600), "secret", ""},
		{"group readable refused", write("g", "secret", 0o640), "", "chmod 600"},
		{"too large", write("big", strings.Repeat("x", MaxPasswordFileSize+1), 0o600), "", "larger than"},
		{"empty", write("empty", "\n", 0o600), "", "empty"},
		{"fifo refused without blocking", fifo, "", "not a regular file"},
		{"missing", filepath.Join(dir, "none"), "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadPasswordFile(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				if tc.err == "chmod 600" && !errors.Is(err, ErrPasswordFileMode) {
					t.Fatalf("want ErrPasswordFileMode, got %v", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func writeRoot(t *testing.T) string {
	t.Helper()
	k := ecKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unit root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	p := filepath.Join(t.TempDir(), "root.pem")
	writePEM(t, p, c)
	return p
}

func TestNewConfigErrors(t *testing.T) {
	root := writeRoot(t)
	pw := []byte("pw")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{Root: root, Password: pw}, "no step-ca URL"},
		{"http", Config{URL: "http://ca:9000", Root: root, Password: pw}, "must be https://HOST[:PORT]"},
		{"path", Config{URL: "https://ca:9000/1.0", Root: root, Password: pw}, "must be https://HOST[:PORT]"},
		{"no root", Config{URL: "https://ca:9000", Password: pw}, "no root certificate file"},
		{"root not PEM", Config{URL: "https://ca:9000", Root: "/etc/hostname", Password: pw}, "no PEM certificate"},
		{"no password", Config{URL: "https://ca:9000", Root: root}, "no provisioner password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrConfig with %q", err, tc.want)
			}
		})
	}
	c, err := New(Config{URL: "https://ca.example.com:9000/", Root: root, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); got.Provisioner != DefaultProvisioner || got.Timeout != DefaultTimeout || got.MaxRetries != DefaultMaxRetries {
		t.Fatalf("defaults not applied: %+v", got)
	}
}

func TestGeneratedProvisionerKeyDecrypts(t *testing.T) {
	b, err := GenerateProvisioner("kafka", []byte("pw"), ProvisionerOptions{PBES2Count: 1000, Claims: Claims{MaxTLSCertDuration: "2160h"}})
	if err != nil {
		t.Fatal(err)
	}
	var p Provisioner
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "JWK" || p.Name != "kafka" || p.Claims.MaxTLSCertDuration != "2160h" || !strings.Contains(string(p.Options), "rawSubject") {
		t.Fatalf("provisioner %s", b)
	}
	if strings.Contains(string(p.Key), `"d"`) {
		t.Fatal("the published key holds the private part")
	}
	if _, err := decryptJWK([]byte(p.EncryptedKey), []byte("wrong")); !errors.Is(err, errDecrypt) {
		t.Fatalf("wrong password: %v", err)
	}
	jwk, err := decryptJWK([]byte(p.EncryptedKey), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	var pub jose.JSONWebKey
	if err := json.Unmarshal(p.Key, &pub); err != nil {
		t.Fatal(err)
	}
	if jwk.KeyID != pub.KeyID || jwk.KeyID == "" {
		t.Fatalf("kid %q vs published %q", jwk.KeyID, pub.KeyID)
	}
	if _, err := decryptJWK(p.Key, nil); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Fatalf("a public JWK as key file: %v", err)
	}
}

// TestTokenClaims checks the one-time token against step-ca's rules: kid
// in the header, iss the provisioner, aud CA URL + path, sub, sans, a
// short life, a unique jti.
func TestTokenClaims(t *testing.T) {
	b, _ := GenerateProvisioner("kafka", []byte("pw"), ProvisionerOptions{PBES2Count: 1000})
	var p Provisioner
	json.Unmarshal(b, &p)
	jwk, err := decryptJWK([]byte(p.EncryptedKey), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URL: "https://ca.example.com:9000", Root: writeRoot(t), Password: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	c.key = &provKey{jwk: jwk, alg: jose.ES256}
	tok, err := c.token(context.Background(), signPath, "broker-1", []string{"broker-1.example.com", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Headers[0].KeyID != jwk.KeyID {
		t.Fatalf("kid %q, want %q", parsed.Headers[0].KeyID, jwk.KeyID)
	}
	var cl tokenClaims
	if err := parsed.Claims(jwk.Public().Key, &cl); err != nil {
		t.Fatalf("token does not verify with the provisioner's public key: %v", err)
	}
	if cl.Issuer != "kafka" || cl.Subject != "broker-1" || len(cl.Audience) != 1 || cl.Audience[0] != "https://ca.example.com:9000/1.0/sign" {
		t.Fatalf("claims %+v", cl)
	}
	if strings.Join(cl.SANs, ",") != "broker-1.example.com,127.0.0.1" || cl.ID == "" {
		t.Fatalf("sans %v jti %q", cl.SANs, cl.ID)
	}
	if life := cl.Expiry.Time().Sub(cl.NotBefore.Time()); life > TokenLifetime+time.Minute {
		t.Fatalf("token lives %s", life)
	}
	tok2, _ := c.token(context.Background(), signPath, "broker-1", nil)
	p2, _ := jwt.ParseSigned(tok2, []jose.SignatureAlgorithm{jose.ES256})
	var cl2 tokenClaims
	p2.UnsafeClaimsWithoutVerification(&cl2)
	if cl2.ID == cl.ID {
		t.Fatal("two tokens share a jti: step-ca refuses the second as a replay")
	}
}

func TestKafkaTemplateEKUs(t *testing.T) {
	if s := KafkaTemplate(false); !strings.Contains(s, `"extKeyUsage": ["serverAuth", "clientAuth"]`) {
		t.Fatal(s)
	}
	if s := KafkaTemplate(true); !strings.Contains(s, `"extKeyUsage": ["clientAuth"]`) || strings.Contains(s, "serverAuth") {
		t.Fatal(s)
	}
}

func TestConfigStringRedactsPassword(t *testing.T) {
	cfg := Config{URL: "https://ca:9000", Provisioner: "kafka", Password: []byte("hunter2-secret")}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, cfg); strings.Contains(out, "hunter2") || !strings.Contains(out, "redacted") {
			t.Errorf("%s: %s", f, out)
		}
	}
}

// TestDiagnoseGenericRefusal: when step-ca's 403 message names no check,
// the provisioner's published claims decide between the duration claim and
// a name policy.
func TestDiagnoseGenericRefusal(t *testing.T) {
	c, err := New(Config{URL: "https://ca.example.com:9000", Root: writeRoot(t), Password: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	generic := &EngineError{Op: "sign", Path: signPath, Status: 403, Message: "The request lacked necessary authorization to be completed."}
	for _, tc := range []struct {
		name     string
		claims   *Claims
		days     int
		field    string
		setting  string
		probable bool
	}{
		{"published max exceeded", &Claims{MaxTLSCertDuration: "2160h"}, 365, "validity", `claims.maxTLSCertDuration to at least "8760h"`, false},
		{"step-ca default max exceeded", nil, 2, "validity", `claims.maxTLSCertDuration to at least "48h"`, true},
		{"within the max: a policy", &Claims{MaxTLSCertDuration: "2160h"}, 30, "SANs", "authority.policy.x509.allow", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.key = &provKey{claims: tc.claims}
			req := brokerReq("b1")
			req.Days = tc.days
			var m *MismatchError
			if !errors.As(c.diagnoseRefusal(context.Background(), req, generic), &m) {
				t.Fatal("not a MismatchError")
			}
			if m.Field != tc.field || !strings.Contains(m.Setting, tc.setting) || m.Probable != tc.probable {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestKeyFileReadableByOthersRefused(t *testing.T) {
	f := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(f, []byte(`{"kty":"EC"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f, 0o644)
	c, err := New(Config{URL: "https://ca.example.com:9000", Root: writeRoot(t), Password: []byte("pw"), KeyFile: f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.providerKey(context.Background()); !errors.Is(err, ErrPasswordFileMode) || !strings.Contains(err.Error(), "provisioner key file") {
		t.Fatalf("want ErrPasswordFileMode for the key file, got %v", err)
	}
}
