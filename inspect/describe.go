package inspect

import (
	"crypto"
	//lint:ignore SA1019 DSA keys still appear in old keystores, and inspect must describe them
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
)

func sanStrings(dns []string, ips []net.IP, emails []string, uris []*url.URL) []string {
	var out []string
	for _, d := range dns {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range ips {
		out = append(out, "IP:"+ip.String())
	}
	for _, e := range emails {
		out = append(out, "email:"+e)
	}
	for _, u := range uris {
		out = append(out, "URI:"+u.String())
	}
	return out
}

var ekuName = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
	x509.ExtKeyUsageIPSECEndSystem: "ipsecEndSystem", x509.ExtKeyUsageIPSECTunnel: "ipsecTunnel", x509.ExtKeyUsageIPSECUser: "ipsecUser",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: "msSGC", x509.ExtKeyUsageNetscapeServerGatedCrypto: "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCodeCom", x509.ExtKeyUsageMicrosoftKernelCodeSigning: "msKernelCode",
}

func ekuNames(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuName[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku(%d)", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}

func kuNames(ku x509.KeyUsage) []string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func keyInfo(pub crypto.PublicKey) KeyInfo {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return KeyInfo{Type: "RSA", Bits: k.N.BitLen()}
	case *ecdsa.PublicKey:
		return KeyInfo{Type: "ECDSA", Bits: k.Curve.Params().BitSize, Curve: k.Curve.Params().Name}
	case ed25519.PublicKey:
		return KeyInfo{Type: "Ed25519", Bits: 256}
	case *dsa.PublicKey:
		return KeyInfo{Type: "DSA", Bits: k.P.BitLen()}
	case nil:
		return KeyInfo{Type: "unknown"}
	}
	return KeyInfo{Type: fmt.Sprintf("%T", pub)}
}

// keyMatches reports whether key is the private half of cert's public key.
func keyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
