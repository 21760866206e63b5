package stores

import (
	"testing"
)

// FuzzRead: Read must never panic (nor hang) on any input, and whatever it
// accepts must be internally consistent. Seeds are real stores of every kind
// this package writes, plus junk.
func FuzzRead(f *testing.F) {
	ca := newCA(f, "fuzz CA", kindECDSA)
	key, chain := ca.issue(f, kindECDSA, clientSpec)
	for _, sk := range storeKinds {
		f.Add(sk.keystore(f, "fuzz", key, chain, testPassword), testPassword)
		f.Add(sk.truststore(f, []TrustEntry{{"caroot", ca.cert}}, testPassword), testPassword)
	}
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff}, testPassword)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, "")
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n"), testPassword)
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		s, err := Read(data, password)
		if err != nil {
			if s != nil {
				t.Fatal("Read returned a store and an error")
			}
			return
		}
		if f, ok := Detect(data); !ok || f != s.Format {
			t.Fatalf("Read accepted %s but Detect says %q, %v", s.Format, f, ok)
		}
		keys := 0
		for _, e := range s.Entries {
			switch {
			case e.PrivateKey != nil && e.TrustedCert == nil:
				keys++
			case e.PrivateKey == nil && e.TrustedCert != nil && len(e.Chain) == 0:
			default:
				t.Fatalf("entry %q is neither a key entry nor a trusted-cert entry", e.Alias)
			}
		}
		if _, err := s.KeyPair(); (err == nil) && keys != 1 {
			t.Fatalf("KeyPair succeeded with %d key entries", keys)
		}
	})
}
