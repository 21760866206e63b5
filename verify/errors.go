package verify

import (
	"errors"

	"github.com/kafkatls/kafkatls/pki"
)

// The options verify checks itself, as pki.InvalidFieldError fields.
const (
	FieldBootstrap    pki.Field = "bootstrap"     // the broker address, HOST:PORT
	FieldMappingRules pki.Field = "mapping-rules" // ssl.principal.mapping.rules
)

// ErrNoServer: the PKI directory has no broker or controller identity whose
// stores the test broker could serve.
var ErrNoServer = errors.New("has no broker or controller identity to serve the test broker")
