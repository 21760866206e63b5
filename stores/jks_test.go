package stores

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestParseCompat(t *testing.T) {
	for in, want := range map[string]Compat{"modern": Modern, "LEGACY": Legacy, " Modern ": Modern} {
		got, err := ParseCompat(in)
		if err != nil || got != want {
			t.Errorf("ParseCompat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "rc2", "LegacyRC2", "modern2026", "des"} {
		_, err := ParseCompat(in)
		if err == nil {
			t.Errorf("ParseCompat(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), `"modern"`) || !strings.Contains(err.Error(), `"legacy"`) {
			t.Errorf("ParseCompat(%q) error does not name the allowed values: %v", in, err)
		}
	}
	if _, err := ParseCompat("rc2"); err == nil || !strings.Contains(err.Error(), "OpenSSL 3") {
		t.Errorf("rc2 error should say why RC2 is refused: %v", err)
	}
}

func TestWritersRejectBadInput(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	otherKey := newKey(t, kindECDSA)
	trust := []TrustEntry{{Alias: "caroot", Cert: ca.cert}}
	now := time.Now()

	cases := []struct {
		name string
		run  func() ([]byte, error)
		want string
	}{
		{"jks short password", func() ([]byte, error) { return JKSKeystore("a", key, chain, "12345", now) }, "at least 6"},
		{"p12 short password", func() ([]byte, error) { return PKCS12Keystore(key, chain, "12345", Modern) }, "at least 6"},
		{"jks trust short password", func() ([]byte, error) { return JKSTruststore(trust, "", now) }, "at least 6"},
		{"p12 trust short password", func() ([]byte, error) { return PKCS12Truststore(trust, "abc", Legacy) }, "at least 6"},
		{"jks non-ascii password", func() ([]byte, error) { return JKSKeystore("a", key, chain, "pässword", now) }, "printable ASCII"},
		{"p12 control char password", func() ([]byte, error) { return PKCS12Keystore(key, chain, "passw\nord", Modern) }, "printable ASCII"},
		{"jks key not matching leaf", func() ([]byte, error) { return JKSKeystore("a", otherKey, chain, testPassword, now) }, "does not belong"},
		{"p12 key not matching leaf", func() ([]byte, error) { return PKCS12Keystore(otherKey, chain, testPassword, Modern) }, "does not belong"},
		{"jks empty chain", func() ([]byte, error) { return JKSKeystore("a", key, nil, testPassword, now) }, "chain is empty"},
		{"p12 nil key", func() ([]byte, error) { return PKCS12Keystore(nil, chain, testPassword, Modern) }, "nil"},
		{"jks empty alias", func() ([]byte, error) { return JKSKeystore("", key, chain, testPassword, now) }, "alias is empty"},
		{"p12 bad compat", func() ([]byte, error) { return PKCS12Keystore(key, chain, testPassword, "rc2") }, "not offered"},
		{"p12 trust bad compat", func() ([]byte, error) { return PKCS12Truststore(trust, testPassword, "") }, "allowed values"},
		{"jks trust no entries", func() ([]byte, error) { return JKSTruststore(nil, testPassword, now) }, "at least one"},
		{"jks trust duplicate alias", func() ([]byte, error) {
			return JKSTruststore([]TrustEntry{{"CARoot", ca.cert}, {"caroot", chain[0]}}, testPassword, now)
		}, "duplicate"},
		{"p12 trust nil cert", func() ([]byte, error) {
			return PKCS12Truststore([]TrustEntry{{"caroot", nil}}, testPassword, Modern)
		}, "no certificate"},
		{"p12 trust empty alias", func() ([]byte, error) {
			return PKCS12Truststore([]TrustEntry{{"", ca.cert}}, testPassword, Modern)
		}, "empty alias"},
	}
	for _, c := range cases {
		out, err := c.run()
		if err == nil {
			t.Errorf("%s: succeeded (%d bytes), want error containing %q", c.name, len(out), c.want)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}

func sameCerts(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestKeystoreRoundTrip(t *testing.T) {
	for _, kind := range keyKinds {
		ca := newCA(t, "round-trip CA", kind)
		key, chain := ca.issue(t, kind, brokerSpec)
		for _, sk := range storeKinds {
			t.Run(string(kind)+"/"+sk.name, func(t *testing.T) {
				created := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
				var data []byte
				var err error
				if sk.format == JKS {
					data, err = JKSKeystore("Kafka-Broker-1", key, chain, testPassword, created)
				} else {
					data, err = PKCS12Keystore(key, chain, testPassword, sk.compat)
				}
				if err != nil {
					t.Fatal(err)
				}
				if f, ok := Detect(data); !ok || f != sk.format {
					t.Fatalf("Detect = %q, %v; want %q", f, ok, sk.format)
				}
				s, err := Read(data, testPassword)
				if err != nil {
					t.Fatal(err)
				}
				if s.Format != sk.format || s.LegacyRC2 {
					t.Errorf("store format %q rc2 %v", s.Format, s.LegacyRC2)
				}
				if len(s.Entries) != 1 {
					t.Fatalf("%d entries, want 1", len(s.Entries))
				}
				e := s.Entries[0]
				if e.TrustedCert != nil {
					t.Error("key entry has TrustedCert")
				}
				if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(e.PrivateKey.(crypto.Signer).Public()) {
					t.Error("private key changed in the round trip")
				}
				if !sameCerts(e.Chain, chain) {
					t.Errorf("chain changed: got %d certs", len(e.Chain))
				}
				if sk.format == JKS {
					if e.Alias != "kafka-broker-1" {
						t.Errorf("alias %q, want lowercased kafka-broker-1", e.Alias)
					}
					if !e.Created.Equal(created) {
						t.Errorf("created %v, want %v", e.Created, created)
					}
				}
				pair, err := s.KeyPair()
				if err != nil {
					t.Fatal(err)
				}
				if len(pair.Certificate) != 2 || !bytes.Equal(pair.Certificate[0], chain[0].Raw) || !bytes.Equal(pair.Certificate[1], chain[1].Raw) || !pair.Leaf.Equal(chain[0]) {
					t.Error("KeyPair chain does not match [leaf, CA]")
				}
			})
		}
	}
}

func TestTruststoreRoundTrip(t *testing.T) {
	ca := newCA(t, "ca one", kindECDSA)
	other := newCA(t, "ca two", kindRSA)
	entries := []TrustEntry{{Alias: "CARoot", Cert: ca.cert}, {Alias: "other-ca", Cert: other.cert}}
	for _, sk := range storeKinds {
		t.Run(sk.name, func(t *testing.T) {
			data := sk.truststore(t, entries, testPassword)
			if f, ok := Detect(data); !ok || f != sk.format {
				t.Fatalf("Detect = %q, %v", f, ok)
			}
			s, err := Read(data, testPassword)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Entries) != 2 {
				t.Fatalf("%d entries, want 2", len(s.Entries))
			}
			got := map[string]*x509.Certificate{}
			for _, e := range s.Entries {
				if e.PrivateKey != nil || e.Chain != nil || e.TrustedCert == nil {
					t.Fatalf("entry %q is not a trusted-cert entry: %+v", e.Alias, e)
				}
				got[e.TrustedCert.Subject.CommonName] = e.TrustedCert
				if sk.format == JKS {
					want := map[string]string{"caroot": "ca one", "other-ca": "ca two"}[e.Alias]
					if e.TrustedCert.Subject.CommonName != want {
						t.Errorf("alias %q holds %q, want %q", e.Alias, e.TrustedCert.Subject.CommonName, want)
					}
				}
			}
			if !got["ca one"].Equal(ca.cert) || !got["ca two"].Equal(other.cert) {
				t.Error("trusted certificates changed in the round trip")
			}
			if _, err := s.KeyPair(); err == nil || !strings.Contains(err.Error(), "no private-key entry") {
				t.Errorf("KeyPair on a truststore: %v", err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	jksMagicOnly := []byte{0xfe, 0xed, 0xfe, 0xed}
	for name, data := range map[string][]byte{
		"nil":         nil,
		"empty":       {},
		"text":        []byte("hello, keystore"),
		"pem":         pemCert(ca.cert),
		"cert der":    ca.cert.Raw, // a DER SEQUENCE, but not a PFX
		"jceks":       {0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2},
		"short magic": jksMagicOnly[:3],
		"seq junk":    {0x30, 0x03, 0x02, 0x01, 0x03},
	} {
		if f, ok := Detect(data); ok {
			t.Errorf("Detect(%s) = %q, true; want false", name, f)
		}
		if _, err := Read(data, testPassword); err == nil {
			t.Errorf("Read(%s) succeeded", name)
		}
	}
	if f, ok := Detect(jksMagicOnly); !ok || f != JKS {
		t.Errorf("Detect(JKS magic) = %q, %v", f, ok)
	}
	// A PFX with version 2 is not PKCS#12 v3.
	p12, err := PKCS12Truststore([]TrustEntry{{"caroot", ca.cert}}, testPassword, Modern)
	if err != nil {
		t.Fatal(err)
	}
	var p pfxPDU
	if err := asn1Unmarshal(p12, &p); err != nil {
		t.Fatal(err)
	}
	p.Version = 2
	v2, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Detect(v2); ok {
		t.Error("Detect accepted a version-2 PFX")
	}

	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty": {nil, "empty"},
		"pem":   {pemCert(ca.cert), "PEM"},
		"jceks": {[]byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2}, "JCEKS"},
		"junk":  {[]byte("junk junk"), "not a JKS or PKCS12"},
	} {
		if _, err := Read(tc.data, testPassword); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	for _, sk := range storeKinds {
		for name, data := range map[string][]byte{
			"keystore":   sk.keystore(t, "client", key, chain, testPassword),
			"truststore": sk.truststore(t, []TrustEntry{{"caroot", ca.cert}}, testPassword),
		} {
			for _, pw := range []string{"wrong-password", "", strings.ToUpper(testPassword)} {
				s, err := Read(data, pw)
				if err == nil {
					t.Errorf("%s %s: Read with password %q succeeded (%d entries)", sk.name, name, pw, len(s.Entries))
					continue
				}
				if !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "password is wrong") {
					t.Errorf("%s %s: password %q: error %q does not say the password is wrong", sk.name, name, pw, err)
				}
			}
		}
	}
}

// corruptions returns named corrupted variants of data.
func corruptions(data []byte) map[string][]byte {
	out := map[string][]byte{}
	for n := 0; n < len(data); n++ {
		out["truncated to "+strconv.Itoa(n)] = data[:n]
	}
	for i := 0; i < len(data); i++ {
		flipped := bytes.Clone(data)
		flipped[i] ^= 0x01
		out["bit flip at "+strconv.Itoa(i)] = flipped
	}
	for i := 0; i+4 <= len(data); i++ {
		huge := bytes.Clone(data)
		binary.BigEndian.PutUint32(huge[i:], 0xFFFFFFFF)
		out["0xffffffff at "+strconv.Itoa(i)] = huge
	}
	out["trailing garbage"] = append(bytes.Clone(data), 0x00, 0x01, 0x02)
	out["doubled"] = append(bytes.Clone(data), data...)
	return out
}

func TestReadCorruptedNeverPanics(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	for _, sk := range storeKinds {
		stores := map[string][]byte{
			"keystore":   sk.keystore(t, "client", key, chain, testPassword),
			"truststore": sk.truststore(t, []TrustEntry{{"caroot", ca.cert}}, testPassword),
		}
		for name, data := range stores {
			t.Run(sk.name+"/"+name, func(t *testing.T) {
				orig, err := Read(data, testPassword)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				benign := 0
				for cname, bad := range corruptions(data) {
					s, err := Read(bad, testPassword)
					if err != nil {
						if strings.Contains(err.Error(), "decoder failed") {
							t.Errorf("%s: only the panic safety net caught this: %v", cname, err)
						}
						continue
					}
					switch {
					case sk.format == JKS && (cname == "trailing garbage" || cname == "doubled"):
						// Java ignores bytes after the JKS digest; so does Read.
					case strings.HasPrefix(cname, "bit flip") && sameStore(orig, s):
						// A flip outside what the MAC covers that the decoder
						// tolerates (e.g. the tag of the authSafe OCTET STRING,
						// which go-pkcs12 does not check): same content.
						benign++
					default:
						t.Errorf("%s: Read succeeded with different content (%d entries)", cname, len(s.Entries))
						continue
					}
					if !sameStore(orig, s) {
						t.Errorf("%s: content changed", cname)
					}
				}
				if benign > 2 {
					t.Errorf("%d bit flips were not detected", benign)
				}
				t.Logf("%d corruptions in %v", len(corruptions(data)), time.Since(start))
			})
		}
	}
}

// TestReadRefusesHugeIterations: a PKCS12 MAC iteration count is outside
// the MAC, so anyone can set it; Read must refuse instead of spinning.
func TestReadRefusesHugeIterations(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	for _, compat := range []Compat{Modern, Legacy} {
		data, err := PKCS12Truststore([]TrustEntry{{"caroot", ca.cert}}, testPassword, compat)
		if err != nil {
			t.Fatal(err)
		}
		var p pfxPDU
		if err := asn1Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		var md pfxMacData
		if err := asn1Unmarshal(p.MacData.FullBytes, &md); err != nil {
			t.Fatal(err)
		}
		md.Iterations = 1 << 40
		if p.MacData.FullBytes, err = asn1.Marshal(md); err != nil {
			t.Fatal(err)
		}
		bomb, err := asn1.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = Read(bomb, testPassword)
		if err == nil || !strings.Contains(err.Error(), "iterations") {
			t.Errorf("%s: Read of a 2^40-iteration MAC: %v", compat, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refusing took %v", compat, d)
		}
	}
}

func TestReadDetectsRC2(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	ks, err := pkcs12.LegacyRC2.Encode(key, chain[0], chain[1:], testPassword)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := pkcs12.LegacyRC2.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}}, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"keystore": ks, "truststore": ts} {
		s, err := Read(data, testPassword)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !s.LegacyRC2 {
			t.Errorf("%s: RC2 store not flagged LegacyRC2", name)
		}
	}
	// A password-less truststore (no MAC) loads with any password, as in Java.
	pl, err := pkcs12.Passwordless.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Read(pl, testPassword)
	if err != nil || len(s.Entries) != 1 || !s.Entries[0].TrustedCert.Equal(ca.cert) || s.LegacyRC2 {
		t.Errorf("password-less truststore: %+v, %v", s, err)
	}
}

func TestKeyPairErrors(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	key2, chain2 := ca.issue(t, kindECDSA, brokerSpec)
	two := &Store{Entries: []Entry{{Alias: "a", PrivateKey: key, Chain: chain}, {Alias: "b", PrivateKey: key2, Chain: chain2}}}
	if _, err := two.KeyPair(); err == nil || !strings.Contains(err.Error(), "2 private-key entries") {
		t.Errorf("two keys: %v", err)
	}
	mismatch := &Store{Entries: []Entry{{Alias: "a", PrivateKey: key, Chain: chain2}}}
	if _, err := mismatch.KeyPair(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	noCert := &Store{Entries: []Entry{{Alias: "a", PrivateKey: key}}}
	if _, err := noCert.KeyPair(); err == nil {
		t.Error("key without certificate accepted")
	}
	// One key plus trusted certs is fine.
	mixed := &Store{Entries: []Entry{{Alias: "ca", TrustedCert: ca.cert}, {Alias: "a", PrivateKey: key, Chain: chain}}}
	if pair, err := mixed.KeyPair(); err != nil || !pair.Leaf.Equal(chain[0]) {
		t.Errorf("key plus trusted cert: %v", err)
	}
}

// TestStoresServeGoMutualTLS uses what Read returns the way a Go server and
// client would: KeyPair for the identity, the truststore for the CA pool.
func TestStoresServeGoMutualTLS(t *testing.T) {
	for _, kind := range keyKinds {
		ca := newCA(t, "go mtls CA", kind)
		bkey, bchain := ca.issue(t, kind, brokerSpec)
		ckey, cchain := ca.issue(t, kind, clientSpec)
		for _, sk := range storeKinds {
			t.Run(string(kind)+"/"+sk.name, func(t *testing.T) {
				load := func(data []byte) *Store {
					s, err := Read(data, testPassword)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
				pair := func(s *Store) tls.Certificate {
					p, err := s.KeyPair()
					if err != nil {
						t.Fatal(err)
					}
					return p
				}
				trust := load(sk.truststore(t, []TrustEntry{{"caroot", ca.cert}}, testPassword))
				pool := x509.NewCertPool()
				for _, e := range trust.Entries {
					pool.AddCert(e.TrustedCert)
				}
				srvPair := pair(load(sk.keystore(t, "broker", bkey, bchain, testPassword)))
				cliPair := pair(load(sk.keystore(t, "client", ckey, cchain, testPassword)))

				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				srvCfg := &tls.Config{Certificates: []tls.Certificate{srvPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
				type result struct {
					state tls.ConnectionState
					err   error
				}
				done := make(chan result, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						done <- result{err: err}
						return
					}
					srv := tls.Server(c, srvCfg)
					defer srv.Close()
					srv.SetDeadline(time.Now().Add(10 * time.Second))
					b := make([]byte, 1)
					if _, err := io.ReadFull(srv, b); err != nil {
						done <- result{err: err}
						return
					}
					_, err = srv.Write(b)
					done <- result{srv.ConnectionState(), err}
				}()
				cli, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{Certificates: []tls.Certificate{cliPair}, RootCAs: pool, ServerName: "localhost"})
				if err != nil {
					t.Fatalf("client handshake: %v", err)
				}
				defer cli.Close()
				cli.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := cli.Write([]byte{'x'}); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(cli, make([]byte, 1)); err != nil {
					t.Fatalf("client read: %v", err)
				}
				r := <-done
				if r.err != nil {
					t.Fatalf("server: %v", r.err)
				}
				peer := r.state.PeerCertificates
				if len(peer) == 0 || !peer[0].Equal(cchain[0]) {
					t.Error("server did not see the client certificate")
				}
			})
		}
	}
}

// sameStore reports whether two decoded stores hold the same entries.
func sameStore(a, b *Store) bool {
	if a.Format != b.Format || a.LegacyRC2 != b.LegacyRC2 || len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Entries {
		x, y := a.Entries[i], b.Entries[i]
		if x.Alias != y.Alias || !x.Created.Equal(y.Created) || !sameCerts(x.Chain, y.Chain) || (x.PrivateKey == nil) != (y.PrivateKey == nil) {
			return false
		}
		if (x.TrustedCert == nil) != (y.TrustedCert == nil) || (x.TrustedCert != nil && !x.TrustedCert.Equal(y.TrustedCert)) {
			return false
		}
		if x.PrivateKey != nil && !x.PrivateKey.(interface{ Equal(crypto.PrivateKey) bool }).Equal(y.PrivateKey) {
			return false
		}
	}
	return true
}
