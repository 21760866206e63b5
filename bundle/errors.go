package bundle

import "strings"

// InvalidSpecError means the spec text is not a valid kafkatls.yaml: bad
// YAML, an unknown key, or a value of the wrong type (days: ten). The CLI
// treats it as a usage error, like a spec that parses but fails Validate.
type InvalidSpecError struct{ Err error }

// Error is one line: the YAML decoder lists its errors on indented lines.
func (e *InvalidSpecError) Error() string {
	msg := strings.ReplaceAll(e.Err.Error(), ":\n  ", ": ")
	return "spec: " + strings.ReplaceAll(msg, "\n  ", "; ")
}

func (e *InvalidSpecError) Unwrap() error { return e.Err }
