package stores

import (
	"encoding/asn1"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// TestScanPKCS12: what the scan reads from go-pkcs12's own files.
func TestScanPKCS12(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	modern, err := pkcs12.Modern2023.Encode(key, chain[0], chain[1:], testPassword)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := pkcs12.Passwordless.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: ca.cert, FriendlyName: "caroot"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("modern keystore", func(t *testing.T) {
		s, err := ScanPKCS12(modern)
		if err != nil {
			t.Fatal(err)
		}
		kb := s.KeyBags()
		if !s.HasMAC || !s.MACParsed || s.MACIterations != 2048 || s.Safes != 2 || len(s.EncryptedSafes) != 1 || len(kb) != 1 {
			t.Fatalf("%+v", s)
		}
		if kb[0].KeyAlgorithm == nil || !kb[0].KeyAlgorithm.Algorithm.Equal(oidPBES2) || len(kb[0].LocalKeyID) == 0 {
			t.Errorf("key bag %+v", kb[0])
		}
	})
	t.Run("password-less truststore", func(t *testing.T) {
		s, err := ScanPKCS12(trust)
		if err != nil {
			t.Fatal(err)
		}
		if s.HasMAC || len(s.Bags) != 1 || s.Bags[0].Kind != BagCert || !s.Bags[0].JavaTrusted || s.Bags[0].FriendlyName != "caroot" || string(s.Bags[0].CertDER) != string(ca.cert.Raw) {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		if _, err := ScanPKCS12(modern[:len(modern)/2]); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestReadRefusesHugeKeyIterations: the shrouded key bag's PBKDF2 count is
// outside the MAC too; Read refuses it before go-pkcs12 derives a key.
func TestReadRefusesHugeKeyIterations(t *testing.T) {
	ca := newCA(t, "ca", kindECDSA)
	key, chain := ca.issue(t, kindECDSA, clientSpec)
	data, err := pkcs12.Modern2023.Encode(key, chain[0], chain[1:], testPassword)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var p pfxPDU
	must(asn1Unmarshal(data, &p))
	var authSafe []byte
	must(asn1Unmarshal(p.AuthSafe.Content.Bytes, &authSafe))
	var cis []pfxContentInfo
	must(asn1Unmarshal(authSafe, &cis))
	changed := false
	for i, ci := range cis {
		if !ci.ContentType.Equal(oidData) {
			continue
		}
		var raw []byte
		must(asn1Unmarshal(ci.Content.Bytes, &raw))
		var bags []asn1.RawValue
		must(asn1Unmarshal(raw, &bags))
		for j, b := range bags {
			var bag struct {
				ID         asn1.ObjectIdentifier
				Value      asn1.RawValue `asn1:"tag:0,explicit"`
				Attributes asn1.RawValue `asn1:"optional"`
			}
			must(asn1Unmarshal(b.FullBytes, &bag))
			if !bag.ID.Equal(oidShroudedKey) {
				continue
			}
			var ek pfxEncryptedKey
			must(asn1Unmarshal(bag.Value.Bytes, &ek))
			var pb pfxPBES2Params
			must(asn1Unmarshal(ek.Algorithm.Parameters.FullBytes, &pb))
			var kdf pfxPBKDF2Params
			must(asn1Unmarshal(pb.Kdf.Parameters.FullBytes, &kdf))
			kdf.Iterations = 1 << 40
			pb.Kdf.Parameters.FullBytes, err = asn1.Marshal(kdf)
			must(err)
			ek.Algorithm.Parameters.FullBytes, err = asn1.Marshal(pb)
			must(err)
			v, err := asn1.Marshal(ek)
			must(err)
			bag.Value = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: v}
			nb, err := asn1.Marshal(bag)
			must(err)
			bags[j] = asn1.RawValue{FullBytes: nb}
			changed = true
		}
		nraw, err := asn1.Marshal(bags)
		must(err)
		octets, err := asn1.Marshal(nraw)
		must(err)
		cis[i].Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}
	}
	if !changed {
		t.Fatal("no shrouded key bag in the clear")
	}
	nas, err := asn1.Marshal(cis)
	must(err)
	octets, err := asn1.Marshal(nas)
	must(err)
	p.AuthSafe.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}
	bomb, err := asn1.Marshal(p)
	must(err)
	if _, err := Read(bomb, testPassword); err == nil || !strings.Contains(err.Error(), "key encryption asks for 1099511627776") {
		t.Fatalf("Read of a 2^40-iteration key bag: %v", err)
	}
}

// TestOnePKCS12Parser: the PKCS#12 structure is read in one place
// (pkcs12scan.go); inspect describes what it returns and parses no
// PKCS#12 structure of its own.
func TestOnePKCS12Parser(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "inspect", "*.go"))
	if len(files) == 0 {
		t.Fatal("no inspect sources")
	}
	// The content types and bag types of the PKCS#12 structure.
	structural := []string{"113549, 1, 7, 1}", "113549, 1, 7, 6}", "113549, 1, 12, 10, 1", "asn1:\"set,optional\""}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), f, b, parser.ImportsOnly); err != nil {
			t.Fatal(err)
		}
		for _, s := range structural {
			if strings.Contains(string(b), s) {
				t.Errorf("%s parses PKCS#12 structure (%s): use stores.ScanPKCS12", f, s)
			}
		}
	}
}
