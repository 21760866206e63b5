package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/principal"
)

// CertRequest describes a leaf certificate to sign.
type CertRequest struct {
	Name string
	Role Role
	// Subject is the DN as the user types it (RFC 4514 / keytool -dname);
	// empty means CN=Name plus the directory's subject defaults.
	Subject string
	// RawSubject, when set, is used byte for byte (a CSR's subject), so the
	// string types, and with them the Kafka principal, stay exactly as the
	// requester encoded them.
	RawSubject []byte
	SANs       SANs
	// Days is the validity; 0 means the directory default.
	Days int
	// ExternalKey says the requester holds the key (a CSR): what the
	// index records for the certificate.
	ExternalKey bool
	// Serial, when set, is the serial Tx.Reserve recorded for this
	// certificate; nil means Sign picks one (and nothing records it: a
	// writer outside a transaction, such as a test).
	Serial *big.Int
	// Key is the identity's private key when kafkatls holds it, CSR the
	// requester's CSR when it does not (ExternalKey): an engine signs a
	// CSR made with Key, or CSR as is. The local CA needs neither.
	Key crypto.Signer
	CSR *x509.CertificateRequest
}

// ErrOutlivesCA is wrapped by Sign when the requested validity ends after
// the CA's: such a leaf stops working when the CA expires anyway, and
// hides the real deadline.
var ErrOutlivesCA = errors.New("certificate would outlive its CA")

// SubjectDN returns the DN string a request will be issued with.
func (p *PKI) SubjectDN(req CertRequest) string {
	if strings.TrimSpace(req.Subject) != "" {
		return req.Subject
	}
	return p.Settings.Subject.DN(req.Name)
}

// MaxDays is the longest validity, in whole days from now, that a leaf can
// have without outliving the CA.
func (p *PKI) MaxDays(now time.Time) int {
	return int(p.CA.NotAfter.Sub(now).Hours() / 24)
}

// Sign issues a certificate for pub. idx, if given, guards against serial
// reuse (callers hold the directory lock while idx is loaded).
func (p *PKI) Sign(req CertRequest, pub crypto.PublicKey, idx *Index) (*x509.Certificate, error) {
	if req.Role == "" {
		req.Role = RoleClient
	}
	if _, err := ParseRole(string(req.Role)); err != nil {
		return nil, err
	}
	rawSubject := req.RawSubject
	if rawSubject == nil {
		var err error
		if rawSubject, err = principal.ParseDN(p.SubjectDN(req)); err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
	}
	days := req.Days
	if days == 0 {
		days = p.Settings.LeafDays
	}
	if days < 1 {
		return nil, invalid(FieldDays, fmt.Sprint(days), "validity %d days: must be at least 1", days)
	}
	now := time.Now()
	notAfter := now.AddDate(0, 0, days)
	if notAfter.After(p.CA.NotAfter) {
		return nil, &OutlivesCAError{Days: days, NotAfter: notAfter, CANotAfter: p.CA.NotAfter, MaxDays: p.MaxDays(now)}
	}
	if now.After(p.CA.NotAfter) {
		return nil, fmt.Errorf("%w: it expired on %s", ErrCAExpired, p.CA.NotAfter.Format(time.DateOnly))
	}
	if req.Role.Spec().Server && len(req.SANs.DNS) == 0 && len(req.SANs.IPs) == 0 {
		return nil, invalid(FieldSANs, "", "%s %q has no DNS or IP SAN: clients verify the server's hostname against them", req.Role, req.Name)
	}
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	if p.External() {
		req.Days = days
		return p.signEngine(req, pub)
	}
	signer, err := p.Signer()
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	skid := sha1.Sum(pubDER) // RFC 5280 method 1-style key identifier; not a security use of SHA-1
	tmpl := &x509.Certificate{
		RawSubject:            rawSubject,
		NotBefore:             now.Add(-5 * time.Minute), // tolerate clock skew between hosts
		NotAfter:              notAfter,
		KeyUsage:              KeyUsage(KeySpecOf(pub).Type),
		ExtKeyUsage:           req.Role.ExtKeyUsage(),
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          skid[:],
		DNSNames:              req.SANs.DNS,
		IPAddresses:           req.SANs.IPs,
		EmailAddresses:        req.SANs.Emails,
		URIs:                  req.SANs.URIs,
	}
	for tmpl.SerialNumber = req.Serial; tmpl.SerialNumber == nil; {
		if tmpl.SerialNumber, err = randomSerial(); err != nil {
			return nil, err
		}
		if idx != nil && idx.HasSerial(serialHex(tmpl.SerialNumber)) {
			tmpl.SerialNumber = nil
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// CreateCSR makes a PKCS#10 request for key with the given subject and
// SANs, for hosts that keep their own key.
func CreateCSR(key crypto.Signer, subject string, sans SANs) ([]byte, error) {
	rawSubject, err := principal.ParseDN(subject)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	return x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		RawSubject: rawSubject, DNSNames: sans.DNS, IPAddresses: sans.IPs, EmailAddresses: sans.Emails, URIs: sans.URIs,
	}, key)
}

// CSRRequest turns a verified CSR into a CertRequest that KEEPS the CSR's
// subject and SANs — DNS, IP, email and URI — (openssl x509 -req silently
// drops the SANs), merged with any extra DNS names and IPs. A key issue
// would refuse (CheckPublicKey) is refused here, before the CA is asked.
func CSRRequest(csr *x509.CertificateRequest, name string, role Role, extraDNS, extraIPs []string, days int) (CertRequest, error) {
	if err := csr.CheckSignature(); err != nil {
		return CertRequest{}, fmt.Errorf("CSR signature does not verify: %w", err)
	}
	subject, err := principal.JavaName(csr.RawSubject)
	if err != nil {
		return CertRequest{}, fmt.Errorf("CSR subject: %w", err)
	}
	if name == "" {
		name = csr.Subject.CommonName
	}
	if name == "" {
		return CertRequest{}, invalid(FieldName, "", "the CSR subject has no CN to name the identity by: a name is needed")
	}
	if err := CheckPublicKey(csr.PublicKey); err != nil {
		return CertRequest{}, fmt.Errorf("CSR public key: %w", err)
	}
	sans, err := BuildSANs(SANs{DNS: csr.DNSNames, IPs: csr.IPAddresses, Emails: csr.EmailAddresses, URIs: csr.URIs}, extraDNS, extraIPs, nil)
	if err != nil {
		return CertRequest{}, err
	}
	return CertRequest{Name: name, Role: role, Subject: subject, RawSubject: csr.RawSubject, SANs: sans, Days: days, ExternalKey: true, CSR: csr}, nil
}
