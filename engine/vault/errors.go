package vault

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/kafkatls/kafkatls/engine/enginecert"
)

// Sentinel errors, for errors.Is.
var (
	// ErrPermissionDenied: the engine answered 403. The token is wrong,
	// expired, or lacks a policy for the path.
	ErrPermissionDenied = errors.New("engine permission denied")
	// ErrMismatch: the engine refused the request, or returned a
	// certificate that differs from it, because of the role's settings.
	ErrMismatch = errors.New("engine role does not issue what was asked")
	// ErrEngine: any other engine failure (unreachable, 5xx after the
	// retries, unknown role or mount, unparsable answer).
	ErrEngine = errors.New("engine error")
)

// PermissionError is an HTTP 403 from the engine: the token is wrong or
// expired, or its policies do not grant Capability on Path.
type PermissionError struct {
	Op         string // what kafkatls was doing: "sign", "read role", ...
	Path       string // API path without /v1/, relative to the namespace: "pki/sign/kafka"
	Capability string // the policy capability needed: "update", "read"
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s: permission denied on %s: the token is wrong or expired, or lacks a policy with path %q { capabilities = [%q] }",
		e.Op, e.Path, e.Path, e.Capability)
}

// Is makes errors.Is(err, ErrPermissionDenied) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionDenied }

// MismatchError says what the engine changed or refused and which role
// setting to change. When the token may not read the role, Probable is true
// and Setting is the likely cause.
type MismatchError struct {
	Role     string // "pki/roles/kafka"
	Field    string // "extended key usage", "DNS SANs", "subject", "validity", "key type", ...
	Want     string // what was asked, "" for a refusal
	Got      string // what the engine issued, or its refusal message
	Setting  string // the role setting to change, e.g. "server_flag=true"
	Probable bool   // the role could not be read: Setting is a guess
}

func (e *MismatchError) Error() string {
	probably := ""
	if e.Probable {
		probably = "probably (the token may not read the role)"
	}
	return enginecert.Mismatch("engine role "+e.Role, e.Field, e.Want, e.Got, e.Setting, probably)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// EngineError is an engine answer that is neither a success, a permission
// problem nor a role mismatch we can name.
type EngineError struct {
	Op       string
	Path     string
	Status   int      // HTTP status; 0 when the engine was not reached
	Messages []string // the engine's error messages
	Err      error    // the transport error when Status is 0
}

func (e *EngineError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: %s: %v", e.Op, e.Path, e.Err)
	}
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status) // a standby's 429 carries no message
	}
	return fmt.Sprintf("%s: %s: HTTP %d: %s", e.Op, e.Path, e.Status, msg)
}

// Is makes errors.Is(err, ErrEngine) true.
func (e *EngineError) Is(target error) bool { return target == ErrEngine }

func (e *EngineError) Unwrap() error { return e.Err }

// classify turns an api client error into PermissionError or EngineError.
func classify(op, path, capability string, err error) error {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode == http.StatusForbidden {
			return &PermissionError{Op: op, Path: path, Capability: capability}
		}
		return &EngineError{Op: op, Path: path, Status: re.StatusCode, Messages: re.Errors}
	}
	return &EngineError{Op: op, Path: path, Err: err}
}
