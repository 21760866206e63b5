package pki

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/principal"
)

// Status of an issued certificate in the index.
const (
	StatusValid   = "valid"
	StatusRevoked = "revoked"
	// StatusSuperseded marks a certificate replaced by a renewal: still
	// cryptographically valid until it expires, but no longer deployed.
	StatusSuperseded = "superseded"
	// StatusRemoved marks a certificate whose entity was pruned.
	StatusRemoved = "removed"
	// StatusPending marks a certificate being issued: its serial is
	// reserved (made durable) before the CA signs it, and the record is
	// settled once its files are in place. A pending record outlives only
	// a run that died; the next transaction resolves it (Update).
	StatusPending = "pending"
	// StatusUnplaced marks a certificate the CA may have signed that never
	// reached its identity's directory (the run died or failed in
	// between). No identity holds it, but a copy may exist (a temporary
	// file, a backup): it is listed, and revoke revokes it.
	StatusUnplaced = "unplaced"
)

// Record is one issued certificate in the PKI directory's index.
type Record struct {
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	Serial      string    `json:"serial"` // lowercase hex, as openssl prints it
	Subject     string    `json:"subject"`
	Principal   string    `json:"principal"`
	DNS         []string  `json:"dns,omitempty"`
	IPs         []string  `json:"ips,omitempty"`
	Emails      []string  `json:"emails,omitempty"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	SHA256      string    `json:"sha256"`
	Key         KeySpec   `json:"key"`
	Status      string    `json:"status"`
	RevokedAt   time.Time `json:"revokedAt,omitzero"`
	IssuedAt    time.Time `json:"issuedAt"`
	ExternalKey bool      `json:"externalKey,omitempty"` // signed from a CSR: kafkatls never saw the key
	// EngineKey is set on the pending record of a request sent to an
	// engine, which picks the serial: the SHA-256 of the request's public
	// key (KeyFingerprint) names the reservation until the serial is known.
	EngineKey string `json:"engineKey,omitempty"`
	// EngineChecked is when reconciliation last looked for this engine
	// request's certificates at the engine (Tx.Reconcile); zero: never.
	EngineChecked time.Time `json:"engineChecked,omitzero"`
	// EngineRecheck marks an engine request sent again after an attempt
	// the engine may have acted on (or looked for only in part): the
	// engine may hold another certificate for its key, which the next
	// reconciliation looks for.
	EngineRecheck bool `json:"engineRecheck,omitempty"`
	// Auth is how the identity authenticates to Kafka when it is not with
	// its certificate (scram-sha-512, oauthbearer, ...); Principal is then
	// the SASL principal.
	Auth string `json:"auth,omitempty"`

	publicKey crypto.PublicKey // NewRecord's: how Settle finds an engine reservation
}

// Index is the inventory of every certificate the CA issued. It lives in
// DIR/index.json and is only rewritten under the directory lock.
type Index struct {
	Records []Record `json:"records"`
}

const indexFile = "index.json"

// Fingerprint returns the SHA-256 fingerprint of a certificate as
// colon-separated uppercase hex, as keytool and openssl print it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// SerialHex returns a certificate serial as lowercase hex.
func SerialHex(c *x509.Certificate) string { return serialHex(c.SerialNumber) }

func serialHex(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

// NewRecord describes an issued certificate for the index.
func NewRecord(name string, role Role, cert *x509.Certificate, externalKey bool) Record {
	subject, err := principal.JavaName(cert.RawSubject)
	if err != nil {
		subject = cert.Subject.String()
	}
	r := Record{
		Name: name, Role: role, Serial: SerialHex(cert), Subject: subject, Principal: principal.User(subject),
		DNS: cert.DNSNames, Emails: cert.EmailAddresses, NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(),
		SHA256: Fingerprint(cert), Key: KeySpecOf(cert.PublicKey), Status: StatusValid, IssuedAt: time.Now().UTC().Truncate(time.Second),
		ExternalKey: externalKey, publicKey: cert.PublicKey,
	}
	for _, ip := range cert.IPAddresses {
		r.IPs = append(r.IPs, ip.String())
	}
	return r
}

// LoadIndex reads DIR/index.json (empty if absent).
func LoadIndex(dir string) (*Index, error) {
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Index{}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", filepath.Join(dir, indexFile), err)
	}
	return &idx, nil
}

// Save writes the index atomically.
func (idx *Index) Save(dir string) error {
	var b fsx.Batch
	if err := idx.Stage(&b, dir); err != nil {
		return err
	}
	return b.Commit()
}

// Stage adds the index of dir to a batch, for a caller that commits it
// together with other files: the index is the commit point of whatever it
// records, so stage it last (a batch renames in the order staged).
func (idx *Index) Stage(b *fsx.Batch, dir string) error {
	return b.WriteFile(filepath.Join(dir, indexFile), idx.marshal(), fsx.PublicFile)
}

// marshal sorts the records by issue time and renders index.json.
func (idx *Index) marshal() []byte {
	sort.SliceStable(idx.Records, func(i, j int) bool { return idx.Records[i].IssuedAt.Before(idx.Records[j].IssuedAt) })
	data, _ := json.MarshalIndent(idx, "", "  ")
	return append(data, '\n')
}

// Current returns the newest valid record for name, if any.
func (idx *Index) Current(name string) (Record, bool) {
	for i := len(idx.Records) - 1; i >= 0; i-- {
		if r := idx.Records[i]; r.Name == name && r.Status == StatusValid {
			return r, true
		}
	}
	return Record{}, false
}

// HasSerial reports whether a serial was ever issued.
func (idx *Index) HasSerial(serial string) bool {
	for _, r := range idx.Records {
		if r.Serial == serial {
			return true
		}
	}
	return false
}

// SetStatus changes the status of every valid record of name.
func (idx *Index) SetStatus(name, status string) {
	for i := range idx.Records {
		if idx.Records[i].Name == name && idx.Records[i].Status == StatusValid {
			idx.Records[i].Status = status
		}
	}
}

// Add appends a record.
func (idx *Index) Add(r Record) { idx.Records = append(idx.Records, r) }
