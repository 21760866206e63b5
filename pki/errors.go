package pki

import (
	"errors"
	"fmt"
	"time"
)

// Field names a value the caller chose, in the core's words. The CLI maps
// a Field to its flag (FieldIP to --ip) and the wizard to its form field, so
// errors from here never name a flag a wizard user did not type.
type Field string

// The fields the core validates. Other packages (bundle, verify) add
// their own with pki.Field("...").
const (
	FieldName       Field = "name"          // an identity's name
	FieldRole       Field = "role"          // an identity's role
	FieldSubject    Field = "subject"       // a subject DN
	FieldSANs       Field = "sans"          // a server's DNS and IP SANs as a whole
	FieldDNS        Field = "dns"           // a DNS SAN
	FieldIP         Field = "ip"            // an IP SAN
	FieldEmail      Field = "email"         // an email SAN
	FieldDays       Field = "days"          // a certificate's validity in days
	FieldCADays     Field = "ca-days"       // the CA's validity in days
	FieldLeafDays   Field = "leaf-days"     // the default validity of issued certificates
	FieldKeyType    Field = "key-type"      // rsa or ecdsa
	FieldKeySize    Field = "key-size"      // bits (RSA) or curve size (ECDSA)
	FieldPassword   Field = "password"      // a store password
	FieldCACert     Field = "ca-cert"       // an adopted CA certificate (and its issuers)
	FieldCAKey      Field = "ca-key"        // the adopted CA's private key
	FieldPassphrase Field = "ca-passphrase" // the CA key passphrase
)

// InvalidFieldError reports a value the caller gave that cannot be used.
// Its message speaks of the value, not of how it was given.
type InvalidFieldError struct {
	Field Field
	// Value is the value as given; empty for secrets.
	Value string
	// Problem is the whole message, naming the value.
	Problem string
	// BelongsIn, if set, is the field the value was meant for: an IP
	// address given as a DNS name belongs in FieldIP.
	BelongsIn Field
	// Err is the underlying error, if any.
	Err error
}

func (e *InvalidFieldError) Error() string { return e.Problem }
func (e *InvalidFieldError) Unwrap() error { return e.Err }

// invalid builds an *InvalidFieldError whose message is format.
func invalid(f Field, value string, format string, a ...any) *InvalidFieldError {
	return &InvalidFieldError{Field: f, Value: value, Problem: fmt.Sprintf(format, a...)}
}

// Sentinels for the states a caller can fix. Their messages say what is
// wrong; the CLI adds how to fix it with its flags and commands.
var (
	// ErrCAExists: the directory already holds a CA and replacing it was
	// not asked for.
	ErrCAExists = errors.New("already holds a CA: refusing to replace it")
	// ErrCAKeyEncrypted: the CA key is encrypted and no passphrase was given.
	ErrCAKeyEncrypted = errors.New("the CA key is encrypted: its passphrase is needed")
	// ErrWrongPassphrase: the CA key did not decrypt with the passphrase given.
	ErrWrongPassphrase = errors.New("wrong CA passphrase: the CA key did not decrypt")
	// ErrCAExpired: the CA cannot sign any more; a new CA is needed.
	ErrCAExpired = errors.New("the CA has expired")
	// ErrCACannotSignCRL: the CA certificate lacks what a CRL needs; a CA
	// that has it (a rotation) is the fix.
	ErrCACannotSignCRL = errors.New("the CA cannot sign a CRL")
)

// OutlivesCAError reports a validity that would end after the CA expires.
// It matches ErrOutlivesCA.
type OutlivesCAError struct {
	Days       int       // the validity asked for
	NotAfter   time.Time // when it would end
	CANotAfter time.Time // when the CA expires
	MaxDays    int       // the longest validity the CA allows today
}

func (e *OutlivesCAError) Error() string {
	return fmt.Sprintf("%v: a validity of %d days ends %s but the CA expires %s; %d days at most, or a new CA",
		ErrOutlivesCA, e.Days, e.NotAfter.Format(time.DateOnly), e.CANotAfter.Format(time.DateOnly), e.MaxDays)
}

// Is makes errors.Is(err, ErrOutlivesCA) true.
func (e *OutlivesCAError) Is(target error) bool { return target == ErrOutlivesCA }
