package stepca

import (
	"errors"
	"fmt"

	"github.com/kafkatls/kafkatls/engine/enginecert"
)

// Sentinel errors, for errors.Is.
var (
	// ErrPassword: the provisioner password does not decrypt the
	// provisioner's key.
	ErrPassword = errors.New("provisioner password does not decrypt the provisioner key")
	// ErrPermissionDenied: step-ca answered 401 (or 403 for the token): the
	// token was refused (unknown provisioner or key, wrong audience, clock
	// skew, replayed token).
	ErrPermissionDenied = errors.New("engine permission denied")
	// ErrMismatch: step-ca refused the request, or returned a certificate
	// that differs from it, because of the provisioner's (or authority's)
	// settings in ca.json.
	ErrMismatch = errors.New("engine provisioner does not issue what was asked")
	// ErrEngine: any other step-ca failure (unreachable, 5xx after the
	// retries, unparsable answer).
	ErrEngine = errors.New("engine error")
)

// PasswordError: the password does not decrypt the provisioner's key.
type PasswordError struct {
	Provisioner string
	Source      string // "encryptedKey from /1.0/provisioners" or the key file
}

func (e *PasswordError) Error() string {
	return fmt.Sprintf("provisioner %q: the password does not decrypt its key (%s); check the password file", e.Provisioner, e.Source)
}

// Is makes errors.Is(err, ErrPassword) true.
func (e *PasswordError) Is(target error) bool { return target == ErrPassword }

// PermissionError: step-ca refused the one-time token.
type PermissionError struct {
	Op          string // "sign", "revoke"
	Path        string // "/1.0/sign"
	Provisioner string
	Status      int
	Message     string // step-ca's message
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s: %s: HTTP %d: step-ca refused the token of provisioner %q: %s (is the provisioner a JWK provisioner of this CA, its key the one in ca.json, and the clocks in sync?)",
		e.Op, e.Path, e.Status, e.Provisioner, e.Message)
}

// Is makes errors.Is(err, ErrPermissionDenied) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionDenied }

// MismatchError says what step-ca changed or refused and which ca.json
// setting to change. When the cause could not be read from step-ca (an
// authority policy is not published), Probable is true and Setting is the
// likely cause.
type MismatchError struct {
	Provisioner string // the provisioner's name
	Field       string // "extended key usage", "DNS SANs", "subject", "validity", ...
	Want        string // what was asked, "" for a refusal
	Got         string // what step-ca issued, or its refusal message
	Setting     string // the ca.json setting to change, e.g. "claims.maxTLSCertDuration"
	Probable    bool
}

func (e *MismatchError) Error() string {
	probably := ""
	if e.Probable {
		probably = "probably"
	}
	return enginecert.Mismatch(fmt.Sprintf("engine provisioner %q", e.Provisioner), e.Field, e.Want, e.Got, e.Setting, probably)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// EngineError is a step-ca answer that is neither a success, a refused
// token nor a refusal we can name.
type EngineError struct {
	Op      string
	Path    string
	Status  int    // HTTP status; 0 when step-ca was not reached
	Message string // step-ca's message
	Err     error  // the transport error when Status is 0
}

func (e *EngineError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: %s: %v", e.Op, e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %s: HTTP %d: %s", e.Op, e.Path, e.Status, e.Message)
}

// Is makes errors.Is(err, ErrEngine) true.
func (e *EngineError) Is(target error) bool { return target == ErrEngine }

func (e *EngineError) Unwrap() error { return e.Err }
