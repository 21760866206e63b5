package stores

import (
	"crypto"
	"crypto/x509"
	"regexp"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
)

// storeFiles writes a keystore and a truststore of kind sk into dir.
func storeFiles(t *testing.T, dir, prefix string, sk storeKind, alias string, key crypto.PrivateKey, chain []*x509.Certificate, trust *x509.Certificate, password string) (ks, ts string) {
	t.Helper()
	ks = writeFile(t, dir, prefix+"-keystore"+sk.ext(), sk.keystore(t, alias, key, chain, password))
	ts = writeFile(t, dir, prefix+"-truststore"+sk.ext(), sk.truststore(t, []TrustEntry{{"caroot", trust}}, password))
	return ks, ts
}

func javaType(sk storeKind) string { return string(sk.format) }

// TestRealPeerJavaMutualTLS: a JSSE server (needClientAuth) and a JSSE
// client (hostname verification on) load the stores written here from files,
// as Kafka brokers and Java clients do, and complete a handshake; the server
// sees the client principal Kafka would turn into User:<DN>.
func TestRealPeerJavaMutualTLS(t *testing.T) {
	realpeer.JavaClasses(t) // compile once (or skip) before the parallel subtests

	const clientPassword = "client-Pass2"
	ca := newCA(t, "kafkatls Java CA", kindRSA)
	bkeyRSA, bchainRSA := ca.issue(t, kindRSA, brokerSpec)
	ckeyRSA, cchainRSA := ca.issue(t, kindRSA, clientSpec)
	bkeyEC, bchainEC := ca.issue(t, kindECDSA, brokerSpec)
	ckeyEC, cchainEC := ca.issue(t, kindECDSA, clientSpec)

	// A client whose certificate comes from a CA the broker does not trust.
	rogue := newCA(t, "rogue CA", kindRSA)
	rkey, rchain := rogue.issue(t, kindRSA, clientSpec)
	// A forged CA with the trusted CA's exact name but its own key: the
	// client's key manager offers the certificate (issuer name matches the
	// server's certificate_authorities) and the server's path validation must
	// reject the signature.
	forger := newCA(t, "kafkatls Java CA", kindRSA)
	if forger.cert.Issuer.String() != ca.cert.Subject.String() {
		t.Fatal("forged CA name differs")
	}
	fkey, fchain := forger.issue(t, kindRSA, clientSpec)

	type tc struct {
		name          string
		server        storeKind
		client        storeKind
		keyKind       keyKind
		host          string
		rogueClient   bool
		forgedClient  bool
		wrongPassword bool
		wantFail      string // substring of the failure output; "" = success
	}
	jksKind, modern, legacy := storeKinds[0], storeKinds[1], storeKinds[2]
	cases := []tc{
		{name: "JKS", server: jksKind, client: jksKind, keyKind: kindRSA},
		{name: "PKCS12-modern", server: modern, client: modern, keyKind: kindRSA},
		{name: "PKCS12-legacy", server: legacy, client: legacy, keyKind: kindRSA},
		{name: "JKS-ECDSA", server: jksKind, client: jksKind, keyKind: kindECDSA},
		{name: "PKCS12-modern-ECDSA", server: modern, client: modern, keyKind: kindECDSA},
		{name: "server-JKS-client-PKCS12", server: jksKind, client: modern, keyKind: kindRSA},
		{name: "IP-SAN", server: modern, client: modern, keyKind: kindECDSA, host: "127.0.0.1"},
		{name: "untrusted-client-CA", server: jksKind, client: jksKind, keyKind: kindRSA, rogueClient: true, wantFail: "FAIL javax.net.ssl.SSLHandshakeException"},
		{name: "untrusted-client-CA-PKCS12", server: modern, client: modern, keyKind: kindRSA, rogueClient: true, wantFail: "FAIL javax.net.ssl.SSLHandshakeException"},
		{name: "forged-client-CA", server: modern, client: jksKind, keyKind: kindRSA, forgedClient: true, wantFail: `server: javax\.net\.ssl\.SSLHandshakeException: (\(certificate_unknown\) )?PKIX path`},
		{name: "hostname-mismatch", server: modern, client: modern, keyKind: kindRSA, host: "kafka.invalid", wantFail: "kafka.invalid"},
		{name: "wrong-password", server: legacy, client: legacy, keyKind: kindRSA, wrongPassword: true, wantFail: "FAIL java.io.IOException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			bkey, bchain, ckey, cchain := bkeyRSA, bchainRSA, ckeyRSA, cchainRSA
			if c.keyKind == kindECDSA {
				bkey, bchain, ckey, cchain = bkeyEC, bchainEC, ckeyEC, cchainEC
			}
			if c.rogueClient {
				ckey, cchain = rkey, rchain
			}
			if c.forgedClient {
				ckey, cchain = fkey, fchain
			}
			sks, sts := storeFiles(t, dir, "server", c.server, "broker-1", bkey, bchain, ca.cert, testPassword)
			cks, cts := storeFiles(t, dir, "client", c.client, "client-1", ckey, cchain, ca.cert, clientPassword)
			hs := realpeer.HandshakeStores{
				ServerKeystore: sks, ServerTruststore: sts,
				ClientKeystore: cks, ClientTruststore: cts,
				Type: javaType(c.server), ClientType: javaType(c.client),
				Password: testPassword, ClientPassword: clientPassword,
				Host: c.host,
			}
			if c.wrongPassword {
				hs.ClientPassword = "not-the-password"
			}
			principal, err := realpeer.JavaHandshake(t, hs)
			if c.wantFail == "" {
				if err != nil {
					t.Fatal(err)
				}
				if principal != clientPrincipal {
					t.Errorf("principal %q, want %q", principal, clientPrincipal)
				}
				return
			}
			if err == nil {
				t.Fatalf("handshake succeeded (principal %q), want failure %q", principal, c.wantFail)
			}
			// wantFail is a regular expression: JDK updates reword alerts
			// (17.0.21 prefixes "(certificate_unknown) ").
			if !regexp.MustCompile(c.wantFail).MatchString(err.Error()) {
				t.Errorf("failure does not mention %q:\n%v", c.wantFail, err)
			}
			t.Logf("refused as expected: %v", err)
		})
	}
}
